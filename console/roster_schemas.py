"""Request and response schemas of rosters, follow-ups, isolation orders and their exports.

Names, ID numbers and phones are masked here (the serializer), whatever the service holds.
"""
from apiflask import Schema
from apiflask.fields import Boolean, Date, Float, Function, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import ValidationError

from app.models.employment import TRANSPORTS
from app.schema_fields import MAX_ID, ClearanceOut, RequestSchema, UtcDateTime
from app.services.employment.isolation import KINDS, STATUSES
from app.services.employment.roster import ARRIVAL_STATUSES, SOURCES
from app.services.people.clearance import STATES
from app.services.people.health_rules import SYMPTOMS
from app.services.people.identity import mask_name
from app.services.platform.timeutil import local_today

_ID = Range(1, MAX_ID)
_TEXT = Regexp(r"\S", error="不能为空")


def _near(day):
    """Dates within a year of today: nothing else is a plausible arrival, check or isolation day."""
    if abs((day - local_today()).days) > 366:
        raise ValidationError("日期应在当前前后一年之内")


def _near_date(**kwargs):
    return Date(validate=_near, **kwargs)


class _Paging(RequestSchema):
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=100, validate=Range(1, 1000))


# --- roster ------------------------------------------------------------------


class RosterFilterIn(_Paging):
    clearance = String(validate=OneOf(STATES), metadata={"description": "上岗状态"})
    arrival_status = String(validate=OneOf(ARRIVAL_STATUSES), metadata={"description": "到达状态"})
    source = String(validate=OneOf(SOURCES), metadata={"description": "trip 点对点车次 | self 零散返岗"})


class RosterExportIn(RequestSchema):
    clearance = String(validate=OneOf(STATES))
    arrival_status = String(validate=OneOf(ARRIVAL_STATUSES))
    source = String(validate=OneOf(SOURCES))


class RosterHealthOut(Schema):
    status = String(metadata={"description": "green | yellow | red | unknown"})
    reason = String()
    message = String()


class RosterRowOut(Schema):
    worker_id = Function(lambda row: row.worker.id)
    name = Function(lambda row: mask_name(row.worker.name), metadata={"description": "脱敏"})
    id_number = Function(lambda row: row.worker.id_number_mask, metadata={"description": "脱敏"})
    mobile = Function(lambda row: row.worker.mobile_mask, metadata={"description": "脱敏"})
    origin = String(metadata={"description": "从何处返回"})
    arrival_date = Date(allow_none=True, metadata={"description": "已到达为到达日期，否则为预计日期"})
    transport = String(metadata={"description": " | ".join(TRANSPORTS)})
    transport_number = String(allow_none=True, metadata={"description": "车牌、车次或航班号"})
    source = String(metadata={"description": "trip | self"})
    trip_id = Integer(allow_none=True)
    arrival_status = String(metadata={"description": " | ".join(ARRIVAL_STATUSES)})
    health = Nested(RosterHealthOut)
    clearance = Nested(ClearanceOut)
    registered_at = UtcDateTime(allow_none=True)


class RosterEnterpriseOut(Schema):
    id = Integer()
    name = String()
    county_code = String()
    park_id = Integer(allow_none=True)


class RosterPageOut(Schema):
    enterprise = Nested(RosterEnterpriseOut)
    items = List(Nested(RosterRowOut))
    total = Integer()
    page = Integer()
    per_page = Integer()


class RegisterIn(RequestSchema):
    name = String(required=True, validate=[Length(1, 50), _TEXT])
    id_number = String(required=True, validate=Length(1, 32), metadata={"description": "18位身份证号"})
    phone = String(required=True, validate=Length(1, 20), metadata={"description": "手机号"})
    origin = String(required=True, validate=[Length(1, 128), _TEXT], metadata={"description": "从何处返回"})
    arrival_date = _near_date(required=True, metadata={"description": "返回日期，不晚于今天"})
    transport = String(required=True, validate=OneOf(TRANSPORTS),
                       metadata={"description": "bus 客车 | train 火车 | flight 飞机 | car 自驾 | other 其他"})
    transport_number = String(validate=Length(1, 32), metadata={"description": "车次、航班号或车牌号"})


