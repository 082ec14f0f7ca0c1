"""The worker's local jobs (就地就近务工): browse vacancies, suggestions, declare and withdraw interest."""
from app.services.employment import vacancies
from miniprogram_api import bp
from miniprogram_api import vacancy_schemas as s
from miniprogram_api.auth import auth, current_worker
from miniprogram_api.routes import ERRORS

_VACANCY = "/vacancies/<int(max=2147483647):job_id>"


def _errors(*codes):
    return {code: ERRORS[code] for code in codes}


def _views(rows):
    worker = current_worker()
    mine = vacancies.interests_by_job(worker, [row[0].id for row in rows])
    return [s.vacancy_view(job, enterprise, county, mine.get(job.id)) for job, enterprise, county, *_ in rows]


@bp.get("/vacancies")
@bp.auth_required(auth)
@bp.input(s.VacancyFilterIn, location="query", arg_name="query")
@bp.output(s.VacancyPageOut)
@bp.doc(summary="就近务工岗位（缺工岗位）", responses=_errors(401, 422))
def list_vacancies(query):
    """Open vacancies by job type and county, most short first."""
    page, per_page = query.pop("page"), query.pop("per_page")
    rows, total = vacancies.list_open(query, page, per_page)
    return {"items": _views(rows), "total": total, "page": page, "per_page": per_page}


@bp.get("/vacancies/suggested")
@bp.auth_required(auth)
@bp.input(s.SuggestedIn, location="query", arg_name="query")
@bp.output(s.SuggestedListOut)
@bp.doc(summary="为我推荐的岗位（按求职意向、技能和县区）", responses=_errors(401, 422))
def suggested_vacancies(query):
    """Vacancies ranked by the worker's job intention, skills and county, each with a reason."""
    rows = vacancies.suggested(current_worker(), query["limit"])
    return {"items": [{**view, "reason": row[3]} for view, row in zip(_views(rows), rows)]}


@bp.post(_VACANCY + "/interest")
@bp.auth_required(auth)
@bp.input(s.InterestIn, arg_name="body")
@bp.output(s.MyInterestDetailOut, status_code=200)
@bp.doc(summary="报名岗位意向（可重复提交以修改是否同意联系；新建时返回 201）",
        responses={201: "已报名", **_errors(401, 404, 409, 422)})
def express_interest(job_id, body):
    """Declare interest in a vacancy, or change whether the enterprise may contact the worker."""
    row, created = vacancies.express_interest(current_worker(), job_id, body["contact_allowed"])
    return s.interest_view(*row), 201 if created else 200


@bp.delete(_VACANCY + "/interest")
@bp.auth_required(auth)
@bp.output({}, status_code=204)
@bp.doc(summary="撤回岗位意向", responses=_errors(401, 404, 409))
def withdraw_interest(job_id):
    """Withdraw interest; the enterprise no longer sees the worker."""
    vacancies.withdraw_interest(current_worker(), job_id)
    return ""


@bp.get("/interests")
@bp.auth_required(auth)
@bp.output(s.MyInterestListOut)
@bp.doc(summary="我的岗位意向及状态", responses=_errors(401))
def list_interests():
    """The worker's interests with their status (已报名、已录用、已撤回)."""
    return {"items": [s.interest_view(*row) for row in vacancies.interests_of_worker(current_worker())]}
