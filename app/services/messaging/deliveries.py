"""Subscribe-message deliveries for the office (消息发送): counts by state, the dead-letter list, sending again.

Only the coordination office's admin reads these. A failed message goes back to the sender's queue
with `retry`; one WeChat refused for want of consent (no_grant, 43101) goes back only when its
recipient has accepted that template again, and that new grant is spent on it.
"""
from datetime import timedelta

from sqlalchemy import func, select

from app.errors import Invalid
from app.extensions import db
from app.models import Message, StaffUser, Worker
from app.models.base import utcnow
from app.models.messages import DELIVERIES
from app.services.messaging import templates
from app.services.messaging.outbox import spend_grant
from app.services.platform import audit, scope

READERS = ("admin",)
PER_PAGE = 50
MAX_RETRY = 200  # ids in one retry request
DELIVERY_NAMES = {"inbox": "仅站内", "queued": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败"}
# Why the sender gave up on a message (Message.failure), as the office reads it.
FAILURE_NAMES = {
    "no_grant": "用户未授权", "bad_data": "数据不合规", "gave_up": "已放弃重试", "invalid_openid": "用户标识无效",
    "no_openid": "无微信身份", "no_template": "模板未配置", "invalid_template": "模板无效",
    "template_changed": "模板已更换（用户授权的是旧模板）", "no_wechat": "微信未配置", "invalid_page": "跳转页面无效",
    "unlinked": "工作人员已解除小程序绑定或已停用",
}
# Why a message could not be sent again, as `retry` reports it.
SKIP_REASONS = {"not_found": "未找到该消息", "not_failed": "不是发送失败的消息",
                "no_grant": "用户尚未重新授权该模板，暂不能重发",
                "unlinked": "该工作人员已解除或更换小程序绑定，提醒只在控制台显示"}


def failure_name(failure):
    """A failure code in words; an unknown one as stored."""
    return FAILURE_NAMES.get(failure, failure) if failure else None


def summary(staff):
    """Messages by delivery state, and how long the oldest queued one has waited (seconds, or None)."""
    scope.require_role(staff, READERS)
    state = queue_state()
    return {"counts": state["counts"], "oldest_queued_seconds": state["oldest_queued_seconds"]}


def queue_state():
    """The queue at a glance (the office's page and `flask notify status`): counts by delivery state, the oldest
    queued message's age in seconds (or None), and the failed ones by failure word."""
    counts = dict(db.session.execute(select(Message.delivery, func.count()).group_by(Message.delivery)).all())
    oldest = db.session.scalar(select(func.min(Message.created_at)).where(Message.delivery == "queued"))
    failures = dict(db.session.execute(select(Message.failure, func.count()).where(Message.delivery == "failed")
                                       .group_by(Message.failure)).all())
    return {"counts": {state: counts.get(state, 0) for state in DELIVERIES},
            "oldest_queued_seconds": None if oldest is None else max(0, int((utcnow() - oldest).total_seconds())),
            "failures": failures}


def list_messages(staff, delivery="failed", template=None, page=1, per_page=PER_PAGE):
    """One page of messages in a delivery state, newest first: (rows, total); names unmasked, for the serializer.

    Raises Invalid for an unknown state or template.
    """
    scope.require_role(staff, READERS)
    problems = {}
    if delivery not in DELIVERIES:
        problems["delivery"] = "应为 " + "、".join(DELIVERIES) + " 之一"
    if template and template not in templates.TEMPLATES:
        problems["template"] = "没有这个消息模板"
    if problems:
        raise Invalid("validation_error", "筛选条件有误", fields=problems)
    statement = select(Message).where(Message.delivery == delivery)
    if template:
        statement = statement.where(Message.template == template)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(statement.order_by(Message.id.desc()).offset((page - 1) * per_page)
                              .limit(per_page)).all()
    return _views(rows), total


def retry(staff, ids):
    """Put failed messages back in the queue (attempts 0, due now), audited, and commit.

    A no_grant one needs an unused grant of its recipient for its template again, which it spends.
    Returns {"retried": [ids], "skipped": [{"id", "reason", "message"}]}.
    """
    scope.require_role(staff, READERS)
    wanted = list(dict.fromkeys(int(i) for i in ids))[:MAX_RETRY]
    found = {m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(wanted))
                                                 .with_for_update())} if wanted else {}
    staff_ids = {m.staff_user_id for m in found.values() if m.recipient_kind == "staff"}
    links = dict(db.session.execute(select(StaffUser.id, StaffUser.worker_id)
                                    .where(StaffUser.id.in_(staff_ids))).all()) if staff_ids else {}
    retried, skipped, now = [], [], utcnow()
    for message_id in wanted:
        message = found.get(message_id)
        reason = _why_not(message, links)
        if reason is None and message.failure == "no_grant":
            grant_id = spend_grant(message.worker_id, message.template) if message.worker_id else None
            if grant_id is None:
                reason = "no_grant"
            else:
                message.grant_id = grant_id
        if reason is not None:
            skipped.append({"id": message_id, "reason": reason, "message": SKIP_REASONS[reason]})
            continue
        audit.record("staff", staff.id, "message.retry", "message", message.id, template=message.template,
                     failure=message.failure, errcode=message.errcode, attempts=message.attempts)
        message.delivery, message.attempts, message.next_attempt_at = "queued", 0, now
        message.failure = message.errcode = message.last_error = None
        message.claimed_by = message.claimed_until = None
        retried.append(message_id)
    db.session.commit()
    return {"retried": retried, "skipped": skipped}


def _why_not(message, links):
    if message is None:
        return "not_found"
    if message.delivery != "failed":
        return "not_failed"
    # A staff alert went to the mini-program login linked then; after an unlink or relink it must not follow.
    if message.recipient_kind == "staff" and links.get(message.staff_user_id) != message.worker_id:
        return "unlinked"
    return None


def _views(rows):
    """Rows as the office reads them: template title, recipient (the serializer masks the name), failure in words."""
    worker_ids = {m.worker_id for m in rows if m.recipient_kind == "worker" and m.worker_id}
    staff_ids = {m.staff_user_id for m in rows if m.staff_user_id}
    names = dict(db.session.execute(select(Worker.id, Worker.name).where(Worker.id.in_(worker_ids))).all()) \
        if worker_ids else {}
    staff_names = dict(db.session.execute(select(StaffUser.id, StaffUser.display_name)
                                          .where(StaffUser.id.in_(staff_ids))).all()) if staff_ids else {}
    now = utcnow()
    return [{
        "id": m.id, "template": m.template, "template_title": _title(m.template), "title": m.title,
        "recipient_kind": m.recipient_kind,
        "recipient_name": staff_names.get(m.staff_user_id) if m.recipient_kind == "staff" else names.get(m.worker_id),
        "delivery": m.delivery, "delivery_name": DELIVERY_NAMES.get(m.delivery, m.delivery),
        "failure": m.failure, "failure_name": failure_name(m.failure), "errcode": m.errcode,
        "attempts": m.attempts, "last_error": m.last_error, "created_at": m.created_at, "sent_at": m.sent_at,
        "next_attempt_at": m.next_attempt_at,
        "overdue": m.delivery == "queued" and m.next_attempt_at is not None
        and now - m.next_attempt_at > timedelta(minutes=10),
    } for m in rows]


def _title(key):
    template = templates.TEMPLATES.get(key)
    return template.title if template is not None else key
