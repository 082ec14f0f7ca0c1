"""Rosters (花名册): trip passengers and 零散返岗 returnees, arrival status, scope, registration."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditLog, HealthEvent, RosterEntry, Worker
from app.services.platform.timeutil import local_today
from tests.builders import close_trip, depart, make_id_number, make_staff, make_worker, profile, qr_of, scan_body
from tests.console.roster_helpers import (
    ROSTER,
    XIXIA,
    YONGNING,
    checkpoint_id,
    enterprise,
    hr,
    inbound_trip,
    passengers,
    register,
    returnee,
    scan,
)


def _by_worker(rows):
    return {row["worker_id"]: row for row in rows}


def test_trip_passengers_are_on_the_roster_with_their_arrival_status(client):
    headers, enterprise_id = hr(client)
    trip = inbound_trip(client, enterprise_id)
    arrived, boarded = passengers(trip)
    scan(client, trip, arrived)
    scan(client, trip, arrived, kind="arrive")
    scan(client, trip, boarded)
    response = client.get(ROSTER.format(enterprise_id), headers=headers)
    assert response.status_code == 200, response.json
    page = response.json
    assert page["total"] == 4 and page["enterprise"]["name"] == YONGNING
    rows = _by_worker(page["items"])
    first = rows[arrived["worker_id"]]
    assert (first["source"], first["transport"], first["transport_number"]) == ("trip", "bus", "川A·12345")
    assert first["arrival_status"] == "arrived" and first["arrival_date"] == local_today().isoformat()
    assert first["name"] == "张*丰" and "*" in first["id_number"] and "****" in first["mobile"]
    assert first["clearance"]["state"] == "in_observation"
    assert first["clearance"]["reason"] == "observation_period" and first["health"]["status"] == "green"
    assert rows[boarded["worker_id"]]["arrival_status"] == "boarded"
    assert rows[boarded["worker_id"]]["clearance"]["state"] == "not_arrived"
    # The bus arrived: whoever never boarded it did not come (as the manifest counts them).
    assert rows[trip["captain"]["worker_id"]]["arrival_status"] == "no_show"
    only = client.get(ROSTER.format(enterprise_id), query_string={"clearance": "in_observation"}, headers=headers)
    assert [row["worker_id"] for row in only.json["items"]] == [arrived["worker_id"]]
    by_arrival = client.get(ROSTER.format(enterprise_id), query_string={"arrival_status": "boarded"}, headers=headers)
    assert [row["worker_id"] for row in by_arrival.json["items"]] == [boarded["worker_id"]]


def test_a_closed_trip_leaves_those_who_never_boarded_as_no_show(client):
    headers, enterprise_id = hr(client)
    trip = inbound_trip(client, enterprise_id, passengers=2)
    before = _by_worker(client.get(ROSTER.format(enterprise_id), headers=headers).json["items"])
    assert {row["arrival_status"] for row in before.values()} == {"assigned"}
    scan(client, trip, trip["captain"])
    depart(trip["trip"]["id"])
    closed = close_trip(client, trip["trip"]["id"], trip["staff"])
    assert closed.status_code == 200, closed.json
    rows = _by_worker(client.get(ROSTER.format(enterprise_id), headers=headers).json["items"])
    assert rows[trip["vice"]["worker_id"]]["arrival_status"] == "no_show"
    assert rows[trip["captain"]["worker_id"]]["arrival_status"] == "boarded"


def test_a_no_show_whom_a_later_upload_shows_boarded_is_boarded(client):
    headers, enterprise_id = hr(client)
    trip = inbound_trip(client, enterprise_id)
    on_board, missed = passengers(trip)
    qr = qr_of(client, missed, trip["trip"]["id"])
    scan(client, trip, on_board)
    depart(trip["trip"]["id"])
    closed = close_trip(client, trip["trip"]["id"], trip["staff"])
    assert closed.status_code == 200, closed.json
    rows = _by_worker(client.get(ROSTER.format(enterprise_id), headers=headers).json["items"])
    assert rows[missed["worker_id"]]["arrival_status"] == "no_show"
    # The vice-captain's phone, offline, had boarded them half an hour before the close.
    late = scan_body(qr, scanned_at=(datetime.now(UTC) - timedelta(minutes=30)).isoformat(), device_id="vice-phone")
    uploaded = client.post("/api/checkin/v1/scans/batch", json={"scans": [late]}, headers=trip["vice"]["headers"])
    assert uploaded.status_code == 200 and uploaded.json["results"][0]["verdict"] == "allow", uploaded.json
    rows = _by_worker(client.get(ROSTER.format(enterprise_id), headers=headers).json["items"])
    assert rows[missed["worker_id"]]["arrival_status"] == "boarded"
    assert rows[missed["worker_id"]]["clearance"]["state"] == "not_arrived"


def test_registering_a_self_returnee_creates_a_worker_without_openid(client):
    headers, enterprise_id = hr(client)
    body = returnee()
    row = register(client, headers, enterprise_id)
    assert (row["source"], row["transport"], row["transport_number"]) == ("self", "train", "K1234")
    assert row["arrival_status"] == "arrived" and row["name"] == "李*光"
    assert row["id_number"] == body["id_number"][:6] + "********" + body["id_number"][-4:]
    worker = db.session.get(Worker, row["worker_id"])
    assert worker.openid is None and worker.registered_by == enterprise_id and worker.gender == "female"
    assert body["id_number"].encode() not in worker.id_number_cipher and worker.mobile_mask == "139****0500"
    entry = db.session.scalar(select(RosterEntry))
    assert entry.origin == "四川省成都市" and entry.arrival_date.isoformat() == body["arrival_date"]
    arrival = db.session.scalar(select(HealthEvent).where(HealthEvent.worker_id == worker.id))
    assert arrival.kind == "arrival" and arrival.actor_kind == "staff" and arrival.places == ["四川省成都市"]
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "roster.register"))
    assert audit.details["worker_id"] == worker.id and audit.details["new_worker"] is True
    again = client.post(ROSTER.format(enterprise_id), json=returnee(), headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_on_roster"


def test_a_mini_program_user_keeps_their_row_and_sees_the_arrival(client):
    worker_headers = make_worker(client, "wang", n=7)
    id_number = profile(7)["id_number"]
    before = client.get("/api/mp/v1/health", headers=worker_headers).json["clearance"]
    assert (before["state"], before["arrival_date"], before["follow_ups"]) == ("not_arrived", None, 0)
    headers, enterprise_id = hr(client)
    other_name = client.post(ROSTER.format(enterprise_id), headers=headers,
                             json=returnee(id_number=id_number, name="王五", origin="湖北省武汉市"))
    assert other_name.status_code == 409 and other_name.json["error"]["code"] == "identity_mismatch"
    assert "wang" not in other_name.text and "张" not in other_name.text  # nothing of the person leaks
    assert client.get("/api/mp/v1/health", headers=worker_headers).json["clearance"]["state"] == "not_arrived"
    row = register(client, headers, enterprise_id, id_number=id_number, name="张三丰", phone="13800000000",
                   origin="湖北省武汉市")
    worker = db.session.get(Worker, row["worker_id"])
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 1 and worker.openid is not None
    assert worker.name == "张三丰" and worker.mobile_mask == "139****0007" and worker.registered_by is None
    record = client.get("/api/mp/v1/health", headers=worker_headers).json
    arrival = [e for e in record["history"] if e["kind"] == "arrival"]
    assert len(arrival) == 1 and arrival[0]["actor"] == "工作人员" and arrival[0]["places"] == ["湖北省武汉市"]
    assert record["status"] == "yellow" and record["reason"] == "high_risk_area"
    assert record["clearance"]["state"] == "in_observation"
    assert record["clearance"]["arrival_date"] == row["arrival_date"]


def test_a_trip_passenger_cannot_be_registered_twice(client):
    headers, enterprise_id = hr(client)
    trip = inbound_trip(client, enterprise_id, passengers=2)
    id_number = profile(0)["id_number"]  # the first rider's (approved_applications makes worker n=0 first)
    response = client.post(ROSTER.format(enterprise_id), json=returnee(id_number=id_number, name=profile(0)["name"]), headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "already_on_roster"


@pytest.mark.parametrize("field, value", [
    ("id_number", "510104199001011234"), ("phone", "12345"), ("transport", "rocket"),
    ("arrival_date", (local_today() + timedelta(days=1)).isoformat()), ("arrival_date", "1999-01-01"),
    ("name", "  "),
])
def test_bad_registrations_are_422(client, field, value):
    headers, enterprise_id = hr(client)
    response = client.post(ROSTER.format(enterprise_id), json=returnee(**{field: value}), headers=headers)
    assert response.status_code == 422 and response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 0


def test_scope_county_and_park_operators_read_other_scopes_do_not(client):
    headers, enterprise_id = hr(client)
    register(client, headers, enterprise_id)
    county = make_staff(client, "yongning")  # 640121
    park = make_staff(client, "hitech", role="park_operator", park_id=enterprise().park_id)
    for reader in (county, park, make_staff(client, "boss", role="admin")):
        response = client.get(ROSTER.format(enterprise_id), headers=reader)
        assert response.status_code == 200 and response.json["total"] == 1
    other_hr, other_id = hr(client, XIXIA, "hr2")
    other_park = make_staff(client, "etdz", role="park_operator", park_id=enterprise(XIXIA).park_id)
    other_county = make_staff(client, "xixia", county_code="640105")
    for outsider in (other_hr, other_park, other_county):
        response = client.get(ROSTER.format(enterprise_id), headers=outsider)
        assert response.status_code == 404 and response.json["error"]["code"] == "enterprise_not_found"
        response = client.post(ROSTER.format(enterprise_id), json=returnee(n=1), headers=outsider)
        assert response.status_code == 404
    for role, scope in (("checkpoint_staff", {"checkpoint_id": checkpoint_id()}), ("health_officer", {})):
        staff = make_staff(client, role, role=role, **scope)
        response = client.get(ROSTER.format(enterprise_id), headers=staff)
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden_role"
    assert client.get(ROSTER.format(999999), headers=headers).status_code == 404
    by_county = client.post(ROSTER.format(enterprise_id), json=returnee(n=2), headers=county)
    assert by_county.status_code == 201, by_county.json


def test_the_roster_loads_in_a_fixed_number_of_queries(client):
    headers, enterprise_id = hr(client)
    trip = inbound_trip(client, enterprise_id, passengers=2)
    scan(client, trip, trip["captain"])
    register(client, headers, enterprise_id, n=0)

    def count_queries():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(ROSTER.format(enterprise_id), headers=headers).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few = count_queries()
    for n in range(1, 6):
        register(client, headers, enterprise_id, n=n, id_number=make_id_number(area="510104", sequence=600 + n))
    assert count_queries() == few


def test_plain_id_numbers_and_phones_appear_in_no_response_log_or_column(client, caplog):
    import logging

    from tests.test_privacy import _all_stored_text

    body = returnee(n=9)
    headers, enterprise_id = hr(client)
    officer = make_staff(client, "weijian", role="health_officer")
    with caplog.at_level(logging.DEBUG):
        responses = [client.post(ROSTER.format(enterprise_id), json=body, headers=headers)]
        worker_id = responses[0].json["worker_id"]
        url = f"{ROSTER.format(enterprise_id)}/{worker_id}/follow-ups"
        responses.append(client.post(url, json={"temperature": 38.5}, headers=headers))
        responses.append(client.get(url, headers=headers))
        responses.append(client.get(ROSTER.format(enterprise_id), headers=headers))
        responses.append(client.get("/api/console/v1/isolation-orders", headers=officer))
    texts = [response.get_data(as_text=True) for response in responses]
    stored = _all_stored_text()
    for secret in (body["id_number"], body["phone"]):
        assert all(secret not in text for text in texts)
        assert secret not in caplog.text and secret not in stored


def test_workers_leaving_on_outbound_trips_are_not_returnees(client):
    from tests.builders import publish_trip

    headers, enterprise_id = hr(client)
    publish_trip(client, passengers=2, direction="outbound", employer_id=enterprise_id)
    assert client.get(ROSTER.format(enterprise_id), headers=headers).json["total"] == 0


def test_a_returnee_registered_by_hr_claims_their_record_in_the_mini_program(client):
    from app.models import AuditLog
    from tests.builders import login

    headers, enterprise_id = hr(client)
    body = returnee()
    registered = register(client, headers, enterprise_id)["worker_id"]
    worker_headers = login(client, "lisiguang")
    mine = profile(0, name=body["name"], id_number=body["id_number"], mobile=body["phone"])
    wrong_phone = client.put("/api/mp/v1/me", json={**mine, "mobile": "13700000000"}, headers=worker_headers)
    assert wrong_phone.status_code == 409 and wrong_phone.json["error"]["code"] == "id_number_registered_by_employer"
    wrong_name = client.put("/api/mp/v1/me", json={**mine, "name": "李四"}, headers=worker_headers)
    assert wrong_name.status_code == 409
    claimed = client.put("/api/mp/v1/me", json=mine, headers=worker_headers)
    assert claimed.status_code == 200, claimed.json
    record = client.get("/api/mp/v1/health", headers=worker_headers).json
    assert [e["kind"] for e in record["history"]] == ["arrival"]
    assert record["clearance"]["state"] == "in_observation"
    assert db.session.get(Worker, registered) is None  # the employer's row is gone, its record moved
    row = client.get(ROSTER.format(enterprise_id), headers=headers).json["items"][0]
    assert row["worker_id"] != registered and row["source"] == "self"
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "worker.claim_registered"))
    someone_else = client.put("/api/mp/v1/me", json=mine, headers=login(client, "impostor"))
    assert someone_else.status_code == 409 and someone_else.json["error"]["code"] == "id_number_taken"
