"""Isolation orders (集中/居家隔离) decided by health officers (卫健).

Scans and abnormal follow-ups open orders *pending*; a health officer activates one with
its kind, place and dates, or opens one *active* directly, and later releases it (解除隔离).
pending → active → released, nothing else; each step into or out of isolation adds an
isolation_start / isolation_end event to the shared health record. A pending order that was a
false alarm (a mistyped temperature) is dismissed instead: pending → dismissed, with the
officer's reason, audited; nobody was isolated, so the health record gets no event.

A health officer with a county sees the workers *of that county*: those with a travel
application handled by the county (the county that plans their trip), and those employed
by an enterprise of the county (named as employer in an application, or on its roster as
a 零散返岗 returnee). A health officer without a county, and the admin, see everyone.
"""
from datetime import timedelta

from sqlalchemy import func, select, union

from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import Application, Enterprise, HealthEvent, IsolationOrder, RosterEntry, Worker
from app.models.base import utcnow
from app.services.credentials import certificates
from app.services.notices import events
from app.services.people import health, workers
from app.services.people.clearance import OPEN_ORDER_STATUSES
from app.services.platform import audit, scope
from app.services.platform.timeutil import local_today

OFFICERS = ("admin", "health_officer")
KINDS = ("home", "centralized")  # 居家 / 集中
STATUSES = ("pending", "active", "released", "dismissed")
KIND_NAMES = {"home": "居家隔离", "centralized": "集中隔离"}


def workers_of_county(county_code):
    """A subquery of the ids of workers of a county (see the module docstring)."""
    return union(select(Application.worker_id).where(Application.county_code == county_code),
                 *_employed_by(select(Enterprise.id).where(Enterprise.county_code == county_code)))


def workers_of_park(park_id):
    """A subquery of the ids of workers employed in a park: an application names one of its
    enterprises as employer, or one of them has them on its roster (零散返岗)."""
    return union(*_employed_by(select(Enterprise.id).where(Enterprise.park_id == park_id)))


def _employed_by(employers):
    """Workers an application names as these enterprises' employee, and those on their rosters."""
    return (select(Application.worker_id).where(Application.employer_id.in_(employers)),
            select(RosterEntry.worker_id).where(RosterEntry.enterprise_id.in_(employers)))


def _scoped(statement, staff):
    scope.require_role(staff, OFFICERS)
    if staff.role == "health_officer" and staff.county_code:
        return statement.where(IsolationOrder.worker_id.in_(workers_of_county(staff.county_code)))
    return statement


# What an officer may do next with an order, by its state: the pages offer these steps and nothing else.
_STEPS = {"pending": ("activate", "dismiss"), "active": ("release",)}


def steps_open(order):
    """The steps open on an order: 开始隔离 (activate) and 撤销 (dismiss) while pending, 解除 (release) while active."""
    return _STEPS.get(order.status, ())


def is_open(order):
    """Whether the order still binds the person (pending or active): they cannot be cleared, nor get another."""
    return order.status in OPEN_ORDER_STATUSES


def count_by_status(staff, filters):
    """How many orders in the officer's scope each state holds under the filters but status: {status: n}, one query."""
    statement = _scoped(select(IsolationOrder.status, func.count()), staff)
    if filters.get("kind"):
        statement = statement.where(IsolationOrder.kind == filters["kind"])
    if filters.get("worker_id"):
        statement = statement.where(IsolationOrder.worker_id == filters["worker_id"])
    found = dict(db.session.execute(statement.group_by(IsolationOrder.status)).all())
    return {status: found.get(status, 0) for status in STATUSES}


def list_orders(staff, filters, page=1, per_page=100):
    """Orders in the officer's scope, newest first, filtered by status and kind: (orders, workers, total)."""
    statement = _scoped(select(IsolationOrder), staff)
    if filters.get("status"):
        statement = statement.where(IsolationOrder.status == filters["status"])
    if filters.get("kind"):
        statement = statement.where(IsolationOrder.kind == filters["kind"])
    if filters.get("worker_id"):
        statement = statement.where(IsolationOrder.worker_id == filters["worker_id"])
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    orders = db.session.scalars(statement.order_by(IsolationOrder.opened_at.desc(), IsolationOrder.id.desc())
                                .offset((page - 1) * per_page).limit(per_page)).all()
    return orders, workers.of_rows(orders), total


def order_in_scope(staff, order_id, lock=False):
    """One order the officer may see (locked for update when deciding it), or NotFound."""
    statement = _scoped(select(IsolationOrder).where(IsolationOrder.id == order_id), staff)
    order = db.session.scalar(statement.with_for_update() if lock else statement)
    if order is None:
        raise NotFound("isolation_order_not_found", "没有找到该隔离单")
    return order


