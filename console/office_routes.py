"""Handlers of the coordination office's console routes: liaison list (附件1), dashboard, feeds."""
from app.services.office import feeds, liaison, stats
from console import bp
from console import office_schemas as s
from console.auth import auth, current_staff
from console.downloads import XLSX_RESPONSE, xlsx_download
from console.routes import ERRORS


def _errors(*codes):
    return {code: ERRORS[code] for code in codes}


@bp.get("/liaison-units")
@bp.auth_required(auth)
@bp.output(s.LiaisonListOut)
@bp.doc(summary="联络员名单（附件1，手机号、微信号脱敏）", responses=_errors(401, 403))
def list_liaison_units():
    """The liaison list in its order, masked; every role but enterprise HR may read it."""
    return {"items": liaison.list_units(current_staff())}


@bp.post("/liaison-units")
@bp.auth_required(auth)
@bp.input(s.LiaisonUnitIn, arg_name="body")
@bp.output(s.LiaisonUnitSavedOut, status_code=201)
@bp.doc(summary="新增联络单位（仅协调办）", responses=_errors(401, 403, 409, 422))
def create_liaison_unit(body):
    """Add a unit at the end of the list."""
    return liaison.create_unit(current_staff(), dict(body))


@bp.patch("/liaison-units/<int(max=2147483647):unit_id>")
@bp.auth_required(auth)
@bp.input(s.LiaisonUnitPatchIn, arg_name="body")
@bp.output(s.LiaisonUnitSavedOut)
@bp.doc(summary="修改联络单位（仅协调办）", responses=_errors(401, 403, 404, 409, 422))
def update_liaison_unit(unit_id, body):
    """Change some fields of a unit; null clears an optional one."""
    return liaison.update_unit(current_staff(), unit_id, dict(body))


@bp.delete("/liaison-units/<int(max=2147483647):unit_id>")
@bp.auth_required(auth)
@bp.output({}, status_code=204)
@bp.doc(summary="删除联络单位（仅协调办）", responses=_errors(401, 403, 404))
def delete_liaison_unit(unit_id):
    """Remove a unit from the list."""
    liaison.delete_unit(current_staff(), unit_id)
    return ""


@bp.put("/liaison-units/order")
@bp.auth_required(auth)
@bp.input(s.LiaisonOrderIn, arg_name="body")
@bp.output(s.LiaisonListOut)
@bp.doc(summary="调整名单顺序（仅协调办）：列出全部单位编号", responses=_errors(401, 403, 422))
def reorder_liaison_units(body):
    """Put the units in a new order."""
    return {"items": liaison.reorder(current_staff(), body["ids"])}


@bp.get("/liaison-units/export")
@bp.auth_required(auth)
@bp.doc(summary="导出附件1 联络员名单 .xlsx（仅协调办，完整手机号，记入审计）",
        responses={200: XLSX_RESPONSE, **_errors(401, 403)})
def export_liaison_units():
    """附件1 as an Excel file with full mobiles."""
    return xlsx_download(liaison.export(current_staff()), "附件1_务工人员返岗复工联络员名单.xlsx",
                         "attachment1-liaison-units.xlsx")


@bp.get("/stats")
@bp.auth_required(auth)
@bp.input(s.StatsIn, location="query", arg_name="query")
@bp.output(s.StatsOut)
@bp.doc(summary="数据看板：报名、车次、乘客、到达、健康异常、隔离、用工缺口（按管辖范围）",
        responses=_errors(401, 403, 422))
def dashboard(query):
    """Counts for the caller's area, by status, direction, county and Beijing day."""
    return stats.dashboard(current_staff(), query.get("county"), query.get("date_from"), query.get("date_to"))


@bp.get("/feeds/isolation")
@bp.auth_required(auth)
@bp.input(s.IsolationFeedIn, location="query", arg_name="query")
@bp.output(s.IsolationFeedOut)
@bp.doc(summary="隔离组：预计及近期到达的返岗人员与健康状态，异常者在前（卫健、协调办）",
        responses=_errors(401, 403, 422))
def isolation_feed(query):
    """Returnees expected or arrived in the window, flagged ones first."""
    return feeds.isolation_feed(current_staff(), **query)


@bp.get("/feeds/checkpoints")
@bp.auth_required(auth)
@bp.input(s.CheckpointFeedIn, location="query", arg_name="query")
@bp.output(s.CheckpointFeedOut)
@bp.doc(summary="卡口组：各卡口预计到达车次、人数与健康汇总（卡口人员、协调办）",
        responses=_errors(401, 403, 404, 422))
def checkpoint_feed(query):
    """Per checkpoint, the trips expected in the window with counts and health."""
    return feeds.checkpoint_feed(current_staff(), **query)
