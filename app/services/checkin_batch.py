"""Offline uploads (离线补传): up to 500 scans judged together, in the order they happened.

Each scan gets exactly the judgement `checkin.judge` gives a single scan, as of its own
scanned_at; the batch only saves round trips: seats, passages and health records are loaded
in a few queries, the scans are stored in one transaction. If that transaction loses a race
with a concurrent scan (a unique index fires), the batch is replayed one scan at a time.
"""
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Forbidden
from app.extensions import db
from app.models import IsolationOrder, ScanEvent, Seat, Trip, Worker
from app.services import checkin, health


def perform_batch(scanner, scans):
    """Judge and store scans collected offline; one answer per scan, in input order. Commits.

    A scan the scanner had no right to make (wrong kind, wrong checkpoint) is answered with
    its reason and not stored; every other scan is stored, conflicts flagged, never dropped.
    Arrivals of these seats stored earlier as not_boarded are judged again in their place in
    time: a boarding uploaded late reconciles them (`checkin.reconcile`).
    Raises Forbidden when the scanner is no captain and no checkpoint staff at all.
    """
    scans = [checkin.normalized(scan) for scan in scans]
    captain_trip_ids = _captain_trip_ids(scanner)
    answers = [None] * len(scans)
    replays, foreign = _stored_answers([scan["client_event_id"] for scan in scans], scanner)
    serials = {scan["qr"]: checkin.peek_serial(scan["qr"]) for scan in scans}  # decode each text once
    seen, waiting = _seen_many({serial for serial in serials.values() if serial is not None})
    accepted, first_of = [], {}
    # In the order things happened: this upload's scans, and the refused arrivals they may reconcile.
    timeline = sorted([(scan["scanned_at"], 1, index) for index, scan in enumerate(scans)]
                      + [(event.scanned_at, 0, event) for event in waiting], key=lambda item: item[:2])
    for _, upload, item in timeline:
        if not upload:
            place = seen[item.seat_id]
            decision = checkin.reconcile(item, place)
            if decision is not None:
                accepted.append((None, item, decision, place, checkin.Scanner(item.actor_kind, item.actor_id)))
            continue
        index, scan = item, scans[item]
        if scan["client_event_id"] in replays:
            answers[index] = replays[scan["client_event_id"]]
            continue
        if scan["client_event_id"] in foreign:
            answers[index] = {"client_event_id": scan["client_event_id"], "verdict": "deny",
                              "reason": "client_event_id_taken", "message": "该扫码编号已被其他设备使用", "stored": False}
            continue
        if scan["client_event_id"] in first_of:  # the same event twice in one upload
            first_of[scan["client_event_id"]].append(index)
            continue
        try:
            allowed, checkpoint_id = _scope(scanner, scan, captain_trip_ids)
        except Forbidden as error:
            answers[index] = {"client_event_id": scan["client_event_id"], "verdict": "deny", "reason": error.code,
                              "message": error.message, "stored": False}
            continue
        place = seen.get(serials[scan["qr"]])
        event, decision = checkin.judge(scanner, scan, "offline", scan["scanned_at"], allowed, checkpoint_id, place)
        if place is not None:
            place.absorb(event, decision)
        db.session.add(event)
        first_of[scan["client_event_id"]] = [index]
        accepted.append((index, event, decision, place, scanner))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        # A concurrent scan boarded one of these seats first: judge them one by one instead.
        order = sorted(range(len(scans)), key=lambda i: scans[i]["scanned_at"])
        answers = [None] * len(scans)
        for index in order:
            answers[index] = _one_by_one(scanner, scans[index])
        return answers
    _record_health(accepted)
    for index, event, _, _, _ in accepted:
        if index is not None:
            for position in first_of[event.client_event_id]:
                answers[position] = {**event.answer, "event_id": event.id}
    db.session.commit()
    return answers


