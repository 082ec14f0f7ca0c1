"""Check-in (扫码核验): boarding, arrival and checkpoint scans into the shared health record.

`perform_scan` judges one scan with `scan_rules.decide`, stores it whatever the verdict,
and for an accepted one adds a HealthEvent (and a pending IsolationOrder on isolate).
Retries with the same client_event_id replay the first answer: the unique index on it
refuses the second insert. Two scanners boarding one seat at once race on another unique
index: exactly one boards, the other is already_boarded. An online scan reads one statement
(`seat_facts.load`) and writes two rows, all three compiled once (`precompiled.Precompiled`) and run
on the request's cursor; uploads insert their rows with SQLAlchemy Core's executemany.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden
from app.extensions import db
from app.models import HealthEvent, IsolationOrder, ScanEvent, StaffUser, Trip
from app.models.base import utcnow
from app.services.credentials import certificates, credentials, recognition, signing
from app.services.notices import events
from app.services.people import health
from app.services.people.health_rules import Observation, assess
from app.services.people.identity import mask_name
from app.services.platform.timeutil import LOCAL_ZONE
from app.services.scanning import no_shows, seat_facts
from app.services.scanning.precompiled import Precompiled
from app.services.scanning.scan_rules import decide, decide_for_seat

SCANNABLE_TRIPS = ("published", "departed", "arrived")
CAPTAIN_KINDS = ("board", "arrive")
CHECKPOINT_KINDS = ("arrive", "checkpoint")
CAPTAIN_EARLY_HOURS = 12
_HEALTH_KIND = {"board": "boarding", "arrive": "arrival", "checkpoint": "checkpoint"}
_UNDISCLOSED = ("invalid", "unknown_key", "revoked", "wrong_trip")
_SCANS = ScanEvent.__table__
_HEALTH_EVENTS = HealthEvent.__table__
# Built once: a statement made per call needs a fresh cache key before SQLAlchemy finds it compiled.
_INSERT_SCAN, _INSERT_HEALTH_EVENT = insert(_SCANS), insert(_HEALTH_EVENTS)


@dataclass(frozen=True)
class Scanner:
    """Who is scanning: a captain (a worker) or checkpoint staff, with the checkpoint they hold."""

    kind: str  # worker | staff
    id: int
    role: str | None = None
    checkpoint_id: int | None = None

    @property
    def staff(self):
        """The StaffUser of a staff scanner, for scope checks; None for a captain."""
        return db.session.get(StaffUser, self.id) if self.kind == "staff" else None


def captain_trips(worker_id, at=None):
    """Trips the worker captains or vice-captains; with `at` (naive UTC), only those open for scanning then.

    Open means from CAPTAIN_EARLY_HOURS before departure until the trip is closed.
    """
    trips = db.session.scalars(
        select(Trip).where(
            (Trip.captain_worker_id == worker_id) | (Trip.vice_captain_worker_id == worker_id),
            Trip.status.in_(SCANNABLE_TRIPS + ("closed",)),
        )
    ).all()
    if at is None:
        return trips
    return [trip for trip in trips if departure_utc(trip) - timedelta(hours=CAPTAIN_EARLY_HOURS) <= at
            and (trip.closed_at is None or at <= trip.closed_at)]


def departure_utc(trip):
    """The trip's departure as a naive UTC datetime."""
    local = datetime.combine(trip.departure_date, trip.departure_time, LOCAL_ZONE)
    return local.astimezone(UTC).replace(tzinfo=None)


def scope_for(scanner, kind, checkpoint_id, at, mode="online", captain_trip_ids=None):
    """The trips this scanner may scan at `at` (None: any trip) and the checkpoint of the scan.

    Online, a captain scans only while their trip is open; an offline upload is judged
    against all their trips, so a scan after closing is stored as a conflict, not lost.
    Raises Forbidden for anyone who is not a captain or checkpoint staff, and for a kind
    of scan their role does not do. `captain_trip_ids`, when given, saves loading a captain's trips.
    """
    if scanner.kind == "worker":
        if kind not in CAPTAIN_KINDS:
            raise Forbidden("kind_not_allowed", "车长只能扫上车和到达")
        if captain_trip_ids is None:
            captain_trip_ids = {trip.id for trip in captain_trips(scanner.id, at if mode == "online" else None)}
        if not captain_trip_ids:
            raise Forbidden("not_a_scanner", "您不是进行中车次的车长或副车长，或尚未到扫码时间")
        return captain_trip_ids, None
    if scanner.role == "checkpoint_staff":
        if kind not in CHECKPOINT_KINDS:
            raise Forbidden("kind_not_allowed", "卡口只能扫到达和卡口检查")
        if checkpoint_id not in (None, scanner.checkpoint_id):
            raise Forbidden("wrong_checkpoint", "只能为本卡口扫码")
        if kind == "arrive":  # an arrival is recorded only where the bus is expected
            expected = db.session.scalars(select(Trip.id).where(Trip.arrival_checkpoint_id == scanner.checkpoint_id))
            return set(expected), scanner.checkpoint_id
        return None, scanner.checkpoint_id
    raise Forbidden("not_a_scanner", "当前角色不能扫码")


