"""Daily follow-ups (随访): HR's health check of a returnee on its roster during observation.

Each check is a `follow_up` HealthEvent in the shared record, at most one per returnee and
(Beijing) day. An abnormal one — a temperature at or above the fever threshold, or any
symptom — opens a pending isolation order for a health officer to decide.
"""
from datetime import timedelta

from sqlalchemy import select

from app.errors import Conflict, DomainError, Invalid, NotFound
from app.extensions import db
from app.models import HealthEvent, IsolationOrder, Worker
from app.models.base import utcnow
from app.services.credentials import certificates
from app.services.employment import roster
from app.services.notices import events
from app.services.people import health
from app.services.people.clearance import OPEN_ORDER_STATUSES
from app.services.people.health_rules import SYMPTOMS, assess
from app.services.platform.timeutil import local_day, local_today, utc_at

RECORDERS = ("admin", "enterprise_hr")


def record(staff, enterprise_id, worker_id, data):
    """Record one day's follow-up of a returnee on the enterprise's roster and commit.

    Args:
        data: date (default today), temperature, symptoms (codes of SYMPTOMS), note.
    Returns (event, its local day, abnormal, isolation order or None). Raises NotFound (enterprise or
    returnee out of scope), Invalid (a day in the future or before arrival, unknown symptom),
    Conflict (returnee_not_arrived, follow_up_exists for a second check the same day).
    """
    enterprise = roster.enterprise_in_scope(staff, enterprise_id, RECORDERS)
    recorded = _record_one(staff, enterprise, roster.row_of(enterprise.id, worker_id), data)
    db.session.commit()
    return recorded


def record_many(staff, enterprise_id, entries):
    """Record many returnees' follow-ups at once (HR's table of the day) in one transaction: all or none.

    Args:
        entries: [(worker_id, data)], data as for `record`.
    Returns [(worker_id, event, day, abnormal, order or None)] in the order given. Raises NotFound or
    Forbidden for the enterprise as `record` does; Invalid (validation_error) with `fields`
    {worker_id: Chinese reason} when any row is refused, and then nothing is recorded.
    """
    enterprise = roster.enterprise_in_scope(staff, enterprise_id, RECORDERS)
    rows = {row.worker.id: row for row in roster.load_rows([enterprise.id])}
    done, refused = [], {}
    for worker_id, data in entries:
        try:
            if worker_id not in rows:
                raise NotFound("returnee_not_found", "该人员不在本企业花名册中")
            done.append((worker_id, *_record_one(staff, enterprise, rows[worker_id], data)))
        except DomainError as error:
            refused[str(worker_id)] = _reason(error)
    if refused:
        db.session.rollback()
        raise Invalid("validation_error", f"{len(refused)} 人的随访有误，本次未保存任何记录，请修改后重新保存",
                      fields=refused)
    db.session.commit()
    return done


def _reason(error):
    """A refused row's reason in one sentence: the field's words where the rule named a field."""
    return "；".join(error.fields.values()) if error.fields else error.message


def may_record(staff):
    """Whether the staff member's role records follow-ups (others read the roster only)."""
    return staff.role in RECORDERS


def _record_one(staff, enterprise, row, data):
    """Check and add one follow-up (and a pending order if abnormal) without committing."""
    worker_id = row.worker.id
    day = data.get("date") or local_today()
    _check(row, day, data.get("symptoms") or [])
    # Serialize follow-ups of one worker, so two clerks cannot both record the same day.
    db.session.get(Worker, worker_id, with_for_update=True, populate_existing=True)
    if _on_day(worker_id, day) is not None:
        raise Conflict("follow_up_exists", f"该返岗人员{day.isoformat()}已有随访记录，每天只记录一次",
                       fields={"date": "当天已随访"})
    now = utcnow()
    occurred = now if day == local_today() else utc_at(day, 12)  # a past day's check is dated at its noon
    event = HealthEvent(worker_id=worker_id, kind="follow_up", occurred_at=occurred, recorded_at=now,
                        temperature=health.reading(data["temperature"]),
                        symptoms=sorted(set(data.get("symptoms") or [])), note=data.get("note"),
                        actor_kind="staff", actor_id=staff.id, location=enterprise.name[:128])
    db.session.add(event)
    db.session.flush()
    status, reason, details = assess(health.to_observation(event), health.rules())
    order = None
    if status == "red":
        certificates.withdraw(worker_id, "positive_finding")
        order = _open_pending(worker_id, reason, event, _FINDINGS.get(reason, "健康状况异常").format(**details))
    return event, day, status == "red", order


