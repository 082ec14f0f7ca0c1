"""Clearance to start work (方可上岗), in one place: `decide_clearance` is the rule, the rest loads its inputs.

A returnee is **cleared** once the observation period (OBSERVATION_DAYS, counted from the
arrival date) is over, at least one daily follow-up (随访) was recorded, every one was normal
and no isolation order is pending or active. Otherwise they are **isolated** (an open order), **in
observation** (the period is running, a follow-up was abnormal, or the health record is
red or yellow) or **not arrived**. A release from isolation (isolation_end) restarts the
observation period on the day of release: the follow-ups before the release were answered
by the isolation, the ones after it must be normal again.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import IsolationOrder, RosterEntry, ScanEvent
from app.models.base import utcnow
from app.services.people.health_rules import assess, derive_status
from app.services.platform.timeutil import local_day

STATES = ("cleared", "in_observation", "isolated", "not_arrived")
OPEN_ORDER_STATUSES = ("pending", "active")

_MESSAGES = {
    "not_arrived": "尚未到达",
    "isolation_pending": "有待处理的隔离单，暂不能上岗",
    "isolation_active": "正在隔离中，暂不能上岗",
    "abnormal_follow_up": "观察期内随访有异常，暂不能上岗",
    "health_red": "健康状态异常，暂不能上岗",
    "health_yellow": "健康观察中，暂不能上岗",
    "observation_period": "健康观察期内，{ends_on}后观察期满",
    "no_follow_up": "观察期满但没有随访记录，请企业登记随访后再上岗",
    "cleared": "观察期满且随访均正常，可以上岗",
}


@dataclass(frozen=True)
class Clearance:
    """Whether a returnee may start work, why, and until when they are observed."""

    state: str  # one of STATES
    reason: str
    message: str
    arrival_date: date | None = None
    observation_ends_on: date | None = None  # the last day of observation; cleared from the next day
    follow_ups: int = 0
    abnormal_follow_ups: int = 0


def decide_clearance(arrival_date, observations, open_order_status, rules, now):
    """Decide clearance to start work (方可上岗) for one returnee.

    Args:
        arrival_date: the local date they arrived, or None when they have not.
        observations: the worker's health record as health_rules.Observation, any order.
        open_order_status: "pending" or "active" for an open isolation order, else None.
        rules: HealthRules (fever threshold, observation days).
        now: naive UTC moment the question is asked.
    Returns a Clearance.
    """
    today = local_day(now)
    if arrival_date is None or arrival_date > today:
        return _clearance("not_arrived", arrival_date)
    released_at = max((o.occurred_at for o in observations if o.kind == "isolation_end"), default=None)
    start = max(arrival_date, local_day(released_at)) if released_at else arrival_date
    ends_on = start + timedelta(days=rules.observation_days - 1)
    follow_ups = [o for o in observations if o.kind == "follow_up" and local_day(o.occurred_at) >= arrival_date
                  and (released_at is None or o.occurred_at > released_at)]
    abnormal = sum(assess(o, rules)[0] != "green" for o in follow_ups)
    counts = {"arrival_date": arrival_date, "ends_on": ends_on, "follow_ups": len(follow_ups),
              "abnormal": abnormal}
    if open_order_status in OPEN_ORDER_STATUSES:
        return _clearance("isolated", reason=f"isolation_{open_order_status}", **counts)
    if abnormal:
        return _clearance("in_observation", reason="abnormal_follow_up", **counts)
    health = derive_status(observations, rules, now).status
    if health in ("red", "yellow"):
        return _clearance("in_observation", reason=f"health_{health}", **counts)
    if today <= ends_on:
        return _clearance("in_observation", reason="observation_period", **counts)
    if not follow_ups:
        # "Every check was normal" must not hold vacuously: nobody is cleared unchecked.
        return _clearance("in_observation", reason="no_follow_up", **counts)
    return _clearance("cleared", **counts)


def _clearance(state, arrival_date=None, reason=None, ends_on=None, follow_ups=0, abnormal=0):
    reason = reason or state
    message = _MESSAGES[reason].format(ends_on=ends_on.isoformat() if ends_on else "")
    return Clearance(state, reason, message, arrival_date, ends_on if arrival_date else None, follow_ups, abnormal)


def open_orders(worker_ids):
    """{worker_id: "pending" | "active"} for workers with an open isolation order ("active" wins)."""
    found = {}
    if worker_ids:
        for worker_id, status in db.session.execute(
                select(IsolationOrder.worker_id, IsolationOrder.status)
                .where(IsolationOrder.worker_id.in_(worker_ids), IsolationOrder.status.in_(OPEN_ORDER_STATUSES))):
            if found.get(worker_id) != "active":
                found[worker_id] = status
    return found


def latest_arrival(worker_id):
    """The worker's latest arrival date: an accepted arrival scan, or a roster registration (零散返岗)."""
    scanned = db.session.scalar(select(ScanEvent.scanned_at).where(
        ScanEvent.worker_id == worker_id, ScanEvent.arrived_seat_id.is_not(None))
        .order_by(ScanEvent.scanned_at.desc()).limit(1))
    registered = db.session.scalar(select(RosterEntry.arrival_date).where(RosterEntry.worker_id == worker_id)
                                   .order_by(RosterEntry.arrival_date.desc()).limit(1))
    days = [day for day in (local_day(scanned) if scanned else None, registered) if day is not None]
    return max(days) if days else None


def for_worker(worker_id, observations, rules):
    """The worker's own clearance, from their latest arrival (observations: their record)."""
    return decide_clearance(latest_arrival(worker_id), observations, open_orders([worker_id]).get(worker_id),
                            rules, utcnow())