def decoded(qr):
    """The QR text decoded once (payload, signed bytes, signature), or None if it does not decode."""
    try:
        return credentials.decode_credential(qr)
    except ValueError:
        return None


def normalized(scan):
    """A scan with its temperature as a reading, its symptoms as a list and its time as naive UTC."""
    return {**scan, "temperature": health.reading(scan.get("temperature")),
            "symptoms": list(scan.get("symptoms") or []), "scanned_at": _naive_utc(scan["scanned_at"])}


def perform_scan(scanner, scan, mode="online"):
    """Judge, store and answer one scan; commits.

    Args:
        scan: dict with qr, kind, temperature, symptoms, client_event_id, scanned_at (aware or
            naive UTC datetime), device_id, checkpoint_id?, location?.
        mode: "online", or "offline" for scans uploaded in a batch (judged as of scanned_at;
            a sequence clash with another device is stored and flagged as a conflict).
    Returns the answer dict. Raises Forbidden for a scanner outside their scope (unless the
    scan is a retry of one stored while they were in it), Conflict for another's client_event_id.
    A health certificate ("FGC1:") scanned online is judged by `certificate_scans.perform_certificate_scan`.
    """
    scan = normalized(scan)
    if mode == "online" and recognition.is_certificate(scan["qr"]):  # a prefix test: trip scans stay as fast
        from app.services.scanning import certificate_scans  # it builds on this module
        return certificate_scans.perform_certificate_scan(scanner, scan)
    # Online scans are judged by the server's clock (a phone's may be wrong); uploads by the scan's own.
    judged_at = scan["scanned_at"] if mode == "offline" else utcnow()
    credential = decoded(scan["qr"])
    seen = seat_facts.load([credential[0].serial]).get(credential[0].serial) if credential else None
    try:
        allowed, checkpoint_id = _own_trip(scanner, scan["kind"], seen, judged_at, mode) or scope_for(
            scanner, scan["kind"], scan.get("checkpoint_id"), judged_at, mode)
    except Forbidden:
        # A retry of a scan stored before the trip closed gets its first answer, not a refusal.
        replay = stored_answer(scan["client_event_id"], scanner)
        if replay is None:
            raise
        return replay
    event, decision = judge(scanner, scan, mode, judged_at, allowed, checkpoint_id, seen, credential)
    try:
        event.id = _INSERT_ONE_SCAN.insert(_row(event))
    except IntegrityError:
        db.session.rollback()
        # A retry (this client_event_id is stored), or lost a race: another request boarded this seat first.
        return stored_answer(scan["client_event_id"], scanner) or perform_scan(scanner, scan, mode)
    if decision.accepted:
        record_health([(event, decision, seen, scanner)])
    db.session.commit()
    return {**event.answer, "event_id": event.id}


def _own_trip(scanner, kind, seen, at, mode):
    """The common case answered without a query: a captain scanning a passenger of their own open trip."""
    if scanner.kind != "worker" or kind not in CAPTAIN_KINDS or seen is None:
        return None
    trip = seen.trip
    if scanner.id not in (trip.captain_worker_id, trip.vice_captain_worker_id):
        return None
    if trip.status not in SCANNABLE_TRIPS + ("closed",):
        return None
    if mode == "online" and not (departure_utc(trip) - timedelta(hours=CAPTAIN_EARLY_HOURS) <= at
                                 and (trip.closed_at is None or at <= trip.closed_at)):
        return None
    return {trip.id}, None


