"""Check-in (扫码核验): boarding, arrival and checkpoint scans into the shared health record.

`perform_scan` judges one scan with `scan_rules.decide`, stores it whatever the verdict,
and for an accepted one adds a HealthEvent (and a pending IsolationOrder on isolate).
Retries with the same client_event_id replay the first answer. Two scanners boarding
one seat at once race on a unique index: exactly one boards, the other is already_boarded.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden
from app.extensions import db
from app.models import HealthEvent, IsolationOrder, ScanEvent, Seat, Trip, Worker
from app.models.base import utcnow
from app.services import credentials, health, signing
from app.services.health_rules import Observation, derive_status
from app.services.identity import mask_name
from app.services.scan_rules import SeatFacts, decide
from app.services.timeutil import LOCAL_ZONE

SCANNABLE_TRIPS = ("published", "departed", "arrived")
CAPTAIN_KINDS = ("board", "arrive")
CHECKPOINT_KINDS = ("arrive", "checkpoint")
CAPTAIN_EARLY_HOURS = 12
_HEALTH_KIND = {"board": "boarding", "arrive": "arrival", "checkpoint": "checkpoint"}
_UNDISCLOSED = ("invalid", "unknown_key", "revoked", "wrong_trip")


@dataclass(frozen=True)
class Scanner:
    """Who is scanning: a captain (a worker) or checkpoint staff, with the checkpoint they hold."""

    kind: str  # worker | staff
    id: int
    role: str | None = None
    checkpoint_id: int | None = None
    staff: object = None  # the StaffUser, for scope checks


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


@dataclass
class Seen:
    """What the server knows of the seat a credential names: rows, passages and the health record.

    `boarded_at` / `arrived_at` are the scanned_at of the scan that boarded or landed the
    passenger (None if none did); `observations` is the whole health record, oldest first.
    """

    seat: Seat
    trip: Trip
    worker: Worker
    boarded_at: datetime | None
    arrived_at: datetime | None
    observations: list

    def facts(self, at, kind, mode="online"):
        """SeatFacts for a scan of `kind` judged at `at` (naive UTC).

        Online scans are judged as of now by everything known; an uploaded arrival counts only
        a boarding scanned before it, and an upload counts a seat revoked after the scan as live.
        """
        trip = self.trip
        closed = trip.status == "closed" and trip.closed_at is not None and at > trip.closed_at
        boarded = self.boarded_at is not None
        if mode == "offline" and kind == "arrive":
            boarded = boarded and self.boarded_at <= at
        return SeatFacts(serial=self.seat.id, trip_id=trip.id, worker_id=self.worker.id, live=self.live(at, mode),
                         trip_closed=closed, boarded=boarded, arrived=self.arrived_at is not None,
                         health_status=self.health(at).status)

    def live(self, at, mode):
        """Whether the seat's credential was in service at `at`: an upload is judged as of its scan."""
        seat = self.seat
        if seat.status == "assigned":
            return True
        return (mode == "offline" and seat.status == "revoked" and seat.issued_at is not None
                and seat.revoked_at is not None and at < seat.revoked_at)

    def health(self, at, scan=None):
        """The passenger's HealthStatus as of `at`, from the record up to then (and the scan, if given)."""
        observations = [observation for observation in self.observations if observation.occurred_at <= at]
        if scan is not None:
            observations.append(scan)
        return derive_status(observations, health.rules(), at)

    def absorb(self, event, decision):
        """Take an accepted scan into account, for the next scan of the same batch."""
        if event.boarded_seat_id:
            self.boarded_at = event.scanned_at
        if event.arrived_seat_id:
            self.arrived_at = event.scanned_at
        if decision.accepted:
            self.observations = [*self.observations, _observation(event)]


