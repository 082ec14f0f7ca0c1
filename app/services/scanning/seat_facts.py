"""What the server knows of the seats scans name (座位核验信息), loaded in one statement and judged as of a moment.

One SQLAlchemy Core statement, only the needed columns, brings a seat, its trip, its passenger,
when it boarded and arrived (the boarding and arrival scans are unique per seat) and the
passenger's whole health record (one row per health event, sorted here, not by the database).
It is the one read of the scan path: an online scan's single seat runs it precompiled
(`precompiled.Precompiled`), an upload's seats as one statement with an IN list.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import HealthEvent, ScanEvent, Seat, Trip, Worker
from app.services.people import health
from app.services.people.health_rules import Observation, fold, settle
from app.services.scanning.precompiled import Precompiled
from app.services.scanning.scan_rules import SeatFacts


@dataclass
class TripState:
    """The columns of a trip the scan rules read; shared by every seat of the trip in one batch."""

    id: int
    status: str
    closed_at: datetime | None
    plate: str | None
    departure_date: object
    departure_time: object
    captain_worker_id: int | None
    vice_captain_worker_id: int | None

    def advance(self, kind):
        """The first boarding means the trip left; the first arrival means it arrived (one UPDATE, if any)."""
        if kind == "board" and self.status == "published":
            before, self.status = ("published",), "departed"
        elif kind == "arrive" and self.status in ("published", "departed"):
            before, self.status = ("published", "departed"), "arrived"
        else:
            return
        db.session.execute(update(Trip.__table__).where(Trip.__table__.c.id == self.id,
                                                        Trip.__table__.c.status.in_(before))
                           .values(status=self.status))


@dataclass
class Seen:
    """What the server knows of the seat a credential names: the seat, its trip and passenger,
    when it boarded and arrived (scanned_at of those scans, or None), the health record oldest first."""

    seat_id: int
    seat_no: int
    seat_status: str
    issued_at: datetime | None
    revoked_at: datetime | None
    worker_id: int
    name: str | None
    id_number_mask: str | None
    trip: TripState
    boarded_at: datetime | None
    arrived_at: datetime | None
    observations: list
    # The record folded up to one moment (`health`): a scan is judged and answered as of the same moment.
    _folded: tuple = field(default=(None, None, None), repr=False, compare=False)

    @property
    def id_last4(self):
        """Last four characters of the passenger's ID number."""
        return self.id_number_mask[-4:] if self.id_number_mask else None

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
        return SeatFacts(serial=self.seat_id, trip_id=trip.id, worker_id=self.worker_id, live=self.live(at, mode),
                         trip_closed=closed, boarded=boarded, arrived=self.arrived_at is not None,
                         health_status=self.health(at).status)

    def live(self, at, mode):
        """Whether the seat's credential was in service at `at`: an upload is judged as of its scan."""
        if self.seat_status == "assigned":
            return True
        return (mode == "offline" and self.seat_status == "revoked" and self.issued_at is not None
                and self.revoked_at is not None and at < self.revoked_at)

    def health(self, at, scan=None):
        """The passenger's HealthStatus as of `at`, from the record up to then (and the scan, if given)."""
        rules = health.rules()
        moment, record, state = self._folded
        if moment != at or record is not self.observations:
            state = fold(sorted((item for item in self.observations if item.occurred_at <= at),
                                key=lambda item: item.occurred_at), rules)
            self._folded = (at, self.observations, state)
        if scan is not None:  # taken at `at`, so after everything up to then
            state = fold((scan,), rules, state)
        return settle(state, at)

    def absorb(self, event, observation):
        """Take a stored scan into account, for the next scan of the same batch (observation: if accepted)."""
        if event.boarded_seat_id:
            self.boarded_at = event.scanned_at
        if event.arrived_seat_id:
            self.arrived_at = event.scanned_at
        if observation is not None:
            self.observations = [*self.observations, observation]