def judge(scanner, scan, mode, judged_at, allowed, checkpoint_id, seen, credential):
    """Decide a normalized scan against what is known of its seat; returns (unstored event, Decision).

    `credential` is the QR text decoded once (`decoded`); the event is a namespace of scan_events columns.
    """
    # A seat taken out of service is exactly a serial on the revocation list.
    revoked = {seen.seat_id} if seen is not None and not seen.live(judged_at, mode) else ()
    verification = _verify(credential, judged_at, revoked)
    facts = seen.facts(judged_at, scan["kind"], mode) if seen is not None and verification.payload is not None \
        else None
    decision = decide(verification, facts, scan["kind"], scan["temperature"], tuple(scan["symptoms"]), allowed,
                      health.rules())
    event = _event(scanner, scan, mode, checkpoint_id, verification, facts, decision)
    if decision.accepted and seen.seat_status != "assigned":  # an upload accepted as of a time before revocation
        event.conflict, event.conflict_reason = True, "revoked_after_scan"
    # A refused credential says nothing about whose it is, least of all to another bus's captain.
    shown = seen if facts is not None and decision.reason not in _UNDISCLOSED else None
    event.answer = _answer(event, decision, shown, judged_at)
    return event, decision


def reconcile(event, seen):
    """Judge again, as of its scanned_at, a stored arrival refused as not_boarded, now that `seen` knows more.

    Its credential held when it was first judged (not_boarded comes after those checks). When
    the decision changes (a boarding scanned before it was uploaded since), the event takes it:
    verdict, reason, the arrival's seat, flagged as a conflict with reason not_boarded, and a
    reconciled answer for retries. Returns that Decision, or None when nothing changed.
    """
    at = event.scanned_at
    decision = decide_for_seat(seen.facts(at, "arrive", "offline"), "arrive", event.temperature,
                               tuple(event.symptoms or ()), None, health.rules())
    if decision.reason == event.reason:
        return None
    event.verdict, event.reason, event.conflict, event.conflict_reason = (decision.verdict, decision.reason, True,
                                                                          "not_boarded")
    event.arrived_seat_id = seen.seat_id if decision.accepted else None
    shown = seen if decision.reason not in _UNDISCLOSED else None
    event.answer = _answer(event, decision, shown, at, reconciled=True)
    seen.absorb(event, observation(event) if decision.accepted else None)
    return decision


def _verify(credential, at, revoked):
    now = int(at.replace(tzinfo=UTC).timestamp())
    verification = credentials.verify_decoded(credential, signing.cached_trusted_keys(), revoked, now=now)
    if verification.reason == "unknown_key":
        # A key rotated on another host may be newer than this process's cached trust list.
        verification = credentials.verify_decoded(credential, signing.cached_trusted_keys(refresh=True), revoked,
                                                  now=now)
    return verification


def stored_answer(client_event_id, scanner):
    """The first answer to a retried event; someone else's event id is a conflict, not a replay."""
    row = db.session.execute(select(ScanEvent.id, ScanEvent.answer, ScanEvent.actor_kind, ScanEvent.actor_id)
                             .where(ScanEvent.client_event_id == client_event_id)).first()
    if row is None:
        return None
    if (row.actor_kind, row.actor_id) != (scanner.kind, scanner.id):
        raise Conflict("client_event_id_taken", "该扫码编号已被其他设备使用，请重新扫码")
    return {**row.answer, "event_id": row.id, "replayed": True}


def _event(scanner, scan, mode, checkpoint_id, verification, facts, decision):
    payload = verification.payload
    conflict = mode == "offline" and decision.reason in ("already_boarded", "already_arrived", "trip_closed",
                                                         "not_boarded")
    passing = decision.verdict == "allow" or (decision.verdict == "isolate" and scan["kind"] == "arrive")
    return SimpleNamespace(
        client_event_id=scan["client_event_id"], kind=scan["kind"], mode=mode, scanned_at=scan["scanned_at"],
        received_at=utcnow(), device_id=scan["device_id"], actor_kind=scanner.kind, actor_id=scanner.id,
        checkpoint_id=checkpoint_id, location=scan.get("location"), serial=payload.serial if payload else None,
        trip_id=facts.trip_id if facts else None, seat_id=facts.serial if facts else None,
        worker_id=facts.worker_id if facts else None, temperature=scan.get("temperature"),
        symptoms=scan["symptoms"], verdict=decision.verdict, reason=decision.reason,
        conflict=conflict, conflict_reason=decision.reason if conflict else None,
        boarded_seat_id=facts.serial if passing and scan["kind"] == "board" else None,
        arrived_seat_id=facts.serial if passing and scan["kind"] == "arrive" else None,
        answer={}, certificate_issuer=None, certificate_serial=None,
    )


