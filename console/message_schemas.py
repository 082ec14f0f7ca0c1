"""Request and response schemas of the console's notifications (通知), deliveries (消息发送) and mini-program link."""
from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Method, Nested, String
from apiflask.validators import Length, OneOf, Range

from app.models.messages import DELIVERIES
from app.schema_fields import MAX_ID, MarkedOut, MarkReadIn, RequestSchema, UtcDateTime
from app.services.messaging.templates import TEMPLATES
from app.services.people.identity import mask_name


class NotificationsQueryIn(RequestSchema):
    unread = Boolean(load_default=False, metadata={"description": "true：只看未读"})
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=20, validate=Range(1, 100))


class NotificationOut(Schema):
    id = Integer()
    title = String(metadata={"description": "提醒类别"})
    body = String()
    created_at = UtcDateTime()
    read = Boolean()


class NotificationsOut(Schema):
    items = List(Nested(NotificationOut))
    total = Integer()
    unread = Integer(metadata={"description": "未读总数"})
    page = Integer()
    per_page = Integer()


class DeliveriesQueryIn(RequestSchema):
    delivery = String(load_default="failed", validate=OneOf(DELIVERIES))
    template = String(validate=OneOf(tuple(TEMPLATES)))
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=50, validate=Range(1, 200))


class DeliveryOut(Schema):
    id = Integer()
    template = String()
    template_title = String(metadata={"description": "模板标题"})
    title = String()
    recipient_kind = String(metadata={"description": "worker | staff"})
    recipient = Method("_recipient", metadata={"description": "收件人（姓名脱敏；工作人员前加“工作人员”）"})
    delivery = String(metadata={"description": "inbox | queued | sending | sent | failed"})
    delivery_name = String()
    failure = String(allow_none=True, metadata={"description": "失败原因代码：no_grant、bad_data、gave_up…"})
    failure_name = String(allow_none=True, metadata={"description": "失败原因：用户未授权、数据不合规、已放弃重试…"})
    errcode = Integer(allow_none=True, metadata={"description": "微信返回的 errcode"})
    attempts = Integer()
    last_error = String(allow_none=True)
    created_at = UtcDateTime()
    sent_at = UtcDateTime(allow_none=True)
    next_attempt_at = UtcDateTime(allow_none=True)

    def _recipient(self, row):
        return recipient_text(row)


class DeliveriesOut(Schema):
    counts = Dict(keys=String(), values=Integer(), metadata={"description": "各发送状态的消息数"})
    oldest_queued_seconds = Integer(allow_none=True, metadata={"description": "最早一条待发送消息已等待的秒数"})
    items = List(Nested(DeliveryOut))
    total = Integer()
    page = Integer()
    per_page = Integer()


class RetryIn(RequestSchema):
    ids = List(Integer(validate=Range(1, MAX_ID)), required=True, validate=Length(1, 200))


class SkippedOut(Schema):
    id = Integer()
    reason = String(metadata={"description": "not_found | not_failed | no_grant | unlinked"})
    message = String()


class RetryOut(Schema):
    retried = List(Integer(), metadata={"description": "已放回发送队列的消息 id"})
    skipped = List(Nested(SkippedOut))


class LinkCodeOut(Schema):
    code = String(metadata={"description": "6位绑定码：在小程序“我的 → 工作人员绑定”中输入"})
    expires_in = Integer(metadata={"description": "有效秒数"})


class LinkStatusOut(Schema):
    linked = Boolean()
    worker_name = Method("_worker_name", metadata={"description": "绑定的小程序用户姓名（脱敏；未填姓名时为空）"})

    def _worker_name(self, status):
        return mask_name(status["worker_name"]) or None


def recipient_text(row):
    """A delivery's recipient as the office sees it: 张*丰, or 工作人员 刘*任 (the page says the same)."""
    name = mask_name(row["recipient_name"]) or "未填姓名"
    return f"工作人员 {name}" if row["recipient_kind"] == "staff" else name
