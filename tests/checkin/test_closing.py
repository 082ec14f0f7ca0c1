"""Closing a trip follows its course (not before departure, not while anyone can still board, no-shows
confirmed by count), and staff reopen a trip closed by mistake within the credential window."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Revocation, Seat, Trip
from app.services.platform.timeutil import local_today
from app.services.scanning import closing
from tests.builders import close_trip, depart, make_staff, publish_trip, qr_of, scan_body
from tests.checkin.test_scans import SCANS

CLOSE = "/api/checkin/v1/trips/{}/close"


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=4)


def board(client, trip, rider):
    """The captain boards a rider online; returns the rider's QR text."""
    qr = qr_of(client, rider, trip["trip"]["id"])
    answer = client.post(SCANS, json=scan_body(qr), headers=trip["captain"]["headers"]).json
    assert answer["verdict"] == "allow", answer
    return qr


def status_of(client, rider):
    return client.get(f"/api/mp/v1/applications/{rider['application_id']}", headers=rider["headers"]).json["status"]


def error(response, status):
    assert response.status_code == status, response.json
    return response.json["error"]


def test_a_captain_who_boarded_himself_at_night_cannot_close_before_departure(client, trip):
    trip_id = trip["trip"]["id"]
    depart(trip_id, minutes_ago=-6 * 60)  # leaves in six hours: the captain may already scan
    board(client, trip, trip["captain"])
    for headers in (trip["captain"]["headers"], trip["staff"]):
        refused = error(client.post(CLOSE.format(trip_id), json={"confirm_no_shows": 3}, headers=headers), 409)
        assert refused["code"] == "before_departure" and refused["details"]["departure_at"].endswith("+08:00")
    assert db.session.get(Trip, trip_id).status == "departed"
    assert db.session.scalar(select(Revocation.id)) is None
    assert {status_of(client, rider) for rider in trip["riders"]} == {"assigned"}


def test_nobody_closes_while_passengers_can_still_board(client, trip, app):
    trip_id = trip["trip"]["id"]
    depart(trip_id, minutes_ago=10)  # left ten minutes ago: latecomers may board for twenty more
    board(client, trip, trip["captain"])
    for headers in (trip["captain"]["headers"], trip["staff"]):
        refused = error(client.post(CLOSE.format(trip_id), json={"confirm_no_shows": 3}, headers=headers), 409)
        assert refused["code"] == "boarding_open" and refused["details"]["not_boarded"] == 3
    # Once the grace the plan gives them is over, they are no-shows.
    app.config["BOARDING_GRACE_MINUTES"] = 5
    assert close_trip(client, trip_id, trip["captain"]["headers"]).status_code == 200


def test_a_trip_everyone_boarded_closes_from_its_departure_time_without_asking(client, trip):
    trip_id = trip["trip"]["id"]
    depart(trip_id, minutes_ago=1)
    for rider in trip["riders"]:
        board(client, trip, rider)
    closed = client.post(CLOSE.format(trip_id), json={}, headers=trip["captain"]["headers"])
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert {status_of(client, rider) for rider in trip["riders"]} == {"travelled"}


def test_a_close_that_marks_no_shows_asks_for_the_count_and_asks_again_when_it_changed(client, trip):
    trip_id, captain = trip["trip"]["id"], trip["captain"]["headers"]
    depart(trip_id)
    board(client, trip, trip["captain"])
    asked = error(client.post(CLOSE.format(trip_id), headers=captain), 409)  # no body at all
    assert asked["code"] == "no_shows_unconfirmed" and asked["details"] == {"no_shows": 3}
    assert db.session.get(Trip, trip_id).status == "departed"
    late = trip["vice"]
    board(client, trip, late)  # boards while the captain reads the question
    again = error(client.post(CLOSE.format(trip_id), json={"confirm_no_shows": 3}, headers=captain), 409)
    assert again["code"] == "no_shows_unconfirmed" and again["details"] == {"no_shows": 2}
    assert "2" in again["message"]
    closed = client.post(CLOSE.format(trip_id), json={"confirm_no_shows": 2}, headers=captain)
    assert closed.status_code == 200, closed.json
    statuses = {rider["worker_id"]: status_of(client, rider) for rider in trip["riders"]}
    assert sorted(statuses.values()) == ["approved", "approved", "travelled", "travelled"]
    assert statuses[late["worker_id"]] == "travelled"
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "trip.close"))
    assert audit.details == {"no_shows": 2}


def test_a_negative_or_foreign_confirmation_is_a_422(client, trip):
    response = client.post(CLOSE.format(trip["trip"]["id"]), json={"confirm_no_shows": -1},
                           headers=trip["captain"]["headers"])
    assert error(response, 422)["fields"]["confirm_no_shows"]
    response = client.post(CLOSE.format(trip["trip"]["id"]), json={"force": True}, headers=trip["captain"]["headers"])
    assert error(response, 422)["fields"]["force"]


def closed_with_no_shows(client, trip):
    """Boards the captain and one passenger, closes with the two others as no-shows; returns them."""
    trip_id = trip["trip"]["id"]
    depart(trip_id)
    board(client, trip, trip["captain"])
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    others = [rider for rider in trip["riders"] if rider["worker_id"] not in crew]
    board(client, trip, others[0])
    absent = [trip["vice"], others[1]]
    old_qrs = {rider["worker_id"]: qr_of(client, rider, trip_id) for rider in absent}
    assert close_trip(client, trip_id, trip["captain"]["headers"]).status_code == 200
    assert {status_of(client, rider) for rider in absent} == {"approved"}
    return absent, old_qrs


