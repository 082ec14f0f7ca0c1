"""Handlers of rosters (花名册), 零散返岗 registration, daily follow-ups (随访) and 附件3."""
from app.services.employment import followups, roster, roster_exports
from console import bp
from console import roster_schemas as s
from console.auth import auth, current_staff
from console.downloads import XLSX_RESPONSE, xlsx_download
from console.routes import _errors

_ENTERPRISE = "/enterprises/<int(max=2147483647):enterprise_id>"
_RETURNEE = f"{_ENTERPRISE}/roster/<int(max=2147483647):worker_id>"


@bp.get(f"{_ENTERPRISE}/roster")
@bp.auth_required(auth)
@bp.input(s.RosterFilterIn, location="query", arg_name="query")
@bp.output(s.RosterPageOut)
@bp.doc(summary="企业返岗人员花名册（点对点车次 + 零散返岗）", responses=_errors(401, 403, 404, 422))
def get_roster(enterprise_id, query):
    """One enterprise's returnees with arrival, health and clearance; identity masked."""
    page, per_page = query.pop("page"), query.pop("per_page")
    enterprise, rows, total = roster.roster_of(current_staff(), enterprise_id, query, page, per_page)
    return {"enterprise": enterprise, "items": rows, "total": total, "page": page, "per_page": per_page}


@bp.post(f"{_ENTERPRISE}/roster")
@bp.auth_required(auth)
@bp.input(s.RegisterIn, arg_name="body")
@bp.output(s.RegisteredOut, status_code=201)
@bp.doc(summary="登记零散返岗人员", responses=_errors(401, 403, 404, 409, 422))
def register_returnee(enterprise_id, body):
    """Register someone who came back on their own; they enter the shared health record too."""
    return roster.register(current_staff(), enterprise_id, dict(body))


@bp.get(f"{_ENTERPRISE}/roster.xlsx")
@bp.auth_required(auth)
@bp.input(s.RosterExportIn, location="query", arg_name="query")
@bp.doc(summary="导出花名册（.xlsx，身份证号脱敏）", responses={200: XLSX_RESPONSE, **_errors(401, 403, 404, 422)})
def export_roster(enterprise_id, query):
    """The roster as an Excel file; the export is audited."""
    enterprise, data = roster_exports.roster_workbook(current_staff(), enterprise_id, query)
    stamp = roster_exports.today_stamp()
    return xlsx_download(data, f"花名册-{enterprise.id}-{stamp}.xlsx", f"roster-{enterprise.id}-{stamp}.xlsx")


@bp.get(f"{_RETURNEE}/follow-ups")
@bp.auth_required(auth)
@bp.output(s.FollowUpListOut)
@bp.doc(summary="返岗人员的随访记录", responses=_errors(401, 403, 404))
def list_follow_ups(enterprise_id, worker_id):
    """A returnee's daily checks, newest first."""
    found = followups.list_for(current_staff(), enterprise_id, worker_id)
    return {"items": [_follow_up_view(event, day, abnormal) for event, day, abnormal in found]}


@bp.post(f"{_RETURNEE}/follow-ups")
@bp.auth_required(auth)
@bp.input(s.FollowUpIn, arg_name="body")
@bp.output(s.RecordedFollowUpOut, status_code=201)
@bp.doc(summary="记录每日随访（异常则开出待处理隔离单）", responses=_errors(401, 403, 404, 409, 422))
def record_follow_up(enterprise_id, worker_id, body):
    """Record one day's check; a fever or symptom opens a pending isolation order."""
    event, day, abnormal, order = followups.record(current_staff(), enterprise_id, worker_id, dict(body))
    return {**_follow_up_view(event, day, abnormal), "isolation_order_id": order.id if order else None}


def _follow_up_view(event, day, abnormal):
    return {"id": event.id, "worker_id": event.worker_id, "date": day, "temperature": event.temperature,
            "symptoms": event.symptoms or [], "note": event.note, "abnormal": abnormal,
            "recorded_at": event.recorded_at}


@bp.get("/exports/attachment3.xlsx")
@bp.auth_required(auth)
@bp.input(s.Attachment3In, location="query", arg_name="query")
@bp.doc(summary="导出附件3 银川市务工人员复工信息登记（.xlsx，按管辖范围）",
        responses={200: XLSX_RESPONSE, **_errors(401, 403, 404, 422)})
def export_attachment3(query):
    """附件3 over the caller's scope, by enterprise and arrival dates; audited."""
    data = roster_exports.attachment3(current_staff(), query)
    stamp = roster_exports.today_stamp()
    return xlsx_download(data, f"附件3-复工信息登记-{stamp}.xlsx", f"attachment3-returnees-{stamp}.xlsx")
