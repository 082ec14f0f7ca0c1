"""What a mini-program login may subscribe to: the worker templates, and staff alerts once linked to staff.

`subscriptions` keeps the worker's templates; a login linked to a console account (员工绑定小程序)
is also offered "staff_alert", and its accept is recorded here as a grant like any other, so
`outbox.to_staff` can spend it. An unlinked login's result for that template is refused like any
template that is not this mini-program's (one validation path: `subscriptions.record`).
"""
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
    audiences = ("worker", "staff") if staff_link.linked_staff(worker) is not None else ("worker",)
    return subscriptions.record(worker, results, audiences)
