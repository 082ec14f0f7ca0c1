"""Request and response schemas of the office's console routes: liaison list, dashboard, feeds."""
from datetime import date

from apiflask import Schema
from apiflask.fields import Boolean, Date, Dict, Integer, List, Nested, String
from apiflask.validators import Length, Range, Regexp

from app.schema_fields import MAX_ID, RequestSchema, UtcDateTime
from app.services.office.liaison import mask_wechat

_ID = Range(1, MAX_ID)
_COUNTY = Regexp(r"\A[0-9]{6}\Z", error="应为6位县区代码")
_COUNTS = {"keys": String(), "values": Integer()}
_DAY = Range(date(2000, 1, 1), date(2099, 12, 31))


# --- liaison list (附件1) -----------------------------------------------------


class LiaisonUnitIn(RequestSchema):
    unit_name = String(required=True, validate=Length(1, 128), metadata={"description": "单位名称"})
    leader_name = String(required=True, validate=Length(1, 50), metadata={"description": "分管领导"})
    leader_office_phone = String(validate=Length(1, 32), allow_none=True, metadata={"description": "办公电话"})
    leader_mobile = String(validate=Length(1, 20), allow_none=True, metadata={"description": "手机号，加密存储"})
    liaison_name = String(required=True, validate=Length(1, 50), metadata={"description": "联络员"})
    liaison_office_phone = String(validate=Length(1, 32), allow_none=True)
    liaison_mobile = String(validate=Length(1, 20), allow_none=True)
    liaison_wechat = String(validate=Length(1, 64), allow_none=True, metadata={"description": "微信号"})


class LiaisonUnitPatchIn(RequestSchema):
    unit_name = String(validate=Length(1, 128))
    leader_name = String(validate=Length(1, 50))
    leader_office_phone = String(validate=Length(1, 32), allow_none=True)
    leader_mobile = String(validate=Length(1, 20), allow_none=True)
    liaison_name = String(validate=Length(1, 50))
    liaison_office_phone = String(validate=Length(1, 32), allow_none=True)
    liaison_mobile = String(validate=Length(1, 20), allow_none=True)
    liaison_wechat = String(validate=Length(1, 64), allow_none=True)


class LiaisonOrderIn(RequestSchema):
    ids = List(Integer(validate=_ID), required=True, validate=Length(1, 1000),
               metadata={"description": "全部单位编号，按新的序号排列"})


class MaskedWechat(String):
    """A WeChat ID shown masked (wx****01)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return mask_wechat(value)


class LiaisonUnitOut(Schema):
    id = Integer()
    position = Integer(metadata={"description": "序号"})
    unit_name = String()
    leader_name = String()
    leader_office_phone = String(allow_none=True)
    leader_mobile = String(attribute="leader_mobile_mask", allow_none=True, metadata={"description": "脱敏"})
    liaison_name = String()
    liaison_office_phone = String(allow_none=True)
    liaison_mobile = String(attribute="liaison_mobile_mask", allow_none=True, metadata={"description": "脱敏"})
    liaison_wechat = MaskedWechat(allow_none=True, metadata={"description": "脱敏"})
    updated_at = UtcDateTime()


class LiaisonUnitSavedOut(LiaisonUnitOut):
    """One unit as a response of its own (the base is also nested in the list)."""


class LiaisonListOut(Schema):
    items = List(Nested(LiaisonUnitOut))


# --- dashboard ----------------------------------------------------------------


class StatsIn(RequestSchema):
    county = String(validate=_COUNTY, metadata={"description": "县区代码；县区、卫健账号只能是本县区"})
    date_from = Date(validate=_DAY, metadata={"description": "北京时间日期，含"})
    date_to = Date(validate=_DAY, metadata={"description": "北京时间日期，含"})


class DayCountOut(Schema):
    day = String()
    count = Integer()


class DayBreakdownOut(Schema):
    day = String()
    count = Integer()
    by_status = Dict(**_COUNTS)
    by_direction = Dict(**_COUNTS)


class DayCheckInOut(Schema):
    boarded = Integer(metadata={"description": "上过车的（含已到达、到达时隔离）"})
    arrived = Integer()
    no_show = Integer(metadata={"description": "未乘车（车次已到达或结束而未上车）"})


class PassengerDayOut(DayBreakdownOut):
    check_in = Nested(DayCheckInOut)


class ApplicationStatsOut(Schema):
    total = Integer()
    by_status = Dict(**_COUNTS)
    by_direction = Dict(**_COUNTS)
    by_county = Dict(**_COUNTS)
    by_day = List(Nested(DayCountOut), metadata={"description": "按提交日（北京时间）"})
    daily = List(Nested(DayBreakdownOut), metadata={"description": "按提交日（北京时间），各日按状态、方向"})


class DepartureStatsOut(Schema):
    """Trips or passengers, counted by their trip's departure."""

    total = Integer()
    by_status = Dict(**_COUNTS)
    by_direction = Dict(**_COUNTS)
    by_county = Dict(**_COUNTS, metadata={"description": "车次所属县区；园区车次无县区时为 none"})
    by_day = List(Nested(DayCountOut), metadata={"description": "按发车日期"})
    daily = List(Nested(DayBreakdownOut), metadata={"description": "按发车日期，各日按状态、方向"})


class PassengerStatsOut(DepartureStatsOut):
    daily = List(Nested(PassengerDayOut),
                 metadata={"description": "按发车日期，各日按状态、方向，及上车、到达、未乘车人数"})


