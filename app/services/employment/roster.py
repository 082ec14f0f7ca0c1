"""The roster (花名册) of an enterprise's returning employees, and registering 零散返岗 returnees.

A roster has two sources: passengers of planned trips whose application names the
enterprise as employer (their seat, its trip and its scans say how far they got), and
people HR registered because they came back on their own (RosterEntry). Each row carries
the health status derived from the shared record and the clearance to start work.
Everything is loaded in a fixed number of queries, whatever the size of the roster.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select, true
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import Application, Enterprise, HealthEvent, RosterEntry, ScanEvent, Seat, Trip, Worker
from app.models.base import utcnow
from app.models.transport import counted_seats
from app.services.credentials import certificates
from app.services.people import clearance, health
from app.services.people.clearance import Clearance
from app.services.people.health_rules import HealthStatus, assess
from app.services.people.identity import mask_id_number, mask_mobile, parse_card_and_mobile
from app.services.platform import audit, scope
from app.services.platform.timeutil import local_day, local_today, utc_at

ROSTER_READERS = scope.ENTERPRISE_READERS
REGISTRARS = ROSTER_READERS
ARRIVAL_STATUSES = ("assigned", "boarded", "arrived", "no_show")
SOURCES = ("trip", "self")


def enterprise_in_scope(staff, enterprise_id, roles=ROSTER_READERS):
    """An enterprise whose roster the staff member may work on: Forbidden by role, NotFound by scope."""
    return scope.enterprise_in_scope(staff, enterprise_id, roles)


def enterprises_condition(staff):
    """A condition on Enterprise for the staff member's scope; a health officer sees their county or all."""
    if staff.role == "health_officer":
        return Enterprise.county_code == staff.county_code if staff.county_code else true()
    return scope.enterprise_condition(staff)


@dataclass
class RosterRow:
    """One returnee on one enterprise's roster, with where they are, their health and their clearance."""

    enterprise_id: int
    worker: Worker
    source: str  # trip | self
    origin: str
    arrival_date: date | None  # the actual day once arrived, else the day expected
    transport: str
    transport_number: str | None
    arrival_status: str
    trip_id: int | None = None
    seat_id: int | None = None
    registered_at: datetime | None = None
    arrived_on: date | None = None
    health: HealthStatus | None = None
    clearance: Clearance | None = None


def load_rows(enterprise_ids, worker_id=None):
    """Every roster row of the enterprises (optionally one worker's), in six queries at most."""
    enterprise_ids = list(enterprise_ids)
    if not enterprise_ids:
        return []
    rows = {}
    for row in _trip_rows(enterprise_ids, worker_id):
        rows[(row.enterprise_id, row.worker.id)] = row  # ordered by seat: the latest seat wins
    for row in _self_rows(enterprise_ids, worker_id):
        rows[(row.enterprise_id, row.worker.id)] = row  # HR's word that they came back wins
    rows = list(rows.values())
    worker_ids = {row.worker.id for row in rows}
    records = health.observations_by_worker(worker_ids)
    orders = clearance.open_orders(worker_ids)
    rules, now = health.rules(), utcnow()
    for row in rows:
        observations = records[row.worker.id]
        row.health = health.derive(observations)
        row.clearance = clearance.decide_clearance(row.arrived_on, observations, orders.get(row.worker.id), rules,
                                                   now)
    rows.sort(key=lambda row: (row.enterprise_id, row.arrival_date or date.max, row.worker.id))
    return rows


