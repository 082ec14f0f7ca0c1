"""Request and response schemas of the mini-program's messages, subscriptions and staff link (消息与订阅)."""
from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Method, Nested, String
from apiflask.validators import Length, Range, Regexp
from marshmallow import ValidationError, validates_schema

from app.schema_fields import MAX_ID, MarkedOut, MarkReadIn, RequestSchema, UtcDateTime
from app.services.people.identity import mask_name

MAX_RESULTS = 20  # wx.requestSubscribeMessage takes at most 3 ids at a time; room for a few calls' results


class OfferOut(Schema):
    key = String(metadata={"description": "消息类型，如 trip_assigned"})
    template_id = String(metadata={"description": "传给 wx.requestSubscribeMessage 的 tmplIds"})
    title = String()


class SubscriptionsOut(Schema):
    templates = List(Nested(OfferOut), metadata={"description": "请用户授权的订阅消息模板（已配置的）"})
    unused = Dict(keys=String(), values=Integer(), metadata={"description": "每类消息尚未用掉的一次性授权数"})


class SubscriptionResultsIn(RequestSchema):
    results = Dict(keys=String(validate=Length(1, 64)), values=String(validate=Length(1, 200)), required=True,
                   metadata={"description": "wx.requestSubscribeMessage 成功回调的结果原样提交："
                                            "{模板id: accept|reject|ban|filter, errMsg: …}（errMsg 忽略）"})

    @validates_schema
    def _not_too_many(self, data, **kwargs):
        if len(data.get("results") or {}) > MAX_RESULTS:
            raise ValidationError(f"一次最多提交 {MAX_RESULTS} 项", "results")


class SubscriptionsSavedOut(Schema):
    unused = Dict(keys=String(), values=Integer(), metadata={"description": "每类消息尚未用掉的一次性授权数"})


class MessagesQueryIn(RequestSchema):
    unread = Boolean(load_default=False, metadata={"description": "1：只看未读"})
    before = Integer(validate=Range(1, MAX_ID), metadata={"description": "翻页游标：上一页返回的 next_before"})
    limit = Integer(load_default=20, validate=Range(1, 50))


class MessageOut(Schema):
    id = Integer()
    template = String(metadata={"description": "消息类型"})
    title = String()
    body = String(metadata={"description": "正文（每行“名称：内容”）"})
    page = String(allow_none=True, metadata={"description": "点开后跳转的小程序页面"})
    created_at = UtcDateTime()
    read = Boolean()


class MessagesOut(Schema):
    items = List(Nested(MessageOut))
    unread = Integer(metadata={"description": "未读总数"})
    next_before = Integer(allow_none=True, metadata={"description": "下一页传 before=该值；null 表示没有更多"})


class StaffLinkIn(RequestSchema):
    code = String(required=True, validate=Regexp(r"^[0-9]{6}\Z", error="绑定码为6位数字"),
                  metadata={"description": "控制台“通知”页生成的6位绑定码（10分钟内有效）"})


class StaffLinkOut(Schema):
    linked = Boolean()
    staff_name = Method("_staff_name", metadata={"description": "绑定的控制台账号姓名（脱敏）"})
    role = String(allow_none=True)

    def _staff_name(self, status):
        return mask_name(status["staff_name"]) or None
