"""Key enterprises (重点企业, 附件2): registration by county and park operators, their job rows
(解决用工 / 缺工 per 工种) and the 附件2 summary sheet.

Where an enterprise lies (county, park) is fixed by who registers it: a park operator's
enterprise lies in its park and the park's county, a county operator's in its county.
Enterprise HR keeps its own sheet but cannot move or rename the enterprise.
"""
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import County, Enterprise, EnterpriseJob, Park, VacancyInterest
from app.read_path import heavy_read
from app.services.platform import audit, exports, field_rights, scope

_PLACEMENT = ("county_code", "park_id")
_DETAILS = ("work_location", "products", "resume_date", "remarks")

SHEET_TITLE = "重点企业用工服务保障工作信息汇总表"
SHEET_HEADERS = ("序号", "企业名称", "所在市县及工作地点", "生产物资种类", "开工复工时间", "解决用工工种", "解决用工人数",
                 "缺工工种", "缺工人数", "备注")
CITY = "银川市"


def list_enterprises(staff, filters, page=1, per_page=50):
    """Enterprises in the staff member's scope matching county_code, park_id, name; returns (items, total)."""
    query = _filtered(staff, filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(query.order_by(Enterprise.id).limit(per_page).offset((page - 1) * per_page)).all()
    return items, total


def _filtered(staff, filters):
    query = scope.filter_enterprises(select(Enterprise), staff)
    if filters.get("county_code"):
        query = query.where(Enterprise.county_code == filters["county_code"])
    if filters.get("park_id"):
        query = query.where(Enterprise.park_id == filters["park_id"])
    if filters.get("name"):
        query = query.where(Enterprise.name.contains(filters["name"], autoescape=True))
    return query


def jobs_by_enterprise(enterprise_ids):
    """{enterprise_id: [EnterpriseJob]} in the order they were entered."""
    result = {enterprise_id: [] for enterprise_id in enterprise_ids}
    if enterprise_ids:
        for job in db.session.scalars(select(EnterpriseJob).where(EnterpriseJob.enterprise_id.in_(enterprise_ids))
                                      .order_by(EnterpriseJob.id)):
            result[job.enterprise_id].append(job)
    return result


def may_register(staff):
    """Whether the staff member's role registers enterprises (county, park, the office; not an enterprise's HR)."""
    return staff.role in scope.ENTERPRISE_REGISTRARS


def create_enterprise(staff, data):
    """Register an enterprise in the staff member's county or park and commit.

    Raises Forbidden for roles that do not register or a place outside the scope, Invalid for
    an unknown county or park or a park of another county, Conflict for a name already taken.
    """
    scope.require_role(staff, scope.ENTERPRISE_REGISTRARS)
    county_code, park_id = _placement(staff, data.get("county_code"), data.get("park_id"), creating=True)
    enterprise = Enterprise(name=data["name"], county_code=county_code, park_id=park_id,
                            **{name: data.get(name) for name in _DETAILS})
    db.session.add(enterprise)
    _flush_named(enterprise)
    audit.record("staff", staff.id, "enterprise.create", "enterprise", enterprise.id)
    db.session.commit()
    return enterprise


def update_enterprise(staff, enterprise_id, changes):
    """Change an enterprise in scope and commit; HR may not rename or move its own enterprise."""
    field_rights.check_fields(staff, "enterprise", changes)
    enterprise = scope.enterprise_in_scope(staff, enterprise_id)
    if any(name in changes for name in _PLACEMENT):
        county_code = changes.get("county_code", enterprise.county_code)
        park_id = changes["park_id"] if "park_id" in changes else enterprise.park_id
        enterprise.county_code, enterprise.park_id = _placement(staff, county_code, park_id)
    for name in ("name", *_DETAILS):
        if name in changes:
            setattr(enterprise, name, changes[name])
    _flush_named(enterprise)
    audit.record("staff", staff.id, "enterprise.update", "enterprise", enterprise.id, fields=sorted(changes))
    db.session.commit()
    return enterprise


def _placement(staff, county_code, park_id, creating=False):
    """The (county_code, park_id) an enterprise may get from this staff member.

    On creation a missing county or park means the staff member's own; on update None means none.
    """
    if staff.role == "park_operator":
        if creating and park_id is None:
            park_id = staff.park_id
        if park_id != staff.park_id:
            raise Forbidden("enterprise_out_of_scope", "只能登记本园区的企业")
    elif staff.role == "county_operator":
        if county_code is not None and county_code != staff.county_code:
            raise Forbidden("enterprise_out_of_scope", "只能登记本县区的企业")
        county_code = staff.county_code
    park = db.session.get(Park, park_id) if park_id is not None else None
    if park_id is not None and park is None:
        raise Invalid("validation_error", "没有该园区", fields={"park_id": "不存在"})
    if park is not None:
        if county_code is not None and county_code != park.county_code:
            raise Invalid("park_not_in_county", "园区不在所填县区", fields={"park_id": "不属于该县区"})
        county_code = park.county_code
    if county_code is None:
        raise Invalid("validation_error", "请填写所在县区", fields={"county_code": "必填"})
    if db.session.get(County, county_code) is None:
        raise Invalid("validation_error", "没有该县区", fields={"county_code": "不是银川市的县区代码"})
    return county_code, park_id


def _flush_unique(clash, error):
    """Flush a new or changed row that must be unique: a clear 409 whether the check or the index catches it."""
    with db.session.no_autoflush:
        taken = db.session.scalar(clash.limit(1))
    if taken is not None:
        raise error
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # a concurrent request won the unique index
        raise error from None


def _flush_named(enterprise):
    clash = select(Enterprise.id).where(Enterprise.name == enterprise.name)
    if enterprise.id is not None:
        clash = clash.where(Enterprise.id != enterprise.id)
    _flush_unique(clash, _name_taken())


def _name_taken():
    return Conflict("enterprise_name_taken", "已有同名企业", fields={"name": "已被登记"})


# --- job rows ------------------------------------------------------------------


def add_job(staff, enterprise_id, data):
    """Add a job row (工种, 解决用工人数, 缺工人数, 备注) to an enterprise in scope and commit.

    Raises Conflict (job_type_taken) when the enterprise already has a row of that job type.
    """
    enterprise = scope.enterprise_in_scope(staff, enterprise_id)
    job = EnterpriseJob(enterprise_id=enterprise.id, job_type=data["job_type"], filled=data.get("filled", 0),
                        short=data.get("short", 0), remarks=data.get("remarks"))
    db.session.add(job)
    _flush_job(job)
    audit.record("staff", staff.id, "enterprise_job.create", "enterprise_job", job.id, enterprise_id=enterprise.id)
    db.session.commit()
    return job


def update_job(staff, enterprise_id, job_id, changes):
    """Change a job row of an enterprise in scope and commit."""
    field_rights.check_fields(staff, "enterprise_job", changes)
    job = _job_in_scope(staff, enterprise_id, job_id)
    for name in ("job_type", "filled", "short", "remarks"):
        if name in changes:
            setattr(job, name, changes[name])
    _flush_job(job)
    audit.record("staff", staff.id, "enterprise_job.update", "enterprise_job", job.id, fields=sorted(changes))
    db.session.commit()
    return job


def delete_job(staff, enterprise_id, job_id):
    """Delete a job row and commit; refused while workers are interested in it or were hired on it."""
    job = _job_in_scope(staff, enterprise_id, job_id)
    open_interest = db.session.scalar(select(VacancyInterest.id).where(VacancyInterest.job_id == job.id,
                                                                       VacancyInterest.status != "withdrawn").limit(1))
    if open_interest is not None:
        raise _job_has_interests()
    db.session.execute(delete(VacancyInterest).where(VacancyInterest.job_id == job.id))
    db.session.delete(job)
    try:
        db.session.flush()
    except IntegrityError:
        # A worker declared interest between the check and the delete: the foreign key refuses.
        db.session.rollback()
        raise _job_has_interests() from None
    audit.record("staff", staff.id, "enterprise_job.delete", "enterprise_job", job_id, enterprise_id=enterprise_id,
                 job_type=job.job_type)
    db.session.commit()


def _job_has_interests():
    return Conflict("job_has_interests", "已有务工人员对该岗位有意向或已录用，不能删除；可将缺工人数改为0")


def _job_in_scope(staff, enterprise_id, job_id):
    enterprise = scope.enterprise_in_scope(staff, enterprise_id)
    job = db.session.get(EnterpriseJob, job_id)
    if job is None or job.enterprise_id != enterprise.id:
        raise NotFound("job_not_found", "没有找到该工种")
    return job


def _flush_job(job):
    clash = select(EnterpriseJob.id).where(EnterpriseJob.enterprise_id == job.enterprise_id,
                                           EnterpriseJob.job_type == job.job_type)
    if job.id is not None:
        clash = clash.where(EnterpriseJob.id != job.id)
    _flush_unique(clash, _job_type_taken())


def _job_type_taken():
    return Conflict("job_type_taken", "该企业已有这个工种，请修改原有一行", fields={"job_type": "已存在"})


# --- 附件2 export ----------------------------------------------------------------


@heavy_read
def export_sheet(staff, filters):
    """附件2 重点企业用工服务保障工作信息汇总表 as .xlsx bytes: one row per enterprise in scope.

    The 工种 cells list each job type with its count (纺织工（20）、包装工（10）), the 人数 cells
    the totals. The export is audited with its filter.
    """
    enterprises = db.session.scalars(_filtered(staff, filters).order_by(Enterprise.county_code, Enterprise.id)).all()
    counties = dict(db.session.execute(select(County.code, County.name)).all())
    jobs = jobs_by_enterprise([enterprise.id for enterprise in enterprises])
    rows = [_sheet_row(number, enterprise, counties, jobs[enterprise.id])
            for number, enterprise in enumerate(enterprises, start=1)]
    audit.record("staff", staff.id, "export.enterprise_sheet", "enterprise", None, rows=len(rows),
                 filter={key: value for key, value in filters.items() if value})
    db.session.commit()
    return exports.workbook(SHEET_TITLE, SHEET_HEADERS, rows)


def _sheet_row(number, enterprise, counties, jobs):
    place = CITY + counties.get(enterprise.county_code, enterprise.county_code)
    if enterprise.work_location:
        place += "，" + enterprise.work_location
    filled = [job for job in jobs if job.filled > 0]
    short = [job for job in jobs if job.short > 0]
    return (number, enterprise.name, place, enterprise.products, enterprise.resume_date,
            job_list(filled, "filled"), sum(job.filled for job in jobs),
            job_list(short, "short"), sum(job.short for job in jobs), enterprise.remarks)


def job_list(jobs, count):
    """Job types with their counts as the sheet writes them: 纺织工（20）、包装工（10）."""
    return "、".join(f"{job.job_type}（{getattr(job, count)}）" for job in jobs) or None
