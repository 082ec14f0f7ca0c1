"""Schema pieces shared by every face: the request base schema, and field types."""
import re
from datetime import UTC, datetime, timedelta

from apiflask import Schema
from apiflask.fields import AwareDateTime, Boolean, Date, DateTime, Integer, List, Nested, String
from apiflask.validators import Length, Range
from marshmallow import ValidationError, pre_load, validates_schema

from app.models.application import STATUSES
from app.services.platform.timeutil import LOCAL_ZONE, iso_local

MAX_ID = 2**31 - 1
# Unicode category Cc (C0 and C1 controls, DEL) except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class UtcDateTime(DateTime):
    """A stored naive-UTC moment, answered in Beijing time with its offset (2020-02-24T08:00:00+08:00)."""

    def __init__(self, **kwargs):
        metadata = {"example": "2020-02-24T08:00:00+08:00", **kwargs.pop("metadata", {})}
        metadata["description"] = (metadata.get("description", "") + "（北京时间，带 +08:00）").lstrip()
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return iso_local(value)


class LocalDateTime(AwareDateTime):
    """A moment from a client: ISO 8601; without an offset it means Beijing time. Kept within a year of now."""

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        if "北京时间" not in metadata.get("description", ""):
            metadata["description"] = (metadata.get("description", "") + "（ISO 8601，任意时区；不带时区按北京时间）").lstrip()
        super().__init__(default_timezone=LOCAL_ZONE, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        now = datetime.now(UTC)
        try:
            if abs(moment.astimezone(UTC) - now) > timedelta(days=366):
                raise ValidationError("时间应在当前前后一年之内")
        except OverflowError:
            raise ValidationError("时间超出范围") from None
        return moment


class RequestSchema(Schema):
    """Base of every request schema: text must be storable (valid UTF-8, no control characters)."""

    @pre_load
    def _clean_text(self, data, **kwargs):
        errors = {}
        _check_text(data, "", errors)
        if errors:
            raise ValidationError(errors)
        return data


def _check_text(value, path, errors):
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(item, f"{path}.{key}" if path else str(key), errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}.{index}" if path else str(index), errors)
    elif isinstance(value, str) and not _storable(value):
        errors[path or "_body"] = ["含有无法保存的字符（控制字符或无效编码）"]


def _storable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON "\ud800" escapes
        return False
    return _CONTROL.search(text) is None


class ApplicationOut(Schema):
    """A travel application as its worker and the reviewing staff see it (contact phone masked)."""


    id = Integer()
    direction = String()
    status = String(metadata={"description": " | ".join(STATUSES)})
    status_reason = String(allow_none=True)
    county_code = String()
    origin = String()
    origin_address = String(allow_none=True)
    destination_city = String()
    destination_address = String()
    employer_id = Integer(allow_none=True)
    employer_name = String(allow_none=True)
    employer_contact = String(attribute="employer_contact_mask", allow_none=True)
    earliest_departure = Date()
    latest_departure = Date()
    volunteer_captain = Boolean()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class ClearanceOut(Schema):
    """Clearance to start work (方可上岗), as the worker and the roster show it."""

    state = String(metadata={"description": "cleared 可上岗 | in_observation 观察中 | isolated 隔离中 | not_arrived 未到达"})
    reason = String()
    message = String()
    arrival_date = Date(allow_none=True)
    observation_ends_on = Date(allow_none=True, metadata={"description": "观察期最后一天，次日起可上岗"})
    follow_ups = Integer(metadata={"description": "观察期内随访次数"})
    abnormal_follow_ups = Integer()


class CertificateIssuerOut(Schema):
    """Who issued a health certificate: the deployment."""

    id = String(metadata={"description": "签发地（部署）代码，如 640100"})
    name = String(allow_none=True)


class CertificateCountyOut(Schema):
    """The county a health certificate speaks for."""

    code = String()
    name = String(allow_none=True)


class CertificateBasisOut(Schema):
    """What a health certificate was issued on."""

    status = String(metadata={"description": "签发时的健康状态 green | yellow | red"})
    observation = String(metadata={"description": "14天健康观察：none | in_progress | completed"})
    observation_until = String(allow_none=True, metadata={"description": "观察结束日期（进行中时）"})
    check_temperature = String(allow_none=True, metadata={"description": "行前体温检测（℃）"})
    check_at = String(allow_none=True, metadata={"description": "检测时间（北京时间 ISO 8601）"})


class CertificateOut(Schema):
    """A health certificate (健康证明) as this deployment issued it; the name is masked, the ID reduced to 4 digits."""

    serial = Integer(metadata={"description": "证明编号"})
    worker_id = Integer()
    issuer = Nested(CertificateIssuerOut)
    county = Nested(CertificateCountyOut)
    issued_at = String(metadata={"description": "签发时间（+08:00）"})
    valid_until = String(metadata={"description": "有效期至（+08:00）"})
    name = String(metadata={"description": "姓名（脱敏）"})
    id_last4 = String()
    basis = Nested(CertificateBasisOut)
    basis_text = List(String(), metadata={"description": "出具依据（中文）"})
    status = String(metadata={"description": "valid 有效 | revoked 已撤销 | expired 已过期"})
    revoked_at = String(allow_none=True)
    revoke_reason = String(allow_none=True)
    issued_by = String(metadata={"description": "staff 卫健人员签发 | rule 按规则自动签发"})
    text = String(metadata={"description": "二维码文本（FGC1: 开头）"})


# --- messages (the worker's inbox and the staff's notification list) ---------


class MarkReadIn(RequestSchema):
    """Mark one's own messages read: some by id, or all of them."""

    ids = List(Integer(validate=Range(1, MAX_ID)), validate=Length(1, 200), metadata={"description": "标为已读的消息 id"})
    all = Boolean(metadata={"description": "true：全部标为已读"})

    @validates_schema
    def _one_of(self, data, **kwargs):
        if bool(data.get("ids")) == bool(data.get("all")):
            raise ValidationError("请提交 ids 或 all: true 二者之一", "ids")


class MarkedOut(Schema):
    """How many were marked, and how many stay unread."""

    marked = Integer(metadata={"description": "本次标为已读的条数（不属于自己的 id 不计）"})
    unread = Integer()