class RegisteredOut(RosterRowOut):
    """A registered returnee as a response of its own (rows are also nested in pages)."""


# --- follow-ups --------------------------------------------------------------


class FollowUpIn(RequestSchema):
    date = _near_date(metadata={"description": "随访日期，默认今天"})
    temperature = Float(required=True, validate=Range(34.0, 43.0), metadata={"description": "℃"})
    symptoms = List(String(validate=OneOf(list(SYMPTOMS))), load_default=list, validate=Length(max=len(SYMPTOMS)),
                    metadata={"description": "可选：" + "、".join(f"{k}（{v}）" for k, v in SYMPTOMS.items())})
    note = String(validate=Length(1, 255))


class FollowUpOut(Schema):
    id = Integer()
    worker_id = Integer()
    date = Date()
    temperature = Float(allow_none=True)
    symptoms = List(String())
    note = String(allow_none=True)
    abnormal = Boolean(metadata={"description": "发热或有症状"})
    recorded_at = UtcDateTime()
    isolation_order_id = Integer(allow_none=True, metadata={"description": "异常时开出的待处理隔离单"})


class FollowUpListOut(Schema):
    items = List(Nested(FollowUpOut))


class RecordedFollowUpOut(FollowUpOut):
    """A follow-up just recorded, as a response of its own."""


# --- isolation ---------------------------------------------------------------


class IsolationFilterIn(_Paging):
    status = String(validate=OneOf(STATUSES))
    kind = String(validate=OneOf(KINDS))
    worker_id = Integer(validate=_ID)


class IsolationExportIn(RequestSchema):
    status = String(validate=OneOf(STATUSES))
    kind = String(validate=OneOf(KINDS))
    full_ids = Boolean(load_default=False, metadata={"description": "显示完整身份证号（仅卫健、管理员；留痕）"})


class IsolationDecisionIn(RequestSchema):
    kind = String(required=True, validate=OneOf(KINDS), metadata={"description": "home 居家 | centralized 集中"})
    place = String(required=True, validate=[Length(1, 128), _TEXT], metadata={"description": "隔离地点"})
    starts_on = _near_date(metadata={"description": "默认今天"})
    ends_on = _near_date(metadata={"description": "默认开始后观察期天数"})
    note = String(validate=Length(1, 255))


class IsolationOpenIn(IsolationDecisionIn):
    worker_id = Integer(required=True, validate=_ID)


class IsolationReleaseIn(RequestSchema):
    note = String(validate=Length(1, 255))


class IsolationDismissIn(RequestSchema):
    note = String(required=True, validate=Length(1, 255), metadata={"description": "撤销原因，如体温录入错误"})


class OrderWorkerOut(Schema):
    id = Integer()
    name = Function(lambda worker: mask_name(worker.name))
    id_number = String(attribute="id_number_mask", allow_none=True)
    mobile = String(attribute="mobile_mask", allow_none=True)


class IsolationOrderOut(Schema):
    id = Integer()
    worker = Nested(OrderWorkerOut)
    status = String(metadata={"description": " | ".join(STATUSES)})
    kind = String(allow_none=True)
    reason = String()
    place = String(allow_none=True)
    starts_on = Date(allow_none=True)
    ends_on = Date(allow_none=True)
    note = String(allow_none=True)
    trip_id = Integer(allow_none=True)
    checkpoint_id = Integer(allow_none=True)
    scan_event_id = Integer(allow_none=True)
    health_event_id = Integer(allow_none=True)
    opened_at = UtcDateTime()
    opened_by = Integer(allow_none=True)
    decided_by = Integer(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    closed_by = Integer(allow_none=True)


class IsolationPageOut(Schema):
    items = List(Nested(IsolationOrderOut))
    total = Integer()
    page = Integer()
    per_page = Integer()


class DecidedOrderOut(IsolationOrderOut):
    """One isolation order as a response of its own."""


# --- exports -----------------------------------------------------------------


class Attachment3In(RequestSchema):
    enterprise_id = Integer(validate=_ID)
    date_from = _near_date(metadata={"description": "返回日期起"})
    date_to = _near_date(metadata={"description": "返回日期止"})

