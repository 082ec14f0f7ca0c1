"""Edges of scanning: retired keys, foreign event ids, what refusals disclose, checkpoint scope, time bounds."""
from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint
from tests.builders import close_trip, depart, make_staff, publish_trip, qr_of, scan_body
from tests.checkin.test_scans import SCANS, passenger, trip  # noqa: F401  (fixture)


def test_retiring_the_key_stops_its_qr_codes_today(client, trip):  # noqa: F811
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    from app.services.credentials.credentials import decode_credential

    kid = decode_credential(qr)[0].kid
    runner = client.application.test_cli_runner()
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    assert runner.invoke(args=["keys", "retire", kid]).exit_code == 0
    answer = client.post(SCANS, json=scan_body(qr), headers=trip["captain"]["headers"]).json
    assert (answer["verdict"], answer["reason"]) == ("deny", "unknown_key")
    fresh = qr_of(client, passenger(trip), trip["trip"]["id"])  # re-issued under the new key
    assert client.post(SCANS, json=scan_body(fresh), headers=trip["captain"]["headers"]).json["verdict"] == "allow"


def test_someone_elses_event_id_is_a_conflict_not_a_replay(client, trip):  # noqa: F811
    body = scan_body(qr_of(client, passenger(trip), trip["trip"]["id"]))
    client.post(SCANS, json=body, headers=trip["captain"]["headers"])
    other = client.post(SCANS, json=body, headers=trip["vice"]["headers"])
    assert other.status_code == 409 and other.json["error"]["code"] == "client_event_id_taken"
    assert "passenger" not in other.json


def test_refusals_disclose_no_passenger(client, trip):  # noqa: F811
    bus = publish_trip(client, passengers=2, start=30, staff_headers=trip["staff"], destination_city="江苏省苏州市")
    answer = client.post(SCANS, json=scan_body(qr_of(client, passenger(trip), trip["trip"]["id"])),
                         headers=bus["captain"]["headers"]).json
    assert answer["reason"] == "wrong_trip" and answer["passenger"] is None and answer["health"] is None


def test_checkpoint_records_arrivals_only_of_buses_expected_there(client, trip):  # noqa: F811
    railway = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-railway"))
    airport = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "hedong-airport"))
    client.patch(f"/api/console/v1/trips/{trip['trip']['id']}", headers=trip["staff"],
                 json={"arrival_checkpoint_id": railway})
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    client.post(SCANS, json=scan_body(qr), headers=trip["captain"]["headers"])
    at_airport = make_staff(client, "airport", role="checkpoint_staff", checkpoint_id=airport)
    assert client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=at_airport).json["reason"] == "wrong_trip"
    assert client.post(SCANS, json=scan_body(qr, kind="checkpoint"), headers=at_airport).json["verdict"] == "allow"
    at_railway = make_staff(client, "railway", role="checkpoint_staff", checkpoint_id=railway)
    assert client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=at_railway).json["verdict"] == "allow"


def test_isolated_passengers_still_count_as_boarded_and_arrived(client, trip):  # noqa: F811
    captain = trip["captain"]["headers"]
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    client.post(SCANS, json=scan_body(qr), headers=captain)
    under_way = client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/manifest", headers=captain).json
    assert under_way["counts"]["no_show"] == 0  # boarding has begun, the others may still come
    assert client.post(SCANS, json=scan_body(qr, kind="arrive", temperature=38.0),
                       headers=captain).json["verdict"] == "isolate"
    tally = client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/reconciliation", headers=captain).json["trip"]
    assert (tally["boarded"], tally["arrived"], tally["isolated"], tally["missing"]) == (1, 1, 1, 0)
    assert tally["no_show"] == 3  # the bus has arrived: whoever never boarded it did not come


def test_times_out_of_range_are_422(client, trip):  # noqa: F811
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    for moment in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "2099-01-01T00:00:00+08:00"):
        response = client.post(SCANS, json=scan_body(qr, scanned_at=moment), headers=trip["captain"]["headers"])
        assert response.status_code == 422 and "scanned_at" in response.json["error"]["fields"]
        patched = client.patch(f"/api/console/v1/trips/{trip['trip']['id']}", headers=trip["staff"],
                               json={"expected_arrival_at": moment})
        assert patched.status_code == 422


