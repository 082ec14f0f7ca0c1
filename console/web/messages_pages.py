"""消息发送 (the office's admin): subscribe messages by delivery state with counts, the failed ones with why,
and 重新发送 for one or the ticked ones.

The same services as the API's /messages routes (`deliveries`): another role gets the 403 page there.
"""
from flask import request

from app.errors import Invalid
from app.models.messages import DELIVERIES
from app.services.messaging import deliveries, templates
from app.services.platform.ids import parse_id
from console.message_schemas import recipient_text
from console.web import bp, forms
from console.web.layout import flash, go, render_page
from console.web.session import current_staff

FILTERS = ("delivery", "template", "page")


def _url(args, **changes):
    return forms.filtered_url("console_web.messages", forms.given(args, FILTERS), **changes)


@bp.get("/messages")
def messages():
    """Tabs by delivery state with counts, and the messages of one state (failed by default), newest first."""
    staff = current_staff()
    summary = deliveries.summary(staff)  # the admin's: another role gets the 403 page here
    values = forms.given(request.args, FILTERS)
    delivery, template = values.get("delivery", "failed"), values.get("template")
    number = forms.page_or_first(values.get("page", "1"))
    page = {"summary": summary, "delivery": delivery, "chosen": template, "states": DELIVERIES,
            "state_names": deliveries.DELIVERY_NAMES, "template_choices": templates.TEMPLATES,
            "list_url": lambda **changes: _url(request.args, **changes)}
    try:
        rows, total = deliveries.list_messages(staff, delivery, template, number, deliveries.PER_PAGE)
    except Invalid as error:
        return render_page("console/messages/list.html", status=422, rows=[], total=0, paging=None,
                           error=forms.error_sentence(error, "筛选条件有误", {"delivery": "状态", "template": "模板"}),
                           **page)
    for row in rows:
        row["recipient"] = recipient_text(row)
    return render_page("console/messages/list.html", rows=rows, total=total,
                       paging=forms.paging(number, deliveries.PER_PAGE, total, choices=(deliveries.PER_PAGE,)), **page)


@bp.post("/messages/retry")
def messages_retry():
    """Send the ticked failed messages (or one, from its row's button) again; a flash says what happened."""
    # A row's own button sends `one` (the ticked boxes travel in the same form, and must not go with it).
    texts = [request.form["one"]] if request.form.get("one") else request.form.getlist("ids")
    ids = [value for value in (parse_id(text) for text in texts) if value]
    if not ids:
        flash("请先勾选要重新发送的消息", "warning")
        return go("console_web.messages", **forms.given(request.form, FILTERS))
    result = deliveries.retry(current_staff(), ids)
    if result["retried"]:
        flash(f"已将 {len(result['retried'])} 条消息放回发送队列")
    for skipped in result["skipped"][:5]:
        flash(f"消息 #{skipped['id']} 未重发：{skipped['message']}", "warning")
    return go("console_web.messages", **forms.given(request.form, FILTERS))