class CheckInStatsOut(Schema):
    boarded = Integer()
    arrived = Integer()
    no_show = Integer()


class CountyAnomaliesOut(Schema):
    county_code = String(metadata={"description": "县区代码；无县区时为 none"})
    total = Integer()
    scan_isolate = Integer(metadata={"description": "扫码判定需隔离（按车次所属县区）"})
    follow_up_fever = Integer(metadata={"description": "随访发热（按人员所属县区，跨县区者各计一次）"})
    follow_up_symptoms = Integer(metadata={"description": "随访有症状"})


class HealthStatsOut(Schema):
    anomalies = Integer(metadata={"description": "扫码判定需隔离的次数 + 异常随访（发热或有症状）次数"})
    anomalies_by_reason = Dict(**_COUNTS)
    anomalies_by_source = Dict(**_COUNTS, metadata={"description": "scan 扫码 | follow_up 随访"})
    anomalies_by_county = List(Nested(CountyAnomaliesOut))
    isolations = Integer()
    isolations_by_status = Dict(**_COUNTS)
    isolations_by_kind = Dict(**_COUNTS)


class CountyVacancyOut(Schema):
    county_code = String()
    filled = Integer()
    short = Integer()


class EnterpriseVacancyOut(Schema):
    enterprise_id = Integer()
    name = String()
    county_code = String()
    filled = Integer()
    short = Integer()


class VacancyStatsOut(Schema):
    filled = Integer()
    short = Integer()
    by_county = List(Nested(CountyVacancyOut))


class StatsFiltersOut(Schema):
    county = String(allow_none=True)
    park_id = Integer(allow_none=True)
    date_from = Date(allow_none=True)
    date_to = Date(allow_none=True)


class StatsOut(Schema):
    filters = Nested(StatsFiltersOut)
    applications = Nested(ApplicationStatsOut)
    trips = Nested(DepartureStatsOut)
    passengers = Nested(PassengerStatsOut)
    check_in = Nested(CheckInStatsOut)
    health = Nested(HealthStatsOut)
    vacancies = Nested(VacancyStatsOut)
    vacancies_by_enterprise = List(Nested(EnterpriseVacancyOut), metadata={"description": "按企业，缺工多者在前"})


# --- feeds --------------------------------------------------------------------


class _WindowIn(RequestSchema):
    hours_ahead = Integer(load_default=48, validate=Range(0, 168), metadata={"description": "向后看几小时"})
    hours_back = Integer(load_default=24, validate=Range(0, 168), metadata={"description": "向前看几小时"})


class IsolationFeedIn(_WindowIn):
    county = String(validate=_COUNTY)
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=100, validate=Range(1, 500))


class CheckpointFeedIn(_WindowIn):
    checkpoint_id = Integer(validate=_ID)


class FeedHealthOut(Schema):
    status = String()
    reason = String()
    message = String()


class SeatHealthOut(Schema):
    status = String()
    reason = String()


class IsolationOrderBriefOut(Schema):
    status = String()
    kind = String(allow_none=True)


class ReturneeOut(Schema):
    source = String(metadata={"description": "trip 点对点车次 | self 零散返岗"})
    worker_id = Integer()
    name = String(allow_none=True, metadata={"description": "脱敏"})
    id_number = String(allow_none=True, metadata={"description": "脱敏"})
    mobile = String(allow_none=True, metadata={"description": "脱敏"})
    origin = String(allow_none=True)
    county_code = String(allow_none=True)
    trip_id = Integer(allow_none=True)
    plate = String(allow_none=True)
    enterprise_id = Integer(allow_none=True)
    expected_arrival_at = UtcDateTime(allow_none=True)
    arrived_at = UtcDateTime(allow_none=True)
    arrival_date = Date(allow_none=True)
    isolate_verdict = Boolean()
    health = Nested(FeedHealthOut)
    isolation = Nested(IsolationOrderBriefOut, allow_none=True)
    flags = List(String(), metadata={"description": "red | yellow | high_risk_origin | isolate_verdict | "
                                                    "isolation_order"})
    flagged = Boolean()


class IsolationFeedOut(Schema):
    items = List(Nested(ReturneeOut))
    total = Integer()
    page = Integer()
    per_page = Integer()
    window_from = UtcDateTime()
    window_to = UtcDateTime()


class FlaggedPassengerOut(Schema):
    serial = Integer()
    seat_no = Integer()
    worker_id = Integer()
    name = String(allow_none=True)
    id_last4 = String(allow_none=True)
    status = String()
    health = Nested(SeatHealthOut)


class CheckpointTripOut(Schema):
    trip_id = Integer()
    plate = String(allow_none=True)
    origin = String()
    status = String()
    expected_arrival_at = UtcDateTime(allow_none=True)
    passengers = Integer()
    by_status = Dict(**_COUNTS)
    health = Dict(**_COUNTS)
    flagged = Integer()
    flagged_passengers = List(Nested(FlaggedPassengerOut))


class CheckpointFeedItemOut(Schema):
    checkpoint_id = Integer()
    name = String()
    kind = String()
    passengers = Integer()
    flagged = Integer()
    trips = List(Nested(CheckpointTripOut))


class CheckpointFeedOut(Schema):
    window_from = UtcDateTime()
    window_to = UtcDateTime()
    checkpoints = List(Nested(CheckpointFeedItemOut))
