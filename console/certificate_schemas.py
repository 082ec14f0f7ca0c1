"""Request and response schemas of health certificates (健康证明) for health staff."""
from apiflask import Schema
from apiflask.fields import Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from app.schema_fields import MAX_ID, CertificateOut, RequestSchema
from app.services.credentials.certificates import LIST_STATUSES, STAFF_REVOKE_REASONS
from app.services.people.health_rules import SYMPTOMS


class CertificateIssueIn(RequestSchema):
    temperature = Float(required=True, validate=Range(34.0, 43.0),
                        metadata={"description": "行前体温检测（℃），记入健康档案"})
    symptoms = List(String(validate=OneOf(tuple(SYMPTOMS))), load_default=list, validate=Length(max=len(SYMPTOMS)))


class CertificateFilterIn(RequestSchema):
    status = String(validate=OneOf(LIST_STATUSES), metadata={"description": "valid | revoked | expired"})
    worker_id = Integer(validate=Range(1, MAX_ID))
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=50, validate=Range(1, 500))


class CertificateRevokeIn(RequestSchema):
    reason = String(required=True, validate=OneOf(tuple(STAFF_REVOKE_REASONS)), metadata={
        "description": "、".join(f"{code} {words}" for code, words in STAFF_REVOKE_REASONS.items())})
    note = String(validate=Length(max=200), metadata={"description": "说明（记入审计日志）"})


class CertificateItemOut(CertificateOut):
    """A certificate in a list (its own class: apispec names a schema once, as a response or as nested)."""


class CertificatePageOut(Schema):
    items = List(Nested(CertificateItemOut))
    total = Integer()
    page = Integer()
    per_page = Integer()