def test_staff_reopen_a_wrongly_closed_trip_restoring_the_seats_under_new_serials(client, trip):
    trip_id = trip["trip"]["id"]
    absent, old_qrs = closed_with_no_shows(client, trip)
    old_serials = set(db.session.scalars(select(Revocation.serial)))
    reopened = client.post(f"/api/console/v1/trips/{trip_id}/reopen", headers=trip["staff"])
    assert reopened.status_code == 200, reopened.json
    body = reopened.json
    assert body["trip"]["status"] == "departed" and body["trip"]["closed_at"] is None
    assert len(body["restored_serials"]) == 2 and not set(body["restored_serials"]) & old_serials
    assert body["left_out_application_ids"] == []
    assert {status_of(client, rider) for rider in absent} == {"assigned"}
    # The revocation list only grows: the old serials stay revoked for every scanner, new QR codes work.
    listed = client.get("/api/checkin/v1/revocations?since=0", headers=trip["staff"]).json["revocations"]
    assert {row["serial"] for row in listed} == old_serials
    captain = trip["captain"]["headers"]
    for rider in absent:
        old = client.post(SCANS, json=scan_body(old_qrs[rider["worker_id"]]), headers=captain).json
        assert (old["verdict"], old["reason"]) == ("deny", "revoked")
        fresh = qr_of(client, rider, trip_id)
        assert fresh != old_qrs[rider["worker_id"]]
        assert client.post(SCANS, json=scan_body(fresh), headers=captain).json["verdict"] == "allow"
    manifest = client.get(f"/api/checkin/v1/trips/{trip_id}/manifest", headers=captain).json
    assert manifest["counts"]["total"] == 4 and manifest["counts"]["boarded"] == 4
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "trip.reopen"))
    assert audit.actor_kind == "staff" and sorted(audit.details["restored"]) == sorted(body["restored_serials"])
    # Everyone boarded now: it closes again without a question, all travelled.
    assert client.post(CLOSE.format(trip_id), json={}, headers=captain).status_code == 200
    assert {status_of(client, rider) for rider in trip["riders"]} == {"travelled"}


def test_a_reopened_trip_counts_a_boarding_made_under_the_old_serial(client, trip):
    """A boarding scanned before the close under the revoked serial still counts when the trip closes again."""
    trip_id = trip["trip"]["id"]
    absent, old_qrs = closed_with_no_shows(client, trip)
    assert client.post(f"/api/console/v1/trips/{trip_id}/reopen", headers=trip["staff"]).status_code == 200
    from tests.checkin.test_batch_as_of import ago, upload

    rider = absent[1]
    late = scan_body(old_qrs[rider["worker_id"]], scanned_at=ago(minutes=5).isoformat(), device_id="vice-phone")
    assert upload(client, trip["vice"]["headers"], late)[0]["verdict"] == "allow"
    asked = error(client.post(CLOSE.format(trip_id), json={}, headers=trip["captain"]["headers"]), 409)
    assert asked["details"] == {"no_shows": 1}


def test_reopening_leaves_out_an_application_that_moved_on(client, trip):
    trip_id = trip["trip"]["id"]
    absent, _ = closed_with_no_shows(client, trip)
    gone = absent[1]
    cancelled = client.post(f"/api/mp/v1/applications/{gone['application_id']}/cancel", headers=gone["headers"])
    assert cancelled.status_code == 200, cancelled.json
    body = client.post(f"/api/console/v1/trips/{trip_id}/reopen", headers=trip["staff"]).json
    assert body["left_out_application_ids"] == [gone["application_id"]] and len(body["restored_serials"]) == 1
    assert status_of(client, gone) == "cancelled" and status_of(client, absent[0]) == "assigned"


def test_who_may_reopen_and_when(client, trip):
    trip_id = trip["trip"]["id"]
    path = f"/api/console/v1/trips/{trip_id}/reopen"
    assert error(client.post(path, headers=trip["staff"]), 409)["code"] == "trip_not_closed"
    closed_with_no_shows(client, trip)
    transport = make_staff(client, "bus-co", role="transport_operator")
    assert error(client.post(path, headers=transport), 403)["code"] == "forbidden_role"
    other_county = make_staff(client, "helan", county_code="640122")
    assert error(client.post(path, headers=other_county), 404)["code"] == "trip_not_found"
    assert error(client.post(path, headers=trip["captain"]["headers"]), 401)["code"]
    # Past the credential window (72 h after the departure day) the seats cannot come back.
    row = db.session.get(Trip, trip_id)
    row.departure_date = local_today() - timedelta(days=5)
    db.session.commit()
    assert error(client.post(path, headers=trip["staff"]), 409)["code"] == "credential_window_over"
    assert db.session.get(Trip, trip_id).status == "closed"


def test_boarding_closes_at_departure_plus_the_configured_grace(app, client, trip):
    row = db.session.get(Trip, trip["trip"]["id"])
    app.config["BOARDING_GRACE_MINUTES"] = 45
    departure = closing.departure_utc(row)
    assert closing.boarding_closes_at(row) - departure == timedelta(minutes=45)
    assert db.session.scalar(select(Seat.id).where(Seat.trip_id == row.id)) is not None
