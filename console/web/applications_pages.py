"""申请审核 (review of travel applications): the list with filters and paging, the detail drawer, approve and reject.

The same services and scope as the console API's /applications routes: `review.list_applications` for the
list, `scope.application_in_scope` for one application (outside the scope → 404 page, another role → 403),
`review.decide_many` for every decision, one or many, so each row is reported alone with counts.
"""
from flask import redirect, request, url_for
from marshmallow import ValidationError

from app.services.people.health_rules import SYMPTOMS
from app.services.platform import scope
from app.services.transport import review
from console.web import applications_view as view
from console.web import bp
from console.web.layout import flash, render_page
from console.web.session import current_staff

_ID = "<int(max=2147483647):application_id>"


@bp.get("/applications")
def applications():
    """The applications in the staff member's scope: filter bar, table with health and status, paging."""
    staff = current_staff()
    scope.require_role(staff, scope.PLANNERS)
    page = {"filters": view.given(request.args), "list_url": lambda **changes: view.list_url(request.args, **changes)}
    try:
        query = view.parse_filters(request.args)
    except ValidationError as error:
        return render_page("console/applications/list.html", status=422, rows=[], total=0, paging=None,
                           error=view.error_text(error, "筛选条件有误"), **page)
    number, per_page = query.pop("page"), query.pop("per_page")
    items, total = review.list_applications(staff, query, number, per_page)
    return render_page("console/applications/list.html", rows=view.rows(items), total=total,
                       paging=view.paging(number, per_page, total), **page)


@bp.get(f"/applications/{_ID}")
def applications_detail(application_id):
    """One application with the worker's health record: the drawer's content for htmx, else a page of its own."""
    application = scope.application_in_scope(current_staff(), application_id)
    item, record = view.detail(application)
    if request.headers.get("HX-Request"):
        back = view.back_target(request.headers.get("HX-Current-URL"), url_for("console_web.applications"))
        return render_page("console/applications/_drawer.html", item=item, record=record, symptoms=SYMPTOMS, back=back)
    back = url_for("console_web.applications_detail", application_id=application_id)
    return render_page("console/applications/detail.html", item=item, record=record, symptoms=SYMPTOMS, back=back)


@bp.post(f"/applications/{_ID}/approve")
def applications_approve(application_id):
    """Approve one application (通过), then back to the page the form was on."""
    scope.application_in_scope(current_staff(), application_id)  # outside the scope → 404 page, as the API
    return _decide([application_id], "approve")


@bp.post(f"/applications/{_ID}/reject")
def applications_reject(application_id):
    """Reject one application with a reason (驳回), then back to the page the form was on."""
    scope.application_in_scope(current_staff(), application_id)
    return _decide([application_id], "reject")


@bp.post("/applications/decisions")
def applications_decide():
    """Approve or reject the ticked rows (批量通过 / 批量驳回); each row succeeds or fails alone."""
    scope.require_role(current_staff(), scope.PLANNERS)
    ids = request.form.getlist("ids")
    if not ids:
        flash("请先勾选要处理的报名", "warning")
        return _back()
    return _decide(ids, request.form.get("decision", ""))


def _decide(ids, decision):
    """Decide through the API's schema and `review.decide_many`; a flash says the counts."""
    try:
        body = view.parse_decision(request.form, ids, decision)
    except ValidationError as error:
        flash(view.error_text(error, "未处理"), "danger")
        return _back()
    results = review.decide_many(current_staff(), body["ids"], body["decision"], body.get("reason"))
    kind, message = view.summary(results, body["decision"])
    flash(message, kind)
    return _back()


def _back():
    return redirect(view.back_target(request.form.get("back"), url_for("console_web.applications")))
