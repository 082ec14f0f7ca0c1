"""Request and response schemas of the mini-program's local-job routes (就地就近务工)."""
from apiflask import Schema
from apiflask.fields import Boolean, Date, Integer, List, Nested, String
from apiflask.validators import Length, Range

from app.schema_fields import RequestSchema, UtcDateTime


class VacancyFilterIn(RequestSchema):
    job_type = String(validate=Length(1, 64), metadata={"description": "工种包含"})
    county = String(validate=Length(1, 64), metadata={"description": "县区代码或名称，如 640121 或 永宁县"})
    page = Integer(load_default=1, validate=Range(1, 100000))
    per_page = Integer(load_default=20, validate=Range(1, 100))


class SuggestedIn(RequestSchema):
    limit = Integer(load_default=10, validate=Range(1, 50))


class MyInterestOut(Schema):
    status = String(metadata={"description": "interested | hired | withdrawn"})
    contact_allowed = Boolean()


class VacancyOut(Schema):
    id = Integer(metadata={"description": "岗位 id（报名意向用）"})
    enterprise_id = Integer()
    enterprise_name = String()
    county_code = String()
    county_name = String()
    work_location = String(allow_none=True)
    products = String(allow_none=True)
    resume_date = Date(allow_none=True, metadata={"description": "开工复工时间"})
    job_type = String()
    short = Integer(metadata={"description": "缺工人数"})
    remarks = String(allow_none=True)
    my_interest = Nested(MyInterestOut, allow_none=True)


class VacancyPageOut(Schema):
    items = List(Nested(VacancyOut))
    total = Integer()
    page = Integer()
    per_page = Integer()


class SuggestedVacancyOut(VacancyOut):
    reason = String(metadata={"description": "推荐理由"})


class SuggestedListOut(Schema):
    items = List(Nested(SuggestedVacancyOut))


class InterestIn(RequestSchema):
    contact_allowed = Boolean(required=True, metadata={"description": "是否同意企业查看姓名和手机号并联系您"})


class MyInterestItemOut(Schema):
    id = Integer()
    status = String(metadata={"description": "interested 已报名 | hired 已录用 | withdrawn 已撤回"})
    contact_allowed = Boolean()
    created_at = UtcDateTime()
    decided_at = UtcDateTime(allow_none=True)
    vacancy = Nested(VacancyOut)


class MyInterestDetailOut(MyInterestItemOut):
    """One interest as a response of its own (MyInterestItemOut is also nested in the list)."""


class MyInterestListOut(Schema):
    items = List(Nested(MyInterestItemOut))


def vacancy_view(job, enterprise, county, interest=None):
    """A vacancy as a worker sees it, with the worker's own interest if any."""
    return {"id": job.id, "enterprise_id": enterprise.id, "enterprise_name": enterprise.name,
            "county_code": county.code, "county_name": county.name, "work_location": enterprise.work_location,
            "products": enterprise.products, "resume_date": enterprise.resume_date, "job_type": job.job_type,
            "short": job.short, "remarks": job.remarks,
            "my_interest": None if interest is None else {"status": interest.status,
                                                          "contact_allowed": interest.contact_allowed}}


def interest_view(interest, job, enterprise, county):
    """One of the worker's own interests with its vacancy."""
    return {"id": interest.id, "status": interest.status, "contact_allowed": interest.contact_allowed,
            "created_at": interest.created_at, "decided_at": interest.decided_at,
            "vacancy": vacancy_view(job, enterprise, county, interest)}
