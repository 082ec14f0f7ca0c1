"""Offline uploads (离线补传): up to 500 scans judged together, in the order they happened.

Each scan gets exactly the judgement `checkin.judge` gives a single scan, as of its own
scanned_at; the batch only saves round trips: each QR text is decoded once, the seats with
their passages and health records come in one statement, the scans and health events are
inserted with one executemany each, in one transaction. Arrivals of these seats stored
earlier as not_boarded are judged again in their place in time (`checkin.reconcile`). If that
transaction loses a race with a concurrent scan (a unique index fires), the batch is replayed
one scan at a time along the same timeline, the refused arrivals reconciled in their place as
well, each step committed on its own.
"""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden
from app.extensions import db
from app.models import ScanEvent
from app.services.credentials import recognition
from app.services.scanning import checkin, seat_facts


def perform_batch(scanner, scans):
    """Judge and store scans collected offline; one answer per scan, in input order. Commits.

    A scan the scanner had no right to make (wrong kind, wrong checkpoint) is answered with
    its reason and not stored; every other scan is stored, conflicts flagged, never dropped.
    Arrivals of these seats stored earlier as not_boarded are judged again in their place in
    time: a boarding uploaded late reconciles them (`checkin.reconcile`), on either path.
    Raises Forbidden when the scanner is no captain and no checkpoint staff at all.
    """
    scans = [checkin.normalized(scan) for scan in scans]
    certificates = [index for index, scan in enumerate(scans) if recognition.is_certificate(scan["qr"])]
    if certificates:
        return _with_certificates(scanner, scans, certificates)
    captain_trip_ids = _captain_trip_ids(scanner)
    credentials = {qr: checkin.decoded(qr) for qr in {scan["qr"] for scan in scans}}  # each text decoded once
    serials = {credential[0].serial for credential in credentials.values() if credential is not None}
    upload = _Upload(scanner, scans, captain_trip_ids, credentials, _seen_many(serials))
    for is_scan, item in _timeline(scans, serials):
        if is_scan:
            upload.judge(item)
        else:
            upload.reconcile(item)
    try:
        if upload.stored:
            checkin.store_scans([event for event, *_ in upload.stored])
        db.session.flush()  # the reconciled arrivals
    except IntegrityError:
        db.session.rollback()
        # A concurrent scan boarded one of these seats first: judge them one by one instead, in time order.
        return _one_by_one(scanner, scans, serials)
    checkin.record_health([entry for entry in upload.stored if entry[1].accepted] + upload.reconciled)
    answers = upload.answers()
    db.session.commit()
    return answers


def _with_certificates(scanner, scans, certificate_indexes):
    """An upload holding health certificates (a checkpoint station's queue): the trip QRs as one batch, then each
    certificate as of its scanned_at, one by one (they touch no seat); answers in input order."""
    from app.services.scanning import certificate_scans  # it builds on checkin, as this module does

    chosen = set(certificate_indexes)
    trips = [scan for index, scan in enumerate(scans) if index not in chosen]
    trip_answers = iter(perform_batch(scanner, trips) if trips else [])
    answers = []
    for index, scan in enumerate(scans):
        if index not in chosen:
            answers.append(next(trip_answers))
            continue
        try:
            answers.append(certificate_scans.perform_certificate_scan(scanner, scan, mode="offline"))
        except (Forbidden, Conflict) as error:
            db.session.rollback()
            answers.append(_refusal(scan["client_event_id"], error.code, error.message))
    return answers


def _timeline(scans, serials):
    """This upload's scans (by index) and the stored arrivals of their seats refused as not_boarded, in the
    order they happened: [(True, index) or (False, ScanEvent)]; at one moment, stored arrivals come first."""
    happened = sorted([(scan["scanned_at"], 1, index) for index, scan in enumerate(scans)]
                      + [(event.scanned_at, 0, event) for event in seat_facts.refused_arrivals(serials)],
                      key=lambda entry: entry[:2])
    return [(bool(is_scan), item) for _, is_scan, item in happened]


def _reconciled(event, place):
    """`checkin.reconcile` a stored refused arrival; its `checkin.record_health` entry if now accepted, else None."""
    decision = checkin.reconcile(event, place) if place is not None else None
    if decision is None or not decision.accepted:
        return None
    return event, decision, place, checkin.Scanner(event.actor_kind, event.actor_id)


