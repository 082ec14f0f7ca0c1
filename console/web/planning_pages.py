"""编班编组 pages: run the planner, then edit the draft (move passengers, appoint captains), discard or publish it.

The same services as POST /api/console/v1/plans, /plans/<id>/moves, /publish and DELETE /plans/<id>,
with the request schemas of the API. Every change carries the plan version the page was shown, so
a second operator working from a stale page is told so (plan_changed) instead of overwriting.
"""
from flask import render_template, request
from marshmallow import ValidationError

from app.errors import Conflict, Invalid, flatten_fields
from app.extensions import db
from app.services.platform import scope
from app.services.transport import plans
from console import schemas
from console.web import bp, forms
from console.web import planning_view as view
from console.web.errors import error_page
from console.web.layout import flash, go, render_page
from console.web.session import current_staff

_PLAN = "/planning/<int(max=2147483647):plan_id>"


@bp.get("/planning")
def planning():
    """The planner's form and this scope's draft plans."""
    return _index(view.default_form())


def _index(form, status=200, errors=None):
    staff = current_staff()
    drafts = view.plan_rows(plans.list_plans(staff, status="draft"))
    return render_page("console/planning/index.html", status=status, form=form, drafts=drafts, errors=errors or {},
                       rows=range(view.VEHICLE_ROWS), directions=view.DIRECTIONS, **view.scope_choices(staff))


@bp.post("/planning")
def run_planner():
    """Run the planner over the approved applications of the window and show the draft it made."""
    form = view.form_from(request.form)
    try:
        plan, unplaced = plans.create_plan(current_staff(), schemas.PlanIn().load(view.plan_request(form)))
    except ValidationError as error:
        return _index(form, 422, flatten_fields(error.messages))
    except Invalid as error:
        db.session.rollback()
        return _index(form, 422, {**(error.fields or {}), "": error.message})
    summary = view.plan_rows([plan])[0]
    message = f"已生成方案草稿 #{plan.id}：{summary['vehicles']} 辆车、{summary['passengers']} 人"
    if unplaced:
        message += f"；{len(unplaced)} 人未排入（{view.unplaced_summary(unplaced)}）"
    flash(message, "success" if summary["vehicles"] else "warning")
    return go("console_web.planning_plan", plan_id=plan.id)


@bp.get(_PLAN)
def planning_plan(plan_id):
    """A plan as convoys → vehicles → seats, with the draft's moves, discard and publish."""
    plan = scope.plan_in_scope(current_staff(), plan_id)
    return render_page("console/planning/plan.html", **view.plan_page(plan))


@bp.post(_PLAN + "/moves")
def planning_move(plan_id):
    """Move a passenger to another vehicle, or make them captain / vice-captain; htmx gets the changed vehicles."""
    values = {key: value for key, value in request.form.items()
              if value and key in ("application_id", "trip_id", "role", "version")}
    if "role" in values:  # the vehicle's form holds the move's target too: the button pressed decides
        values.pop("trip_id", None)
    try:
        change = schemas.MoveIn().load(values)
        trip = plans.edit(current_staff(), plan_id, change)
    except ValidationError:
        missing = "请先选择乘客" if "application_id" not in values else "请选择要调到的车辆"
        return _refused(plan_id, Invalid("validation_error", missing))
    except (Conflict, Invalid) as error:
        return _refused(plan_id, error)
    message = "已任命" + view.CREW[change["role"]] if change.get("role") else f"已调到车辆（车次 #{trip.id}）"
    if not request.headers.get("HX-Request"):
        flash(message)
        return go("console_web.planning_plan", plan_id=plan_id)
    page = view.plan_page(scope.plan_in_scope(current_staff(), plan_id))
    changed = [page["vehicles"][trip_id] for trip_id in dict.fromkeys((_int(request.form.get("from_trip")), trip.id))
               if trip_id in page["vehicles"]]
    return render_template("console/planning/_moved.html", message=message, changed=changed, **page)


def _int(value):
    return forms.parse_id(value or "")


def _refused(plan_id, error):
    """A change the service refused: the reason (and a 刷新 link if the plan changed) over the plan as it is now."""
    db.session.rollback()  # the refused change's half (a counted version, a moved seat) must not reach a commit
    if request.headers.get("HX-Request"):
        response = error_page(error.status, error.code, error.message)  # into #alerts
        if error.code == "plan_changed":
            response.set_data(render_template("console/planning/_stale.html", message=error.message, plan_id=plan_id))
        return response
    page = view.plan_page(scope.plan_in_scope(current_staff(), plan_id))
    return render_page("console/planning/plan.html", status=error.status, refused=error, **page)


@bp.post(_PLAN + "/publish")
def planning_publish(plan_id):
    """Publish the draft: seats assigned, passengers see their trip and QR code."""
    try:
        plan, dropped = plans.publish(current_staff(), plan_id, _version())
    except Conflict as error:
        return _refused(plan_id, error)
    message = f"方案 #{plan.id} 已发布，乘客可查看车次和乘车码"
    if dropped:
        message += f"；{len(dropped)} 人已取消或被驳回，未分配座位"
    flash(message)
    return go("console_web.planning_plan", plan_id=plan_id)


@bp.post(_PLAN + "/discard")
def planning_discard(plan_id):
    """Discard the draft: its passengers can be planned again."""
    try:
        plan = plans.discard(current_staff(), plan_id, _version())
    except Conflict as error:
        return _refused(plan_id, error)
    flash(f"方案 #{plan.id} 已作废，其中的乘客可重新编班")
    return go("console_web.planning")


def _version():
    """The plan version the page was shown (PlanVersionIn, as the API's ?version=)."""
    try:
        return schemas.PlanVersionIn().load({"version": request.form.get("version")}).get("version")
    except ValidationError:
        raise Invalid("validation_error", "页面缺少方案版本，请刷新后再操作") from None
