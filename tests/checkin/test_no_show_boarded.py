"""A passenger closed as a no-show whom a later upload shows boarded: travelled, and boarded on the manifest."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Application, Revocation, Seat
from app.services.platform.timeutil import local_today
from app.services.scanning import checkin, checkin_batch
from tests.builders import application, close_trip, depart, publish_trip, qr_of, scan_body
from tests.checkin.test_batch_as_of import ago, stored, upload
from tests.checkin.test_batch_fallback import refuse_the_next_insert
from tests.checkin.test_scans import SCANS, passenger


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=6)


def close_before_the_upload(client, trip):
    """The captain boards one passenger online and closes the trip; the vice-captain's phone, still offline,
    had boarded another half an hour before. Returns (that passenger, the boarding their phone holds)."""
    trip_id = trip["trip"]["id"]
    on_board, missed = passenger(trip, 0), passenger(trip, 1)
    qr = qr_of(client, missed, trip_id)
    aboard = client.post(SCANS, json=scan_body(qr_of(client, on_board, trip_id)), headers=trip["captain"]["headers"])
    assert aboard.json["verdict"] == "allow"
    depart(trip_id)
    closed = close_trip(client, trip_id, trip["captain"]["headers"])
    assert closed.status_code == 200, closed.json
    assert status_of(client, missed) == ("approved", "未乘车，待重新编班")
    return missed, scan_body(qr, scanned_at=ago(minutes=30).isoformat(), device_id="vice-phone")


def status_of(client, rider):
    """(status, status_reason) of the rider's application, as the mini-program shows it."""
    found = client.get(f"/api/mp/v1/applications/{rider['application_id']}", headers=rider["headers"])
    assert found.status_code == 200, found.json
    return found.json["status"], found.json["status_reason"]


def test_a_no_show_an_upload_shows_boarded_has_travelled(client, trip):
    missed, boarding = close_before_the_upload(client, trip)
    result = upload(client, trip["vice"]["headers"], boarding)[0]
    assert (result["verdict"], result["reason"], result["conflict"]) == ("allow", "ok", True)
    assert stored(boarding["client_event_id"]).conflict_reason == "revoked_after_scan"
    assert status_of(client, missed) == ("travelled", "离线补传显示已乘车")
    # No longer waiting to be planned again: the worker may apply for their next journey.
    again = client.post("/api/mp/v1/applications", json=application(), headers=missed["headers"])
    assert again.status_code == 201, again.json
    # A retry of the upload replays its answer and changes nothing.
    assert upload(client, trip["vice"]["headers"], boarding)[0]["replayed"] is True
    assert status_of(client, missed)[0] == "travelled"


def test_the_manifest_shows_them_boarded_not_no_show(client, trip):
    missed, boarding = close_before_the_upload(client, trip)
    trip_id = trip["trip"]["id"]
    manifest = f"/api/checkin/v1/trips/{trip_id}/manifest"
    listed = client.get(manifest, headers=trip["staff"]).json
    # Closing revoked the no-shows' seats; the manifest still lists them, as no-shows.
    assert {seat["worker_id"]: seat["status"] for seat in listed["seats"]}[missed["worker_id"]] == "no_show"
    assert (listed["counts"]["boarded"], listed["counts"]["no_show"], listed["counts"]["total"]) == (1, 5, 6)
    upload(client, trip["vice"]["headers"], boarding)
    listed = client.get(manifest, headers=trip["staff"]).json
    assert {seat["worker_id"]: seat["status"] for seat in listed["seats"]}[missed["worker_id"]] == "boarded"
    assert listed["counts"] == {"assigned": 0, "boarded": 2, "arrived": 0, "no_show": 4, "isolated": 0, "total": 6}
    tally = client.get(f"/api/checkin/v1/trips/{trip_id}/reconciliation", headers=trip["staff"]).json["trip"]
    assert (tally["seats"], tally["boarded"], tally["missing"], tally["no_show"]) == (6, 2, 2, 4)


def replan(client, trip):
    """Plan and publish the trip's no-shows onto another bus today."""
    today = local_today().isoformat()
    body = {"date_from": today, "date_to": today, "vehicle_types": [{"name": "大客车", "seats": 12, "count": 2}]}
    plan = client.post("/api/console/v1/plans", json=body, headers=trip["staff"])
    assert plan.status_code == 201, plan.json
    published = client.post(f"/api/console/v1/plans/{plan.json['id']}/publish", headers=trip["staff"])
    assert published.status_code == 200, published.json


def cancel(client, rider):
    cancelled = client.post(f"/api/mp/v1/applications/{rider['application_id']}/cancel", headers=rider["headers"])
    assert cancelled.status_code == 200, cancelled.json


@pytest.mark.parametrize(("since", "status"), [("replanned", "assigned"), ("cancelled", "cancelled")])
def test_an_application_moved_on_since_the_close_keeps_its_status(client, trip, since, status):
    missed, boarding = close_before_the_upload(client, trip)
    {"replanned": lambda: replan(client, trip), "cancelled": lambda: cancel(client, missed)}[since]()
    result = upload(client, trip["vice"]["headers"], boarding)[0]
    assert (result["verdict"], result["reason"], result["conflict"]) == ("allow", "ok", True)
    assert stored(boarding["client_event_id"]).conflict_reason == "revoked_after_scan"
    assert status_of(client, missed)[0] == status


def test_a_boarding_replayed_one_by_one_also_marks_them_travelled(client, trip, monkeypatch):
    missed, boarding = close_before_the_upload(client, trip)
    refused = refuse_the_next_insert(monkeypatch)
    vice = checkin.Scanner("worker", trip["vice"]["worker_id"])
    [answer] = checkin_batch.perform_batch(vice, [{**boarding, "scanned_at": ago(minutes=30)}])
    assert refused and (answer["verdict"], answer["reason"], answer["conflict"]) == ("allow", "ok", True)
    db.session.expire_all()
    assert db.session.get(Application, missed["application_id"]).status == "travelled"
    # The credential stays revoked: the serial was published on the revocation list when the trip closed.
    seat = db.session.scalar(select(Seat).where(Seat.application_id == missed["application_id"]))
    assert seat.status == "revoked" and db.session.scalar(select(Revocation.reason).where(
        Revocation.serial == seat.id)) == "no_show"
