"""Request and response schemas of the console API."""
from apiflask import Schema
from apiflask.fields import Boolean, Date, Float, Integer, List, Nested, String, Time
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import ValidationError, validates_schema

from app.models.application import DIRECTIONS, STATUSES
from app.schema_fields import MAX_ID, ApplicationOut, LocalDateTime, RequestSchema, UtcDateTime

_ID = Range(1, MAX_ID)


class StaffLoginIn(RequestSchema):
    username = String(required=True, validate=Length(1, 64))
    password = String(required=True, validate=Length(1, 256))


class StaffOut(Schema):
    id = Integer()
    username = String()
    display_name = String()
    role = String()
    county_code = String(allow_none=True)
    park_id = Integer(allow_none=True)
    enterprise_id = Integer(allow_none=True)
    checkpoint_id = Integer(allow_none=True)


class StaffLoginOut(Schema):
    token = String()
    expires_in = Integer()
    staff = Nested(StaffOut)


# --- review ------------------------------------------------------------------


class ApplicationFilterIn(RequestSchema):
    direction = String(validate=OneOf(DIRECTIONS))
    status = String(validate=OneOf(STATUSES))
    county_code = String(validate=Regexp(r"\A[0-9]{6}\Z", error="应为6位县区代码"))
    origin = String(validate=Length(1, 64))
    destination = String(validate=Length(1, 64))
    date_from = Date()
    date_to = Date()
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=50, validate=Range(1, 500))


class WorkerBriefOut(Schema):
    id = Integer()
    name = String(allow_none=True)
    id_number = String(allow_none=True, metadata={"description": "脱敏"})
    mobile = String(allow_none=True, metadata={"description": "脱敏"})
    gender = String(allow_none=True)


class ReviewedApplicationOut(ApplicationOut):
    worker = Nested(WorkerBriefOut)


class ApplicationPageOut(Schema):
    items = List(Nested(ReviewedApplicationOut))
    total = Integer()
    page = Integer()
    per_page = Integer()


class DecisionIn(RequestSchema):
    reason = String(validate=Length(1, 255))


class TripCancelIn(RequestSchema):
    reason = String(required=True, validate=Length(1, 255), metadata={"description": "取消原因，告知每位乘客"})


class BulkDecisionIn(RequestSchema):
    ids = List(Integer(validate=_ID), required=True, validate=Length(1, 500))
    decision = String(required=True, validate=OneOf(("approve", "reject")))
    reason = String(validate=Length(1, 255))


class DecidedApplicationOut(ReviewedApplicationOut):
    """One application as a response of its own (the base is also nested in pages)."""


class BulkResultOut(Schema):
    id = Integer()
    ok = Boolean()
    status = String()
    code = String()
    message = String()


class BulkDecisionOut(Schema):
    results = List(Nested(BulkResultOut))


# --- planning ----------------------------------------------------------------


class VehicleTypeIn(RequestSchema):
    name = String(required=True, validate=Length(1, 32))
    seats = Integer(required=True, validate=Range(1, 80))
    count = Integer(required=True, validate=Range(1, 10000), metadata={"description": "每天可用辆数"})


class PlanIn(RequestSchema):
    date_from = Date(required=True)
    date_to = Date(required=True)
    vehicle_types = List(Nested(VehicleTypeIn), required=True, validate=Length(1, 10))
    load_factor = Float(load_default=0.5, validate=Range(0.05, 1.0), metadata={"description": "核定载客率"})
    departure_time = Time(metadata={"description": "默认发车时间，默认 08:00"})
    direction = String(validate=OneOf(DIRECTIONS))
    notice = String(validate=Length(1, 4000), metadata={"description": "防疫须知"})
    county_code = String(validate=Regexp(r"\A[0-9]{6}\Z", error="应为6位县区代码"),
                         metadata={"description": "管理员：编班的县区（与园区二选一）；其他角色只能填本县区，否则 403 plan_out_of_scope"})
    park_id = Integer(validate=_ID, metadata={"description": "管理员：编班的园区；其他角色只能填本园区，否则 403 plan_out_of_scope"})


class PassengerOut(Schema):
    seat_id = Integer()
    seat_no = Integer()
    status = String()
    application_id = Integer()
    worker_id = Integer()
    name = String(allow_none=True)
    id_number = String(allow_none=True)
    mobile = String(allow_none=True)
    employer = String(allow_none=True)


