"""Request and response schemas of the mini-program API.

Requests accept only the declared fields (marshmallow raises on unknown ones).
Responses are dumped from models field by field; identity fields come out masked.
"""
from apiflask import Schema
from apiflask.fields import Boolean, Date, Float, Integer, List, Method, Nested, String, Time
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import ValidationError

from app.models.application import DIRECTIONS
from app.schema_fields import MAX_ID, ApplicationOut, ClearanceOut, RequestSchema, UtcDateTime
from app.services.people.health_rules import SYMPTOMS

# Han characters (basic, extension A and the supplementary planes), letters, and the middle dot of
# minority names.
# Literal characters, not \u escapes, so the pattern means the same in the OpenAPI document.
_NAME_CHARS = Regexp("^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134fA-Za-z·• ]{2,30}$",
                     error="姓名应为2到30个汉字或字母")


def _not_blank(value):
    # `$` in the pattern lets one trailing newline through; names hold no line breaks at all.
    if not value.strip(" ·•") or "\n" in value or "\t" in value:
        raise ValidationError("姓名应为2到30个汉字或字母")


_NAME = [_NAME_CHARS, _not_blank]


# --- session -----------------------------------------------------------------


class LoginIn(RequestSchema):
    code = String(required=True, validate=Length(1, 128),
                  metadata={"description": "wx.login() 得到的 code；未配置微信时可用 dev:<名字>"})


class WorkerOut(Schema):
    id = Integer()
    name = String(allow_none=True)
    id_number = String(attribute="id_number_mask", allow_none=True, metadata={"description": "脱敏"})
    mobile = String(attribute="mobile_mask", allow_none=True, metadata={"description": "脱敏"})
    mobile_verified = Boolean(metadata={"description": "手机号是否经微信验证（手动填写为 false）"})
    gender = String(allow_none=True)
    birth_date = Date(allow_none=True)
    hometown_county = String(allow_none=True)
    hometown_township = String(allow_none=True)
    current_address = String(allow_none=True)
    skills = List(String(), allow_none=True)
    job_intention = String(allow_none=True)
    employer_id = Integer(allow_none=True)
    employer_name = String(allow_none=True)
    consent_version = String(allow_none=True)
    consent_at = UtcDateTime(allow_none=True)
    profile_complete = Method("_complete")
    missing = Method("_missing", metadata={"description": "报名前还需填写的字段"})

    def _missing(self, worker):
        from app.services.people.workers import missing_fields

        return missing_fields(worker)

    def _complete(self, worker):
        return not self._missing(worker)


class LoginWorkerOut(WorkerOut):
    # The birth date stays in /me: the login answer is what a client keeps around, and beside the
    # ID mask the birth date would complete the number.
    class Meta:
        exclude = ("birth_date",)


class LoginOut(Schema):
    token = String()
    expires_in = Integer(metadata={"description": "秒"})
    worker = Nested(LoginWorkerOut)


class PrivacyNoticeOut(Schema):
    version = String()
    text = String()


# --- profile -----------------------------------------------------------------


class ProfileIn(RequestSchema):
    consent_version = String(validate=Length(1, 32), metadata={"description": "同意的隐私说明版本"})
    name = String(validate=_NAME)
    id_number = String(validate=Length(1, 32), metadata={"description": "18位身份证号"})
    mobile = String(validate=Length(1, 20), metadata={"description": "11位手机号"})
    hometown_county = String(validate=Length(1, 64))
    hometown_township = String(validate=Length(1, 64))
    current_address = String(validate=Length(1, 255))
    skills = List(String(validate=Length(1, 32)), validate=Length(max=20), allow_none=True)
    job_intention = String(validate=Length(max=255), allow_none=True)
    employer_id = Integer(validate=Range(1, MAX_ID), allow_none=True)
    employer_name = String(validate=Length(max=128), allow_none=True)


class PhoneIn(RequestSchema):
    code = String(required=True, validate=Length(1, 128),
                  metadata={"description": "getPhoneNumber 得到的 code；未配置微信时可用 dev:<11位手机号>"})


# --- health ------------------------------------------------------------------


class DeclarationIn(RequestSchema):
    temperature = Float(required=True, validate=Range(34.0, 43.0), metadata={"description": "℃"})
    symptoms = List(String(validate=OneOf(list(SYMPTOMS))), load_default=list, validate=Length(max=len(SYMPTOMS)),
                    metadata={"description": "可选：" + "、".join(f"{k}（{v}）" for k, v in SYMPTOMS.items())})
    contact_with_case = Boolean(required=True, metadata={"description": "是否接触过确诊或疑似病例"})
    places = List(String(validate=Length(1, 64)), load_default=list, validate=Length(max=30),
                  metadata={"description": "近14天途经地"})


