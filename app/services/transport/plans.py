"""Plans (编班编组): propose trips for approved applications, edit the draft, publish it."""
from collections import Counter
from datetime import time

from sqlalchemy import select, update

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Application, Convoy, County, Enterprise, Park, Plan, Seat, Trip, Worker
from app.models.base import utcnow
from app.services.notices import events
from app.services.platform import audit, scope
from app.services.platform.timeutil import local_today
from app.services.transport import planning, trips

MAX_RANGE_DAYS = 31


def create_plan(staff, request):
    """Propose trips for the approved, unassigned applications of the caller's scope (plan_vehicles).

    Args:
        request: date_from, date_to, vehicle_types [{name, seats, count}], load_factor,
            departure_time, notice, direction (optional), county_code / park_id (admin; anyone
            else may only repeat their own).
    Returns (draft Plan, [(application_id, reason)] left unplaced). Raises Invalid for a date_from before
    today (Beijing), a bad range or an admin without a scope, Forbidden (plan_out_of_scope, naming the
    field) for another county or park.
    """
    scope.require_role(staff, scope.PLANNERS)
    county_code, park_id = _plan_scope(staff, request)
    names = [vehicle["name"] for vehicle in request["vehicle_types"]]
    if len(set(names)) != len(names):
        raise Invalid("validation_error", "车型名称不能重复", fields={"vehicle_types": "车型名称重复"})
    date_from, date_to, today = request["date_from"], request["date_to"], local_today()
    if date_from < today:
        # Refused, not moved to today: a date typed from a UTC clock (`date +%F` before 08:00
        # Beijing) is a day behind, and a silently changed range would plan other days than asked.
        raise Invalid("validation_error", f"开始日期不能早于今天（北京时间 {today.isoformat()}）",
                      fields={"date_from": f"早于今天（北京时间 {today.isoformat()}）"})
    if date_to < date_from or (date_to - date_from).days > MAX_RANGE_DAYS:
        raise Invalid("validation_error", f"日期范围应为今天以后、最长{MAX_RANGE_DAYS}天",
                      fields={"date_to": "日期范围无效"})
    plan = Plan(county_code=county_code, park_id=park_id, date_from=date_from, date_to=date_to,
                load_factor=request["load_factor"], vehicle_types=request["vehicle_types"],
                notice=request.get("notice"), created_by=staff.id)
    db.session.add(plan)
    rows = _candidate_rows(staff, plan, request.get("direction"))
    candidates = [_to_candidate(application, worker, date_from, date_to) for application, worker in rows]
    vehicle_types = [planning.VehicleType(v["name"], v["seats"], v["count"]) for v in request["vehicle_types"]]
    result = planning.plan_vehicles(candidates, vehicle_types, load_factor=request["load_factor"])
    applications = {application.id: application for application, _ in rows}
    _store_proposal(plan, result, applications, request.get("departure_time") or time(8, 0))
    audit.record("staff", staff.id, "plan.create", "plan", plan.id, candidates=len(candidates),
                 trips=len(result.trips), unplaced=len(result.unplaced))
    db.session.commit()
    return plan, result.unplaced


def _plan_scope(staff, request):
    """(county_code, park_id) of the plan: the caller's own; only admin names one, anyone else naming another is 403."""
    if staff.role in ("county_operator", "park_operator"):
        own = {"county_code": staff.county_code, "park_id": None} if staff.role == "county_operator" \
            else {"county_code": None, "park_id": staff.park_id}
        foreign = {name: "只能为本县区编班" if name == "county_code" else "只能为本园区编班"
                   for name in own if request.get(name) is not None and request[name] != own[name]}
        if foreign:
            raise Forbidden("plan_out_of_scope", "只能在本人管辖范围内编班：" + "、".join(foreign), fields=foreign)
        return own["county_code"], own["park_id"]
    if bool(request.get("county_code")) == bool(request.get("park_id")):
        raise Invalid("validation_error", "管理员编班需指定一个县区或园区",
                      fields={"county_code": "县区或园区二选一"})
    if request.get("county_code") and db.session.get(County, request["county_code"]) is None:
        raise Invalid("validation_error", "没有该县区", fields={"county_code": "不是银川市的县区代码"})
    if request.get("park_id") and db.session.get(Park, request["park_id"]) is None:
        raise Invalid("validation_error", "没有该园区", fields={"park_id": "没有该园区"})
    return request.get("county_code"), request.get("park_id")


