"""Request and response schemas of the scanner API."""
from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import Range

from app.schema_fields import RequestSchema, UtcDateTime


class KeyOut(Schema):
    kid = String()
    algorithm = String()
    public_key = String(metadata={"description": "原始 32 字节 Ed25519 公钥，base64"})
    valid_from = UtcDateTime()
    valid_until = UtcDateTime(allow_none=True, metadata={"description": "停用时间；为空表示仍有效"})


class KeysOut(Schema):
    keys = List(Nested(KeyOut))
    prefix = String()


class RevocationsIn(RequestSchema):
    since = Integer(load_default=0, validate=Range(0, 2**62), metadata={"description": "上次返回的 cursor"})


class RevocationOut(Schema):
    serial = Integer()
    revoked_at = UtcDateTime()
    reason = String()


class RevocationsOut(Schema):
    revocations = List(Nested(RevocationOut))
    cursor = Integer()
    more = Boolean()
