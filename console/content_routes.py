"""Handlers of 内容审核: worker texts msgSecCheck flagged, for the office and county operators."""
from app.services.office import content_reviews
from app.services.people.workers import of_rows
from console import bp
from console import content_schemas as s
from console.auth import auth, current_staff
from console.routes import _errors

_CHECK = "/content-checks/<int(max=2147483647):check_id>"


@bp.get("/content-checks")
@bp.auth_required(auth)
@bp.input(s.ContentFilterIn, location="query", arg_name="query")
@bp.output(s.ContentPageOut)
@bp.doc(summary="内容审核列表（协调办：全部；县区专班：本县区务工人员）", responses=_errors(401, 403, 422))
def list_content_checks(query):
    """Flagged worker texts in the staff member's scope, newest first, by status."""
    page, per_page = query.pop("page"), query.pop("per_page")
    flags, workers, total = content_reviews.list_checks(current_staff(), query, page, per_page)
    return {"items": [s.check_view(flag, workers[flag.worker_id]) for flag in flags], "total": total,
            "page": page, "per_page": per_page}


@bp.get(_CHECK)
@bp.auth_required(auth)
@bp.output(s.ContentCheckDetailOut)
@bp.doc(summary="内容审核详情", responses=_errors(401, 403, 404))
def get_content_check(check_id):
    """One flagged text."""
    flag = content_reviews.check_in_scope(current_staff(), check_id)
    return s.check_view(flag, of_rows([flag])[flag.worker_id])


@bp.post(_CHECK + "/handle")
@bp.auth_required(auth)
@bp.input(s.ContentHandleIn, arg_name="body")
@bp.output(s.ContentCheckDetailOut)
@bp.doc(summary="处理：内容无问题 / 已修改 / 已联系本人", responses=_errors(401, 403, 404, 409, 422))
def handle_content_check(check_id, body):
    """Record what was done about a doubtful text."""
    flag = content_reviews.handle(current_staff(), check_id, body["outcome"], body.get("note"))
    return s.check_view(flag, of_rows([flag])[flag.worker_id])