_COLUMNS = tuple(column.key for column in _SCANS.columns if column.key != "id")
_HEALTH_EVENT_COLUMNS = tuple(column.key for column in _HEALTH_EVENTS.columns if column.key != "id")
# An online scan's two INSERTs, on the cursor (see precompiled.py); uploads insert many rows through SQLAlchemy.
_INSERT_ONE_SCAN = Precompiled(_INSERT_SCAN, _COLUMNS)
_INSERT_ONE_HEALTH_EVENT = Precompiled(_INSERT_HEALTH_EVENT, _HEALTH_EVENT_COLUMNS)


def _row(event):
    """The scan_events row of an event namespace."""
    return {column: getattr(event, column) for column in _COLUMNS}


def store_scans(events):
    """Insert unstored scan events in one executemany and set their ids (looked up by client_event_id)."""
    db.session.execute(_INSERT_SCAN, [_row(event) for event in events])
    ids = dict(db.session.execute(select(ScanEvent.client_event_id, ScanEvent.id).where(
        ScanEvent.client_event_id.in_([event.client_event_id for event in events]))).all())
    for event in events:
        event.id = ids[event.client_event_id]


def record_health(accepted):
    """Write accepted scans into the shared health record, open pending isolation orders, advance trips.

    `accepted`: (stored event, Decision, seat_facts.Seen, Scanner who scanned) for each accepted scan.
    """
    if not accepted:
        return
    isolating = {event.worker_id for event, decision, _, _ in accepted if decision.verdict == "isolate"}
    open_orders = set(db.session.scalars(select(IsolationOrder.worker_id).where(
        IsolationOrder.worker_id.in_(isolating), IsolationOrder.status.in_(("pending", "active"))))) if isolating \
        else set()
    rows = [health_event(event, scanner) for event, _, _, scanner in accepted]
    if len(rows) == 1:
        _INSERT_ONE_HEALTH_EVENT.insert(rows[0])
    else:
        db.session.execute(_INSERT_HEALTH_EVENT, rows)
    rules = health.rules()
    told = []  # (event, decision, order opened): their messages
    for event, decision, seen, _ in accepted:
        # A fever or symptoms at the door, or a new isolation order, revokes the worker's health certificates.
        if assess(observation(event), rules)[0] == "red":
            certificates.withdraw(event.worker_id, "positive_finding")
        order = None
        if decision.verdict == "isolate" and event.worker_id not in open_orders:
            open_orders.add(event.worker_id)
            certificates.withdraw(event.worker_id, "isolation")
            order = isolation_order(event)
            db.session.add(order)
        told.append((event, decision, order))
        seen.trip.advance(event.kind)
    events.scans_accepted(told)
    no_shows.travelled_after_all(accepted)


def health_event(event, scanner):
    """The health_events row (boarding, arrival, checkpoint) of an accepted, stored scan."""
    # A phone's clock can run ahead: the record never holds a scan later than its arrival here.
    now = utcnow()
    return {"worker_id": event.worker_id, "kind": _HEALTH_KIND[event.kind], "occurred_at": min(event.scanned_at, now),
            "recorded_at": now, "temperature": event.temperature, "symptoms": event.symptoms,
            "contact_with_case": None, "places": None, "note": None,
            "actor_kind": "captain" if scanner.kind == "worker" else "staff", "actor_id": scanner.id,
            "location": event.location, "scan_event_id": event.id}


def isolation_order(event):
    """A pending isolation order opened by an isolate verdict, for a health officer to decide."""
    return IsolationOrder(worker_id=event.worker_id, reason=event.reason, trip_id=event.trip_id,
                          checkpoint_id=event.checkpoint_id, scan_event_id=event.id)


def _answer(event, decision, seen, at, reconciled=False):
    """The answer, without the event id (added once stored): it is kept to replay retries."""
    passenger = health_now = None
    if seen is not None:
        passenger = {"name": mask_name(seen.name), "id_last4": seen.id_last4, "seat": seen.seat_no,
                     "trip": seen.trip.id, "plate": seen.trip.plate}
        # Once accepted, the scan itself is part of the record.
        status = seen.health(at, observation(event) if decision.accepted else None)
        health_now = {"status": status.status, "reason": status.reason}
    answer = {"client_event_id": event.client_event_id, "verdict": decision.verdict, "reason": decision.reason,
              "message": decision.message, "conflict": event.conflict, "passenger": passenger, "health": health_now}
    if reconciled:
        answer["reconciled"] = True
    return answer


def observation(event):
    """What an accepted scan adds to the passenger's health record, for the rules."""
    return Observation(_HEALTH_KIND[event.kind], event.scanned_at, event.temperature, tuple(event.symptoms or ()))


def _naive_utc(moment):
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