# Core tables and one prebuilt statement (the serials an expanding parameter): the ORM's compile
# step and a fresh cache key for this seven-table statement cost about as much as its round trip.
_SEAT, _TRIP, _WORKER, _HEALTH = Seat.__table__, Trip.__table__, Worker.__table__, HealthEvent.__table__
_BOARDING, _ARRIVAL = ScanEvent.__table__.alias("boarding"), ScanEvent.__table__.alias("arrival")
_SEAT_COLUMNS = (
    select(_SEAT.c.id, _SEAT.c.seat_no, _SEAT.c.status, _SEAT.c.issued_at, _SEAT.c.revoked_at,
           _WORKER.c.id, _WORKER.c.name, _WORKER.c.id_number_mask,
           _TRIP.c.id, _TRIP.c.status, _TRIP.c.closed_at, _TRIP.c.plate, _TRIP.c.departure_date,
           _TRIP.c.departure_time, _TRIP.c.captain_worker_id, _TRIP.c.vice_captain_worker_id,
           _BOARDING.c.scanned_at, _ARRIVAL.c.scanned_at,
           _HEALTH.c.id, _HEALTH.c.kind, _HEALTH.c.occurred_at, _HEALTH.c.temperature, _HEALTH.c.symptoms,
           _HEALTH.c.contact_with_case, _HEALTH.c.places)
    .select_from(_SEAT).join(_TRIP, _TRIP.c.id == _SEAT.c.trip_id).join(_WORKER, _WORKER.c.id == _SEAT.c.worker_id)
    .outerjoin(_BOARDING, _BOARDING.c.boarded_seat_id == _SEAT.c.id)
    .outerjoin(_ARRIVAL, _ARRIVAL.c.arrived_seat_id == _SEAT.c.id)
    .outerjoin(_HEALTH, _HEALTH.c.worker_id == _SEAT.c.worker_id)
)  # No ORDER BY: sorting these rows made MariaDB build a temporary table per scan (3 times the cost of the rest).
_SEATS = _SEAT_COLUMNS.where(_SEAT.c.id.in_(bindparam("serials", expanding=True)))
_ONE_SEAT = Precompiled(_SEAT_COLUMNS.where(_SEAT.c.id == bindparam("serial")))  # an online scan's: no list to render


def load(serials):
    """{serial: Seen} for the seats named (those that exist), in one statement."""
    seen, trips, events = {}, {}, []
    if not serials:
        return seen
    serials = list(serials)
    rows = _ONE_SEAT.rows({"serial": serials[0]}) if len(serials) == 1 else db.session.execute(
        _SEATS, {"serials": serials})
    for row in rows:
        (seat_id, seat_no, seat_status, issued_at, revoked_at, worker_id, name, mask, trip_id, *trip_columns,
         boarded_at, arrived_at, event_id, kind, occurred_at, temperature, symptoms, contact, places) = row
        place = seen.get(seat_id)
        if place is None:
            trip = trips.get(trip_id)
            if trip is None:
                trip = trips[trip_id] = TripState(trip_id, *trip_columns)
            place = seen[seat_id] = Seen(seat_id, seat_no, seat_status, issued_at, revoked_at, worker_id, name, mask,
                                         trip, boarded_at, arrived_at, [])
        if kind is not None:
            events.append((occurred_at, event_id, place, Observation(kind, occurred_at, temperature,
                                                                      tuple(symptoms or ()), bool(contact),
                                                                      tuple(places or ()))))
    events.sort(key=lambda item: item[:2])  # the record oldest first, as stored (id breaks a tie)
    for _, _, place, observation in events:
        place.observations.append(observation)
    return seen


def refused_arrivals(serials):
    """The stored arrivals of these seats refused as not_boarded, oldest first (a late boarding may reconcile them)."""
    if not serials:
        return []
    return db.session.scalars(select(ScanEvent).where(ScanEvent.seat_id.in_(serials), ScanEvent.kind == "arrive",
                                                      ScanEvent.reason == "not_boarded")
                              .order_by(ScanEvent.scanned_at, ScanEvent.id)).all()
