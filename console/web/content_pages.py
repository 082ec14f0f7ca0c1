"""内容审核 (worker texts msgSecCheck flagged): the list by state with the text, the worker masked, and 处理 with an
outcome on each doubtful row.

The same services and scope as console/content_routes.py: `content_reviews.list_checks`, `count_by_view` and
`handle` (outside the county → 404 page, another role → 403 page); forms are loaded by the API's schemas.
"""
from flask import redirect, request, url_for
from marshmallow import EXCLUDE, ValidationError

from app.errors import Conflict
from app.extensions import db
from app.models.content import OUTCOMES
from app.services.office import content_reviews as reviews
from app.services.platform import scope
from console import content_schemas as s
from console.web import bp, forms
from console.web.applications_view import paging
from console.web.layout import flash, render_page
from console.web.session import current_staff

# The state tags (word, colour) and the tabs: 待处理 first, since that is the day's work; 全部 last.
STATUS_TAGS = {"pending": ("待复查", "secondary"), "review": ("需人工审核", "warning"), "risky": ("有风险", "danger"),
               "pass": ("已通过", "success")}
TABS = ("open", "review", "risky", "pending", "pass", "handled", "all")
TAB_NAMES = {**reviews.VIEW_NAMES, "all": "全部"}
FIELD_LABELS = {"status": "状态", "page": "页码", "per_page": "每页条数", "outcome": "处理结果", "note": "说明"}


@bp.get("/content")
def content():
    """Flagged texts in the staff member's scope by tab (待处理 by default), with paging and 处理 on open rows."""
    return _list_page()


def _list_page(status=200, error=None, typed=None):
    staff = current_staff()
    scope.require_role(staff, reviews.REVIEWERS)
    filters = forms.given(request.args, ("status", "page", "per_page"))
    tab = filters.get("status", "open")
    back = request.full_path if request.method == "GET" else request.form.get("back", "")
    page = {"tab": tab, "tabs": TABS, "back": back, "tab_names": TAB_NAMES, "status_tags": STATUS_TAGS,
            "outcomes": {key: reviews.OUTCOME_NAMES[key] for key in OUTCOMES}, "typed": typed or {},
            "list_url": lambda **changes: forms.filtered_url("console_web.content", filters, **changes)}
    try:
        wanted = {**filters, "status": tab} if tab != "all" else {k: v for k, v in filters.items() if k != "status"}
        query = s.ContentFilterIn().load(wanted, unknown=EXCLUDE)
    except ValidationError as invalid:
        return render_page("console/content/list.html", status=422, rows=[], total=0, paging=None, counts={},
                           error=forms.error_sentence(invalid, "筛选条件有误", FIELD_LABELS), **page)
    number, per_page = query.pop("page"), query.pop("per_page")
    flags, workers, total = reviews.list_checks(staff, query, number, per_page)
    counts = reviews.count_by_view(staff)
    counts["all"] = counts[None]
    rows = [s.ContentCheckOut().dump(s.check_view(flag, workers[flag.worker_id])) for flag in flags]
    return render_page("console/content/list.html", status=status, rows=rows, total=total, counts=counts,
                       paging=paging(number, per_page, total), error=error, **page)


@bp.post("/content/<int(max=2147483647):check_id>/handle")
def content_handle(check_id):
    """Record what was done about a doubtful text (内容无问题 / 已修改 / 已联系本人), then back to the list."""
    try:
        body = s.ContentHandleIn().load(forms.given(request.form, ("outcome", "note")))
        flag = reviews.handle(current_staff(), check_id, body["outcome"], body.get("note"))
    except (ValidationError, Conflict) as error:
        db.session.rollback()
        reviews.check_in_scope(current_staff(), check_id)  # outside the scope → 404 page, as the API
        status = getattr(error, "status", 422)
        typed = {"id": check_id, **forms.given(request.form, ("outcome", "note"))}
        return _list_page(status, forms.error_sentence(error, "未处理", FIELD_LABELS), typed)
    flash(f"已处理：{reviews.OUTCOME_NAMES[flag.outcome]}（#{flag.id}）")
    return redirect(forms.back_target(request.form.get("back"), "/console/content", url_for("console_web.content")))
