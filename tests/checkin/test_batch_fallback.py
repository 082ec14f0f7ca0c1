"""An upload that loses a race to a concurrent scan is replayed one scan at a time, and still reconciles."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import HealthEvent, IsolationOrder, ScanEvent, Trip
from app.services.scanning import checkin, checkin_batch
from tests.builders import publish_trip, qr_of, scan_body
from tests.checkin.test_batch_as_of import _railway_officer, ago, history, stored, upload
from tests.checkin.test_scans import SCANS, passenger


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=6)


def lose_the_next_race(monkeypatch):
    """The next upload reads its seats as if a concurrent scan had not yet boarded them: its insert then hits
    the unique index on the boarding, and the upload falls back to one scan at a time."""
    real = checkin_batch._seen_many

    def before_the_concurrent_scan(serials):
        seen = real(serials)
        for place in seen.values():
            place.boarded_at = None
        return seen

    monkeypatch.setattr(checkin_batch, "_seen_many", before_the_concurrent_scan)


def refuse_the_next_insert(monkeypatch):
    """The next upload's one-statement insert fails as if a concurrent scan had won a race; returns the
    list that records it did (the upload is then replayed one scan at a time)."""
    real, refused = checkin.store_scans, []

    def refused_once(events):
        if not refused:
            refused.append(len(events))
            raise IntegrityError("INSERT INTO scan_events", {}, Exception("Duplicate entry for boarded_seat_id"))
        return real(events)

    monkeypatch.setattr(checkin, "store_scans", refused_once)
    return refused


def test_upload_replayed_one_by_one_reconciles_refused_arrivals(client, trip, monkeypatch):
    captain, vice = trip["captain"]["headers"], trip["vice"]["headers"]
    officer = _railway_officer(client, trip)
    trip_id = trip["trip"]["id"]
    at_gate, raced, too_early = passenger(trip, 0), passenger(trip, 1), passenger(trip, 2)
    qr = {rider["worker_id"]: qr_of(client, rider, trip_id) for rider in (at_gate, raced, too_early)}
    # The station's officer, online, scans an arrival before the bus's phone has uploaded anything.
    gate = scan_body(qr[at_gate["worker_id"]], kind="arrive", device_id="railway-gate-1")
    first = client.post(SCANS, json=gate, headers=officer).json
    assert (first["verdict"], first["reason"]) == ("deny", "not_boarded")
    # The vice-captain's phone had scanned an arrival hours before that passenger boarded: it must stay refused.
    early = scan_body(qr[too_early["worker_id"]], kind="arrive", scanned_at=ago(hours=6).isoformat(),
                      device_id="vice-phone")
    assert upload(client, vice, early)[0]["reason"] == "not_boarded"
    # The vice-captain boards `raced` online while the captain's phone uploads the morning's boardings.
    assert client.post(SCANS, json=scan_body(qr[raced["worker_id"]]), headers=vice).json["verdict"] == "allow"
    lose_the_next_race(monkeypatch)
    boardings = [scan_body(qr[rider["worker_id"]], scanned_at=ago(hours=5).isoformat())
                 for rider in (at_gate, raced, too_early)]
    taken = scan_body(qr[too_early["worker_id"]], kind="arrive", client_event_id=gate["client_event_id"])
    *results, refused = upload(client, captain, *boardings, taken)
    assert [(r["verdict"], r["reason"], r["conflict"]) for r in results] == [
        ("allow", "ok", False), ("deny", "already_boarded", True), ("allow", "ok", False)]
    # Another device's event id is refused in the answer, as in an upload stored in one go, not a 409 for all.
    assert (refused["reason"], refused["stored"]) == ("client_event_id_taken", False)

    arrival = stored(gate["client_event_id"])
    assert (arrival.verdict, arrival.reason, arrival.conflict, arrival.conflict_reason) == (
        "allow", "ok", True, "not_boarded")
    assert arrival.arrived_seat_id == arrival.seat_id
    assert (stored(early["client_event_id"]).verdict, stored(early["client_event_id"]).reason) == (
        "deny", "not_boarded")
    # The officer's phone retrying the arrival learns the reconciled answer, as after a batch stored in one go.
    replay = client.post(SCANS, json=gate, headers=officer).json
    assert replay["replayed"] and replay["reconciled"] is True and (replay["verdict"], replay["reason"]) == (
        "allow", "ok")
    arrivals = [event for event in history(client, at_gate) if event["kind"] == "arrival"]
    assert len(arrivals) == 1 and arrivals[0]["actor"] == "银川火车站 工作人员"
    assert not [event for event in history(client, too_early) if event["kind"] == "arrival"]
    tally = client.get(f"/api/checkin/v1/trips/{trip_id}/reconciliation", headers=captain).json["trip"]
    assert (tally["boarded"], tally["arrived"], tally["missing"], tally["status"]) == (3, 1, 2, "arrived")
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 6


def test_fallback_takes_a_reconciled_fever_into_the_health_record(client, trip, monkeypatch):
    vice = trip["vice"]["headers"]
    trip_id = trip["trip"]["id"]
    rider = passenger(trip)
    qr = qr_of(client, rider, trip_id)
    fever = scan_body(qr, kind="arrive", temperature=38.0, scanned_at=ago(minutes=30).isoformat(),
                      device_id="vice-phone")
    assert upload(client, vice, fever)[0]["reason"] == "not_boarded"
    assert db.session.scalar(select(IsolationOrder)) is None
    refused = refuse_the_next_insert(monkeypatch)  # the captain's upload of the boarding loses a race
    boarding = {**scan_body(qr, device_id="captain-phone-1"), "scanned_at": datetime.now(UTC) - timedelta(hours=4)}
    scanner = checkin.Scanner("worker", trip["captain"]["worker_id"])
    [answer] = checkin_batch.perform_batch(scanner, [boarding])
    assert refused == [1] and (answer["verdict"], answer["reason"], answer["conflict"]) == ("allow", "ok", False)

    db.session.expire_all()
    arrival = stored(fever["client_event_id"])
    assert (arrival.verdict, arrival.reason, arrival.conflict_reason) == ("isolate", "fever", "not_boarded")
    assert arrival.answer["reconciled"] is True
    order = db.session.scalar(select(IsolationOrder))
    assert (order.worker_id, order.status, order.reason, order.scan_event_id) == (
        rider["worker_id"], "pending", "fever", arrival.id)
    kinds = db.session.scalars(select(HealthEvent.kind).where(HealthEvent.worker_id == rider["worker_id"],
                                                              HealthEvent.scan_event_id.is_not(None))).all()
    assert sorted(kinds) == ["arrival", "boarding"]
    assert db.session.get(Trip, trip_id).status == "arrived"
