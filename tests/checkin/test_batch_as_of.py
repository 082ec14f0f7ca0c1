"""Uploads judged as of each scan's scanned_at: health then, passages then, revocations then."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Checkpoint, HealthEvent, IsolationOrder, ScanEvent, Seat
from tests.builders import close_trip, depart, declare_health, make_staff, publish_trip, qr_of, scan_body
from tests.checkin.test_scans import SCANS, passenger

BATCH = "/api/checkin/v1/scans/batch"


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=6)


def ago(**delta):
    """A moment in the past, aware (for request bodies)."""
    return datetime.now(UTC) - timedelta(**delta)


def naive(moment):
    return moment.astimezone(UTC).replace(tzinfo=None)


def upload(client, headers, *scans):
    response = client.post(BATCH, json={"scans": list(scans)}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["results"]


def stored(client_event_id):
    db.session.expire_all()
    return db.session.scalar(select(ScanEvent).where(ScanEvent.client_event_id == client_event_id))


def history(client, rider):
    return client.get("/api/mp/v1/health", headers=rider["headers"]).json["history"]


def test_health_is_taken_as_of_the_scan(client, trip):
    captain = trip["captain"]["headers"]
    fell_ill_later, was_ill = passenger(trip, 0), passenger(trip, 1)
    # Both declared green three hours ago (moved back from the builders' declaration of now)...
    db.session.execute(update(HealthEvent).values(occurred_at=naive(ago(hours=3))))
    db.session.commit()
    # ...then one declared a fever two hours ago, the other only now, after the bus had left.
    for rider in (fell_ill_later, was_ill):
        assert declare_health(client, rider["headers"], temperature=38.2).status_code == 201
    db.session.execute(update(HealthEvent).where(HealthEvent.worker_id == was_ill["worker_id"],
                                                 HealthEvent.temperature == 38.2)
                       .values(occurred_at=naive(ago(hours=2))))
    db.session.commit()
    trip_id = trip["trip"]["id"]
    hour_ago = ago(hours=1).isoformat()
    boarded, isolated = upload(client, captain, scan_body(qr_of(client, fell_ill_later, trip_id), scanned_at=hour_ago),
                               scan_body(qr_of(client, was_ill, trip_id), scanned_at=hour_ago))
    assert (boarded["verdict"], boarded["reason"], boarded["health"]["status"]) == ("allow", "ok", "green")
    assert (isolated["verdict"], isolated["reason"]) == ("isolate", "isolation_required")
    # Scanned now, the fever declared since counts.
    now = client.post(SCANS, json=scan_body(qr_of(client, fell_ill_later, trip_id), kind="arrive"), headers=captain).json
    assert (now["verdict"], now["reason"]) == ("isolate", "isolation_required")


def _railway_officer(client, trip):
    railway = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-railway"))
    patched = client.patch(f"/api/console/v1/trips/{trip['trip']['id']}", headers=trip["staff"],
                           json={"arrival_checkpoint_id": railway})
    assert patched.status_code == 200, patched.json
    return make_staff(client, "railway", role="checkpoint_staff", checkpoint_id=railway)


def test_arrival_uploaded_before_its_boarding_is_reconciled(client, trip):
    captain, vice = trip["captain"]["headers"], trip["vice"]["headers"]
    officer = _railway_officer(client, trip)
    trip_id = trip["trip"]["id"]
    at_gate, on_vice_phone = passenger(trip, 0), passenger(trip, 1)
    qrs = {rider["worker_id"]: qr_of(client, rider, trip_id) for rider in (at_gate, on_vice_phone)}
    # The station's officer is online; the bus had no signal all day.
    gate = scan_body(qrs[at_gate["worker_id"]], kind="arrive", device_id="railway-gate-1", temperature=36.8)
    first = client.post(SCANS, json=gate, headers=officer).json
    assert (first["verdict"], first["reason"]) == ("deny", "not_boarded")
    # The vice-captain's phone recorded an arrival with a fever; it reaches the server first.
    fever = scan_body(qrs[on_vice_phone["worker_id"]], kind="arrive", scanned_at=ago(minutes=30).isoformat(),
                      temperature=38.0, device_id="vice-phone")
    flagged = upload(client, vice, fever)[0]
    assert (flagged["verdict"], flagged["reason"], flagged["conflict"]) == ("deny", "not_boarded", True)
    assert db.session.scalar(select(IsolationOrder)) is None
    # The captain's phone finally uploads the boardings of the morning.
    boarded = upload(client, captain, *(scan_body(qr, scanned_at=ago(hours=5).isoformat()) for qr in qrs.values()))
    assert [(r["verdict"], r["reason"]) for r in boarded] == [("allow", "ok")] * 2

    arrival = stored(gate["client_event_id"])
    assert (arrival.verdict, arrival.reason, arrival.conflict, arrival.conflict_reason) == (
        "allow", "ok", True, "not_boarded")
    assert arrival.arrived_seat_id == arrival.seat_id
    isolating = stored(fever["client_event_id"])
    assert (isolating.verdict, isolating.reason) == ("isolate", "fever")
    order = db.session.scalar(select(IsolationOrder))
    assert order.worker_id == on_vice_phone["worker_id"] and order.status == "pending" and order.reason == "fever"
    # The officer's phone retrying the arrival learns the reconciled answer.
    replay = client.post(SCANS, json=gate, headers=officer).json
    assert replay["replayed"] and replay["reconciled"] is True and (replay["verdict"], replay["reason"]) == ("allow", "ok")
    tally = client.get(f"/api/checkin/v1/trips/{trip_id}/reconciliation", headers=captain).json["trip"]
    assert (tally["boarded"], tally["arrived"], tally["missing"], tally["isolated"], tally["status"]) == (
        2, 2, 0, 1, "arrived")
    arrivals = [event for event in history(client, at_gate) if event["kind"] == "arrival"]
    assert len(arrivals) == 1 and arrivals[0]["actor"] == "银川火车站 工作人员"


def test_arrival_scanned_before_the_boarding_stays_refused_in_either_upload_order(client, trip):
    captain, vice = trip["captain"]["headers"], trip["vice"]["headers"]
    trip_id = trip["trip"]["id"]
    riders = [passenger(trip, 0), passenger(trip, 1)]
    qrs = [qr_of(client, rider, trip_id) for rider in riders]
    early_arrivals = [scan_body(qr, kind="arrive", scanned_at=ago(hours=4).isoformat()) for qr in qrs]
    boardings = [scan_body(qr, scanned_at=ago(hours=3).isoformat()) for qr in qrs]
    upload(client, vice, early_arrivals[0])  # arrival first, then its boarding
    upload(client, captain, boardings[0])
    upload(client, captain, boardings[1])  # boarding first, then the arrival
    late = upload(client, vice, early_arrivals[1])[0]
    assert (late["verdict"], late["reason"], late["conflict"]) == ("deny", "not_boarded", True)
    reasons = [stored(scan["client_event_id"]).reason for scan in early_arrivals]
    assert reasons == ["not_boarded", "not_boarded"]
    assert [stored(scan["client_event_id"]).verdict for scan in boardings] == ["allow", "allow"]


def test_stored_arrival_and_uploaded_arrival_are_judged_in_the_order_they_happened(client, trip):
    captain = trip["captain"]["headers"]
    officer = _railway_officer(client, trip)
    qr = qr_of(client, passenger(trip), trip["trip"]["id"])
    gate = scan_body(qr, kind="arrive", scanned_at=ago(hours=1).isoformat(), device_id="railway-gate-1")
    assert upload(client, officer, gate)[0]["reason"] == "not_boarded"
    # One upload holds the boarding and the captain's own arrival scan, made after the officer's.
    board, own = upload(client, captain, scan_body(qr, scanned_at=ago(hours=5).isoformat()),
                        scan_body(qr, kind="arrive", scanned_at=ago(minutes=50).isoformat()))
    assert board["verdict"] == "allow"
    assert (own["verdict"], own["reason"], own["conflict"]) == ("deny", "already_arrived", True)
    assert (stored(gate["client_event_id"]).verdict, stored(gate["client_event_id"]).reason) == ("allow", "ok")


def test_scan_made_before_the_seat_was_revoked_is_accepted_as_of_then(client, trip):
    captain, vice = trip["captain"]["headers"], trip["vice"]["headers"]
    trip_id = trip["trip"]["id"]
    on_board, missed, revoked_early = passenger(trip, 0), passenger(trip, 1), passenger(trip, 2)
    qrs = {rider["worker_id"]: qr_of(client, rider, trip_id) for rider in (on_board, missed, revoked_early)}
    assert client.post(SCANS, json=scan_body(qrs[on_board["worker_id"]]), headers=captain).json["verdict"] == "allow"
    # The captain closes the trip; the vice-captain's phone, still offline, had boarded `missed` earlier.
    depart(trip_id)
    assert close_trip(client, trip_id, captain).status_code == 200
    seat_of = {seat.worker_id: seat for seat in db.session.scalars(select(Seat).where(Seat.trip_id == trip_id))}
    assert seat_of[missed["worker_id"]].status == "revoked"
    late = scan_body(qrs[missed["worker_id"]], scanned_at=ago(minutes=30).isoformat(), device_id="vice-phone")
    result = upload(client, vice, late)[0]
    assert (result["verdict"], result["reason"], result["conflict"]) == ("allow", "ok", True)
    kept = stored(late["client_event_id"])
    assert kept.conflict_reason == "revoked_after_scan" and kept.boarded_seat_id == seat_of[missed["worker_id"]].id
    # A scan made after the revocation is refused as revoked.
    db.session.execute(update(Seat).where(Seat.id == seat_of[revoked_early["worker_id"]].id)
                       .values(revoked_at=naive(ago(hours=2))))
    db.session.commit()
    after = upload(client, vice, scan_body(qrs[revoked_early["worker_id"]], scanned_at=ago(hours=1).isoformat()))[0]
    assert (after["verdict"], after["reason"]) == ("deny", "revoked")
    before = upload(client, vice, scan_body(qrs[revoked_early["worker_id"]], scanned_at=ago(hours=3).isoformat()))[0]
    assert (before["verdict"], before["reason"]) == ("allow", "ok")
