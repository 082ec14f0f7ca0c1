"""内容审核: staff look at worker texts msgSecCheck flagged (people/content_security.py) and record what they did.

The office (admin) sees every flag; a county operator sees the flags of their county (the county told
when the text was flagged) and of the workers of their county (`isolation.workers_of_county`: an
application handled by the county, or employed by one of its enterprises). Outside the scope a flag
is not found (404). Handling a doubtful flag (review / risky) records an outcome: ok 内容无问题,
edited 已修改, contacted 已联系本人; audited.
"""
from sqlalchemy import func, select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import ContentCheck
from app.models.base import utcnow
from app.services.employment.isolation import workers_of_county
from app.services.people import workers
from app.services.platform import audit, scope

REVIEWERS = ("admin", "county_operator")
# What the list can show: open = doubtful and not handled yet (the working list), then each status, and handled.
VIEWS = ("open", "review", "risky", "pending", "pass", "handled")
OUTCOME_NAMES = {"ok": "内容无问题", "edited": "已修改", "contacted": "已联系本人"}
STATUS_NAMES = {"pending": "待复查", "review": "需人工审核", "risky": "有风险", "pass": "已通过"}
VIEW_NAMES = {"open": "待处理", "review": "需人工审核", "risky": "有风险", "pending": "待复查", "pass": "已通过",
              "handled": "已处理"}


def _scoped(statement, staff):
    scope.require_role(staff, REVIEWERS)
    if staff.role == "county_operator":
        return statement.where((ContentCheck.county_code == staff.county_code)
                               | ContentCheck.worker_id.in_(workers_of_county(staff.county_code)))
    return statement


def _in_view(statement, view):
    if view == "open":
        return statement.where(ContentCheck.status.in_(("review", "risky")), ContentCheck.handled_at.is_(None))
    if view == "handled":
        return statement.where(ContentCheck.handled_at.is_not(None))
    if view:
        return statement.where(ContentCheck.status == view)
    return statement


def list_checks(staff, filters, page=1, per_page=50):
    """Flags in the staff member's scope, newest first, by view (`status`): (flags, workers by id, total)."""
    statement = _in_view(_scoped(select(ContentCheck), staff), filters.get("status"))
    if filters.get("worker_id"):
        statement = statement.where(ContentCheck.worker_id == filters["worker_id"])
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    flags = db.session.scalars(statement.order_by(ContentCheck.created_at.desc(), ContentCheck.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
    return flags, workers.of_rows(flags), total


def count_by_view(staff):
    """How many flags each view holds in the staff member's scope: {view: n}, {None: all}; one query."""
    handled = ContentCheck.handled_at.is_not(None)
    rows = db.session.execute(_scoped(select(ContentCheck.status, handled, func.count()), staff)
                              .group_by(ContentCheck.status, handled)).all()
    counts = dict.fromkeys((None, *VIEWS), 0)
    for status, is_handled, number in rows:
        counts[None] += number
        counts[status] += number
        if is_handled:
            counts["handled"] += number
        elif status in ("review", "risky"):
            counts["open"] += number
    return counts


def check_in_scope(staff, check_id, lock=False):
    """One flag the staff member may see (locked when handling it), or NotFound."""
    statement = _scoped(select(ContentCheck).where(ContentCheck.id == check_id), staff)
    flag = db.session.scalar(statement.with_for_update() if lock else statement)
    if flag is None:
        raise NotFound("content_check_not_found", "没有找到该内容审核记录")
    return flag


def handle(staff, check_id, outcome, note=None):
    """Record what staff did about a doubtful text and commit; a pending, passed or handled one is a Conflict."""
    flag = check_in_scope(staff, check_id, lock=True)
    if flag.status not in ("review", "risky"):
        raise Conflict("content_check_not_open", "该内容尚在等待微信复查或已通过，无需处理")
    if flag.handled_at is not None:
        raise Conflict("content_check_handled", "该内容已由他人处理")
    flag.outcome, flag.note = outcome, (note or "").strip() or None
    flag.handled_by, flag.handled_at = staff.id, utcnow()
    audit.record("staff", staff.id, "content_check.handle", "content_check", flag.id, outcome=outcome,
                 worker_id=flag.worker_id, field=flag.subject)
    db.session.commit()
    return flag