def _one_by_one(scanner, scan):
    try:
        return checkin.perform_scan(scanner, scan, "offline")
    except Forbidden as error:
        db.session.rollback()
        return {"client_event_id": scan["client_event_id"], "verdict": "deny", "reason": error.code,
                "message": error.message, "stored": False}


def _captain_trip_ids(scanner):
    if scanner.kind != "worker":
        return None
    trips = checkin.captain_trips(scanner.id)
    if not trips:
        raise Forbidden("not_a_scanner", "您不是车长或副车长")
    return {trip.id for trip in trips}


def _scope(scanner, scan, captain_trip_ids):
    """`checkin.scope_for` for one scan of an upload, with the captain's trips loaded once."""
    return checkin.scope_for(scanner, scan["kind"], scan.get("checkpoint_id"), scan["scanned_at"], "offline",
                             captain_trip_ids=captain_trip_ids)


def _stored_answers(client_event_ids, scanner):
    """({event id: first answer} for this scanner's retries, {event ids stored by someone else})."""
    rows = db.session.execute(
        select(ScanEvent.id, ScanEvent.client_event_id, ScanEvent.answer, ScanEvent.actor_kind, ScanEvent.actor_id)
        .where(ScanEvent.client_event_id.in_(client_event_ids))
    )
    mine, foreign = {}, set()
    for row in rows:
        if (row.actor_kind, row.actor_id) == (scanner.kind, scanner.id):
            mine[row.client_event_id] = {**row.answer, "event_id": row.id, "replayed": True}
        else:
            foreign.add(row.client_event_id)
    return mine, foreign


def _seen_many(serials):
    """({serial: checkin.Seen}, [ScanEvents of these seats refused as not_boarded]) in four queries at most."""
    if not serials:
        return {}, []
    rows = db.session.execute(
        select(Seat, Trip, Worker).join(Trip, Trip.id == Seat.trip_id).join(Worker, Worker.id == Seat.worker_id)
        .where(Seat.id.in_(serials))
    ).all()
    boarded, arrived, waiting = {}, {}, []
    for event_id, seat_id, scanned_at, boarding, arrival in db.session.execute(
        select(ScanEvent.id, ScanEvent.seat_id, ScanEvent.scanned_at, ScanEvent.boarded_seat_id,
               ScanEvent.arrived_seat_id).where(
            ScanEvent.seat_id.in_(serials),
            ScanEvent.boarded_seat_id.is_not(None) | ScanEvent.arrived_seat_id.is_not(None)
            | ((ScanEvent.kind == "arrive") & (ScanEvent.reason == "not_boarded")))
    ):
        if boarding:
            boarded[seat_id] = scanned_at
        elif arrival:
            arrived[seat_id] = scanned_at
        else:
            waiting.append(event_id)
    records = health.observations_by_worker({worker.id for _, _, worker in rows})
    seen = {seat.id: checkin.Seen(seat, trip, worker, boarded.get(seat.id), arrived.get(seat.id), records[worker.id])
            for seat, trip, worker in rows}
    if waiting:
        waiting = db.session.scalars(select(ScanEvent).where(ScanEvent.id.in_(waiting))).all()
    return seen, waiting


def _record_health(accepted):
    """Health events for the accepted scans, pending isolation orders, trip progress."""
    isolating = {event.worker_id for _, event, decision, _, _ in accepted if decision.verdict == "isolate"}
    open_orders = set(db.session.scalars(select(IsolationOrder.worker_id).where(
        IsolationOrder.worker_id.in_(isolating), IsolationOrder.status.in_(("pending", "active"))))) if isolating \
        else set()
    for _, event, decision, place, scanner in accepted:
        if not decision.accepted:
            continue
        db.session.add(checkin.health_event(event, scanner))
        if decision.verdict == "isolate" and event.worker_id not in open_orders:
            open_orders.add(event.worker_id)
            db.session.add(checkin.isolation_order(event))
        checkin.advance_trip(place.trip, event.kind)
