"""Feeds for the isolation group (隔离组) and the checkpoint group (卡口组): who is coming, when, in what health.

Both are bounded by a time window around now (by default the next 48 hours and the last
24), show identities masked, and put flagged people first: red or yellow status, coming from a
high-risk area, an isolate verdict at a scan, or an open isolation order.
"""
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Application, Checkpoint, Enterprise, IsolationOrder, RosterEntry, ScanEvent, Seat, Trip, Worker
from app.models.base import utcnow
from app.services.office import stats
from app.services.people import health
from app.services.people.health_rules import in_high_risk_area
from app.services.people.identity import mask_name
from app.services.platform import scope
from app.services.platform.timeutil import local_day, utc_at
from app.services.scanning import manifests

ISOLATION_READERS = ("admin", "health_officer")
CHECKPOINT_READERS = ("admin", "checkpoint_staff")
OPEN_TRIPS = ("published", "departed", "arrived", "closed")
MAX_ROWS = 2000  # per source: the window keeps a feed far below this
LONGEST_JOURNEY_DAYS = 7  # a trip arriving in the window left at most this long before it
_SEVERITY = {"red": 0, "yellow": 1}


def window(hours_ahead, hours_back):
    """(start, end) as naive UTC around now."""
    now = utcnow()
    return now - timedelta(hours=hours_back), now + timedelta(hours=hours_ahead)


def isolation_feed(staff, county=None, hours_ahead=48, hours_back=24, page=1, per_page=100):
    """Returnees expected or arrived in the window, on inbound trips or registered by their enterprise
    (零散返岗), flagged first; a page of them with the total.

    Raises Forbidden for roles other than admin and health officers, or for another county.
    """
    area = stats.area_for(staff, county, roles=ISOLATION_READERS)
    start, end = window(hours_ahead, hours_back)
    items = _trip_returnees(area, start, end) + _self_returnees(area, start, end)
    _judge(items)
    items.sort(key=lambda item: (not item["flagged"], _SEVERITY.get(item["health"]["status"], 2),
                                 item["_when"] or datetime.max, item["worker_id"]))
    for item in items:
        del item["_when"]
    return {"items": items[(page - 1) * per_page: page * per_page], "total": len(items), "page": page,
            "per_page": per_page, "window_from": start, "window_to": end}


def _trip_returnees(area, start, end):
    first_day, last_day = local_day(start), local_day(end)
    trips = stats.trip_area_filter(
        select(Trip.id).where(Trip.direction == "inbound", Trip.status.in_(OPEN_TRIPS),
                              Trip.departure_date >= first_day - timedelta(days=LONGEST_JOURNEY_DAYS),
                              Trip.departure_date <= last_day), area)
    passage = (select(ScanEvent.seat_id.label("seat_id"),
                      func.min(case((ScanEvent.kind == "arrive", ScanEvent.scanned_at))).label("arrived_at"),
                      func.max(case((ScanEvent.verdict == "isolate", 1), else_=0)).label("isolate"))
               .where(ScanEvent.trip_id.in_(trips), ScanEvent.verdict != "deny", ScanEvent.seat_id.is_not(None))
               .group_by(ScanEvent.seat_id).subquery())
    rows = db.session.execute(
        select(Seat.id, Trip, Worker, Application.origin, passage.c.arrived_at, passage.c.isolate)
        .join(Trip, Trip.id == Seat.trip_id).join(Worker, Worker.id == Seat.worker_id)
        .join(Application, Application.id == Seat.application_id)
        .outerjoin(passage, passage.c.seat_id == Seat.id)
        .where(Seat.status == "assigned", Trip.id.in_(trips),
               or_(Trip.expected_arrival_at.between(start, end),
                   and_(Trip.expected_arrival_at.is_(None), Trip.departure_date.between(first_day, last_day)),
                   passage.c.arrived_at >= start))
        .order_by(Trip.id, Seat.seat_no).limit(MAX_ROWS)
    ).all()
    return [{**_person("trip", worker, origin, trip.county_code), "trip_id": trip.id, "plate": trip.plate,
             "enterprise_id": None, "expected_arrival_at": trip.expected_arrival_at, "arrived_at": arrived_at,
             "arrival_date": None, "isolate_verdict": bool(isolate),
             "_when": arrived_at or trip.expected_arrival_at or utc_at(trip.departure_date)}
            for _seat_id, trip, worker, origin, arrived_at, isolate in rows]


