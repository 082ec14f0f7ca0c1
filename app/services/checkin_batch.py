"""Offline uploads (离线补传): up to 500 scans judged together, in the order they happened.

Each scan gets exactly the judgement `checkin.judge` gives a single scan, as of its own
scanned_at; the batch only saves round trips: each QR text is decoded once, the seats with
their passages and health records come in one statement, the scans and health events are
inserted with one executemany each, in one transaction. If that transaction loses a race
with a concurrent scan (a unique index fires), the batch is replayed one scan at a time, in
the order they happened (refused arrivals then wait for the next upload touching their seat).
"""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Forbidden
from app.extensions import db
from app.models import ScanEvent
from app.services import checkin, seat_facts


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
    credentials = {qr: checkin.decoded(qr) for qr in {scan["qr"] for scan in scans}}  # each text decoded once
    serials = {credential[0].serial for credential in credentials.values() if credential is not None}
    seen = _seen_many(serials)
    stored, reconciled, first_of = [], [], {}
    # In the order things happened: this upload's scans, and the refused arrivals they may reconcile.
    timeline = sorted([(scan["scanned_at"], 1, index) for index, scan in enumerate(scans)]
                      + [(event.scanned_at, 0, event) for event in seat_facts.refused_arrivals(serials)],
                      key=lambda item: item[:2])
    for _, upload, item in timeline:
        if not upload:
            place = seen[item.seat_id]
            decision = checkin.reconcile(item, place)
            if decision is not None and decision.accepted:
                reconciled.append((item, decision, place, checkin.Scanner(item.actor_kind, item.actor_id)))
            continue
        index, scan = item, scans[item]
        cid = scan["client_event_id"]
        if cid in replays:
            answers[index] = replays[cid]
        elif cid in foreign:
            answers[index] = _refusal(cid, "client_event_id_taken", "该扫码编号已被其他设备使用")
        elif cid in first_of:  # the same event twice in one upload
            first_of[cid].append(index)
        else:
            try:
                allowed, checkpoint_id = _scope(scanner, scan, captain_trip_ids)
            except Forbidden as error:
                answers[index] = _refusal(cid, error.code, error.message)
                continue
            credential = credentials[scan["qr"]]
            place = seen.get(credential[0].serial) if credential is not None else None
            event, decision = checkin.judge(scanner, scan, "offline", scan["scanned_at"], allowed, checkpoint_id,
                                            place, credential)
            if place is not None:
                place.absorb(event, checkin.observation(event) if decision.accepted else None)
            first_of[cid] = [index]
            stored.append((event, decision, place, scanner))
    try:
        if stored:
            checkin.store_scans([event for event, *_ in stored])
        db.session.flush()  # the reconciled arrivals
    except IntegrityError:
        db.session.rollback()
        # A concurrent scan boarded one of these seats first: judge them one by one instead, in time order.
        for index in sorted(range(len(scans)), key=lambda i: scans[i]["scanned_at"]):
            answers[index] = _one_by_one(scanner, scans[index])
        return answers
    checkin.record_health([entry for entry in stored if entry[1].accepted] + reconciled)
    for event, *_ in stored:
        for position in first_of[event.client_event_id]:
            answers[position] = {**event.answer, "event_id": event.id}
    db.session.commit()
    return answers


def _seen_many(serials):
    """{serial: seat_facts.Seen} for every seat named, in one statement."""
    return seat_facts.load(serials)


def _refusal(client_event_id, reason, message):
    return {"client_event_id": client_event_id, "verdict": "deny", "reason": reason, "message": message,
            "stored": False}


def _one_by_one(scanner, scan):
    try:
        return checkin.perform_scan(scanner, scan, "offline")
    except Forbidden as error:
        db.session.rollback()
        return _refusal(scan["client_event_id"], error.code, error.message)


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
