"""The messages events write (消息事件): one function per event, building its values from the objects it is given.

Each is called by the service of its event, before that service commits: the message is written in the
event's transaction (`outbox.to_worker` / `outbox.to_staff`), so a rolled-back event leaves none. The
scheduled ones (departure reminders, clearance) are in `schedule.py`.
"""
import hashlib

from sqlalchemy import select, union

from app import crypto
from app.extensions import db
from app.models import Application, Checkpoint, Enterprise, RosterEntry, Seat, StaffUser, Worker
from app.models.base import utcnow
from app.services.messaging import outbox, templates
from app.services.people.identity import mask_name

DIRECTION_NAMES = {"outbound": "外出务工报名", "inbound": "返岗出行报名"}
NO_PLATE = "车牌待定"
ASSIGNED_NOTE = "乘车码已生成，请提前到达上车点"
DECIDED_NOTE = "请留意编班和乘车通知"
CREW_NOTE = "乘客名单和离线包已可在小程序查看"
ROLE_NAMES = {"captain": "车长", "vice_captain": "副车长"}
RESULTS = {"allow": "放行", "recheck": "复核", "isolate": "需隔离"}
KIND_NAMES = {"home": "居家隔离", "centralized": "集中隔离"}


def application_decided(application):
    """Tell the worker their application was approved or rejected (with the reason)."""
    approved = application.status == "approved"
    values = {"subject": subject_of(application), "result": "已通过" if approved else "未通过",
              "note": DECIDED_NOTE if approved else f"原因：{application.status_reason or '未说明'}",
              "decided_at": application.decided_at, "application_id": application.id}
    return outbox.to_worker(application.worker_id, "application_decided", values)


def subject_of(application):
    """An application as a worker names it: 返岗出行报名 2月25日–2月28日."""
    first, last = application.earliest_departure, application.latest_departure
    window = f"{first.month}月{first.day}日" + ("" if first == last else f"–{last.month}月{last.day}日")
    return f"{DIRECTION_NAMES.get(application.direction, '出行报名')} {window}"


def trip_published(trip, seats):
    """Tell each passenger of a just-published trip their seat (trip_assigned), and its crew their task."""
    captain_phone = captain_phone_of(trip)
    for seat in seats:
        values = {"departure": departure_of(trip), "place": place_of(trip), "vehicle": vehicle_of(trip, seat),
                  "captain_phone": captain_phone, "note": note_of(trip), "trip_id": trip.id}
        # No dedupe key: a plan is published once, and a lookup per seat would flush the inserts one by one.
        outbox.to_worker(seat.worker_id, "trip_assigned", values)
    for role, worker_id in crew_of(trip).items():
        if worker_id is not None:
            _tell_crew(trip, role, worker_id, len(seats))


def crew_of(trip):
    """{role: worker_id} of a trip's captain and vice-captain, to compare before and after a change."""
    return {"captain": trip.captain_worker_id, "vice_captain": trip.vice_captain_worker_id}


def crew_changed(trip, before):
    """Tell whoever a published trip's crew change made captain or vice-captain; `before` = crew_of() earlier.

    One who keeps their role hears nothing; a captain and vice who swap are each told their new task.
    A draft's crew is told when the plan is published.
    """
    if trip.status != "published":
        return []
    appointed = [(role, worker_id) for role, worker_id in crew_of(trip).items()
                 if worker_id is not None and worker_id != before.get(role)]
    passengers = len(live_seats(trip.id)) if appointed else 0
    return [_tell_crew(trip, role, worker_id, passengers) for role, worker_id in appointed]


def _tell_crew(trip, role, worker_id, passengers):
    values = {"role": f"您被指定为{ROLE_NAMES[role]}", "departure": departure_of(trip),
              "vehicle": f"{trip.plate or NO_PLATE} 乘客{passengers}人", "note": CREW_NOTE, "trip_id": trip.id}
    return outbox.to_worker(worker_id, "crew_published", values)


def seat_moved(seat, trip):
    """Tell a passenger moved to another vehicle of a published plan: new seat, new QR."""
    change = f"已调至 {vehicle_of(trip, seat)}"
    return _changed(seat.worker_id, trip, change, "新的乘车码已生成，旧码作废")


def seat_cancelled(seat, trip):
    """Tell a passenger taken off a published trip that their QR no longer works."""
    return _changed(seat.worker_id, trip, "您已被移出该车次", "原乘车码已作废，待重新编班")


