"""企业与岗位（附件2）: the enterprises list with filters and paging, register and edit an enterprise, its job rows
(工种 with 解决用工 / 缺工), the workers interested in its vacancies with 录用, and the 附件2 export.

The same services and scope as the API's /enterprises routes: `enterprises.list_enterprises`,
`scope.enterprise_in_scope` (outside the scope → 404 page, a role without the right → 403 page),
`create_enterprise` / `update_enterprise` with the role's field rights, `add_job` / `update_job` / `delete_job`,
`vacancies.interests_for_enterprise` (full phones only where the worker allowed it, each read audited) and
`vacancies.hire`, `export_sheet` for 附件2. An enterprise's HR sees its own enterprise only.
"""
from flask import redirect, request, url_for
from marshmallow import ValidationError

from app.errors import DomainError
from app.extensions import db
from app.services.employment import enterprises, vacancies
from app.services.platform import field_rights, scope
from app.services.platform.timeutil import local_today
from console.downloads import xlsx_download
from console.enterprise_schemas import enterprise_view
from console.web import bp
from console.web import enterprises_view as view
from console.web.layout import flash, go, render_page
from console.web.session import current_staff

_ENTERPRISE = "/enterprises/<int(max=2147483647):enterprise_id>"
_JOB = _ENTERPRISE + "/jobs/<int(max=2147483647):job_id>"
# Refusals a form answers in place (the 403 of a place outside the scope too); others are error pages.
_IN_PLACE = ("validation_error", "park_not_in_county", "enterprise_name_taken", "enterprise_out_of_scope",
             "job_type_taken", "job_has_interests", "field_not_editable")


@bp.get("/enterprises", endpoint="enterprises")
def enterprises_list():
    """Enterprises in the caller's scope with their job totals; an enterprise's HR goes straight to its own."""
    staff = current_staff()
    scope.require_role(staff, scope.ENTERPRISE_READERS)
    if staff.role == "enterprise_hr":
        return redirect(url_for("console_web.enterprises_detail", enterprise_id=staff.enterprise_id))
    page = {"filters": view.given(request.args), "list_url": lambda **changes: view.list_url(request.args, **changes),
            "export_args": view.export_args(request.args), "may_register": enterprises.may_register(staff),
            **view.places()}
    try:
        query = view.parse_filters(request.args)
    except ValidationError as error:
        return render_page("console/enterprises/list.html", status=422, rows=[], total=0, paging=None,
                           error=view.error_text(error, "筛选条件有误"), **page)
    number, per_page = query.pop("page"), query.pop("per_page")
    items, total = enterprises.list_enterprises(staff, query, number, per_page)
    jobs = enterprises.jobs_by_enterprise([e.id for e in items])
    return render_page("console/enterprises/list.html", rows=[enterprise_view(e, jobs[e.id]) for e in items],
                       total=total, paging=view.paging(number, per_page, total), **page)


@bp.get("/enterprises/export.xlsx")
def enterprises_export():
    """附件2 for the list's current filter (audited by the service)."""
    try:
        query = view.parse_export(request.args)
    except ValidationError as error:
        flash(view.error_text(error, "导出条件有误"), "danger")
        return go("console_web.enterprises")
    data = enterprises.export_sheet(current_staff(), query)
    return xlsx_download(data, f"{enterprises.SHEET_TITLE}-{local_today().isoformat()}.xlsx")


@bp.route("/enterprises/new", methods=["GET", "POST"])
def enterprises_new():
    """The registration form (登记企业); the enterprise lies where the registering operator's scope says."""
    staff = current_staff()
    scope.require_role(staff, scope.ENTERPRISE_REGISTRARS)
    if request.method == "GET":
        return _form_page(None, {})
    try:
        body = view.enterprise_body(request.form, field_rights.writable(staff, "enterprise"), creating=True)
        enterprise = enterprises.create_enterprise(staff, body)
    except ValidationError as error:
        return _form_page(None, request.form, 422, view.field_errors(error), "填写有误，请检查标出的字段")
    except DomainError as error:
        return _refused_form(error, None)
    flash(f"已登记企业：{enterprise.name}")
    return go("console_web.enterprises_detail", enterprise_id=enterprise.id)


def _form_page(enterprise, submitted, status=200, errors=None, error=None):
    staff = current_staff()
    values = view.enterprise_values(enterprise, submitted) if enterprise is not None or submitted else {}
    return render_page("console/enterprises/form.html", status=status, enterprise=enterprise, values=values,
                       writable=field_rights.writable(staff, "enterprise"), errors=errors or {}, error=error,
                       labels=view.FIELD_LABELS, **view.places())


def _refused_form(error, enterprise):
    if error.code not in _IN_PLACE:
        raise error
    db.session.rollback()
    return _form_page(enterprise, request.form, error.status, error.fields or {}, error.message)


@bp.get(_ENTERPRISE)
def enterprises_detail(enterprise_id):
    """One enterprise: its details, job rows with 解决用工 / 缺工, interested workers with 录用."""
    return _detail(scope.enterprise_in_scope(current_staff(), enterprise_id))


