"""花名册 · 每日随访: an enterprise's returnees with arrival, health and clearance (上岗状态), registering a returnee who
came back on their own (零散返岗), the day's follow-up table (one row per person, one save), and the exports.

The same services and scope as the API's /enterprises/<id>/roster routes: `roster.roster_of` (outside the scope →
404 page, another role → 403 page), `roster.register`, `followups.record_many` (each row as POST .../follow-ups
records it: an abnormal check opens a pending isolation order), `roster_exports` for the roster and 附件3.
An enterprise's HR goes straight to its own roster; county, park and office staff choose an enterprise first.
"""
from flask import redirect, request, url_for
from marshmallow import ValidationError

from app.errors import DomainError, Invalid
from app.extensions import db
from app.services.employment import enterprises, followups, roster, roster_exports
from app.services.platform import scope
from app.services.platform.timeutil import local_today
from console.downloads import xlsx_download
from console.web import bp, forms
from console.web import roster_view as view
from console.web.layout import flash, go, render_page
from console.web.session import current_staff

_ENTERPRISE = "/roster/<int(max=2147483647):enterprise_id>"
# Refusals a registration answers in its form; other errors (scope, role) are error pages.
_REGISTER_IN_PLACE = ("validation_error", "identity_mismatch", "already_on_roster")


@bp.get("/roster", endpoint="roster")
def roster_choose():
    """HR: its own roster. Others: the enterprises in scope to choose from, and 附件3 over the whole scope."""
    staff = current_staff()
    scope.require_role(staff, roster.ROSTER_READERS)
    if staff.role == "enterprise_hr":
        return redirect(url_for("console_web.roster_of", enterprise_id=staff.enterprise_id))
    name = view.given(request.args, ("name",)).get("name", "")
    try:
        query = view.parse_choice(request.args)
    except ValidationError as error:
        return render_page("console/roster/choose.html", status=422, items=[], total=0, name=name, paging=None,
                           error=view.error_text(error, "筛选条件有误"), today=local_today())
    number, per_page = query.pop("page"), query.pop("per_page")
    items, total = enterprises.list_enterprises(staff, query, number, per_page)
    return render_page("console/roster/choose.html", items=items, total=total, name=name,
                       paging=view.paging(number, per_page, total), today=local_today())


@bp.get(_ENTERPRISE)
def roster_of(enterprise_id):
    """One enterprise's roster with filters, paging and the export links of the current filter."""
    staff = current_staff()
    enterprise = roster.enterprise_in_scope(staff, enterprise_id)
    page = {"enterprise": enterprise, "filters": view.given(request.args),
            "export_args": view.export_args(request.args),
            "page_url": lambda **changes: view.page_url("console_web.roster_of", enterprise_id, request.args,
                                                        **changes)}
    try:
        query = view.parse_filters(request.args)
    except ValidationError as error:
        return render_page("console/roster/list.html", status=422, rows=[], total=0, paging=None,
                           error=view.error_text(error, "筛选条件有误"), **page)
    number, per_page = query.pop("page"), query.pop("per_page")
    _, found, total = roster.roster_of(staff, enterprise_id, query, number, per_page)
    return render_page("console/roster/list.html", rows=view.rows(found), total=total,
                       paging=view.paging(number, per_page, total), **page)


@bp.get(_ENTERPRISE + "/export.xlsx")
def roster_export(enterprise_id):
    """The roster sheet of the list's current filter (audited by the service)."""
    try:
        query = view.parse_export(request.args)
    except ValidationError as error:
        flash(view.error_text(error, "导出条件有误"), "danger")
        return go("console_web.roster_of", enterprise_id=enterprise_id)
    enterprise, data = roster_exports.roster_workbook(current_staff(), enterprise_id, query)
    return xlsx_download(data, f"花名册-{enterprise.id}-{roster_exports.today_stamp()}.xlsx")


@bp.get("/roster/attachment3.xlsx")
def roster_attachment3():
    """附件3 复工信息登记 over the caller's scope, one enterprise's or all, by arrival dates (audited)."""
    try:
        query = view.parse_attachment3(request.args)
    except ValidationError as error:
        flash(view.error_text(error, "导出条件有误"), "danger")
        return go("console_web.roster")
    data = roster_exports.attachment3(current_staff(), query)
    return xlsx_download(data, f"附件3-复工信息登记-{roster_exports.today_stamp()}.xlsx")