def worker_in_scope(staff, worker_id, lock=False):
    """A worker the officer may isolate (of their county, or anyone for the city), locked if asked; else NotFound."""
    scope.require_role(staff, OFFICERS)
    visible = select(Worker).where(Worker.id == worker_id)
    if staff.role == "health_officer" and staff.county_code:
        visible = visible.where(Worker.id.in_(workers_of_county(staff.county_code)))
    worker = db.session.scalar(visible.with_for_update() if lock else visible)
    if worker is None:
        raise NotFound("worker_not_found", "没有找到该人员")
    return worker


def open_order(staff, data):
    """Open an active isolation order for a worker directly and commit.

    Raises NotFound for a worker outside the officer's county, Conflict
    (isolation_order_open) when the worker already has a pending or active order.
    """
    worker_id = data["worker_id"]
    worker_in_scope(staff, worker_id, lock=True)
    # A locking read, like the worker's: it sees an order a concurrent request has just committed.
    existing = db.session.scalar(select(IsolationOrder.id).where(
        IsolationOrder.worker_id == worker_id, IsolationOrder.status.in_(OPEN_ORDER_STATUSES)).with_for_update())
    if existing is not None:
        raise Conflict("isolation_order_open", "该人员已有待处理或进行中的隔离单，请处理该隔离单",
                       fields={"isolation_order_id": str(existing)})
    order = IsolationOrder(worker_id=worker_id, reason=data.get("reason") or "health_officer", opened_by=staff.id)
    db.session.add(order)
    _start(order, staff, data)
    audit.record("staff", staff.id, "isolation.open", "isolation_order", order.id, worker_id=worker_id)
    events.isolation_started(order)
    db.session.commit()
    return order


def activate(staff, order_id, data):
    """Turn a pending order into an active one with kind, place and dates, and commit; Conflict unless pending."""
    order = order_in_scope(staff, order_id, lock=True)
    if "activate" not in steps_open(order):
        raise Conflict("isolation_order_not_pending", "只有待处理的隔离单可以开始隔离")
    _start(order, staff, data)
    audit.record("staff", staff.id, "isolation.activate", "isolation_order", order.id, worker_id=order.worker_id)
    events.isolation_started(order)
    db.session.commit()
    return order


def release(staff, order_id, note=None):
    """Release an active order (解除隔离) and commit; Conflict unless active."""
    order = order_in_scope(staff, order_id, lock=True)
    if "release" not in steps_open(order):
        raise Conflict("isolation_order_not_active", "只有隔离中的隔离单可以解除")
    now = utcnow()
    order.status, order.closed_at, order.closed_by = "released", now, staff.id
    if note:
        order.note = note
    db.session.add(HealthEvent(worker_id=order.worker_id, kind="isolation_end", occurred_at=now,
                               note=f"解除{KIND_NAMES.get(order.kind, '隔离')}", actor_kind="staff",
                               actor_id=staff.id, location=order.place))
    audit.record("staff", staff.id, "isolation.release", "isolation_order", order.id, worker_id=order.worker_id)
    events.isolation_closed(order)
    db.session.commit()
    return order


def dismiss(staff, order_id, note):
    """Dismiss a pending order as a false alarm (撤销) with the officer's reason and commit; Conflict unless pending."""
    order = order_in_scope(staff, order_id, lock=True)
    if "dismiss" not in steps_open(order):
        raise Conflict("isolation_order_not_pending", "只有待处理的隔离单可以撤销")
    order.status, order.closed_at, order.closed_by, order.note = "dismissed", utcnow(), staff.id, note
    audit.record("staff", staff.id, "isolation.dismiss", "isolation_order", order.id, worker_id=order.worker_id)
    events.isolation_closed(order)
    db.session.commit()
    return order


def _start(order, staff, data):
    """Make an order active with its decision and write isolation_start into the health record."""
    starts_on = data.get("starts_on") or local_today()
    ends_on = data.get("ends_on") or starts_on + timedelta(days=health.rules().observation_days - 1)
    errors = {}
    if ends_on < starts_on:
        errors["ends_on"] = "不能早于开始日期"
    if not data["place"].strip():
        errors["place"] = "不能为空"
    if errors:
        raise Invalid("validation_error", "隔离信息有误", fields=errors)
    order.status, order.kind, order.place = "active", data["kind"], data["place"].strip()
    order.starts_on, order.ends_on, order.decided_by = starts_on, ends_on, staff.id
    if data.get("note"):
        order.note = data["note"]
    db.session.flush()
    certificates.withdraw(order.worker_id, "isolation")  # no health certificate stands beside an isolation order
    db.session.add(HealthEvent(
        worker_id=order.worker_id, kind="isolation_start", occurred_at=utcnow(), actor_kind="staff",
        actor_id=staff.id, location=order.place,
        note=f"{KIND_NAMES[order.kind]} {starts_on.isoformat()} 至 {ends_on.isoformat()}"))