def _seen(serial):
    """Load the seat, its trip and passenger, its passages and the passenger's record; None if no seat."""
    row = db.session.execute(_SEEN.params(serial=serial)).first()
    if row is None:
        return None
    seat, trip, worker, boarded_at, arrived_at = row
    observations = [health.to_observation(event) for event in reversed(health.events_of(worker.id))]
    return Seen(seat, trip, worker, boarded_at, arrived_at, observations)


# One round trip for the seat, its trip, its passenger and when it boarded or arrived
# (the boarding and arrival scans are unique per seat).
_SEEN = (
    select(Seat, Trip, Worker,
           select(ScanEvent.scanned_at).where(ScanEvent.boarded_seat_id == Seat.id).scalar_subquery().label("b"),
           select(ScanEvent.scanned_at).where(ScanEvent.arrived_seat_id == Seat.id).scalar_subquery().label("a"))
    .join(Trip, Trip.id == Seat.trip_id).join(Worker, Worker.id == Seat.worker_id)
    .where(Seat.id == bindparam("serial"))
)


def peek_serial(qr):
    """The serial a QR text names, before any check (to load its seat in the same breath)."""
    try:
        return credentials.decode_credential(qr)[0].serial
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
    Returns the answer dict. Raises Forbidden for a scanner outside their scope.
    """
    replay = _stored_answer(scan["client_event_id"], scanner)
    if replay is not None:
        return replay
    scan = normalized(scan)
    # Online scans are judged by the server's clock (a phone's may be wrong); uploads by the scan's own.
    judged_at = scan["scanned_at"] if mode == "offline" else utcnow()
    serial = peek_serial(scan["qr"])
    seen = _seen(serial) if serial is not None else None
    allowed, checkpoint_id = _own_trip(scanner, scan["kind"], seen, judged_at, mode) or scope_for(
        scanner, scan["kind"], scan.get("checkpoint_id"), judged_at, mode)
    event, decision = judge(scanner, scan, mode, judged_at, allowed, checkpoint_id, seen)
    db.session.add(event)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        # Lost a race: another request stored this client_event_id, or boarded this seat first.
        return _stored_answer(scan["client_event_id"], scanner) or perform_scan(scanner, scan, mode)
    if decision.accepted:
        record_health(event, seen.trip, scanner)
    answer = {**event.answer, "event_id": event.id}
    db.session.commit()
    return answer


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


def judge(scanner, scan, mode, judged_at, allowed, checkpoint_id, seen):
    """Decide a normalized scan against what is known of its seat; returns (unsaved ScanEvent, Decision)."""
    # A seat taken out of service is exactly a serial on the revocation list.
    revoked = {seen.seat.id} if seen is not None and not seen.live(judged_at, mode) else ()
    verification = _verify(scan["qr"], judged_at, revoked)
    facts = seen.facts(judged_at, scan["kind"], mode) if seen is not None and verification.payload is not None \
        else None
    decision = decide(verification, facts, scan["kind"], scan["temperature"], tuple(scan["symptoms"]), allowed,
                      health.rules())
    event = _event(scanner, scan, mode, checkpoint_id, verification, facts, decision)
    if decision.accepted and seen.seat.status != "assigned":  # an upload accepted as of a time before revocation
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
    payload = credentials.CredentialPayload(credentials.VERSION, "", event.serial, event.trip_id, event.worker_id, 0, 0)
    decision = decide(credentials.Verification(True, None, payload), seen.facts(at, "arrive", "offline"), "arrive",
                      event.temperature, tuple(event.symptoms or ()), None, health.rules())
    if decision.reason == event.reason:
        return None
    event.verdict, event.reason, event.conflict, event.conflict_reason = (decision.verdict, decision.reason, True,
                                                                          "not_boarded")
    event.arrived_seat_id = seen.seat.id if decision.accepted else None
    shown = seen if decision.reason not in _UNDISCLOSED else None
    event.answer = _answer(event, decision, shown, at, reconciled=True)
    seen.absorb(event, decision)
    return decision


def _verify(qr, at, revoked):
    now = int(at.replace(tzinfo=UTC).timestamp())
    verification = credentials.verify_credential(qr, signing.cached_trusted_keys(), revoked, now=now)
    if verification.reason == "unknown_key":
        # A key rotated on another host may be newer than this process's cached trust list.
        verification = credentials.verify_credential(qr, signing.cached_trusted_keys(refresh=True), revoked, now=now)
    return verification


def _stored_answer(client_event_id, scanner):
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
    event = ScanEvent(
        client_event_id=scan["client_event_id"], kind=scan["kind"], mode=mode, scanned_at=scan["scanned_at"],
        device_id=scan["device_id"], actor_kind=scanner.kind, actor_id=scanner.id, checkpoint_id=checkpoint_id,
        location=scan.get("location"), serial=payload.serial if payload else None,
        trip_id=facts.trip_id if facts else None, seat_id=facts.serial if facts else None,
        worker_id=facts.worker_id if facts else None, temperature=scan.get("temperature"),
        symptoms=scan["symptoms"], verdict=decision.verdict, reason=decision.reason,
        conflict=conflict, conflict_reason=decision.reason if conflict else None,
        boarded_seat_id=facts.serial if passing and scan["kind"] == "board" else None,
        arrived_seat_id=facts.serial if passing and scan["kind"] == "arrive" else None,
        answer={},
    )
    return event


def record_health(event, trip, scanner):
    """Write an accepted scan into the shared health record; isolate opens a pending order."""
    db.session.add(health_event(event, scanner))
    if event.verdict == "isolate":
        open_order = db.session.scalar(select(IsolationOrder.id).where(
            IsolationOrder.worker_id == event.worker_id, IsolationOrder.status.in_(("pending", "active"))))
        if open_order is None:
            db.session.add(isolation_order(event))
    advance_trip(trip, event.kind)


def health_event(event, scanner):
    """The health-record entry (boarding, arrival, checkpoint) of an accepted scan."""
    # A phone's clock can run ahead: the record never holds a scan later than its arrival here.
    return HealthEvent(
        worker_id=event.worker_id, kind=_HEALTH_KIND[event.kind], occurred_at=min(event.scanned_at, utcnow()),
        temperature=event.temperature, symptoms=event.symptoms, actor_kind="captain" if scanner.kind == "worker"
        else "staff", actor_id=scanner.id, location=event.location, scan_event_id=event.id,
    )


def isolation_order(event):
    """A pending isolation order opened by an isolate verdict, for a health officer to decide."""
    return IsolationOrder(worker_id=event.worker_id, reason=event.reason, trip_id=event.trip_id,
                          checkpoint_id=event.checkpoint_id, scan_event_id=event.id)


def advance_trip(trip, kind):
    """The first boarding means the trip left; the first arrival means it arrived."""
    if kind == "board" and trip.status == "published":
        trip.status = "departed"
    elif kind == "arrive" and trip.status in ("published", "departed"):
        trip.status = "arrived"


def _answer(event, decision, seen, at, reconciled=False):
    """The answer, without the event id (added once stored): it is kept to replay retries."""
    passenger = health_now = None
    if seen is not None:
        worker, seat, trip = seen.worker, seen.seat, seen.trip
        passenger = {"name": mask_name(worker.name), "id_last4": worker.id_last4, "seat": seat.seat_no,
                     "trip": trip.id, "plate": trip.plate}
        # Once accepted, the scan itself is part of the record.
        status = seen.health(at, _observation(event) if decision.accepted else None)
        health_now = {"status": status.status, "reason": status.reason}
    answer = {"client_event_id": event.client_event_id, "verdict": decision.verdict, "reason": decision.reason,
              "message": decision.message, "conflict": event.conflict, "passenger": passenger, "health": health_now}
    if reconciled:
        answer["reconciled"] = True
    return answer


def _observation(event):
    return Observation(_HEALTH_KIND[event.kind], event.scanned_at, event.temperature, tuple(event.symptoms))


def _naive_utc(moment):
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