def _trip_rows(enterprise_ids, worker_id):
    # Returnees come in on inbound trips (返银); an outbound worker's employer is elsewhere.
    statement = (
        counted_seats(select(Seat, Trip, Worker, Application.employer_id)
                      .join(Trip, Trip.id == Seat.trip_id).join(Worker, Worker.id == Seat.worker_id)
                      .join(Application, Application.id == Seat.application_id))
        .where(Application.employer_id.in_(enterprise_ids), Trip.direction == "inbound", Trip.status != "cancelled")
        .order_by(Seat.id)
    )
    if worker_id is not None:
        statement = statement.where(Seat.worker_id == worker_id)
    found = db.session.execute(statement).all()
    passages = _passages([seat.id for seat, *_ in found])
    rows = []
    for seat, trip, worker, employer_id in found:
        boarded, arrived_at = passages.get(seat.id, (False, None))
        arrived_on = local_day(arrived_at) if arrived_at else None
        expected = local_day(trip.expected_arrival_at) if trip.expected_arrival_at else trip.departure_date
        rows.append(RosterRow(
            enterprise_id=employer_id, worker=worker, source="trip", origin=trip.origin,
            arrival_date=arrived_on or expected, transport="bus", transport_number=trip.plate,
            arrival_status=arrival_status(trip, seat, boarded, arrived_on is not None),
            trip_id=trip.id, seat_id=seat.id, arrived_on=arrived_on))
    return rows


def _passages(seat_ids):
    """{seat_id: (boarded, arrived_at)} from the boarding and arrival scans (unique per seat)."""
    if not seat_ids:
        return {}
    found = {}
    for boarded_seat, arrived_seat, scanned_at in db.session.execute(
            select(ScanEvent.boarded_seat_id, ScanEvent.arrived_seat_id, ScanEvent.scanned_at)
            .where(or_(ScanEvent.boarded_seat_id.in_(seat_ids), ScanEvent.arrived_seat_id.in_(seat_ids)))):
        boarded, arrived_at = found.get(boarded_seat or arrived_seat, (False, None))
        found[boarded_seat or arrived_seat] = (boarded or boarded_seat is not None,
                                               scanned_at if arrived_seat else arrived_at)
    return found


def arrival_status(trip, seat, boarded, arrived):
    """assigned → boarded → arrived, or no_show once the bus arrived without them (as the manifest says)."""
    if arrived:
        return "arrived"
    if boarded:
        return "boarded"
    return "no_show" if seat.status == "revoked" or trip.status in ("arrived", "closed") else "assigned"


def _self_rows(enterprise_ids, worker_id):
    statement = (select(RosterEntry, Worker).join(Worker, Worker.id == RosterEntry.worker_id)
                 .where(RosterEntry.enterprise_id.in_(enterprise_ids)))
    if worker_id is not None:
        statement = statement.where(RosterEntry.worker_id == worker_id)
    return [RosterRow(enterprise_id=entry.enterprise_id, worker=worker, source="self", origin=entry.origin,
                      arrival_date=entry.arrival_date, transport=entry.transport,
                      transport_number=entry.transport_number, arrival_status="arrived",
                      registered_at=entry.created_at, arrived_on=entry.arrival_date)
            for entry, worker in db.session.execute(statement)]


def roster_of(staff, enterprise_id, filters, page=1, per_page=100):
    """One enterprise's roster as the staff member may see it, filtered and paged: (enterprise, rows, total).

    filters: clearance (state), arrival_status, source — each optional.
    """
    enterprise = enterprise_in_scope(staff, enterprise_id)
    rows = [row for row in load_rows([enterprise.id]) if _matches(row, filters)]
    return enterprise, rows[(page - 1) * per_page: page * per_page], len(rows)


def _matches(row, filters):
    return ((not filters.get("clearance") or row.clearance.state == filters["clearance"])
            and (not filters.get("arrival_status") or row.arrival_status == filters["arrival_status"])
            and (not filters.get("source") or row.source == filters["source"]))


def row_of(enterprise_id, worker_id):
    """The worker's row on the enterprise's roster, or NotFound."""
    rows = load_rows([enterprise_id], worker_id)
    if not rows:
        raise NotFound("returnee_not_found", "该人员不在本企业花名册中")
    return rows[0]


