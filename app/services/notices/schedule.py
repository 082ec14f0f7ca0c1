"""Scheduled messages (定时消息): departure reminders and clearance to start work, written by `run_due`.

`flask notify run` calls `run_due` on every tick; each message has a dedupe_key, so ticks may repeat,
overlap or run on several hosts: a second enqueue is a no-op, and two hosts racing on one key lose
nothing (the loser's insert is undone to its savepoint in `outbox.to_worker`: the winner wrote it).

- Departure reminder (出发提醒), for every issued seat of a published trip, twice:
  the evening before, from NOTIFY_EVENING_HOUR (Beijing time, default 20:00) until midnight, and
  NOTIFY_LEAD_MINUTES (default 120) before departure, until the departure. A reminder whose window
  passed (the scheduler was down, the trip was published later) is not sent late; the evening one
  is skipped once the lead one is due.
- Cleared to start work (方可上岗): a returnee whose observation ended in the last CLEARED_LOOKBACK_DAYS
  days and whose clearance (`clearance.decide_clearance`) is now "cleared" gets one message per arrival.
  Clearance moves by days, so it is looked at once every CLEARED_EVERY_SECONDS per process, not each tick.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, Enterprise, IsolationOrder, RosterEntry, ScanEvent, Seat, Trip, Worker
from app.models.base import utcnow
from app.services.messaging import outbox
from app.services.notices import events
from app.services.people import clearance, health
from app.services.platform.timeutil import local_day, utc_at

CLEARED_LOOKBACK_DAYS = 3
CLEARED_EVERY_SECONDS = 600
MAX_PER_RUN = 2000  # messages per run and kind: a bounded transaction; the rest go on the next tick
EVENING_NOTE = "请备好身份证和口罩，按时到上车点"
LEAD_NOTE = "即将出发，请出示乘车码上车"
CLEARED_NOTE = "观察期满且随访均正常，可以上岗"


def run_due(now=None):
    """Write the reminders and clearance messages due at `now` (naive UTC, default now) and commit.

    Returns {"reminders": n, "cleared": m}, the messages written by this run.
    """
    now = now or utcnow()
    state = current_app.extensions.setdefault("messaging_schedule", {})
    last = state.get("cleared_at")
    clearance_due = last is None or abs((now - last).total_seconds()) >= CLEARED_EVERY_SECONDS
    counts = {"reminders": _reminders(now), "cleared": _cleared(now) if clearance_due else 0}
    db.session.commit()
    if clearance_due:
        state["cleared_at"] = now
    return counts


def reminder_windows(trip, now):
    """The reminders of a trip due at `now`: [("evening" | "lead", window start)]; naive UTC throughout."""
    departure = utc_at(trip.departure_date) + _clock(trip.departure_time)
    lead_at = departure - timedelta(minutes=current_app.config["NOTIFY_LEAD_MINUTES"])
    evening_at = utc_at(trip.departure_date - timedelta(days=1), current_app.config["NOTIFY_EVENING_HOUR"])
    due = []
    if evening_at <= now < min(utc_at(trip.departure_date), lead_at):
        due.append(("evening", evening_at))
    if lead_at <= now < departure:
        due.append(("lead", lead_at))
    return due


def _clock(moment):
    return timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second)


def _reminders(now):
    """Departure reminders of the trips leaving today or tomorrow (Beijing) whose window is open."""
    today = local_day(now)
    trips = db.session.scalars(select(Trip).where(Trip.status == "published", Trip.departure_date >= today,
                                                  Trip.departure_date <= today + timedelta(days=1))).all()
    due = {(trip.id, kind): trip for trip in trips for kind, _ in reminder_windows(trip, now)}
    if not due:
        return 0
    trip_ids = sorted({trip_id for trip_id, _ in due})
    seats = db.session.scalars(select(Seat).where(Seat.trip_id.in_(trip_ids), Seat.status == "assigned")
                               .order_by(Seat.trip_id, Seat.seat_no)).all()
    wanted = [(f"reminder:{kind}:seat:{seat.id}", kind, seat) for seat in seats
              for kind in ("evening", "lead") if (seat.trip_id, kind) in due]
    sent = outbox.existing_keys([key for key, _, _ in wanted])
    written = 0
    for key, kind, seat in wanted:
        if key in sent or written >= MAX_PER_RUN:
            continue
        trip = due[(seat.trip_id, kind)]
        values = {"departure": events.departure_of(trip), "place": events.place_of(trip),
                  "vehicle": events.vehicle_of(trip, seat), "note": EVENING_NOTE if kind == "evening" else LEAD_NOTE,
                  "trip_id": trip.id}
        outbox.to_worker(seat.worker_id, "departure_reminder", values, dedupe_key=key)
        written += 1
    return written


def _cleared(now):
    """Clearance messages for returnees whose observation ended in the last CLEARED_LOOKBACK_DAYS days."""
    rules = health.rules()
    arrivals = _recent_arrivals(now, rules.observation_days)
    ended = local_day(now) - timedelta(days=rules.observation_days)  # arrived on or before: observation is over
    candidates = {worker_id: day for worker_id, day in arrivals.items() if day <= ended}
    keys = {worker_id: f"cleared:worker:{worker_id}:{day.isoformat()}" for worker_id, day in candidates.items()}
    told = outbox.existing_keys(list(keys.values()))
    candidates = {worker_id: day for worker_id, day in candidates.items() if keys[worker_id] not in told}
    if not candidates:
        return 0
    records = health.observations_by_worker(candidates)
    orders = clearance.open_orders(list(candidates))
    written = 0
    for worker_id, day in sorted(candidates.items()):
        decided = clearance.decide_clearance(day, records[worker_id], orders.get(worker_id), rules, now)
        if decided.state != "cleared" or written >= MAX_PER_RUN:
            continue
        values = {"employer": _employer_of(worker_id), "observation_end": decided.observation_ends_on,
                  "note": CLEARED_NOTE}
        outbox.to_worker(worker_id, "cleared_to_work", values, dedupe_key=keys[worker_id])
        written += 1
    return written


def _recent_arrivals(now, observation_days):
    """{worker_id: latest arrival (Beijing date)} of those who arrived, or were released, in the last days that matter.

    An arrival is an accepted arrival scan or a roster registration (零散返岗), as `clearance.latest_arrival`
    reads it; only those since the observation period plus the lookback began are read (indexed ranges).
    A release from isolation restarts observation, so a worker released in that span is read too.
    """
    first_day = local_day(now) - timedelta(days=observation_days + CLEARED_LOOKBACK_DAYS)
    since = utc_at(first_day)
    latest = {}
    scans = db.session.execute(
        select(ScanEvent.worker_id, func.max(ScanEvent.scanned_at))
        .where(ScanEvent.verdict.in_(("allow", "isolate")), ScanEvent.scanned_at >= since,
               ScanEvent.arrived_seat_id.is_not(None), ScanEvent.worker_id.is_not(None))
        .group_by(ScanEvent.worker_id))
    for worker_id, scanned_at in scans:
        latest[worker_id] = local_day(scanned_at)
    registered = db.session.execute(select(RosterEntry.worker_id, func.max(RosterEntry.arrival_date))
                                    .where(RosterEntry.arrival_date >= first_day).group_by(RosterEntry.worker_id))
    for worker_id, day in registered:
        latest[worker_id] = max(day, latest.get(worker_id, day))
    released = db.session.scalars(select(IsolationOrder.worker_id).where(
        IsolationOrder.status == "released", IsolationOrder.closed_at >= since)).all()
    for worker_id in set(released) - set(latest):
        day = clearance.latest_arrival(worker_id)
        if day is not None:
            latest[worker_id] = day
    return latest


def _employer_of(worker_id):
    """Where the returnee works: their roster entry's enterprise, their inbound application's, else their own."""
    name = db.session.scalar(select(Enterprise.name).join(RosterEntry, RosterEntry.enterprise_id == Enterprise.id)
                             .where(RosterEntry.worker_id == worker_id).order_by(RosterEntry.arrival_date.desc())
                             .limit(1))
    if name is None:
        row = db.session.execute(
            select(Enterprise.name, Application.employer_name)
            .outerjoin(Enterprise, Enterprise.id == Application.employer_id)
            .where(Application.worker_id == worker_id, Application.direction == "inbound")
            .order_by(Application.id.desc()).limit(1)).first()
        name = (row[0] or row[1]) if row is not None else None
    if name is None:
        name = db.session.scalar(select(Worker.employer_name).where(Worker.id == worker_id))
    return name or "用工单位"