def test_bad_plan_inputs_are_422(client):
    admin = make_staff(client, "boss", role="admin")
    body = {"date_from": "2099-01-01", "date_to": "2099-01-02", "county_code": "999999",
            "vehicle_types": [{"name": "大客车", "seats": 45, "count": 1}]}
    assert client.post("/api/console/v1/plans", json=body, headers=admin).json["error"]["fields"]["county_code"]
    body.update(county_code="640121", vehicle_types=[{"name": "大客车", "seats": 45, "count": 1}] * 2)
    assert client.post("/api/console/v1/plans", json=body, headers=admin).status_code == 422


def test_a_retry_answers_the_first_answer_even_once_the_scanner_may_no_longer_scan(client, trip):  # noqa: F811
    captain = trip["captain"]["headers"]
    body = scan_body(qr_of(client, passenger(trip), trip["trip"]["id"]))
    first = client.post(SCANS, json=body, headers=captain).json
    depart(trip["trip"]["id"])
    assert close_trip(client, trip["trip"]["id"], captain).status_code == 200
    retry = client.post(SCANS, json=body, headers=captain)
    assert retry.status_code == 200 and retry.json["replayed"] is True
    assert {**retry.json, "replayed": None} == {**first, "replayed": None}
    fresh = client.post(SCANS, json=scan_body(body["qr"], kind="arrive"), headers=captain)
    assert fresh.status_code == 403 and fresh.json["error"]["code"] == "not_a_scanner"
    # Someone else's event id stays a conflict, whether or not they may scan.
    taken = client.post(SCANS, json=body, headers=passenger(trip, 1)["headers"])
    assert taken.status_code == 409 and taken.json["error"]["code"] == "client_event_id_taken"


def test_logging_out_stops_scanning_at_once(client, trip):  # noqa: F811
    captain = trip["captain"]["headers"]
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    assert client.post(SCANS, json=scan_body(qr), headers=captain).status_code == 200  # the token is now remembered
    assert client.delete("/api/mp/v1/session", headers=captain).status_code in (200, 204)
    refused = client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=captain)
    assert refused.status_code == 401
    officer = make_staff(client, "gate", role="checkpoint_staff",
                         checkpoint_id=db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "hedong-airport")))
    assert client.post(SCANS, json=scan_body(qr, kind="checkpoint"), headers=officer).status_code == 200
    assert client.delete("/api/console/v1/session", headers=officer).status_code in (200, 204)
    assert client.post(SCANS, json=scan_body(qr, kind="checkpoint"), headers=officer).status_code == 401


def test_the_expected_list_costs_the_same_queries_for_one_bus_or_many(client, trip):  # noqa: F811
    from sqlalchemy import event

    railway = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-railway"))
    officer = make_staff(client, "railway", role="checkpoint_staff", checkpoint_id=railway)

    def statements():
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            listed = client.get(f"/api/checkin/v1/checkpoints/{railway}/expected", headers=officer).json["trips"]
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(listed), len(seen)

    client.patch(f"/api/console/v1/trips/{trip['trip']['id']}", headers=trip["staff"],
                 json={"arrival_checkpoint_id": railway})
    statements()  # the officer's token is looked up once, then remembered
    one = statements()
    for start in (30, 40):
        bus = publish_trip(client, passengers=3, start=start, staff_headers=trip["staff"], destination_city="江苏省苏州市")
        client.patch(f"/api/console/v1/trips/{bus['trip']['id']}", headers=trip["staff"],
                     json={"arrival_checkpoint_id": railway})
    three = statements()
    assert (one[0], three[0]) == (1, 3) and three[1] == one[1]


def test_a_checkpoint_upload_asks_for_the_buses_it_expects_once(client, trip):  # noqa: F811
    from sqlalchemy import event

    railway = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-railway"))
    officer = make_staff(client, "railway-batch", role="checkpoint_staff", checkpoint_id=railway)
    client.patch(f"/api/console/v1/trips/{trip['trip']['id']}", headers=trip["staff"],
                 json={"arrival_checkpoint_id": railway})
    riders = [passenger(trip, index) for index in range(2)]
    arrivals = [scan_body(qr_of(client, rider, trip["trip"]["id"]), kind="arrive") for rider in riders]
    arrivals += [scan_body(qr_of(client, rider, trip["trip"]["id"]), kind="checkpoint") for rider in riders]
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        answers = client.post(f"{SCANS}/batch", json={"scans": arrivals}, headers=officer).json["results"]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert [answer["reason"] for answer in answers] == ["not_boarded", "not_boarded", "ok", "ok"]
    assert sum("arrival_checkpoint_id =" in statement for statement in seen) == 1
