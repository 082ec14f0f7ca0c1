"""What the 编班编组 pages show, assembled from the API's presenters: convoys → vehicles → seats, names masked.

Nothing here decides anything: which moves are allowed is the services' answer when one is tried.
"""
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import County, Park, Seat, Trip, Worker
from app.services.people.identity import mask_name
from app.services.platform.timeutil import local_today
from console import presenters
from console.web import words

DIRECTIONS = words.DIRECTION
PLAN_STATUSES = {"draft": ("草稿", "secondary"), "published": ("已发布", "success"), "discarded": ("已作废", "dark")}
UNPLACED = {"no_vehicle": "车辆不足", "empty_window": "日期范围内无可出发日"}
CREW = {"captain": "车长", "vice_captain": "副车长"}
VEHICLE_ROWS = 3
DEFAULT_NOTICE = "全程佩戴口罩，途中不随意下车、不随意走动；服从车长管理，如有发热、咳嗽等症状立即报告。"


def default_form():
    """The planner form as first shown: the coming week, one bus type, the 50% limit of the time."""
    today = local_today()
    vehicles = [{"name": "大客车", "seats": "45", "count": "10"}] + [{}] * (VEHICLE_ROWS - 1)
    return {"date_from": today.isoformat(), "date_to": (today + timedelta(days=7)).isoformat(), "direction": "",
            "departure_time": "08:00", "load_factor": "50", "notice": DEFAULT_NOTICE, "vehicles": vehicles,
            "county_code": "", "park_id": ""}


def form_from(values):
    """The planner form as the operator filled it (to show again beside its errors)."""
    form = {name: values.get(name, "").strip() for name in default_form() if name != "vehicles"}
    form["vehicles"] = [{part: values.get(f"vehicle_{part}_{row}", "").strip() for part in ("name", "seats", "count")}
                        for row in range(VEHICLE_ROWS)]
    return form


def plan_request(form):
    """The body of POST /api/console/v1/plans from the form (empty rows and fields left out), for PlanIn to load."""
    body = {name: form[name] for name in ("date_from", "date_to", "direction", "departure_time", "notice",
                                          "county_code", "park_id") if form[name]}
    body["vehicle_types"] = [row for row in form["vehicles"] if any(row.values())]
    if form["load_factor"]:
        try:
            body["load_factor"] = float(form["load_factor"]) / 100
        except ValueError:
            body["load_factor"] = form["load_factor"]  # PlanIn says what is wrong with it
    return body


def scope_choices(staff):
    """Counties and parks an admin plans for (nobody else picks: their scope is their own)."""
    if staff.role != "admin":
        return {}
    return {"counties": db.session.scalars(select(County).order_by(County.code)).all(),
            "parks": db.session.scalars(select(Park).order_by(Park.id)).all()}


def plan_rows(found):
    """The plan list: each plan with its vehicles and passengers counted."""
    ids = [plan.id for plan in found]
    counts = {}
    if ids:
        counts = {plan_id: (vehicles, passengers) for plan_id, vehicles, passengers in db.session.execute(
            select(Trip.plan_id, func.count(func.distinct(Trip.id)), func.count(Seat.id))
            .outerjoin(Seat, (Seat.trip_id == Trip.id) & Seat.live_application_id.is_not(None))
            .where(Trip.plan_id.in_(ids), Trip.status != "cancelled").group_by(Trip.plan_id))}
    return [{"plan": plan, "status": PLAN_STATUSES[plan.status], "vehicles": counts.get(plan.id, (0, 0))[0],
             "passengers": counts.get(plan.id, (0, 0))[1]} for plan in found]


def plan_page(plan):
    """The draft page's context: the plan, its convoys with their vehicles, and every vehicle by trip id."""
    view = presenters.plan_view(plan)
    limit = float(plan.load_factor)
    vehicles = [_vehicle(number, trip, limit) for number, trip in enumerate(view["trips"], start=1)]
    by_convoy = {}
    for vehicle in vehicles:
        by_convoy.setdefault(vehicle["convoy_id"], []).append(vehicle)
    leaders = _names([convoy.leader_worker_id for convoy in view["convoys"]])
    convoys = [{"number": number, "convoy": convoy, "direction": DIRECTIONS.get(convoy.direction, convoy.direction),
                "leader": leaders.get(convoy.leader_worker_id), "vehicles": by_convoy.get(convoy.id, [])}
               for number, convoy in enumerate(view["convoys"], start=1) if by_convoy.get(convoy.id)]
    return {"plan": plan, "plan_status": PLAN_STATUSES[plan.status], "limit": limit, "convoys": convoys,
            "vehicles": {vehicle["id"]: vehicle for vehicle in vehicles},
            "passenger_count": sum(len(vehicle["passengers"]) for vehicle in vehicles),
            "editable": plan.status == "draft"}


def _vehicle(number, trip, limit):
    riders = len(trip["passengers"])
    crew = {trip["captain_worker_id"]: "captain", trip["vice_captain_worker_id"]: "vice_captain"}
    passengers = [{**p, "name": mask_name(p["name"]), "role": crew.get(p["worker_id"])} for p in trip["passengers"]]
    passengers.sort(key=lambda p: (p["role"] != "captain", p["role"] != "vice_captain", p["seat_no"]))
    return {**trip, "number": number, "riders": riders, "passengers": passengers,
            "load": riders / trip["seats"] if trip["seats"] else 0, "over": riders > trip["capacity"],
            "limit_seats": trip["capacity"], "limit": limit}


def _names(worker_ids):
    ids = {worker_id for worker_id in worker_ids if worker_id is not None}
    if not ids:
        return {}
    workers = db.session.scalars(select(Worker).where(Worker.id.in_(ids)))
    return {worker.id: mask_name(worker.name) for worker in workers}


def unplaced_summary(unplaced):
    """Why applications were left out, counted: 车辆不足 ×2、…"""
    counts = {}
    for _, reason in unplaced:
        counts[reason] = counts.get(reason, 0) + 1
    return "、".join(f"{UNPLACED.get(reason, reason)} ×{count}" for reason, count in counts.items())