def _candidate_rows(staff, plan, direction):
    """Approved applications in scope whose window meets the range and that hold no live seat."""
    live = select(Seat.application_id).where(Seat.live_application_id.is_not(None))
    query = (
        select(Application, Worker)
        .join(Worker, Worker.id == Application.worker_id)
        .where(Application.status == "approved", Application.id.not_in(live),
               Application.latest_departure >= plan.date_from, Application.earliest_departure <= plan.date_to)
    )
    if plan.county_code:
        query = query.where(Application.county_code == plan.county_code)
    query = scope.filter_applications(query, staff)
    if plan.park_id and staff.role == "admin":
        query = query.where(Application.employer_id.in_(select(Enterprise.id).where(Enterprise.park_id == plan.park_id)))
    if direction:
        query = query.where(Application.direction == direction)
    return db.session.execute(query.order_by(Application.id)).all()


def _to_candidate(application, worker, date_from, date_to):
    employer = f"id:{application.employer_id}" if application.employer_id else application.employer_name
    return planning.Candidate(
        application_id=application.id,
        worker_id=worker.id,
        direction=application.direction,
        origin=application.origin.strip(),
        destination=application.destination_city.strip(),
        earliest=max(application.earliest_departure, date_from),
        latest=min(application.latest_departure, date_to),
        employer_key=employer,
        volunteer=application.volunteer_captain,
        birth_date=worker.birth_date,
    )


def _store_proposal(plan, result, applications, departure_time):
    db.session.flush()
    convoys = {}
    for index, proposed in enumerate(result.trips):
        convoy = convoys.get(proposed.convoy_key)
        if convoy is None:
            convoy = Convoy(plan_id=plan.id, direction=proposed.direction, origin=proposed.origin,
                            destination=proposed.destination, departure_date=proposed.departure_date)
            db.session.add(convoy)
            db.session.flush()
            convoys[proposed.convoy_key] = convoy
        passengers = [applications[application_id] for application_id in proposed.passengers]
        trip = Trip(
            plan_id=plan.id, convoy_id=convoy.id, county_code=plan.county_code, park_id=plan.park_id,
            status="draft", direction=proposed.direction, origin=proposed.origin, destination=proposed.destination,
            departure_date=proposed.departure_date, departure_time=departure_time,
            departure_place=_common_place(passengers), route=f"{proposed.origin} → {proposed.destination}",
            vehicle_type=proposed.vehicle_type, seats=proposed.seats, capacity=proposed.capacity,
            captain_worker_id=_worker_of(applications, proposed.captain),
            vice_captain_worker_id=_worker_of(applications, proposed.vice_captain),
            notice=plan.notice,
        )
        db.session.add(trip)
        db.session.flush()
        for seat_no, application in enumerate(passengers, start=1):
            db.session.add(Seat(trip_id=trip.id, worker_id=application.worker_id, application_id=application.id,
                                seat_no=seat_no, status="proposed", live_application_id=application.id))
    for convoy_plan in result.convoys:
        convoys[convoy_plan.key].leader_worker_id = _worker_of(applications, convoy_plan.leader)


def _worker_of(applications, application_id):
    return applications[application_id].worker_id if application_id is not None else None


def _common_place(applications):
    places = Counter(a.origin_address or a.origin for a in applications)
    return places.most_common(1)[0][0] if places else None


def list_plans(staff, status=None, limit=200):
    """Plans in the caller's scope (county or park), newest first, optionally of one status."""
    scope.require_role(staff, scope.PLANNERS)
    statement = scope.filter_trips(select(Plan), Plan, staff)
    if status:
        statement = statement.where(Plan.status == status)
    return db.session.scalars(statement.order_by(Plan.id.desc()).limit(limit)).all()


def claim(staff, plan_id, expected_version=None):
    """Lock a plan in the caller's scope for one change and count the change (version + 1); caller commits.

    expected_version is the version the caller was shown (None: not checked, for API clients that
    send none). Raises NotFound outside the scope, Conflict plan_changed when someone else changed
    the plan since: two operators editing one draft never silently overwrite each other.
    """
    plan = scope.plan_in_scope(staff, plan_id)
    db.session.refresh(plan, with_for_update=True)  # concurrent changes queue here, then see the new version
    if expected_version is not None and expected_version != plan.version:
        raise Conflict("plan_changed", "该方案已被他人修改，请刷新后再操作")
    plan.version += 1
    return plan


def edit(staff, plan_id, change):
    """Apply one edit to a plan and commit (the API's and the page's moves).

    Args:
        change: application_id, and either trip_id (move the passenger to that vehicle of the plan)
            or role, "captain" 车长 / "vice_captain" 副车长 (appoint them in their own vehicle);
            version (optional), the plan version the caller was shown.
    Returns the trip changed (the target of a move). Raises NotFound, Conflict (plan_changed, and
    those of trips.move_passenger), Invalid (a vehicle left without a captain).
    """
    plan = claim(staff, plan_id, change.get("version"))
    if change.get("role"):
        return _appoint(staff, plan, change["application_id"], change["role"])
    return trips.move_passenger(staff, plan.id, change["application_id"], change["trip_id"])


