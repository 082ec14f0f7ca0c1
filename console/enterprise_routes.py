"""Console routes for enterprises (附件2): the sheet, job rows, interested workers, hires, export."""
from app.services.employment import enterprises, vacancies
from app.services.platform import scope
from app.services.platform.timeutil import local_today
from console import bp
from console import enterprise_schemas as s
from console.auth import auth, current_staff
from console.downloads import XLSX_RESPONSE, xlsx_download
from console.routes import _errors

_ENTERPRISE = "/enterprises/<int(max=2147483647):enterprise_id>"
_JOB = _ENTERPRISE + "/jobs/<int(max=2147483647):job_id>"


def _view(enterprise):
    return s.enterprise_view(enterprise, enterprises.jobs_by_enterprise([enterprise.id])[enterprise.id])


@bp.get("/enterprises")
@bp.auth_required(auth)
@bp.input(s.EnterpriseFilterIn, location="query", arg_name="query")
@bp.output(s.EnterprisePageOut)
@bp.doc(summary="企业列表（按管辖范围）", responses=_errors(401, 403, 422))
def list_enterprises(query):
    """Enterprises in the caller's scope with their job rows."""
    page, per_page = query.pop("page"), query.pop("per_page")
    items, total = enterprises.list_enterprises(current_staff(), query, page, per_page)
    jobs = enterprises.jobs_by_enterprise([e.id for e in items])
    return {"items": [s.enterprise_view(e, jobs[e.id]) for e in items], "total": total, "page": page,
            "per_page": per_page}


@bp.post("/enterprises")
@bp.auth_required(auth)
@bp.input(s.EnterpriseIn, arg_name="body")
@bp.output(s.EnterpriseSheetDetailOut, status_code=201)
@bp.doc(summary="登记企业（园区、县区在本辖区登记）", responses=_errors(401, 403, 409, 422))
def create_enterprise(body):
    """Register an enterprise in the caller's county or park."""
    return _view(enterprises.create_enterprise(current_staff(), body))


@bp.get("/enterprises/export.xlsx")
@bp.auth_required(auth)
@bp.input(s.EnterpriseExportIn, location="query", arg_name="query")
@bp.doc(summary="导出附件2 重点企业用工服务保障工作信息汇总表", responses={200: XLSX_RESPONSE, **_errors(401, 403, 422)})
def export_enterprises(query):
    """The 附件2 sheet of the enterprises in the caller's scope (audited)."""
    data = enterprises.export_sheet(current_staff(), query)
    day = local_today().isoformat()
    return xlsx_download(data, f"重点企业用工服务保障工作信息汇总表-{day}.xlsx", f"attachment2-enterprises-{day}.xlsx")


@bp.get(_ENTERPRISE)
@bp.auth_required(auth)
@bp.output(s.EnterpriseSheetDetailOut)
@bp.doc(summary="企业详情", responses=_errors(401, 403, 404))
def get_enterprise(enterprise_id):
    """One enterprise with its job rows."""
    return _view(scope.enterprise_in_scope(current_staff(), enterprise_id))


@bp.patch(_ENTERPRISE)
@bp.auth_required(auth)
@bp.input(s.EnterprisePatchIn, arg_name="body")
@bp.output(s.EnterpriseSheetDetailOut)
@bp.doc(summary="修改企业信息（企业账号不能改名称、县区、园区）", responses=_errors(401, 403, 404, 409, 422))
def update_enterprise(enterprise_id, body):
    """Change an enterprise's details."""
    return _view(enterprises.update_enterprise(current_staff(), enterprise_id, body))


@bp.post(_ENTERPRISE + "/jobs")
@bp.auth_required(auth)
@bp.input(s.EnterpriseJobIn, arg_name="body")
@bp.output(s.EnterpriseJobDetailOut, status_code=201)
@bp.doc(summary="添加工种：解决用工人数、缺工人数", responses=_errors(401, 403, 404, 409, 422))
def add_job(enterprise_id, body):
    """Add a job row; one row per job type."""
    return enterprises.add_job(current_staff(), enterprise_id, body)


@bp.patch(_JOB)
@bp.auth_required(auth)
@bp.input(s.EnterpriseJobPatchIn, arg_name="body")
@bp.output(s.EnterpriseJobDetailOut)
@bp.doc(summary="修改工种行", responses=_errors(401, 403, 404, 409, 422))
def update_job(enterprise_id, job_id, body):
    """Change a job row."""
    return enterprises.update_job(current_staff(), enterprise_id, job_id, body)


@bp.delete(_JOB)
@bp.auth_required(auth)
@bp.output({}, status_code=204)
@bp.doc(summary="删除工种行（已有意向或录用时不可删）", responses=_errors(401, 403, 404, 409))
def delete_job(enterprise_id, job_id):
    """Delete a job row nobody is interested in."""
    enterprises.delete_job(current_staff(), enterprise_id, job_id)
    return ""


@bp.get(_ENTERPRISE + "/interests")
@bp.auth_required(auth)
@bp.input(s.InterestedWorkerFilterIn, location="query", arg_name="query")
@bp.output(s.InterestedWorkerPageOut)
@bp.doc(summary="有意向的务工人员（同意联系前脱敏）", responses=_errors(401, 403, 404, 422))
def list_interests(enterprise_id, query):
    """Workers interested in the enterprise's vacancies; contact details only where the worker allowed it."""
    page, per_page = query.pop("page"), query.pop("per_page")
    rows, total = vacancies.interests_for_enterprise(current_staff(), enterprise_id, query, page, per_page)
    return {"items": [s.interest_view(*row) for row in rows], "total": total, "page": page, "per_page": per_page}


@bp.post(_ENTERPRISE + "/interests/<int(max=2147483647):interest_id>/hire")
@bp.auth_required(auth)
@bp.output(s.HireResultOut)
@bp.doc(summary="录用：解决用工人数 +1，缺工人数 −1", responses=_errors(401, 403, 404, 409))
def hire(enterprise_id, interest_id):
    """Mark an interested worker hired."""
    interest, job, worker = vacancies.hire(current_staff(), enterprise_id, interest_id)
    return {"interest": s.interest_view(interest, job, worker), "job": job}
