"""Request and response schemas of the scanner API."""
from apiflask import Schema
from apiflask.fields import UUID, Boolean, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, validates_schema

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
    # Scanners written before certificates read every serial as a seat's: without kind they get trip serials only.
    kind = String(load_default="trip", validate=OneOf(("trip", "certificate")),
                  metadata={"description": "trip 乘车二维码（默认）| certificate 健康证明"})


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
    certificate = Nested(lambda: CertificateOut(), allow_none=True,
                         metadata={"description": "扫的是健康证明（FGC1:）时：证明所载内容"})
    trust = Nested(lambda: TrustOut(), allow_none=True, metadata={"description": "签发地信任数据的新旧"})
    registrable = Boolean(metadata={"description": "健康证明真实有效而持证人在本地无档案：可凭身份证登记"
                                                   "（POST /certificates/register），复核时亦然"})


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


class CertificateVerifyIn(RequestSchema):
    qr = String(required=True, validate=Length(1, 1024), metadata={"description": "扫到的健康证明文本（FGC1:…）"})
    id_number = String(validate=Length(1, 32), metadata={"description": "身份证号（可选，须同时填姓名）：与证明所载的哈希比对"})
    name = String(validate=Length(1, 50), metadata={"description": "身份证上的姓名（与身份证号一同比对）"})

    @validates_schema
    def _both_or_neither(self, data, **kwargs):
        """The certificate's hash covers the ID number and the name together: one alone cannot be checked."""
        if ("id_number" in data) != ("name" in data):
            missing = "name" if "id_number" in data else "id_number"
            raise ValidationError("身份证号和姓名须一同填写", field_name=missing)


class IssuerBriefOut(Schema):
    id = String(metadata={"description": "签发部署编号"})
    name = String(allow_none=True)


class CountyBriefOut(Schema):
    code = String()
    name = String(allow_none=True, metadata={"description": "本地参考数据不认识的县区为空"})


class CertificateBasisOut(Schema):
    status = String(metadata={"description": "签发时健康状态 green | yellow | red"})
    observation = String(metadata={"description": "14 天观察：none | in_progress | completed"})
    observation_until = String(allow_none=True)
    check_temperature = String(allow_none=True, metadata={"description": "行前体温 ℃"})
    check_at = String(allow_none=True)


class CertificateOut(Schema):
    issuer = Nested(IssuerBriefOut)
    serial = Integer()
    county = Nested(CountyBriefOut)
    name = String(metadata={"description": "脱敏姓名"})
    id_last4 = String()
    issued_at = String()
    valid_until = String()
    basis = Nested(CertificateBasisOut)
    id_checked = Boolean(metadata={"description": "已用身份证号核对"})


class TrustOut(Schema):
    deployment_id = String()
    name = String()
    synced_at = String(allow_none=True, metadata={"description": "信任数据的时间；本部署为空（实时）"})
    age_hours = Float(allow_none=True)
    stale = Boolean(metadata={"description": "超过 stale_after_hours 未更新：须人工复核"})
    stale_after_hours = Integer()


class CertificateVerifyOut(Schema):
    verdict = String(metadata={"description": "accept | recheck（复核） | reject"})
    reason = String(allow_none=True)
    message = String()
    certificate = Nested(CertificateOut, allow_none=True)
    trust = Nested(TrustOut, allow_none=True)


class CertificateRegisterIn(RequestSchema):
    client_event_id = UUID(required=True, metadata={"description": "设备生成的 UUID；重发时保持不变"})
    device_id = String(required=True, validate=Length(1, 64))
    scanned_at = LocalDateTime(required=True, metadata={"description": "设备扫码时间，ISO 8601；不带时区按北京时间"})
    qr = String(required=True, validate=Length(1, 1024), metadata={"description": "外地健康证明文本（FGC1:…）"})
    id_number = String(required=True, validate=Length(1, 32), metadata={"description": "身份证号（核对证件后录入）"})
    name = String(required=True, validate=Length(1, 50))
    # Required: when the holder later signs up in the mini-program, ID number, name AND this mobile claim the record
    # (ID number and name are on any photo of the ID card).
    mobile = String(required=True, validate=Length(1, 20), metadata={"description": "手机号（认领档案时核对）"})
    temperature = Float(required=True, validate=Range(34.0, 43.0), metadata={"description": "℃"})
    symptoms = List(String(validate=OneOf(list(SYMPTOMS))), load_default=list, validate=Length(max=len(SYMPTOMS)))
    location = String(validate=Length(1, 128), allow_none=True)


class RegisteredWorkerOut(Schema):
    id = Integer()
    name = String(metadata={"description": "脱敏姓名"})
    id_number = String(metadata={"description": "脱敏身份证号"})
    created = Boolean(metadata={"description": "新建的本地档案（务工人员在小程序用同一身份证号注册后可认领）"})


class CertificateRegisterOut(ScanOut):
    worker = Nested(RegisteredWorkerOut)
