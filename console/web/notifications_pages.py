"""通知 (every staff member's alerts): newest first, unread in bold, 标为已读 one or all, paging; and the
mini-program link (绑定小程序) — a one-time code to type into the mini-program, the link's state, 解除绑定.

The same services as the API's /notifications and /me/miniprogram-link: `inbox` bound to the signed-in
account (no id reaches another's alerts), `staff_link` for the code and the link.
"""
from flask import request

from app.services.messaging import staff_link
from app.services.messaging import inbox
from app.services.platform.ids import parse_id
from console.web import bp, forms
from console.web.layout import flash, go, render_page
from console.web.session import current_staff

PER_PAGE = 20


def _url(args, **changes):
    return forms.filtered_url("console_web.notifications", forms.given(args, ("unread", "page")), **changes)


def _page(code=None, status=200):
    staff = current_staff()
    unread_only = request.args.get("unread") == "1"
    number = forms.page_or_first(request.args.get("page", "1"))
    rows, total = inbox.page_of(staff, number, PER_PAGE, unread_only)
    return render_page("console/notifications/list.html", status=status, rows=[inbox.view(m) for m in rows],
                       total=total, unread_only=unread_only,
                       paging=forms.paging(number, PER_PAGE, total, choices=(PER_PAGE,)),
                       list_url=lambda **changes: _url(request.args, **changes),
                       link=staff_link.status_for_staff(staff), code=code)


@bp.get("/notifications")
def notifications():
    """The signed-in staff member's alerts, newest first."""
    return _page()


@bp.post("/notifications/read")
def notifications_read():
    """Mark ticked alerts (or, with all=1, every alert) read, then back to the list."""
    staff = current_staff()
    if request.form.get("all") == "1":
        marked = inbox.mark_read(staff, everything=True)
    else:
        ids = [value for value in (parse_id(text) for text in request.form.getlist("ids")) if value]
        marked = inbox.mark_read(staff, ids)
    flash(f"已将 {marked} 条通知标为已读" if marked else "没有需要标为已读的通知", "success" if marked else "info")
    return go("console_web.notifications", **forms.given(request.form, ("unread", "page")))


@bp.post("/notifications/link-code")
def notifications_link_code():
    """A fresh one-time code for the mini-program, shown on this page (never put in a cookie or a URL)."""
    return _page(code=staff_link.issue_code(current_staff()))


@bp.post("/notifications/unlink")
def notifications_unlink():
    """Unlink this account's mini-program login."""
    staff_link.unlink_staff(current_staff())
    flash("已解除小程序绑定，工作提醒只在控制台显示")
    return go("console_web.notifications")
