"""What a mini-program login may subscribe to: the worker templates, and staff alerts once linked to staff.

`subscriptions` keeps the worker's templates; a login linked to a console account (员工绑定小程序)
is also offered "staff_alert", and its accept is recorded here as a grant like any other, so
`outbox.to_staff` can spend it. An unlinked login's result for that template is refused like any
template that is not this mini-program's.
"""
from app.errors import Invalid
from app.extensions import db
from app.models import SubscriptionGrant
from app.services.messaging import staff_link
from app.services.messaging import subscriptions, templates

STAFF_TEMPLATE = "staff_alert"


def offered(worker):
    """The templates this login should ask consent for: key, template id, title."""
    offers = subscriptions.offered()
    staff_template_id = templates.template_id(STAFF_TEMPLATE)
    if staff_template_id and staff_link.linked_staff(worker) is not None:
        offers.append({"key": STAFF_TEMPLATE, "template_id": staff_template_id,
                       "title": templates.TEMPLATES[STAFF_TEMPLATE].title})
    return offers


def record(worker, results):
    """Store the accepts of wx.requestSubscribeMessage's results and commit; returns {template key: unused grants}.

    Raises Invalid subscription_invalid as `subscriptions.record` does (also for the staff template when
    this login is not linked to a console account).
    """
    staff_template_id = templates.template_id(STAFF_TEMPLATE)
    if not staff_template_id or staff_template_id not in results:
        return subscriptions.record(worker, results)
    rest = {key: value for key, value in results.items() if key != staff_template_id}
    answer = results[staff_template_id]
    if staff_link.linked_staff(worker) is None:
        raise Invalid("subscription_invalid", "订阅结果有误",
                      fields={"results": {staff_template_id: "未绑定控制台账号，不能订阅工作提醒"}})
    if answer not in subscriptions.RESULTS:
        raise Invalid("subscription_invalid", "订阅结果有误",
                      fields={"results": {staff_template_id: "应为 accept、reject、ban 或 filter"}})
    if answer == "accept" and subscriptions.unused_counts(worker).get(STAFF_TEMPLATE, 0) < subscriptions.MAX_UNUSED:
        # Added before subscriptions.record commits the rest, so one commit writes all or (on its error) none.
        db.session.add(SubscriptionGrant(worker_id=worker.id, template=STAFF_TEMPLATE, template_id=staff_template_id))
        db.session.flush()
    return subscriptions.record(worker, rest)
