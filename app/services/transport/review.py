"""Review of travel applications by county and park staff (审核): list, approve, reject."""
from sqlalchemy import func, select

from app.errors import Conflict, DomainError, Invalid
from app.extensions import db
from app.models import Application
from app.models.base import utcnow
from app.services.notices import events
from app.services.platform import audit, scope
from app.services.transport import trips

MAX_BULK = 500
TARGETS = {"approve": "approved", "reject": "rejected"}


def list_applications(staff, filters, page=1, per_page=50):
    """Applications in the staff member's scope matching the filters; returns (items, total).

    Filters: direction, status, county_code, origin, destination (substring), date_from/date_to
    (the departure window overlaps the range).
    """
    query = scope.filter_applications(select(Application), staff)
    if filters.get("direction"):
        query = query.where(Application.direction == filters["direction"])
    if filters.get("status"):
        query = query.where(Application.status == filters["status"])
    if filters.get("county_code"):
        query = query.where(Application.county_code == filters["county_code"])
    if filters.get("origin"):
        query = query.where(Application.origin.contains(filters["origin"], autoescape=True))
    if filters.get("destination"):
        query = query.where(Application.destination_city.contains(filters["destination"], autoescape=True))
    if filters.get("date_from"):
        query = query.where(Application.latest_departure >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(Application.earliest_departure <= filters["date_to"])
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(Application.earliest_departure, Application.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return items, total


def decide(staff, application_id, decision, reason=None):
    """Approve or reject one application in scope and commit.

    Raises NotFound outside the scope, Invalid for a rejection without reason,
    Conflict when the application's status does not allow the decision.
    """
    application, _ = _decide_one(staff, application_id, decision, reason)
    db.session.commit()
    return application


def decide_many(staff, application_ids, decision, reason=None):
    """Decide several applications; each succeeds or fails alone. Returns one result per id.

    A result is {id, ok, status, changed} (changed is False when the application already had that
    decision) or {id, ok: False, code, message}.
    """
    if len(application_ids) > MAX_BULK:
        raise Invalid("validation_error", f"一次最多处理{MAX_BULK}条", fields={"ids": f"最多{MAX_BULK}条"})
    results = []
    for application_id in dict.fromkeys(application_ids):
        try:
            application, changed = _decide_one(staff, application_id, decision, reason)
            db.session.commit()
            results.append({"id": application_id, "ok": True, "status": application.status, "changed": changed})
        except DomainError as error:
            db.session.rollback()
            results.append({"id": application_id, "ok": False, "code": error.code, "message": error.message})
    return results


def can_decide(application, decision):
    """Whether the application is open to the decision ("approve" or "reject"): submitted, or approved and now rejected."""
    return application.status in ("submitted", "approved") and application.can_become(TARGETS[decision])


def _decide_one(staff, application_id, decision, reason):
    """Apply one decision (not committed); returns (application, changed)."""
    target = TARGETS[decision]
    if decision == "reject" and not reason:
        raise Invalid("reason_required", "驳回时请填写原因", fields={"reason": "必填"})
    application = scope.application_in_scope(staff, application_id)
    db.session.refresh(application, with_for_update=True)
    if application.status == target:
        return application, False  # deciding twice the same way is harmless (a retried bulk request)
    if not can_decide(application, decision):
        raise Conflict("application_not_decidable", "该报名当前状态不能审核")
    if target == "rejected":
        trips.release_application_seat(application, "rejected")
    application.move_to(target, reason)
    application.decided_by = staff.id
    application.decided_at = utcnow()
    audit.record("staff", staff.id, f"application.{decision}", "application", application.id, reason=reason)
    events.application_decided(application)
    return application, True
