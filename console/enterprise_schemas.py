"""Request and response schemas of the console's enterprise routes (附件2, job rows, interested workers)."""
from apiflask import Schema
from apiflask.fields import Boolean, Date, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import post_load

from app.schema_fields import MAX_ID, RequestSchema, UtcDateTime
from app.services.people.identity import mask_name

_ID = Range(1, MAX_ID)
_COUNT = Range(0, 100000)
_COUNTY = Regexp(r"\A[0-9]{6}\Z", error="应为6位县区代码")


class _Stripped(RequestSchema):
    """Trims surrounding blanks from text, so "纺织工 " and "纺织工" are one job type on every database."""

    @post_load
    def _strip(self, data, **kwargs):
        return {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}


def _text(limit, **kwargs):
    return String(validate=[Length(1, limit), Regexp(r"[\s\S]*\S", error="不能为空")], **kwargs)


class EnterpriseFilterIn(RequestSchema):
    county_code = String(validate=_COUNTY)
    park_id = Integer(validate=_ID)
    name = String(validate=Length(1, 128), metadata={"description": "企业名称包含"})
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=50, validate=Range(1, 500))


class EnterpriseExportIn(RequestSchema):
    county_code = String(validate=_COUNTY)
    park_id = Integer(validate=_ID)
    name = String(validate=Length(1, 128), metadata={"description": "企业名称包含（与列表的筛选相同）"})


class EnterpriseIn(_Stripped):
    name = _text(128, required=True, metadata={"description": "企业名称"})
    county_code = String(validate=_COUNTY, metadata={"description": "所在县区；县区账号默认本县区，园区账号取园区所在县区"})
    park_id = Integer(validate=_ID, allow_none=True, metadata={"description": "所在园区；园区账号默认本园区"})
    work_location = _text(255, allow_none=True, metadata={"description": "工作地点"})
    products = _text(255, allow_none=True, metadata={"description": "生产物资种类"})
    resume_date = Date(allow_none=True, metadata={"description": "开工复工时间"})
    remarks = _text(255, allow_none=True, metadata={"description": "备注"})


class EnterprisePatchIn(EnterpriseIn):
    name = _text(128, metadata={"description": "企业名称（企业账号不可改）"})


class EnterpriseJobIn(_Stripped):
    job_type = _text(64, required=True, metadata={"description": "工种"})
    filled = Integer(load_default=0, validate=_COUNT, metadata={"description": "解决用工人数"})
    short = Integer(load_default=0, validate=_COUNT, metadata={"description": "缺工人数"})
    remarks = _text(255, allow_none=True, metadata={"description": "备注"})


class EnterpriseJobPatchIn(_Stripped):
    job_type = _text(64)
    filled = Integer(validate=_COUNT)
    short = Integer(validate=_COUNT)
    remarks = _text(255, allow_none=True)


class EnterpriseJobOut(Schema):
    id = Integer()
    enterprise_id = Integer()
    job_type = String()
    filled = Integer(metadata={"description": "解决用工人数"})
    short = Integer(metadata={"description": "缺工人数"})
    remarks = String(allow_none=True)
    updated_at = UtcDateTime()


class EnterpriseJobDetailOut(EnterpriseJobOut):
    """One job row as a response of its own (EnterpriseJobOut is also nested in sheets)."""


class EnterpriseSheetOut(Schema):
    id = Integer()
    name = String()
    county_code = String()
    park_id = Integer(allow_none=True)
    work_location = String(allow_none=True)
    products = String(allow_none=True)
    resume_date = Date(allow_none=True)
    remarks = String(allow_none=True)
    updated_at = UtcDateTime()
    jobs = List(Nested(EnterpriseJobOut))
    filled_total = Integer(metadata={"description": "解决用工人数合计"})
    short_total = Integer(metadata={"description": "缺工人数合计"})


class EnterpriseSheetDetailOut(EnterpriseSheetOut):
    """One enterprise as a response of its own (EnterpriseSheetOut is also nested in pages)."""


class EnterprisePageOut(Schema):
    items = List(Nested(EnterpriseSheetOut))
    total = Integer()
    page = Integer()
    per_page = Integer()


class InterestedWorkerFilterIn(RequestSchema):
    job_id = Integer(validate=_ID)
    status = String(validate=OneOf(("interested", "hired")))
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=50, validate=Range(1, 500))


class InterestedWorkerOut(Schema):
    id = Integer()
    name = String(allow_none=True, metadata={"description": "务工人员同意联系前脱敏"})
    mobile = String(allow_none=True, metadata={"description": "务工人员同意联系前脱敏；完整号码的读取记入审计"})
    skills = List(String(), allow_none=True)
    job_intention = String(allow_none=True)


class InterestedWorkerRowOut(Schema):
    id = Integer()
    job_id = Integer()
    job_type = String()
    status = String(metadata={"description": "interested | hired"})
    contact_allowed = Boolean()
    created_at = UtcDateTime()
    decided_at = UtcDateTime(allow_none=True)
    worker = Nested(InterestedWorkerOut)


class InterestedWorkerPageOut(Schema):
    items = List(Nested(InterestedWorkerRowOut))
    total = Integer()
    page = Integer()
    per_page = Integer()


class HireResultOut(Schema):
    interest = Nested(InterestedWorkerRowOut)
    job = Nested(EnterpriseJobOut)


def enterprise_view(enterprise, jobs):
    """An enterprise with its job rows and their totals."""
    view = {name: getattr(enterprise, name) for name in ("id", "name", "county_code", "park_id", "work_location",
                                                         "products", "resume_date", "remarks", "updated_at")}
    view.update(jobs=jobs, filled_total=sum(job.filled for job in jobs), short_total=sum(job.short for job in jobs))
    return view


def interest_view(interest, job, worker, full_mobile=None):
    """An interested worker as the enterprise sees them: masked unless the worker allowed contact."""
    shown = interest.contact_allowed and full_mobile is not None
    return {"id": interest.id, "job_id": job.id, "job_type": job.job_type, "status": interest.status,
            "contact_allowed": interest.contact_allowed, "created_at": interest.created_at,
            "decided_at": interest.decided_at,
            "worker": {"id": worker.id, "name": worker.name if shown else mask_name(worker.name),
                       "mobile": full_mobile if shown else worker.mobile_mask, "skills": worker.skills,
                       "job_intention": worker.job_intention}}