class _Upload:
    """One upload judged in memory, scan by scan along the timeline, before anything is stored."""

    def __init__(self, scanner, scans, captain_trip_ids, credentials, seen):
        self.scanner, self.scans, self.captain_trip_ids = scanner, scans, captain_trip_ids
        self.credentials, self.seen = credentials, seen
        self.replays, self.foreign = _stored_answers([scan["client_event_id"] for scan in scans], scanner)
        self.answered = {}  # index: answer of a scan not stored (a retry, a refusal)
        self.first_of = {}  # client_event_id: every index sending it (the same event twice in one upload)
        self.stored, self.reconciled = [], []  # record_health entries: (event, decision, place, scanner)
        self.scopes = {}  # (kind, checkpoint_id): what scope_for answered, or the Forbidden it raised

    def judge(self, index):
        """Judge the upload's scan at `index` as of its scanned_at, as `checkin.judge` judges one scan."""
        scan = self.scans[index]
        cid = scan["client_event_id"]
        if cid in self.replays:
            self.answered[index] = self.replays[cid]
        elif cid in self.foreign:
            self.answered[index] = _refusal(cid, "client_event_id_taken", "该扫码编号已被其他设备使用")
        elif cid in self.first_of:
            self.first_of[cid].append(index)
        else:
            try:
                allowed, checkpoint_id = self.scope(scan)
            except Forbidden as error:
                self.answered[index] = _refusal(cid, error.code, error.message)
                return
            credential = self.credentials[scan["qr"]]
            place = self.seen.get(credential[0].serial) if credential is not None else None
            event, decision = checkin.judge(self.scanner, scan, "offline", scan["scanned_at"], allowed,
                                            checkpoint_id, place, credential)
            if place is not None:
                place.absorb(event, checkin.observation(event) if decision.accepted else None)
            self.first_of[cid] = [index]
            self.stored.append((event, decision, place, self.scanner))

    def scope(self, scan):
        """`checkin.scope_for` of a scan, asked once per kind and checkpoint (offline, it does not depend on the time)."""
        key = (scan["kind"], scan.get("checkpoint_id"))
        if key not in self.scopes:
            try:
                self.scopes[key] = _scope(self.scanner, scan, self.captain_trip_ids)
            except Forbidden as error:
                self.scopes[key] = error
        if isinstance(self.scopes[key], Forbidden):
            raise self.scopes[key]
        return self.scopes[key]

    def reconcile(self, event):
        """Judge a stored refused arrival again with what the upload has told of its seat so far."""
        entry = _reconciled(event, self.seen.get(event.seat_id))
        if entry is not None:
            self.reconciled.append(entry)

    def answers(self):
        """One answer per scan, in input order (the stored ones now have their event ids)."""
        answers = [self.answered.get(index) for index in range(len(self.scans))]
        for event, *_ in self.stored:
            for position in self.first_of[event.client_event_id]:
                answers[position] = {**event.answer, "event_id": event.id}
        return answers


def _seen_many(serials):
    """{serial: seat_facts.Seen} for every seat named, in one statement."""
    return seat_facts.load(serials)


def _refusal(client_event_id, reason, message):
    return {"client_event_id": client_event_id, "verdict": "deny", "reason": reason, "message": message,
            "stored": False}


def _one_by_one(scanner, scans, serials):
    """The upload replayed along its timeline, a scan or a reconciliation at a time, each committed on its own."""
    answers = [None] * len(scans)
    for is_scan, item in _timeline(scans, serials):
        if is_scan:
            answers[item] = _scan_alone(scanner, scans[item])
        else:
            _reconcile_alone(item.id)
    return answers


def _scan_alone(scanner, scan):
    """`checkin.perform_scan` of one uploaded scan; a refusal answered as in a batch stored in one go."""
    try:
        return checkin.perform_scan(scanner, scan, "offline")
    except (Forbidden, Conflict) as error:
        db.session.rollback()
        return _refusal(scan["client_event_id"], error.code, error.message)


def _reconcile_alone(event_id):
    """Judge a stored refused arrival again with its seat as stored now, and commit what changed."""
    event = db.session.get(ScanEvent, event_id)
    if event.reason != "not_boarded":  # reconciled meanwhile, by another upload
        return
    entry = _reconciled(event, seat_facts.load([event.seat_id]).get(event.seat_id))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        # A concurrent arrival landed this seat first: judge again with it known.
        return _reconcile_alone(event_id)
    if entry is not None:
        checkin.record_health([entry])
    db.session.commit()


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