def _detail(enterprise, status=200, job_errors=None, error=None, submitted_job=None):
    staff = current_staff()
    filters, number, refused = view.interest_filters(request.args)
    rows, total = vacancies.interests_for_enterprise(staff, enterprise.id, filters, number, view.INTERESTS_PER_PAGE)
    jobs = enterprises.jobs_by_enterprise([enterprise.id])[enterprise.id]
    return render_page("console/enterprises/detail.html", status=status, enterprise=enterprise,
                       sheet=enterprise_view(enterprise, jobs), interests=view.interests(rows), interests_total=total,
                       interest_filters=filters, interest_error=view.error_text_of(refused, "筛选条件有误"),
                       paging=view.paging(number, view.INTERESTS_PER_PAGE, total),
                       may_edit_jobs=bool(field_rights.writable(staff, "enterprise_job")),
                       own_sheet=staff.role == "enterprise_hr",  # HR has no list page: its 附件2 row is exported here
                       job_errors=job_errors or {}, error=error, submitted_job=submitted_job or {}, **view.places())


@bp.route(_ENTERPRISE + "/edit", methods=["GET", "POST"])
def enterprises_edit(enterprise_id):
    """Edit an enterprise's details (HR: its own details, not its name or place)."""
    staff = current_staff()
    enterprise = scope.enterprise_in_scope(staff, enterprise_id)
    if request.method == "GET":
        return _form_page(enterprise, None)
    try:
        body = view.enterprise_body(request.form, field_rights.writable(staff, "enterprise"), creating=False)
        enterprises.update_enterprise(staff, enterprise_id, body)
    except ValidationError as error:
        return _form_page(enterprise, request.form, 422, view.field_errors(error), "填写有误，请检查标出的字段")
    except DomainError as error:
        return _refused_form(error, scope.enterprise_in_scope(staff, enterprise_id))
    flash("企业信息已保存")
    return go("console_web.enterprises_detail", enterprise_id=enterprise_id)


@bp.post(_ENTERPRISE + "/jobs")
def enterprises_add_job(enterprise_id):
    """Add a job row (one row per 工种)."""
    return _job_change(enterprise_id, "new", lambda staff, body: enterprises.add_job(staff, enterprise_id, body),
                       creating=True, done="已添加工种")


@bp.post(_JOB)
def enterprises_update_job(enterprise_id, job_id):
    """Change a job row's 工种, 解决用工人数, 缺工人数 or 备注."""
    return _job_change(enterprise_id, str(job_id),
                       lambda staff, body: enterprises.update_job(staff, enterprise_id, job_id, body),
                       creating=False, done="工种已保存")


def _job_change(enterprise_id, key, change, creating, done):
    staff = current_staff()
    scope.enterprise_in_scope(staff, enterprise_id)  # outside the scope → 404 page, before reading the form
    try:
        job = change(staff, view.job_body(request.form, creating))
    except ValidationError as error:
        return _job_refused(enterprise_id, key, 422, view.error_text(error))
    except DomainError as error:
        if error.code not in _IN_PLACE:
            raise
        db.session.rollback()
        return _job_refused(enterprise_id, key, error.status, error.message)
    flash(f"{done}：{job.job_type}")
    return go("console_web.enterprises_detail", enterprise_id=enterprise_id, _anchor="jobs")


def _job_refused(enterprise_id, key, status, message):
    enterprise = scope.enterprise_in_scope(current_staff(), enterprise_id)
    return _detail(enterprise, status, job_errors={key: message}, error=message,
                   submitted_job={"key": key, **{name: request.form.get(name, "") for name in view.JOB_FIELDS}})


@bp.post(_JOB + "/delete")
def enterprises_delete_job(enterprise_id, job_id):
    """Delete a job row nobody is interested in (confirmed in the page)."""
    try:
        enterprises.delete_job(current_staff(), enterprise_id, job_id)
    except DomainError as error:
        if error.code not in _IN_PLACE:
            raise
        db.session.rollback()
        return _job_refused(enterprise_id, str(job_id), error.status, error.message)
    flash("已删除工种")
    return go("console_web.enterprises_detail", enterprise_id=enterprise_id, _anchor="jobs")


@bp.post(_ENTERPRISE + "/interests/<int(max=2147483647):interest_id>/hire")
def enterprises_hire(enterprise_id, interest_id):
    """录用: the interest becomes hired, the job's 解决用工 +1 and 缺工 −1 (the service's conditional updates)."""
    try:
        interest, job, _ = vacancies.hire(current_staff(), enterprise_id, interest_id)
    except DomainError as error:
        if error.status != 409:
            raise
        flash(error.message, "danger")
    else:
        flash(f"已录用（{job.job_type}）：解决用工 {job.filled} 人，缺工 {job.short} 人")
    return go("console_web.enterprises_detail", enterprise_id=enterprise_id, _anchor="interests")
