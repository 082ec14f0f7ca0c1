"""Local jobs (就地就近务工): vacancies from the enterprises' shortage rows, workers' interest,
suggested matches, and hires that move the filled and short counts.

A vacancy is an EnterpriseJob with `short > 0`. A worker's interest stays anonymous to the
enterprise (masked name and phone) until the worker allows contact; each full read is audited.
"""
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import County, Enterprise, EnterpriseJob, VacancyInterest, Worker
from app.models.base import utcnow
from app.services.people import workers
from app.services.platform import audit, scope

MAX_SUGGESTED = 50
# Scanned for suggestions; a city's open job rows number in the hundreds.
_SUGGESTION_POOL = 2000


def _open_vacancies():
    return (select(EnterpriseJob, Enterprise, County)
            .join(Enterprise, Enterprise.id == EnterpriseJob.enterprise_id)
            .join(County, County.code == Enterprise.county_code)
            .where(EnterpriseJob.short > 0))


def list_open(filters, page=1, per_page=20):
    """Open vacancies (缺工 > 0) by job type (substring) and county (code or name); returns (rows, total).

    Each row is (EnterpriseJob, Enterprise, County), most short first.
    """
    query = _open_vacancies()
    if filters.get("job_type"):
        query = query.where(EnterpriseJob.job_type.contains(filters["job_type"], autoescape=True))
    if filters.get("county"):
        query = query.where(or_(County.code == filters["county"], County.name == filters["county"]))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(EnterpriseJob.short.desc(), EnterpriseJob.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def suggested(worker, limit=10):
    """Open vacancies ranked for the worker: job intention or skills first, then home or current county.

    Returns [(EnterpriseJob, Enterprise, County, reason)], where reason says in Chinese why.
    Vacancies that match nothing come last, the most short first.
    """
    rows = db.session.execute(_open_vacancies().order_by(EnterpriseJob.short.desc(), EnterpriseJob.id)
                              .limit(_SUGGESTION_POOL)).all()
    ranked = []
    for position, (job, enterprise, county) in enumerate(rows):
        job_reason = _job_match(worker, job.job_type)
        place_reason = _place_match(worker, county.name)
        score = (2 if job_reason else 0) + (1 if place_reason else 0)
        reason = "；".join(part for part in (job_reason, place_reason) if part) or f"缺工{job.short}人，可就近务工"
        ranked.append((-score, position, (job, enterprise, county, reason)))
    ranked.sort(key=lambda item: item[:2])
    return [item[2] for item in ranked[:limit]]


def _job_match(worker, job_type):
    """Why the job type fits the worker's job intention or skills, or None."""
    intention = (worker.job_intention or "").strip()
    if intention and (job_type in intention or intention in job_type):
        return f"符合您的求职意向“{intention}”"
    for skill in worker.skills or []:
        if isinstance(skill, str) and skill.strip() and (skill in job_type or job_type in skill):
            return f"符合您的技能“{skill}”"
    return None


def _place_match(worker, county_name):
    """Why the county is near the worker (hometown or current address), or None."""
    if worker.hometown_county and (county_name in worker.hometown_county or worker.hometown_county in county_name):
        return f"在您的家乡{county_name}"
    if worker.current_address and county_name in worker.current_address:
        return f"离您现住址近（{county_name}）"
    return None


def interests_by_job(worker, job_ids):
    """{job_id: VacancyInterest} of the worker among the given jobs."""
    if not job_ids:
        return {}
    found = db.session.scalars(select(VacancyInterest).where(VacancyInterest.worker_id == worker.id,
                                                             VacancyInterest.job_id.in_(job_ids)))
    return {interest.job_id: interest for interest in found}


def express_interest(worker, job_id, contact_allowed):
    """Declare (or update) the worker's interest in a vacancy and commit.

    Returns ((VacancyInterest, EnterpriseJob, Enterprise, County), created).

    Posting again changes `contact_allowed` and reopens a withdrawn interest. Needs a complete
    profile with consent (Invalid profile_incomplete); NotFound for an unknown vacancy;
    Conflict (vacancy_filled) when a new or reopened interest meets a vacancy with no shortage.
    """
    missing = workers.missing_fields(worker)
    if missing:
        raise Invalid("profile_incomplete", "请先完善个人信息并同意隐私说明", fields={name: "必填" for name in missing})
    job = db.session.get(EnterpriseJob, job_id)
    if job is None:
        raise NotFound("vacancy_not_found", "没有找到该岗位")
    interest = _interest_of(worker, job.id)
    created = interest is None
    if created or interest.status == "withdrawn":
        if job.short <= 0:
            raise Conflict("vacancy_filled", "该岗位已招满")
        if created:
            interest = VacancyInterest(job_id=job.id, worker_id=worker.id)
            db.session.add(interest)
        interest.status = "interested"
    interest.contact_allowed = contact_allowed
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # the same tap sent twice at once: the other request made the row
        return express_interest(worker, job_id, contact_allowed)[0], False
    audit.record("worker", worker.id, "vacancy.interest", "vacancy_interest", interest.id,
                 contact_allowed=contact_allowed)
    db.session.commit()
    return interests_of_worker(worker, interest.id)[0], created


def withdraw_interest(worker, job_id):
    """Withdraw the worker's interest in a vacancy and commit; the enterprise no longer sees them.

    Withdrawing twice is harmless. NotFound when there is no interest, Conflict once hired.
    """
    interest = _interest_of(worker, job_id)
    if interest is None:
        raise NotFound("interest_not_found", "您没有报名该岗位")
    if interest.status == "hired":
        raise Conflict("interest_hired", "您已被该企业录用，如需放弃请联系企业")
    interest.status, interest.contact_allowed = "withdrawn", False
    db.session.commit()


def _interest_of(worker, job_id):
    return db.session.scalar(select(VacancyInterest).where(VacancyInterest.worker_id == worker.id,
                                                           VacancyInterest.job_id == job_id))


def interests_of_worker(worker, interest_id=None):
    """The worker's own interests (or the one given), newest first: [(VacancyInterest, EnterpriseJob, Enterprise, County)]."""
    query = (select(VacancyInterest, EnterpriseJob, Enterprise, County)
             .join(EnterpriseJob, EnterpriseJob.id == VacancyInterest.job_id)
             .join(Enterprise, Enterprise.id == EnterpriseJob.enterprise_id)
             .join(County, County.code == Enterprise.county_code)
             .where(VacancyInterest.worker_id == worker.id))
    if interest_id is not None:
        query = query.where(VacancyInterest.id == interest_id)
    return db.session.execute(query.order_by(VacancyInterest.created_at.desc(), VacancyInterest.id.desc())).all()


# --- the enterprise's side -------------------------------------------------------


def interests_for_enterprise(staff, enterprise_id, filters, page=1, per_page=50):
    """Workers interested in (or hired on) an enterprise's vacancies; returns (rows, total).

    Each row is (VacancyInterest, EnterpriseJob, Worker, full_mobile): the full mobile only where
    the worker allowed contact, and each such read is audited. Withdrawn interests are left out.
    """
    enterprise = scope.enterprise_in_scope(staff, enterprise_id)
    query = (select(VacancyInterest, EnterpriseJob, Worker)
             .join(EnterpriseJob, EnterpriseJob.id == VacancyInterest.job_id)
             .join(Worker, Worker.id == VacancyInterest.worker_id)
             .where(EnterpriseJob.enterprise_id == enterprise.id, VacancyInterest.status != "withdrawn"))
    if filters.get("job_id"):
        query = query.where(VacancyInterest.job_id == filters["job_id"])
    if filters.get("status"):
        query = query.where(VacancyInterest.status == filters["status"])
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    found = db.session.execute(query.order_by(VacancyInterest.created_at, VacancyInterest.id)
                               .limit(per_page).offset((page - 1) * per_page)).all()
    rows = [(interest, job, worker, _full_mobile(staff, interest, worker)) for interest, job, worker in found]
    if any(row[3] for row in rows):
        db.session.commit()  # the audit entries of the full reads
    return rows, total


def _full_mobile(staff, interest, worker):
    # The worker agreed to be contacted by the enterprise, not by the government's operators.
    if staff.role != "enterprise_hr" or not interest.contact_allowed or worker.mobile_cipher is None:
        return None
    audit.record("staff", staff.id, "read.full_contact", "worker", worker.id, interest_id=interest.id)
    return crypto.cipher().decrypt(worker.mobile_cipher, "worker.mobile")


def hire(staff, enterprise_id, interest_id):
    """Mark an interested worker hired (录用): interest → hired, the job's filled +1 and short −1, one commit.

    Both changes are conditional UPDATEs, so two clerks can neither hire one person twice nor
    push the shortage below zero. Raises NotFound outside the scope, Conflict interest_not_open
    (not 'interested') or no_shortage (short already 0).
    Returns (interest, job, worker).
    """
    enterprise = scope.enterprise_in_scope(staff, enterprise_id)
    row = db.session.execute(select(VacancyInterest, EnterpriseJob)
                             .join(EnterpriseJob, EnterpriseJob.id == VacancyInterest.job_id)
                             .where(VacancyInterest.id == interest_id)).first()
    if row is None or row.EnterpriseJob.enterprise_id != enterprise.id:
        raise NotFound("interest_not_found", "没有找到该求职意向")
    interest, job = row
    now = utcnow()
    marked = db.session.execute(
        update(VacancyInterest).where(VacancyInterest.id == interest.id, VacancyInterest.status == "interested")
        .values(status="hired", decided_at=now, decided_by=staff.id).execution_options(synchronize_session=False))
    if marked.rowcount != 1:
        db.session.rollback()
        raise Conflict("interest_not_open", "该求职意向已录用或已撤回，不能再录用")
    counted = db.session.execute(
        update(EnterpriseJob).where(EnterpriseJob.id == job.id, EnterpriseJob.short > 0)
        .values(filled=EnterpriseJob.filled + 1, short=EnterpriseJob.short - 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if counted.rowcount != 1:
        db.session.rollback()
        raise Conflict("no_shortage", "该工种缺工人数已为0，不能再录用；如确需录用请先修改缺工人数")
    audit.record("staff", staff.id, "vacancy.hire", "vacancy_interest", interest.id, job_id=job.id)
    db.session.commit()  # expires both rows: they are read back with the new counts
    return interest, job, db.session.get(Worker, interest.worker_id)
