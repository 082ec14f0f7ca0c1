"""审计日志 (the audit log, the coordination office's admin only): who did or read what, when, to which object.

Filters by user, action or action group (导出与查看完整信息 gathers every export and full-ID/phone read),
day range (Beijing days) and object; newest first, with paging. The query is the office's
(`audit_log.list_entries`), which answers another role with the 403 page.
"""
from flask import request

from app.errors import Invalid
from app.services.office import audit_log
from console.web import audit_view as view
from console.web import bp
from console.web.applications_view import paging
from console.web.layout import render_page
from console.web.session import current_staff


@bp.get("/audit")
def audit():
    """The audit log with its filter bar, newest first."""
    admin = current_staff()
    groups, actions = view.action_choices(admin)  # the admin's data: another role gets the 403 page here
    page = {"filters": view.given(request.args), "groups": groups, "actions": actions,
            "list_url": lambda **changes: view.list_url(request.args, **changes)}
    try:
        query = view.parse_filters(request.args)
        number, per_page = query.pop("page"), query.pop("per_page")
        entries, total = audit_log.list_entries(admin, **query, page=number, per_page=per_page)
    except Invalid as error:
        return render_page("console/audit/list.html", status=422, rows=[], total=0, paging=None,
                           error=view.error_text(error), **page)
    return render_page("console/audit/list.html", rows=view.rows(entries), total=total,
                       paging={**paging(number, per_page, total), "choices": view.PER_PAGE_CHOICES}, **page)