def _check(row, day, symptoms):
    if row.arrived_on is None:
        raise Conflict("returnee_not_arrived", "该人员尚未到达，不能随访")
    errors = {}
    if day > local_today():
        errors["date"] = "随访日期不能晚于今天"
    elif day < row.arrived_on:
        errors["date"] = f"随访日期不能早于返回日期 {row.arrived_on.isoformat()}"
    unknown = [code for code in symptoms if code not in SYMPTOMS]
    if unknown:
        errors["symptoms"] = "可选：" + "、".join(SYMPTOMS)
    if errors:
        raise Invalid("validation_error", "随访信息有误", fields=errors)


def _on_day(worker_id, day):
    """The worker's follow-up of a Beijing-time day, or None.

    A locking read: on MariaDB it sees what a concurrent request committed while we waited
    for the worker's lock, where a plain read would answer from this transaction's snapshot.
    """
    start = utc_at(day)
    return db.session.scalar(select(HealthEvent.id).where(
        HealthEvent.worker_id == worker_id, HealthEvent.kind == "follow_up",
        HealthEvent.occurred_at >= start, HealthEvent.occurred_at < start + timedelta(days=1))
        .limit(1).with_for_update())


def _open_pending(worker_id, reason, event, finding):
    """A pending isolation order for an abnormal follow-up, unless one is open already (then that one).

    A new one is told to the worker and to the health officers covering them (`finding` says why, in Chinese).
    """
    open_order = db.session.scalar(select(IsolationOrder).where(
        IsolationOrder.worker_id == worker_id, IsolationOrder.status.in_(OPEN_ORDER_STATUSES)).with_for_update())
    if open_order is not None:
        return open_order
    order = IsolationOrder(worker_id=worker_id, reason=reason, health_event_id=event.id)
    db.session.add(order)
    db.session.flush()
    events.isolation_pending(order, f"随访异常：{finding}", f"alert:isolation:{order.id}")
    return order


_FINDINGS = {"fever": "体温{temperature}℃", "symptoms": "有{symptoms}症状", "contact": "有接触史"}


def list_for(staff, enterprise_id, worker_id):
    """A returnee's follow-ups, newest first, each as (event, local day, abnormal)."""
    enterprise = roster.enterprise_in_scope(staff, enterprise_id)
    roster.row_of(enterprise.id, worker_id)
    rules = health.rules()
    events = db.session.scalars(select(HealthEvent).where(
        HealthEvent.worker_id == worker_id, HealthEvent.kind == "follow_up")
        .order_by(HealthEvent.occurred_at.desc(), HealthEvent.id.desc())).all()
    return [(event, local_day(event.occurred_at), assess(health.to_observation(event), rules)[0] == "red")
            for event in events]


def on_day_by_worker(worker_ids, day=None):
    """{worker_id: (event, abnormal, open order or None)}: the workers' follow-ups of a Beijing day (default today)."""
    day = day or local_today()
    start = utc_at(day)
    found = {}
    if not worker_ids:
        return found
    rules = health.rules()
    events = db.session.scalars(select(HealthEvent).where(
        HealthEvent.worker_id.in_(worker_ids), HealthEvent.kind == "follow_up",
        HealthEvent.occurred_at >= start, HealthEvent.occurred_at < start + timedelta(days=1))
        .order_by(HealthEvent.id)).all()
    orders = {order.worker_id: order for order in db.session.scalars(select(IsolationOrder).where(
        IsolationOrder.worker_id.in_(worker_ids), IsolationOrder.status.in_(OPEN_ORDER_STATUSES)))}
    for event in events:
        found[event.worker_id] = (event, assess(health.to_observation(event), rules)[0] == "red",
                                  orders.get(event.worker_id))
    return found