class TripOut(Schema):
    id = Integer()
    plan_id = Integer()
    convoy_id = Integer()
    status = String()
    direction = String()
    origin = String()
    destination = String()
    departure_date = Date()
    departure_time = Time()
    departure_place = String(allow_none=True)
    route = String(allow_none=True)
    vehicle_type = String()
    seats = Integer()
    capacity = Integer()
    plate = String(allow_none=True)
    driver_name = String(allow_none=True)
    driver_phone = String(attribute="driver_phone_mask", allow_none=True)
    responsible_name = String(allow_none=True)
    responsible_phone = String(attribute="responsible_phone_mask", allow_none=True)
    medic_name = String(allow_none=True)
    medic_phone = String(attribute="medic_phone_mask", allow_none=True)
    captain_worker_id = Integer(allow_none=True)
    vice_captain_worker_id = Integer(allow_none=True)
    notice = String(allow_none=True)
    arrival_checkpoint_id = Integer(allow_none=True)
    expected_arrival_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    passengers = List(Nested(PassengerOut))


class StaffTripOut(TripOut):
    """One trip as a response of its own (TripOut is also nested in lists and plans)."""


class TripReopenedOut(Schema):
    trip = Nested(StaffTripOut)
    restored_serials = List(Integer(), metadata={"description": "恢复座位的新二维码序列号（旧序列号仍作废）"})
    left_out_application_ids = List(Integer(), metadata={
        "description": "结束后已另行编班、取消或驳回而未恢复的报名"})


class ConvoyOut(Schema):
    id = Integer()
    direction = String()
    origin = String()
    destination = String()
    departure_date = Date()
    leader_worker_id = Integer(allow_none=True)


class UnplacedOut(Schema):
    application_id = Integer()
    reason = String()


class PlanOut(Schema):
    id = Integer()
    status = String()
    county_code = String(allow_none=True)
    park_id = Integer(allow_none=True)
    date_from = Date()
    date_to = Date()
    load_factor = Float()
    vehicle_types = List(Nested(VehicleTypeIn))
    notice = String(allow_none=True)
    created_by = Integer()
    created_at = UtcDateTime()
    published_by = Integer(allow_none=True)
    published_at = UtcDateTime(allow_none=True)
    convoys = List(Nested(ConvoyOut))
    trips = List(Nested(TripOut))
    unplaced = List(Nested(UnplacedOut))
    dropped = List(Integer())
    vehicles = Integer()
    version = Integer(metadata={"description": "方案版本：每次调整、发布、作废加一；修改时带上可防止覆盖他人的修改"})


_VERSION = Integer(validate=Range(1, MAX_ID), metadata={
    "description": "可选：页面显示时的方案版本；方案已被他人修改则 409 plan_changed，不做任何修改"})


class MoveIn(RequestSchema):
    application_id = Integer(required=True, validate=_ID)
    trip_id = Integer(validate=_ID, metadata={"description": "调到同方案的该车次（与 role 二选一）"})
    role = String(validate=OneOf(("captain", "vice_captain")),
                  metadata={"description": "任命为本车车长 captain / 副车长 vice_captain（与 trip_id 二选一）"})
    version = _VERSION

    @validates_schema
    def _one_change(self, data, **kwargs):
        if ("trip_id" in data) == ("role" in data):
            raise ValidationError("trip_id（调车）与 role（任命车长、副车长）二选一", "trip_id")


class PlanVersionIn(RequestSchema):
    version = _VERSION


class TripPatchIn(RequestSchema):
    plate = String(validate=Length(1, 16), allow_none=True)
    driver_name = String(validate=Length(1, 50), allow_none=True)
    driver_phone = String(validate=Length(1, 20), allow_none=True)
    responsible_name = String(validate=Length(1, 50), allow_none=True, metadata={"description": "跟车负责人"})
    responsible_phone = String(validate=Length(1, 20), allow_none=True)
    medic_name = String(validate=Length(1, 50), allow_none=True, metadata={"description": "随车医务人员"})
    medic_phone = String(validate=Length(1, 20), allow_none=True)
    departure_time = Time()
    departure_place = String(validate=Length(1, 255), allow_none=True)
    route = String(validate=Length(1, 255), allow_none=True)
    notice = String(validate=Length(1, 4000), allow_none=True)
    captain_worker_id = Integer(validate=_ID, metadata={"description": "车长：本车乘客之一，不能为空"})
    vice_captain_worker_id = Integer(validate=_ID, allow_none=True)
    arrival_checkpoint_id = Integer(validate=_ID, allow_none=True, metadata={"description": "到达卡口"})
    expected_arrival_at = LocalDateTime(allow_none=True, metadata={"description": "预计到达，不带时区按北京时间"})


class TripListIn(RequestSchema):
    date = Date()
    status = String(validate=OneOf(("draft", "published", "departed", "arrived", "closed", "cancelled")))


class ManifestExportIn(RequestSchema):
    convoy = Boolean(load_default=False, metadata={"description": "导出该车次所在班组的全部车辆"})


class StaffTripListOut(Schema):
    items = List(Nested(TripOut))