class HealthEventOut(Schema):
    id = Integer()
    kind = String()
    occurred_at = UtcDateTime()
    temperature = Float(allow_none=True)
    symptoms = List(String(), allow_none=True)
    contact_with_case = Boolean(allow_none=True)
    places = List(String(), allow_none=True)
    actor_kind = String(metadata={"description": "worker | captain | staff"})
    actor = String(metadata={"description": "记录人：本人、车长、卡口工作人员"})
    location = String(allow_none=True)
    note = String(allow_none=True)


class HealthStatusOut(Schema):
    status = String(metadata={"description": "green | yellow | red | unknown"})
    reason = String()
    message = String()
    since = UtcDateTime(allow_none=True)
    until = UtcDateTime(allow_none=True)


class DeclarationOut(Schema):
    event = Nested(HealthEventOut)
    health = Nested(HealthStatusOut)


class HealthOut(HealthStatusOut):
    history = List(Nested(HealthEventOut))
    clearance = Nested(ClearanceOut)


# --- applications ------------------------------------------------------------


class ApplicationIn(RequestSchema):
    direction = String(required=True, validate=OneOf(DIRECTIONS),
                       metadata={"description": "outbound 外出务工 | inbound 返岗来银"})
    county_code = String(required=True, validate=Regexp(r"\A[0-9]{6}\Z", error="应为6位县区代码"),
                         metadata={"description": "负责的银川县区代码：外出为出发县区，返岗为目的县区"})
    origin = String(required=True, validate=Length(1, 64), metadata={"description": "出发地（市县）"})
    origin_address = String(validate=Length(1, 255), metadata={"description": "上车地点"})
    destination_city = String(required=True, validate=Length(1, 64))
    destination_address = String(required=True, validate=Length(1, 255))
    employer_id = Integer(validate=Range(1, MAX_ID))
    employer_name = String(validate=Length(1, 128))
    employer_contact = String(validate=Length(1, 20), metadata={"description": "用工单位联系电话"})
    earliest_departure = Date(required=True)
    latest_departure = Date(required=True)
    volunteer_captain = Boolean(load_default=False, metadata={"description": "愿意担任车长"})


class ApplicationListOut(Schema):
    items = List(Nested(ApplicationOut))


# --- reference data ----------------------------------------------------------


class NamedOut(Schema):
    code = String()
    name = String()


class EnterpriseOut(Schema):
    id = Integer()
    name = String()
    county_code = String()
    work_location = String(allow_none=True)


class ReferenceOut(Schema):
    counties = List(Nested(NamedOut))
    enterprises = List(Nested(EnterpriseOut))
    symptoms = List(Nested(NamedOut))
    privacy_notice_version = String()


# --- trips -------------------------------------------------------------------


class TripSummaryOut(Schema):
    id = Integer()
    status = String()
    direction = String()
    origin = String()
    destination = String()
    departure_date = Date()
    departure_time = Time()
    departure_place = String(allow_none=True)
    plate = String(allow_none=True)
    seat_no = Integer()


class TripListOut(Schema):
    items = List(Nested(TripSummaryOut))


class CrewOut(Schema):
    name = String(allow_none=True)
    phone = String(allow_none=True, metadata={"description": "车长为完整号码（仅本车乘客、车次结束前可见），副车长为脱敏号码"})
    is_me = Boolean()


class ConvoyBriefOut(Schema):
    id = Integer()
    destination = String()
    departure_date = Date()
    vehicles = Integer()


class TripDetailOut(TripSummaryOut):
    route = String(allow_none=True)
    vehicle_type = String()
    convoy = Nested(ConvoyBriefOut)
    captain = Nested(CrewOut, allow_none=True)
    vice_captain = Nested(CrewOut, allow_none=True)
    notice = String(allow_none=True, metadata={"description": "防疫须知"})
    serial = Integer()


class CredentialOut(Schema):
    text = String(metadata={"description": "二维码内容：FG1: 前缀 + base45(载荷 + Ed25519 签名)"})
    serial = Integer()
    valid_from = Integer(metadata={"description": "Unix 秒"})
    valid_until = Integer()


def trip_summary(trip, seat):
    """The list view of a worker's trip."""
    return {"id": trip.id, "status": trip.status, "direction": trip.direction, "origin": trip.origin,
            "destination": trip.destination, "departure_date": trip.departure_date,
            "departure_time": trip.departure_time, "departure_place": trip.departure_place,
            "plate": trip.plate, "seat_no": seat.seat_no}


def trip_detail(details):
    """The detail view of a worker's trip from `travel.trip_details`."""
    trip, seat, convoy = details["trip"], details["seat"], details["convoy"]
    return {**trip_summary(trip, seat), "route": trip.route, "vehicle_type": trip.vehicle_type,
            "notice": trip.notice, "serial": seat.serial,
            "convoy": {"id": convoy.id, "destination": convoy.destination,
                       "departure_date": convoy.departure_date, "vehicles": details["convoy_size"]},
            "captain": details["captain"], "vice_captain": details["vice_captain"]}
