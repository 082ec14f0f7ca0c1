"""Online scans: who may scan, the checks in order, the health record, idempotency, races."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import HealthEvent, IsolationOrder, ScanEvent
from tests.builders import (
    application,
    close_trip,
    depart,
    make_staff,
    make_worker,
    profile,
    publish_trip,
    qr_of,
    scan_body,
)

SCANS = "/api/checkin/v1/scans"


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=4)


def passenger(trip, index=0):
    """A rider who is neither captain nor vice-captain."""
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    return [rider for rider in trip["riders"] if rider["worker_id"] not in crew][index]


def test_boarding_scan_allows_and_writes_the_health_record(client, trip):
    rider = passenger(trip)
    response = client.post(SCANS, json=scan_body(qr_of(client, rider, trip["trip"]["id"]), location="永宁县汽车站"),
                           headers=trip["captain"]["headers"])
    assert response.status_code == 200, response.json
    answer = response.json
    assert (answer["verdict"], answer["reason"]) == ("allow", "ok")
    assert answer["passenger"]["name"] == "张*丰" and len(answer["passenger"]["id_last4"]) == 4
    assert answer["passenger"]["trip"] == trip["trip"]["id"] and answer["health"]["status"] == "green"
    record = client.get("/api/mp/v1/health", headers=rider["headers"]).json
    boarding = [event for event in record["history"] if event["kind"] == "boarding"]
    assert len(boarding) == 1 and boarding[0]["temperature"] == 36.5
    assert boarding[0]["actor_kind"] == "captain" and boarding[0]["location"] == "永宁县汽车站"
    assert boarding[0]["actor"].startswith("车长 ") and "*" in boarding[0]["actor"]
    assert [e["actor"] for e in record["history"] if e["kind"] == "declaration"] == ["本人"]
    manifest = client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/manifest", headers=trip["captain"]["headers"])
    assert manifest.json["counts"]["boarded"] == 1


def test_second_board_is_refused_and_stored(client, trip):
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    client.post(SCANS, json=scan_body(qr), headers=trip["captain"]["headers"])
    again = client.post(SCANS, json=scan_body(qr), headers=trip["vice"]["headers"]).json
    assert (again["verdict"], again["reason"]) == ("deny", "already_boarded")
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 2
    assert db.session.scalar(select(func.count()).select_from(HealthEvent).where(HealthEvent.kind == "boarding")) == 1


def test_retry_with_same_client_event_id_replays_the_answer(client, trip):
    body = scan_body(qr_of(client, passenger(trip), trip["trip"]["id"]))
    first = client.post(SCANS, json=body, headers=trip["captain"]["headers"]).json
    second = client.post(SCANS, json=body, headers=trip["captain"]["headers"]).json
    assert second["replayed"] is True and {**second, "replayed": None} == {**first, "replayed": None}
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 1


def test_fever_isolates_and_opens_a_pending_order(client, trip):
    rider = passenger(trip)
    answer = client.post(SCANS, json=scan_body(qr_of(client, rider, trip["trip"]["id"]), temperature=37.6),
                         headers=trip["captain"]["headers"]).json
    assert (answer["verdict"], answer["reason"]) == ("isolate", "fever") and "37.6" in answer["message"]
    assert answer["health"]["status"] == "red"
    order = db.session.scalar(select(IsolationOrder))
    assert order.status == "pending" and order.worker_id == rider["worker_id"] and order.reason == "fever"
    manifest = client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/manifest",
                          headers=trip["captain"]["headers"]).json
    assert manifest["counts"]["isolated"] == 1 and manifest["counts"]["boarded"] == 0
    second = passenger(trip, 1)
    symptoms = client.post(SCANS, json=scan_body(qr_of(client, second, trip["trip"]["id"]), symptoms=["cough"]),
                           headers=trip["captain"]["headers"]).json
    assert (symptoms["verdict"], symptoms["reason"]) == ("isolate", "symptoms")


def test_red_status_from_the_record_isolates(client, trip):
    rider = passenger(trip)
    client.post("/api/mp/v1/health-declarations", json={"temperature": 38.2, "contact_with_case": False},
                headers=rider["headers"])
    answer = client.post(SCANS, json=scan_body(qr_of(client, rider, trip["trip"]["id"])),
                         headers=trip["captain"]["headers"]).json
    assert (answer["verdict"], answer["reason"]) == ("isolate", "isolation_required")


def test_arrival_needs_boarding_and_happens_once(client, trip):
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    captain = trip["captain"]["headers"]
    assert client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=captain).json["reason"] == "not_boarded"
    client.post(SCANS, json=scan_body(qr), headers=captain)
    assert client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=captain).json["verdict"] == "allow"
    assert client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=captain).json["reason"] == "already_arrived"
    tally = client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/reconciliation", headers=captain).json
    assert tally["trip"]["arrived"] == 1 and tally["trip"]["boarded"] == 1 and tally["trip"]["missing"] == 0
    assert tally["convoy"]["arrived"] == 1 and tally["trip"]["no_show"] == 3


def test_bad_credentials_are_refused_with_their_reason(client, trip):
    captain = trip["captain"]["headers"]
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    tampered = qr[:-6] + ("A" if qr[-6] != "A" else "B") + qr[-5:]
    assert client.post(SCANS, json=scan_body(tampered), headers=captain).json["reason"] == "invalid"
    assert client.post(SCANS, json=scan_body("HELLO"), headers=captain).json["reason"] == "invalid"
    rider = passenger(trip, 1)
    revoked_qr = qr_of(client, rider, trip["trip"]["id"])
    client.post(f"/api/mp/v1/applications/{rider['application_id']}/cancel", headers=rider["headers"])
    answer = client.post(SCANS, json=scan_body(revoked_qr), headers=captain).json
    assert (answer["verdict"], answer["reason"]) == ("deny", "revoked")
    assert db.session.scalar(select(func.count()).select_from(ScanEvent).where(ScanEvent.verdict == "deny")) == 3


def test_captain_of_another_trip_gets_wrong_trip(client, trip):
    other = publish_trip(client, passengers=2, start=10, staff_headers=trip["staff"],
                         destination_city="江苏省苏州市")
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    answer = client.post(SCANS, json=scan_body(qr), headers=other["captain"]["headers"]).json
    assert (answer["verdict"], answer["reason"]) == ("deny", "wrong_trip")
    manifest = client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/manifest", headers=other["captain"]["headers"])
    assert manifest.status_code == 404


def test_only_captains_and_checkpoint_staff_may_scan(client, trip):
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    response = client.post(SCANS, json=scan_body(qr), headers=passenger(trip, 1)["headers"])
    assert response.status_code == 403 and response.json["error"]["code"] == "not_a_scanner"
    stranger = make_worker(client, name="x", n=90, **{"id_number": profile(90)["id_number"]})
    assert client.post(SCANS, json=scan_body(qr), headers=stranger).status_code == 403
    assert client.post(SCANS, json=scan_body(qr), headers=trip["staff"]).status_code == 403
    assert client.post(SCANS, json=scan_body(qr, kind="checkpoint"),
                       headers=trip["captain"]["headers"]).status_code == 403
    assert client.post(SCANS, json=scan_body(qr)).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 0


def test_closing_the_trip_stops_scanning_and_moves_passengers_on(client, trip):
    captain = trip["captain"]["headers"]
    rider, absent = passenger(trip), passenger(trip, 1)
    qr = qr_of(client, rider, trip["trip"]["id"])
    too_early = client.post(f"/api/checkin/v1/trips/{trip['trip']['id']}/close", headers=captain)
    assert too_early.status_code == 409 and too_early.json["error"]["code"] == "trip_not_departed"
    client.post(SCANS, json=scan_body(qr), headers=captain)
    refused = client.post(f"/api/mp/v1/applications/{rider['application_id']}/cancel", headers=rider["headers"])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "trip_under_way"
    depart(trip["trip"]["id"])
    closed = close_trip(client, trip["trip"]["id"], captain)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    response = client.post(SCANS, json=scan_body(qr, kind="arrive"), headers=captain)
    assert response.status_code == 403 and response.json["error"]["code"] == "not_a_scanner"
    again = client.post(f"/api/checkin/v1/trips/{trip['trip']['id']}/close", headers=trip["staff"])
    assert again.status_code == 409
    statuses = {r["worker_id"]: client.get(f"/api/mp/v1/applications/{r['application_id']}", headers=r["headers"])
                .json["status"] for r in (rider, absent)}
    assert statuses == {rider["worker_id"]: "travelled", absent["worker_id"]: "approved"}
    assert client.post("/api/mp/v1/applications", json=application(), headers=rider["headers"]).status_code == 201


def test_checkpoint_staff_scan_and_expected_list(client, trip):
    from app.models import Checkpoint

    checkpoint_id = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-railway"))
    arriving = (datetime.now(UTC) + timedelta(hours=6)).replace(tzinfo=None).isoformat(timespec="minutes")
    patched = client.patch(f"/api/console/v1/trips/{trip['trip']['id']}", headers=trip["staff"],
                           json={"arrival_checkpoint_id": checkpoint_id, "expected_arrival_at": arriving})
    assert patched.status_code == 200, patched.json
    # No offset means Beijing time, and it is answered in Beijing time with its offset.
    assert patched.json["expected_arrival_at"] == datetime.fromisoformat(arriving).isoformat() + "+08:00"
    officer = make_staff(client, "railway", role="checkpoint_staff", checkpoint_id=checkpoint_id)
    sick = passenger(trip)
    client.post(SCANS, json=scan_body(qr_of(client, sick, trip["trip"]["id"]), temperature=38.0),
                headers=trip["captain"]["headers"])
    expected = client.get(f"/api/checkin/v1/checkpoints/{checkpoint_id}/expected", headers=officer).json
    assert [t["trip_id"] for t in expected["trips"]] == [trip["trip"]["id"]]
    first = expected["trips"][0]["passengers"][0]
    assert first["worker_id"] == sick["worker_id"] and first["flagged"] is True
    assert expected["trips"][0]["flagged"] == 1
    healthy = passenger(trip, 1)
    answer = client.post(SCANS, json=scan_body(qr_of(client, healthy, trip["trip"]["id"]), kind="checkpoint",
                                               device_id="railway-gate-3"), headers=officer).json
    assert answer["verdict"] == "allow"
    history = client.get("/api/mp/v1/health", headers=healthy["headers"]).json["history"]
    passes = [event for event in history if event["kind"] == "checkpoint"]
    assert passes and passes[0]["actor"] == "银川火车站 工作人员" and passes[0]["location"] == "银川火车站"
    other = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "hedong-airport"))
    assert client.get(f"/api/checkin/v1/checkpoints/{other}/expected", headers=officer).status_code == 403
    assert client.post(SCANS, json=scan_body("x", kind="board"), headers=officer).status_code == 403


def test_two_scanners_boarding_one_seat_at_once_make_one_boarding(make_app, backend):
    if backend["BACKEND"] == "sqlite":
        pytest.skip("concurrent writers only race on MariaDB")
    app = make_app()
    with app.app_context():
        from app.services.office.reference_data import load_reference_data

        load_reference_data()
        trip = publish_trip(app.test_client(), passengers=4)
        qr = qr_of(app.test_client(), passenger(trip), trip["trip"]["id"])
    scanners = [trip["captain"]["headers"], trip["vice"]["headers"]] * 3
    results = []
    barrier = threading.Barrier(len(scanners))

    def board(headers):
        with app.app_context():
            barrier.wait()
            results.append(app.test_client().post(SCANS, json=scan_body(qr), headers=headers).json["reason"])

    threads = [threading.Thread(target=board, args=(headers,)) for headers in scanners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["already_boarded"] * 5 + ["ok"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 6
        boardings = select(func.count()).select_from(HealthEvent).where(HealthEvent.kind == "boarding")
        assert db.session.scalar(boardings) == 1