@bp.route(_ENTERPRISE + "/register", methods=["GET", "POST"])
def roster_register(enterprise_id):
    """零散返岗登记: someone who came back on their own joins the roster and the shared health record."""
    staff = current_staff()
    enterprise = roster.enterprise_in_scope(staff, enterprise_id, roster.REGISTRARS)
    if request.method == "GET":
        return _register_page(enterprise, {"arrival_date": local_today().isoformat()})
    try:
        row = roster.register(staff, enterprise_id, view.register_body(request.form))
    except ValidationError as error:
        return _register_page(enterprise, request.form, 422, view.field_errors(error), "登记信息有误，请检查标出的字段")
    except DomainError as error:
        if error.code not in _REGISTER_IN_PLACE:
            raise
        db.session.rollback()
        return _register_page(roster.enterprise_in_scope(staff, enterprise_id), request.form, error.status,
                              error.fields or {}, error.message)
    flash(f"已登记零散返岗人员：{view.rows([row])[0]['name']}")
    return go("console_web.roster_of", enterprise_id=enterprise_id)


def _register_page(enterprise, values, status=200, errors=None, error=None):
    return render_page("console/roster/register.html", status=status, enterprise=enterprise, values=values,
                       errors=errors or {}, error=error, transports=view.transports(), today=local_today())


@bp.route(_ENTERPRISE + "/follow-ups", methods=["GET", "POST"])
def roster_follow_ups(enterprise_id):
    """Today's follow-ups: one row per arrived returnee (体温, 症状, 备注), one save for the table.

    Abnormal checks stay highlighted with their isolation order; a table with any refused row saves nothing.
    """
    staff = current_staff()
    roster.enterprise_in_scope(staff, enterprise_id)
    if request.method == "GET":
        return _follow_up_page(enterprise_id)
    entries, errors = view.follow_up_entries(request.form)
    if not errors and not entries:
        flash("没有填写任何人的体温，未保存", "warning")
        return go("console_web.roster_follow_ups", enterprise_id=enterprise_id, **view.given(request.args, ("page",)))
    if errors:
        return _refused_rows(enterprise_id, errors)
    try:
        done = followups.record_many(staff, enterprise_id, entries)
    except Invalid as error:
        if error.code != "validation_error":
            raise
        db.session.rollback()
        return _refused_rows(enterprise_id, error.fields or {})
    abnormal = [item for item in done if item[3]]
    flash(f"已保存 {len(done)} 人的今日随访")
    if abnormal:
        flash(f"{len(abnormal)} 人异常（发热或有症状），已开出待处理隔离单，等待卫健部门处理", "warning")
    return go("console_web.roster_follow_ups", enterprise_id=enterprise_id, **view.given(request.args, ("page",)))


def _refused_rows(enterprise_id, errors):
    """The table again as typed, each refused row saying why; nothing was saved."""
    message = f"{len(errors)} 人的随访有误，本次未保存任何记录，请修改后重新保存"
    return _follow_up_page(enterprise_id, 422, errors, message, view.submitted_values(request.form))


def _follow_up_page(enterprise_id, status=200, row_errors=None, error=None, submitted=None):
    staff = current_staff()
    number = forms.page_or_first(request.args.get("page", "1"))
    enterprise, found, total = roster.roster_of(staff, enterprise_id, {"arrival_status": "arrived"}, number,
                                                view.PER_PAGE)
    today = followups.on_day_by_worker([row.worker.id for row in found])
    return render_page("console/roster/follow_ups.html", status=status, enterprise=enterprise, rows=view.rows(found),
                       today=today, day=local_today(), total=total, paging=view.paging(number, view.PER_PAGE, total),
                       may_record=followups.may_record(staff), row_errors=row_errors or {}, error=error,
                       submitted=submitted or {}, symptoms=view.symptom_words(),
                       order_words=roster_exports.ORDER_STATUS_NAMES)
