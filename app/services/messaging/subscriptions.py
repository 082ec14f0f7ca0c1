"""One-time subscription grants (一次性订阅): what the mini-program's wx.requestSubscribeMessage gave back.

Each "accept" for a template is good for one message of it; "reject", "ban" and "filter" give nothing.
The worker may accept again later to receive more.
"""
from sqlalchemy import func, select

from app.errors import Invalid
from app.extensions import db
from app.models import SubscriptionGrant
from app.services.messaging import templates

RESULTS = ("accept", "reject", "ban", "filter")
# Unused grants kept per worker and template: enough for every event of a journey, bounded against a
# client that reports "accept" in a loop.
MAX_UNUSED = 20
# Why a configured template id of another audience is refused to this login.
_REFUSED = {"staff": "未绑定控制台账号，不能订阅工作提醒"}


def offered():
    """The templates a worker may subscribe to: key, WeChat template id and title (configured ones only)."""
    return [{"key": t.key, "template_id": templates.template_id(t.key), "title": t.title}
            for t in templates.TEMPLATES.values() if t.audience == "worker" and templates.template_id(t.key)]


def record(worker, results, audiences=("worker",)):
    """Store each "accept" of `results` ({template id: result}, as wx.requestSubscribeMessage answers) and commit.

    The `errMsg` key the mini-program API puts among the results is ignored. `audiences`: whose templates
    this login may accept (a login linked to a console account: "staff" too). Raises Invalid
    subscription_invalid for a template id that is not configured or not this login's, or a result
    WeChat does not give. Returns unused_counts().
    """
    problems, accepted = {}, []
    for template_id_, result in results.items():
        if template_id_ == "errMsg":
            continue
        key = templates.key_of_template_id(template_id_)
        audience = templates.TEMPLATES[key].audience if key is not None else None
        if audience not in audiences:
            problems[template_id_] = _REFUSED.get(audience, "不是本小程序的订阅消息模板")
        elif result not in RESULTS:
            problems[template_id_] = "应为 accept、reject、ban 或 filter"
        elif result == "accept":
            accepted.append((key, template_id_))
    if problems:
        raise Invalid("subscription_invalid", "订阅结果有误", fields={"results": problems})
    counts = unused_counts(worker)
    for key, template_id_ in accepted:
        if counts.get(key, 0) < MAX_UNUSED:
            db.session.add(SubscriptionGrant(worker_id=worker.id, template=key, template_id=template_id_))
            counts[key] = counts.get(key, 0) + 1
    db.session.commit()
    return counts


def unused_counts(worker):
    """{template key: unused grants} of a worker, counting only grants for the template id now configured.

    A grant given for a template id since replaced in WeChat's console cannot be spent (WeChat would
    refuse the message), so it neither counts nor takes room under MAX_UNUSED.
    """
    rows = db.session.execute(
        select(SubscriptionGrant.template, SubscriptionGrant.template_id, func.count())
        .where(SubscriptionGrant.worker_id == worker.id, SubscriptionGrant.used_at.is_(None))
        .group_by(SubscriptionGrant.template, SubscriptionGrant.template_id)
    ).all()
    return {key: count for key, template_id_, count in rows if template_id_ == templates.template_id(key)}