def _appoint(staff, plan, application_id, role):
    """Make a passenger captain or vice-captain of their vehicle; a captain and vice trading places swap roles."""
    seat = db.session.scalar(
        select(Seat).join(Trip, Trip.id == Seat.trip_id)
        .where(Trip.plan_id == plan.id, Seat.live_application_id == application_id)
    )
    if seat is None:
        raise NotFound("seat_not_found", "该方案中没有这位乘客")
    trip = db.session.get(Trip, seat.trip_id, with_for_update=True)
    if trip.status not in trips.EDITABLE:
        raise Conflict("trip_not_editable", "车次已出发或已取消，不能调整")
    captain, vice, worker = trip.captain_worker_id, trip.vice_captain_worker_id, seat.worker_id
    if role == "captain":
        captain, vice = worker, (captain if vice == worker else vice)
    else:
        captain, vice = (vice if captain == worker else captain), worker
    if captain is None:
        raise Invalid("validation_error", "本车没有其他车长人选：请先指定另一位车长",
                      fields={"role": "车长不能为空"})
    before = events.crew_of(trip)
    trip.captain_worker_id, trip.vice_captain_worker_id = captain, vice
    audit.record("staff", staff.id, "trip.crew", "trip", trip.id, captain=captain, vice_captain=vice)
    events.crew_changed(trip, before)
    db.session.commit()
    return trip


def publish(staff, plan_id, expected_version=None):
    """Publish a draft plan and commit: seats assigned, applications assigned, who published recorded.

    An application cancelled or rejected since the proposal loses its seat; a trip left
    empty is cancelled. Returns (plan, dropped application ids). Raises Conflict when not a draft,
    or plan_changed when expected_version (optional) is not the plan's version.
    """
    plan = claim(staff, plan_id, expected_version)
    if plan.status != "draft":
        raise Conflict("plan_not_draft", "该方案已发布或已作废")
    now = utcnow()
    seats = db.session.scalars(
        select(Seat).join(Trip, Trip.id == Seat.trip_id).where(Trip.plan_id == plan.id, Seat.status == "proposed")
    ).all()
    still_approved = _lock_approved([seat.application_id for seat in seats])
    dropped = []
    for seat in seats:
        if seat.application_id in still_approved:
            seat.status, seat.issued_at = "assigned", now
        else:
            seat.status, seat.live_application_id, seat.revoked_at = "revoked", None, now
            dropped.append(seat.application_id)
    for chunk in _chunks(sorted(still_approved)):
        db.session.execute(update(Application).where(Application.id.in_(chunk))
                           .values(status="assigned", updated_at=now))
    plan_trips = db.session.scalars(select(Trip).where(Trip.plan_id == plan.id)).all()
    db.session.flush()
    passengers = trips.seat_counts([trip.id for trip in plan_trips])
    for trip in plan_trips:
        trip.status = "published" if passengers.get(trip.id) else "cancelled"
    _tell_published(plan_trips, seats)
    plan.status, plan.published_by, plan.published_at = "published", staff.id, now
    audit.record("staff", staff.id, "plan.publish", "plan", plan.id, seats=len(seats) - len(dropped),
                 dropped=dropped)
    db.session.commit()
    return plan, dropped


def _tell_published(plan_trips, seats):
    """Each passenger of each published trip learns their seat, and its captain and vice-captain their task."""
    issued = {}
    for seat in seats:
        if seat.status == "assigned":
            issued.setdefault(seat.trip_id, []).append(seat)
    for trip in plan_trips:
        if trip.status == "published":
            events.trip_published(trip, sorted(issued.get(trip.id, []), key=lambda seat: seat.seat_no))


def _lock_approved(application_ids):
    """Lock the applications and return the ids still approved (a worker may have cancelled since)."""
    approved = set()
    for chunk in _chunks(application_ids):
        approved.update(db.session.scalars(
            select(Application.id).where(Application.id.in_(chunk), Application.status == "approved")
            .with_for_update()
        ))
    return approved


def _chunks(items, size=500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def discard(staff, plan_id, expected_version=None):
    """Throw a draft away and commit: its proposed seats are released for the next plan (plan_changed as publish)."""
    plan = claim(staff, plan_id, expected_version)
    if plan.status != "draft":
        raise Conflict("plan_not_draft", "只能作废草稿方案")
    trip_ids = select(Trip.id).where(Trip.plan_id == plan.id)
    db.session.execute(
        update(Seat).where(Seat.trip_id.in_(trip_ids)).values(status="revoked", live_application_id=None,
                                                             revoked_at=utcnow())
    )
    db.session.execute(update(Trip).where(Trip.plan_id == plan.id).values(status="cancelled"))
    plan.status = "discarded"
    audit.record("staff", staff.id, "plan.discard", "plan", plan.id)
    db.session.commit()
    return plan