def register(staff, enterprise_id, data):
    """Register a returnee who came back on their own (零散返岗) on the enterprise's roster and commit.

    The person is found by their ID number's blind index (a mini-program user keeps their
    own data) or created without an openid, registered by the enterprise. An arrival event
    goes into the shared health record, from `origin` on `arrival_date`.
    Raises Invalid for a bad ID number, phone or date; Conflict (identity_mismatch) when the ID
    number belongs to someone of another name; Conflict (already_on_roster) when the person is on
    this roster already, by a trip or registered before.
    """
    enterprise = enterprise_in_scope(staff, enterprise_id, REGISTRARS)
    id_number, mobile = _parsed_identity(data)
    index = crypto.cipher().blind_index(id_number.value, "worker.id_number")
    worker = db.session.scalar(select(Worker).where(Worker.id_number_index == index))
    created = worker is None
    if created:
        worker = Worker(openid=None, registered_by=enterprise.id, name=data["name"].strip(),
                        birth_date=id_number.birth_date, gender=id_number.gender)
        crypto.seal(worker, "id_number", id_number.value, "worker.id_number", mask_id_number, indexed=True)
        crypto.seal(worker, "mobile", mobile, "worker.mobile", mask_mobile, indexed=True)
        db.session.add(worker)
    elif worker.name and worker.name != data["name"].strip():
        # An ID number alone must not open someone's health record to an employer: the name
        # has to match too. The refused attempt is kept in the audit log.
        audit.record("staff", staff.id, "roster.identity_mismatch", "worker", worker.id, enterprise_id=enterprise.id)
        db.session.commit()
        raise Conflict("identity_mismatch", "身份证号与姓名不符，请核对后再登记", fields={"name": "与身份证号登记的姓名不符"})
    elif load_rows([enterprise.id], worker.id):
        raise _already_on_roster()
    entry = RosterEntry(enterprise_id=enterprise.id, origin=data["origin"].strip(),
                        arrival_date=data["arrival_date"], transport=data["transport"],
                        transport_number=data.get("transport_number"), registered_by=staff.id)
    try:
        db.session.flush()
        entry.worker_id = worker.id
        db.session.add(entry)
        db.session.flush()
    except IntegrityError as error:
        # Another clerk registered the same person at the same moment: the unique indexes decide.
        db.session.rollback()
        if "id_number_index" in str(error.orig):
            return register(staff, enterprise_id, data)
        raise _already_on_roster() from None
    arrival = _arrival_event(worker, entry, staff)
    db.session.add(arrival)
    found = assess(health.to_observation(arrival), health.rules())[0]
    if found in health.FINDING_REASONS:  # back from a high-risk area: a certificate saying green no longer holds
        certificates.withdraw(worker.id, health.FINDING_REASONS[found])
    audit.record("staff", staff.id, "roster.register", "roster_entry", entry.id, enterprise_id=enterprise.id,
                 worker_id=worker.id, new_worker=created)
    db.session.commit()
    return row_of(enterprise.id, worker.id)


def _parsed_identity(data):
    id_number, mobile, errors = parse_card_and_mobile(data["id_number"], data["phone"], "phone")
    if data["arrival_date"] > local_today():
        errors["arrival_date"] = "返回日期不能晚于今天"
    if not data["name"].strip() or not data["origin"].strip():
        errors.update({name: "不能为空" for name in ("name", "origin") if not data[name].strip()})
    if errors:
        raise Invalid("validation_error", "登记信息有误，请检查各字段", fields=errors)
    return id_number, mobile


def _already_on_roster():
    return Conflict("already_on_roster", "该人员已在本企业花名册中", fields={"id_number": "已登记"})


def _arrival_event(worker, entry, staff):
    """The arrival in the health record, dated at the start of the arrival day (Beijing time)."""
    start = utc_at(entry.arrival_date)
    return HealthEvent(worker_id=worker.id, kind="arrival", occurred_at=min(start, utcnow()), places=[entry.origin],
                       note="零散返岗，企业登记", actor_kind="staff", actor_id=staff.id)
