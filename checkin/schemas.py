"""Request and response schemas of the scanner API."""
from apiflask import Schema
from apiflask.fields import UUID, Boolean, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from app.models.checkin import SCAN_KINDS
from app.schema_fields import MAX_ID, LocalDateTime, RequestSchema, UtcDateTime
from app.services.people.health_rules import SYMPTOMS


class KeyOut(Schema):
    kid = String()
    algorithm = String()
    public_key = String(metadata={"description": "原始 32 字节 Ed25519 公钥，base64"})
    valid_from = UtcDateTime()
    retired_at = UtcDateTime(allow_none=True, metadata={
        "description": "停用时间：此刻起该密钥签发的二维码一律不再有效；为空表示仍在使用（与离线包 keys 同名）"})


class KeysOut(Schema):
    keys = List(Nested(KeyOut))
    prefix = String()


class RevocationsIn(RequestSchema):
    since = Integer(load_default=0, validate=Range(0, 2**62), metadata={"description": "上次返回的 cursor"})
    kind = String(validate=OneOf(("trip", "certificate")),
                  metadata={"description": "trip 乘车二维码 | certificate 健康证明（不填：全部）"})


class RevocationOut(Schema):
    kind = String(metadata={"description": "trip | certificate"})
    serial = Integer()
    revoked_at = UtcDateTime()
    reason = String()


class RevocationsOut(Schema):
    revocations = List(Nested(RevocationOut))
    cursor = Integer()
    more = Boolean()


class ScanIn(RequestSchema):
    qr = String(required=True, validate=Length(1, 512), metadata={"description": "扫到的二维码文本"})
    kind = String(required=True, validate=OneOf(SCAN_KINDS), metadata={"description": "board | arrive | checkpoint"})
    checkpoint_id = Integer(validate=Range(1, MAX_ID), allow_none=True)
    temperature = Float(required=True, validate=Range(34.0, 43.0), metadata={"description": "℃"})
    symptoms = List(String(validate=OneOf(list(SYMPTOMS))), load_default=list, validate=Length(max=len(SYMPTOMS)))
    client_event_id = UUID(required=True, metadata={"description": "设备生成的 UUID；重发时保持不变"})
    scanned_at = LocalDateTime(required=True, metadata={"description": "设备扫码时间，ISO 8601；不带时区按北京时间"})
    device_id = String(required=True, validate=Length(1, 64))
    location = String(validate=Length(1, 128), allow_none=True)


class _UploadedScanIn(ScanIn):
    def _clean_text(self, data, **kwargs):  # ScanBatchIn checked the text of the whole upload once
        return data


class ScanBatchIn(RequestSchema):
    scans = List(Nested(_UploadedScanIn), required=True, validate=Length(1, 500))


class PassengerBriefOut(Schema):
    name = String(allow_none=True, metadata={"description": "脱敏姓名"})
    id_last4 = String(allow_none=True)
    seat = Integer()
    trip = Integer()
    plate = String(allow_none=True)


class HealthBriefOut(Schema):
    status = String()
    reason = String()


class ScanOut(Schema):
    event_id = Integer(allow_none=True)
    client_event_id = String()
    verdict = String(metadata={"description": "allow | deny | isolate"})
    reason = String()
    message = String()
    conflict = Boolean()
    replayed = Boolean()
    reconciled = Boolean(metadata={"description": "先判为未上车的到达，上车记录补传后重新核定"})
    stored = Boolean()
    passenger = Nested(PassengerBriefOut, allow_none=True)
    health = Nested(HealthBriefOut, allow_none=True)


class ScanBatchOut(Schema):
    results = List(Nested(ScanOut))


class ManifestSeatOut(Schema):
    serial = Integer()
    seat_no = Integer()
    worker_id = Integer()
    name = String(allow_none=True)
    id_last4 = String(allow_none=True)
    status = String(metadata={"description": "assigned | boarded | arrived | no_show | isolated"})
    health = Nested(HealthBriefOut)
    flagged = Boolean()


class ManifestOut(Schema):
    trip_id = Integer()
    trip_status = String()
    seats = List(Nested(ManifestSeatOut))
    counts = Dict(keys=String(), values=Integer())


class TallyOut(Schema):
    trip_id = Integer()
    plate = String(allow_none=True)
    status = String()
    seats = Integer()
    boarded = Integer()
    arrived = Integer()
    missing = Integer(metadata={"description": "上车但未到达"})
    no_show = Integer()
    isolated = Integer()


class ConvoyTallyOut(Schema):
    convoy_id = Integer()
    trips = List(Nested(TallyOut))
    seats = Integer()
    boarded = Integer()
    arrived = Integer()
    missing = Integer()
    no_show = Integer()
    isolated = Integer()


class ReconciliationOut(Schema):
    trip = Nested(TallyOut)
    convoy = Nested(ConvoyTallyOut)


class ExpectedTripOut(Schema):
    trip_id = Integer()
    plate = String(allow_none=True)
    origin = String()
    status = String()
    expected_arrival_at = UtcDateTime(allow_none=True)
    flagged = Integer()
    passengers = List(Nested(ManifestSeatOut))


class ExpectedOut(Schema):
    checkpoint_id = Integer()
    trips = List(Nested(ExpectedTripOut))


class TripCloseIn(RequestSchema):
    confirm_no_shows = Integer(validate=Range(0, MAX_ID), metadata={
        "description": "确认将记为未乘车的人数：有未上车乘客时必填，须等于 409 no_shows_unconfirmed 给出的 details.no_shows"})


class TripClosedOut(Schema):
    trip_id = Integer()
    status = String()
    closed_at = UtcDateTime()
