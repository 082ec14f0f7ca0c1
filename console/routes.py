"""Handlers of the console API: parse, authorize, call one service, serialize."""
from flask import current_app, g
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from app.conflicts import rerunnable
from app.extensions import db, limiter
from app.models import Trip, Worker
from app.services.accounts import staff
from app.services.platform import scope, tokens
from app.services.scanning import closing
from app.services.transport import plans, review, trips
from console import bp, presenters
from console import schemas as s
from console.auth import auth, current_staff

ERRORS = {401: "未登录或登录已过期", 403: "角色无权操作", 404: "不在管辖范围或不存在", 409: "与当前状态冲突",
          422: "请求参数有误", 429: "请求过于频繁或账号已锁定"}


def _errors(*codes):
    return {code: ERRORS[code] for code in codes}


@bp.post("/session")
@limiter.limit(lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT"])
@bp.input(s.StaffLoginIn, arg_name="body")
@bp.output(s.StaffLoginOut, status_code=201)
@bp.doc(summary="工作人员登录", responses=_errors(401, 422, 429))
def login(body):
    """Log a staff member in with username and password."""
    user, token, expires_in = staff.login(body["username"], body["password"], get_remote_address())
    return {"token": token, "expires_in": expires_in, "staff": user}


@bp.delete("/session")
@bp.auth_required(auth)
@bp.output({}, status_code=204)
@bp.doc(summary="退出登录")
def logout():
    """Revoke this request's token."""
    tokens.revoke_token(g.auth_token)
    return ""


@bp.get("/me")
@bp.auth_required(auth)
@bp.output(s.StaffOut)
@bp.doc(summary="当前工作人员", responses=_errors(401))
def me():
    """Who is logged in, with role and scope."""
    return current_staff()


@bp.get("/applications")
@bp.auth_required(auth)
@bp.input(s.ApplicationFilterIn, location="query", arg_name="query")
@bp.output(s.ApplicationPageOut)
@bp.doc(summary="出行报名列表（按管辖范围）", responses=_errors(401, 403, 422))
def list_applications(query):
    """Applications in the caller's scope, filtered and paged."""
    page, per_page = query.pop("page"), query.pop("per_page")
    items, total = review.list_applications(current_staff(), query, page, per_page)
    workers = {w.id: w for w in db.session.scalars(select(Worker).where(Worker.id.in_({a.worker_id for a in items})))}
    return {"items": [presenters.application_view(a, workers[a.worker_id]) for a in items],
            "total": total, "page": page, "per_page": per_page}


@bp.post("/applications/<int(max=2147483647):application_id>/approve")
@bp.auth_required(auth)
@bp.output(s.DecidedApplicationOut)
@bp.doc(summary="审核通过", responses=_errors(401, 403, 404, 409))
def approve(application_id):
    """Approve one application."""
    application = review.decide(current_staff(), application_id, "approve")
    return presenters.application_view(application, db.session.get(Worker, application.worker_id))


@bp.post("/applications/<int(max=2147483647):application_id>/reject")
@bp.auth_required(auth)
@bp.input(s.DecisionIn, arg_name="body")
@bp.output(s.DecidedApplicationOut)
@bp.doc(summary="驳回（需填写原因）", responses=_errors(401, 403, 404, 409, 422))
def reject(application_id, body):
    """Reject one application with a reason."""
    application = review.decide(current_staff(), application_id, "reject", body.get("reason"))
    return presenters.application_view(application, db.session.get(Worker, application.worker_id))


@bp.post("/applications/decisions")
@bp.auth_required(auth)
@bp.input(s.BulkDecisionIn, arg_name="body")
@bp.output(s.BulkDecisionOut)
@bp.doc(summary="批量审核：每条单独成功或失败", responses=_errors(401, 403, 422))
@rerunnable  # each application is committed alone, and deciding one again the same way changes nothing
def decide_many(body):
    """Approve or reject many applications at once."""
    return {"results": review.decide_many(current_staff(), body["ids"], body["decision"], body.get("reason"))}


@bp.post("/plans")
@bp.auth_required(auth)
@bp.input(s.PlanIn, arg_name="body")
@bp.output(s.PlanOut, status_code=201)
@bp.doc(summary="编班编组：生成车次方案草稿", responses=_errors(401, 403, 422))
def create_plan(body):
    """Propose vehicles and convoys for approved applications in a date range."""
    plan, unplaced = plans.create_plan(current_staff(), body)
    return presenters.plan_view(plan, unplaced=unplaced)


@bp.get("/plans/<int(max=2147483647):plan_id>")
@bp.auth_required(auth)
@bp.output(s.PlanOut)
@bp.doc(summary="查看方案", responses=_errors(401, 403, 404))
def get_plan(plan_id):
    """A plan with its convoys, trips and passengers."""
    return presenters.plan_view(scope.plan_in_scope(current_staff(), plan_id))


@bp.post("/plans/<int(max=2147483647):plan_id>/moves")
@bp.auth_required(auth)
@bp.input(s.MoveIn, arg_name="body")
@bp.output(s.PlanOut)
@bp.doc(summary="调整方案：乘客调到同方案的另一车次，或任命本车车长、副车长", responses=_errors(401, 403, 404, 409, 422))
def move_passenger(plan_id, body):
    """Move one passenger to another vehicle of the plan, or appoint a captain or vice-captain."""
    plans.edit(current_staff(), plan_id, body)
    return presenters.plan_view(scope.plan_in_scope(current_staff(), plan_id))


@bp.post("/plans/<int(max=2147483647):plan_id>/publish")
@bp.auth_required(auth)
@bp.input(s.PlanVersionIn, location="query", arg_name="query")
@bp.output(s.PlanOut)
@bp.doc(summary="发布方案：分配座位，报名变为已编班", responses=_errors(401, 403, 404, 409, 422))
def publish_plan(plan_id, query):
    """Publish a draft: seats assigned, QR codes become available to passengers."""
    plan, dropped = plans.publish(current_staff(), plan_id, query.get("version"))
    return presenters.plan_view(plan, dropped=dropped)


@bp.delete("/plans/<int(max=2147483647):plan_id>")
@bp.auth_required(auth)
@bp.input(s.PlanVersionIn, location="query", arg_name="query")
@bp.output(s.PlanOut)
@bp.doc(summary="作废草稿方案", responses=_errors(401, 403, 404, 409, 422))
def discard_plan(plan_id, query):
    """Discard a draft; its passengers can be planned again."""
    return presenters.plan_view(plans.discard(current_staff(), plan_id, query.get("version")))


@bp.get("/trips")
@bp.auth_required(auth)
@bp.input(s.TripListIn, location="query", arg_name="query")
@bp.output(s.StaffTripListOut)
@bp.doc(summary="车次列表（按管辖范围）", responses=_errors(401, 403))
def list_trips(query):
    """Trips in the caller's scope, by date and status."""
    found = trips.list_for_staff(current_staff(), query.get("date"), query.get("status"))
    return {"items": presenters.trips_view(found)}


@bp.get("/trips/<int(max=2147483647):trip_id>")
@bp.auth_required(auth)
@bp.output(s.StaffTripOut)
@bp.doc(summary="车次详情", responses=_errors(401, 403, 404))
def get_trip(trip_id):
    """One trip with its passengers."""
    return presenters.trips_view([scope.trip_in_scope(current_staff(), trip_id)])[0]


@bp.patch("/trips/<int(max=2147483647):trip_id>")
@bp.auth_required(auth)
@bp.input(s.TripPatchIn, arg_name="body")
@bp.output(s.StaffTripOut)
@bp.doc(summary="填写车次方案：车牌、司机、跟车负责人、医务人员、车长", responses=_errors(401, 403, 404, 409, 422))
def patch_trip(trip_id, body):
    """Fill or change the trip's plan."""
    trip = trips.update_trip(current_staff(), trip_id, dict(body))
    return presenters.trips_view([trip])[0]


@bp.post("/trips/<int(max=2147483647):trip_id>/seats/<int(max=2147483647):seat_id>/cancel")
@bp.auth_required(auth)
@bp.output(s.StaffTripOut)
@bp.doc(summary="将乘客移出车次（二维码作废）", responses=_errors(401, 403, 404, 409))
def cancel_seat(trip_id, seat_id):
    """Take a passenger off a trip; the application returns to approved."""
    trips.cancel_seat(current_staff(), trip_id, seat_id)
    return presenters.trips_view([db.session.get(Trip, trip_id)])[0]


@bp.post("/trips/<int(max=2147483647):trip_id>/cancel")
@bp.auth_required(auth)
@bp.input(s.TripCancelIn, arg_name="body")
@bp.output(s.StaffTripOut)
@bp.doc(summary="取消已发布的车次：全部乘车码作废，报名恢复为已审核，逐一通知乘客", responses=_errors(401, 403, 404, 409, 422))
def cancel_trip(trip_id, body):
    """Cancel a published trip that has not left, with the reason told to its passengers."""
    return presenters.trips_view([trips.cancel_trip(current_staff(), trip_id, body["reason"])])[0]


@bp.post("/trips/<int(max=2147483647):trip_id>/reopen")
@bp.auth_required(auth)
@bp.output(s.TripReopenedOut)
@bp.doc(summary="重新开启误结束的车次：未乘车乘客恢复座位（新二维码），报名恢复为已编班",
        responses=_errors(401, 403, 404, 409))
def reopen_trip(trip_id):
    """Reopen a trip closed by mistake, within its credentials' validity."""
    trip, restored, left_out = closing.reopen_trip(current_staff(), trip_id)
    return {"trip": presenters.trips_view([trip])[0], "restored_serials": [seat.id for seat in restored],
            "left_out_application_ids": left_out}