def seats_restored(trip, seats):
    """Tell each no-show whose seat a reopened trip restored: a new QR for it, the old one stays void."""
    for seat in seats:
        _changed(seat.worker_id, trip, f"座位已恢复：{vehicle_of(trip, seat)}", "新的乘车码已生成，旧码作废")


def trip_cancelled(trip, seats, reason):
    """Tell every passenger of a cancelled trip, with the reason."""
    for seat in seats:
        _changed(seat.worker_id, trip, f"车次已取消：{reason}", "原乘车码已作废，待重新编班")


def trip_updated(trip, before):
    """Tell a published trip's passengers what changed of its time, place or plate; `before` = {field: old}."""
    changes = []
    if before["departure_time"] != trip.departure_time:
        changes.append("出发时间调整")  # the new time is the message's departure field
    if before["departure_place"] != trip.departure_place:
        changes.append(f"上车点改为{place_of(trip)}")
    if before["plate"] != trip.plate:
        changes.append(f"车牌改为{trip.plate or NO_PLATE}")
    if not changes or trip.status != "published":
        return []
    note = "乘车码不变，请以最新安排为准"
    return [_changed(seat.worker_id, trip, "，".join(changes), note) for seat in live_seats(trip.id)]


def _changed(worker_id, trip, change, note):
    values = {"change": change, "departure": departure_of(trip), "note": note}
    return outbox.to_worker(worker_id, "trip_changed", values)


def scans_accepted(entries, rechecked=False):
    """The messages of accepted scans: arrivals at a checkpoint, and isolate verdicts.

    `entries`: (stored scan event, Decision, pending IsolationOrder the scan opened or None). A scan at a
    checkpoint tells its worker (arrival_recorded, once per seat and arrival); an order opened tells the
    worker and alerts the health officers; an isolate verdict at arrival under an order already open
    alerts them too. A captain's scans write nothing else. `rechecked`: passed on the officer's recheck (复核).
    """
    for event, decision, order in entries:
        if order is not None:
            isolation_pending(order, decision.message, f"alert:scan:{event.id}")
        elif decision.verdict == "isolate" and event.kind == "arrive":
            isolation_alert(event.worker_id, "到达人员需隔离", decision.message, f"alert:scan:{event.id}")
    at_checkpoints = [(event, decision) for event, decision, _ in entries
                      if event.checkpoint_id is not None and event.worker_id is not None
                      and event.kind in ("arrive", "checkpoint")]
    if not at_checkpoints:
        return
    keys = {_arrival_key(event) for event, _ in at_checkpoints}
    told = outbox.existing_keys(keys)
    ids = {event.checkpoint_id for event, _ in at_checkpoints}
    names = dict(db.session.execute(select(Checkpoint.id, Checkpoint.name).where(Checkpoint.id.in_(ids))).all())
    for event, decision in at_checkpoints:
        key = _arrival_key(event)
        if key not in told:  # one query for the whole upload, not one per scan
            told.add(key)
            arrival_recorded(event, decision, names.get(event.checkpoint_id, "卡口"), rechecked)


def arrival_recorded(event, decision, place, rechecked=False):
    """Tell the worker a checkpoint recorded their arrival: 放行, 复核 (passed on the officer's recheck) or 需隔离."""
    result = RESULTS["isolate"] if decision.verdict == "isolate" else RESULTS["recheck" if rechecked else "allow"]
    values = {"arrived_at": event.scanned_at, "place": place, "result": result, "note": decision.message}
    return outbox.to_worker(event.worker_id, "arrival_recorded", values, dedupe_key=_arrival_key(event))


def _arrival_key(event):
    """One message per seat and arrival (a second scan of the passenger writes none), or per certificate."""
    if event.seat_id is not None:
        key = f"arrival:{event.kind}:seat:{event.seat_id}"
        return key if event.kind == "arrive" else f"{key}:cp:{event.checkpoint_id}"
    key = f"arrival:{event.kind}:cert:{event.certificate_issuer}:{event.certificate_serial}:cp:{event.checkpoint_id}"
    return key if len(key) <= 96 else "arrival:" + hashlib.sha256(key.encode()).hexdigest()