def _self_returnees(area, start, end):
    query = (select(RosterEntry, Worker, Enterprise).join(Worker, Worker.id == RosterEntry.worker_id)
             .join(Enterprise, Enterprise.id == RosterEntry.enterprise_id)
             .where(RosterEntry.arrival_date.between(local_day(start), local_day(end))))
    if area.county is not None:
        query = query.where(Enterprise.county_code == area.county)
    if area.park is not None:
        query = query.where(Enterprise.park_id == area.park)
    rows = db.session.execute(query.order_by(RosterEntry.arrival_date, RosterEntry.id).limit(MAX_ROWS)).all()
    return [{**_person("self", worker, entry.origin, enterprise.county_code), "trip_id": None, "plate": None,
             "enterprise_id": enterprise.id, "expected_arrival_at": None, "arrived_at": None,
             "arrival_date": entry.arrival_date, "isolate_verdict": False,
             "_when": utc_at(entry.arrival_date)}
            for entry, worker, enterprise in rows]


def _person(source, worker, origin, county_code):
    return {"source": source, "worker_id": worker.id, "name": mask_name(worker.name),
            "id_number": worker.id_number_mask, "mobile": worker.mobile_mask, "origin": origin,
            "county_code": county_code}


def _judge(items):
    """Health status, open isolation order and flags for every item, in two queries."""
    worker_ids = {item["worker_id"] for item in items}
    records = health.observations_by_worker(worker_ids)
    orders = {}
    if worker_ids:
        for worker_id, status, kind in db.session.execute(
                select(IsolationOrder.worker_id, IsolationOrder.status, IsolationOrder.kind)
                .where(IsolationOrder.worker_id.in_(worker_ids), IsolationOrder.status.in_(("pending", "active")))
                .order_by(IsolationOrder.id)):
            orders[worker_id] = {"status": status, "kind": kind}
    rules = health.rules()
    for item in items:
        status = health.derive(records[item["worker_id"]])
        item["health"] = {"status": status.status, "reason": status.reason, "message": status.message}
        item["isolation"] = orders.get(item["worker_id"])
        flags = []
        if status.status in ("red", "yellow"):
            flags.append(status.status)
        if item["origin"] and in_high_risk_area(item["origin"], rules):
            flags.append("high_risk_origin")
        if item["isolate_verdict"]:
            flags.append("isolate_verdict")
        if item["isolation"]:
            flags.append("isolation_order")
        item["flags"], item["flagged"] = flags, bool(flags)


def checkpoint_feed(staff, checkpoint_id=None, hours_ahead=48, hours_back=24):
    """Per checkpoint, the trips expected in the window with passenger counts and a health summary.

    Checkpoint staff see their own checkpoint (another is Forbidden); admin sees every
    checkpoint or the one asked for (NotFound if there is none). Trips with no expected
    arrival time yet are listed too: they are on their way.
    """
    scope.require_role(staff, CHECKPOINT_READERS)
    if staff.role == "checkpoint_staff":
        if checkpoint_id is not None and checkpoint_id != staff.checkpoint_id:
            raise Forbidden("wrong_checkpoint", "只能查看本卡口的待到人员")
        checkpoint_id = staff.checkpoint_id
    query = select(Checkpoint).order_by(Checkpoint.id)
    if checkpoint_id is not None:
        query = query.where(Checkpoint.id == checkpoint_id)
    checkpoints = db.session.scalars(query).all()
    if checkpoint_id is not None and not checkpoints:
        raise NotFound("checkpoint_not_found", "没有该卡口")
    busy = set(db.session.scalars(select(Trip.arrival_checkpoint_id).distinct().where(
        Trip.arrival_checkpoint_id.in_([c.id for c in checkpoints]),
        Trip.status.in_(("published", "departed", "arrived")))))
    start, end = window(hours_ahead, hours_back)
    result = []
    for checkpoint in checkpoints:
        expected = manifests.expected_at(checkpoint.id) if checkpoint.id in busy else []
        trips = [_trip_summary(trip) for trip in expected
                 if trip["expected_arrival_at"] is None or start <= trip["expected_arrival_at"] <= end]
        result.append({"checkpoint_id": checkpoint.id, "name": checkpoint.name, "kind": checkpoint.kind,
                       "trips": trips, "passengers": sum(t["passengers"] for t in trips),
                       "flagged": sum(t["flagged"] for t in trips)})
    return {"window_from": start, "window_to": end, "checkpoints": result}


def _trip_summary(trip):
    passengers = trip["passengers"]
    statuses = {name: 0 for name in manifests.SEAT_STATUSES}
    health_counts = {name: 0 for name in ("green", "yellow", "red", "unknown")}
    for passenger in passengers:
        statuses[passenger["status"]] = statuses.get(passenger["status"], 0) + 1
        health_counts[passenger["health"]["status"]] = health_counts.get(passenger["health"]["status"], 0) + 1
    return {"trip_id": trip["trip_id"], "plate": trip["plate"], "origin": trip["origin"], "status": trip["status"],
            "expected_arrival_at": trip["expected_arrival_at"], "passengers": len(passengers),
            "by_status": statuses, "health": health_counts, "flagged": trip["flagged"],
            "flagged_passengers": [p for p in passengers if p["flagged"]]}
