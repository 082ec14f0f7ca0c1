"""Request and response schemas of 内容审核 (worker texts msgSecCheck flagged). Names and phones come out masked."""
from apiflask import Schema
from apiflask.fields import Function, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from app.models.content import OUTCOMES, STATUSES
from app.schema_fields import MAX_ID, RequestSchema, UtcDateTime
from app.services.office.content_reviews import OUTCOME_NAMES, STATUS_NAMES, VIEWS
from app.services.people.content_security import LABELS, field_words
from app.services.people.identity import mask_name


class ContentFilterIn(RequestSchema):
    status = String(validate=OneOf(VIEWS), metadata={
        "description": "open 待处理（需人工审核或有风险、未处理）| review | risky | pending 待复查 | pass | handled 已处理"})
    worker_id = Integer(validate=Range(1, MAX_ID))
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=50, validate=Range(1, 500))


class ContentHandleIn(RequestSchema):
    outcome = String(required=True, validate=OneOf(OUTCOMES),
                     metadata={"description": "ok 内容无问题 | edited 已修改 | contacted 已联系本人"})
    note = String(validate=Length(max=255), allow_none=True, metadata={"description": "处理说明"})


class ContentWorkerOut(Schema):
    id = Integer()
    name = Function(lambda worker: mask_name(worker.name) if worker.name else None)
    mobile = String(attribute="mobile_mask", allow_none=True)


class ContentCheckOut(Schema):
    id = Integer()
    worker = Nested(ContentWorkerOut)
    subject = String(metadata={"description": "worker.<字段> 或 application:<报名id>.<字段>"})
    application_id = Integer(allow_none=True)
    field = String()
    field_name = String(metadata={"description": "字段中文名"})
    content = String(metadata={"description": "被检查的文字（检查时的原文）"})
    status = String(metadata={"description": " | ".join(STATUSES)})
    status_name = String()
    label = Integer(allow_none=True, metadata={"description": "微信 msgSecCheck 的 label"})
    label_name = String(allow_none=True)
    trace_id = String(allow_none=True)
    attempts = Integer()
    last_error = String(allow_none=True, metadata={"description": "未能检查的原因（微信不可达、errcode）"})
    county_code = String(allow_none=True)
    created_at = UtcDateTime()
    checked_at = UtcDateTime(allow_none=True)
    handled_by = Integer(allow_none=True)
    handled_at = UtcDateTime(allow_none=True)
    outcome = String(allow_none=True, metadata={"description": " | ".join(OUTCOMES)})
    outcome_name = String(allow_none=True)
    note = String(allow_none=True)


class ContentCheckDetailOut(ContentCheckOut):
    """One flag as a response of its own (ContentCheckOut is also nested in the list)."""


class ContentPageOut(Schema):
    items = List(Nested(ContentCheckOut))
    total = Integer()
    page = Integer()
    per_page = Integer()


def check_view(flag, worker):
    """A flag with its worker and the words for its codes, as ContentCheckOut dumps it."""
    view = {column.key: getattr(flag, column.key) for column in flag.__table__.columns}
    return {**view, "worker": worker, "subject": flag.subject, "field_name": field_words(flag),
            "status_name": STATUS_NAMES.get(flag.status, flag.status),
            "label_name": LABELS.get(flag.label) if flag.label else None,
            "outcome_name": OUTCOME_NAMES.get(flag.outcome) if flag.outcome else None}