def isolation_pending(order, why, alert_key):
    """Tell a worker a pending isolation order was opened for them (a scan or a follow-up), and the health officers.

    `why` is the finding in Chinese; `alert_key` makes the officers' alert once-only (the scan or the follow-up).
    """
    values = {"state": "待处理", "mode": "等待卫健部门安排", "at": order.opened_at or utcnow(), "note": why}
    message = outbox.to_worker(order.worker_id, "isolation_changed", values)
    isolation_alert(order.worker_id, "隔离单待处理", why, alert_key)
    return message


def isolation_alert(worker_id, subject, note, dedupe_key):
    """A staff alert to the health officers covering the worker's county (their console notification list).

    The note names the worker masked (张*丰), as the officers' lists show them.
    """
    name = db.session.scalar(select(Worker.name).where(Worker.id == worker_id))
    note = f"{mask_name(name)}：{note}" if name else note
    return outbox.to_staff(health_officers_of(worker_id), subject, note, kind="隔离待办", dedupe_key=dedupe_key)


def isolation_started(order):
    """Tell a worker their isolation began: kind, place and dates."""
    values = {"state": "开始隔离", "mode": f"{KIND_NAMES.get(order.kind, '隔离')} {order.place}",
              "at": order.starts_on, "note": f"至{order.ends_on.month}月{order.ends_on.day}日，请配合卫健部门安排"}
    return outbox.to_worker(order.worker_id, "isolation_changed", values)


def isolation_closed(order):
    """Tell a worker their order was released (解除) or dismissed (撤销)."""
    released = order.status == "released"
    values = {"state": "解除隔离" if released else "撤销",
              "mode": KIND_NAMES.get(order.kind, "隔离") if released else "隔离单已撤销",
              "at": order.closed_at or utcnow(), "note": order.note or ("请继续做好健康观察" if released else "无需隔离")}
    return outbox.to_worker(order.worker_id, "isolation_changed", values)


def health_officers_of(worker_id):
    """Active health officers who see the worker: those of the worker's counties and those of the whole city."""
    counties = counties_of(worker_id)
    if not counties:
        # Nobody's county: only the city-wide officers see the worker's orders.
        return db.session.scalars(select(StaffUser.id).where(
            StaffUser.active.is_(True), StaffUser.role == "health_officer", StaffUser.county_code.is_(None))
            .order_by(StaffUser.id)).all()
    found = set()
    for county in counties:
        found.update(outbox.staff_for(("health_officer",), county))
    return sorted(found)


def counties_of(worker_id):
    """The counties whose health officers see a worker, as `isolation.workers_of_county` decides it."""
    employers = union(select(Application.employer_id).where(Application.worker_id == worker_id),
                      select(RosterEntry.enterprise_id).where(RosterEntry.worker_id == worker_id)).subquery()
    counties = union(select(Application.county_code).where(Application.worker_id == worker_id),
                     select(Enterprise.county_code).where(Enterprise.id.in_(select(employers.c[0])))).subquery()
    return sorted(code for code in db.session.scalars(select(counties.c[0])) if code)


def live_seats(trip_id):
    """The assigned (issued) seats of a trip, in seat order."""
    return db.session.scalars(select(Seat).where(Seat.trip_id == trip_id, Seat.status == "assigned")
                              .order_by(Seat.seat_no)).all()


def departure_of(trip):
    """The trip's departure as a Beijing moment."""
    return templates.departure(trip.departure_date, trip.departure_time)


def place_of(trip):
    """Where passengers board."""
    return trip.departure_place or trip.origin


def vehicle_of(trip, seat):
    """Plate and seat: 宁A12345 3号座 (车牌待定 while the plate is not known)."""
    return f"{trip.plate or NO_PLATE} {seat.seat_no}号座"


def note_of(trip):
    """The trip's notice to passengers, or how to board."""
    return f"{ASSIGNED_NOTE}；{trip.notice}" if trip.notice else ASSIGNED_NOTE


def captain_phone_of(trip):
    """The captain's full mobile, as the trip detail shows it to passengers; else the responsible person's, else -."""
    if trip.captain_worker_id is not None:
        cipher = db.session.scalar(select(Worker.mobile_cipher).where(Worker.id == trip.captain_worker_id))
        if cipher:
            return crypto.cipher().decrypt(cipher, "worker.mobile")
    if trip.responsible_phone_cipher:
        return crypto.cipher().decrypt(trip.responsible_phone_cipher, "trip.responsible_phone")
    return "-"
