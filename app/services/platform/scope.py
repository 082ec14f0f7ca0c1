"""What a staff member's scope covers. Every console query goes through here.

Objects outside the scope are reported as not found (404), so ids reveal nothing.
"""
from sqlalchemy import select, true

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Application, Enterprise, Plan, Trip

PLANNERS = ("admin", "county_operator", "park_operator")
TRIP_EDITORS = ("admin", "county_operator", "park_operator", "transport_operator")


def require_role(staff, roles):
    """Raise Forbidden unless the staff member has one of the roles."""
    if staff.role not in roles:
        raise Forbidden("forbidden_role", "当前角色无权进行此操作")


def filter_applications(query, staff):
    """Restrict an Application query to the staff member's county or park."""
    if staff.role == "admin":
        return query
    if staff.role == "county_operator":
        return query.where(Application.county_code == staff.county_code)
    if staff.role == "park_operator":
        park_enterprises = select(Enterprise.id).where(Enterprise.park_id == staff.park_id)
        return query.where(Application.employer_id.in_(park_enterprises))
    raise Forbidden("forbidden_role", "当前角色无权查看出行报名")


def covers_application(staff, application):
    """Whether the application lies in the staff member's scope."""
    if staff.role == "admin":
        return True
    if staff.role == "county_operator":
        return application.county_code == staff.county_code
    if staff.role == "park_operator":
        return application.employer_id is not None and _park_of(application.employer_id) == staff.park_id
    return False


def _park_of(enterprise_id):
    enterprise = db.session.get(Enterprise, enterprise_id)
    return enterprise.park_id if enterprise else None


def filter_trips(query, model, staff):
    """Restrict a Trip or Plan query to the staff member's county or park."""
    if staff.role == "admin":
        return query
    if staff.role in ("county_operator", "transport_operator"):
        return query.where(model.county_code == staff.county_code)
    if staff.role == "park_operator":
        return query.where(model.park_id == staff.park_id)
    raise Forbidden("forbidden_role", "当前角色无权查看车次")


def covers_trip(staff, trip_or_plan):
    """Whether a trip or plan lies in the staff member's scope."""
    if staff.role == "admin":
        return True
    if staff.role in ("county_operator", "transport_operator"):
        return trip_or_plan.county_code == staff.county_code
    if staff.role == "park_operator":
        return trip_or_plan.park_id == staff.park_id
    return False


def get_in_scope(staff, model, object_id, code, message, covers):
    """Load an object the staff member may see, or raise NotFound."""
    obj = db.session.get(model, object_id)
    if obj is None or not covers(staff, obj):
        raise NotFound(code, message)
    return obj


def plan_in_scope(staff, plan_id):
    """A plan the staff member may work on."""
    require_role(staff, PLANNERS)
    return get_in_scope(staff, Plan, plan_id, "plan_not_found", "没有找到该编班方案", covers_trip)


def trip_in_scope(staff, trip_id, roles=TRIP_EDITORS):
    """A trip the staff member may see or edit."""
    require_role(staff, roles)
    return get_in_scope(staff, Trip, trip_id, "trip_not_found", "没有找到该车次", covers_trip)


def application_in_scope(staff, application_id):
    """An application the staff member may review."""
    require_role(staff, PLANNERS)
    return get_in_scope(staff, Application, application_id, "application_not_found", "没有找到这条报名",
                        covers_application)


# --- enterprises (附件2) and their job rows -----------------------------------

ENTERPRISE_READERS = ("admin", "county_operator", "park_operator", "enterprise_hr")
ENTERPRISE_REGISTRARS = ("admin", "county_operator", "park_operator")


def enterprise_condition(staff):
    """A condition on Enterprise for the staff member's county, park or own enterprise."""
    if staff.role == "admin":
        return true()
    if staff.role == "county_operator":
        return Enterprise.county_code == staff.county_code
    if staff.role == "park_operator":
        return Enterprise.park_id == staff.park_id
    if staff.role == "enterprise_hr":
        return Enterprise.id == staff.enterprise_id
    raise Forbidden("forbidden_role", "当前角色无权查看企业信息")


def filter_enterprises(query, staff):
    """Restrict an Enterprise query to the staff member's county, park or own enterprise."""
    return query.where(enterprise_condition(staff))


def covers_enterprise(staff, enterprise):
    """Whether the enterprise lies in the staff member's scope."""
    if staff.role == "admin":
        return True
    if staff.role == "county_operator":
        return enterprise.county_code == staff.county_code
    if staff.role == "park_operator":
        return enterprise.park_id is not None and enterprise.park_id == staff.park_id
    if staff.role == "enterprise_hr":
        return enterprise.id == staff.enterprise_id
    return False


def enterprise_in_scope(staff, enterprise_id, roles=ENTERPRISE_READERS):
    """An enterprise the staff member may see and keep (its sheet, job rows, interests, roster)."""
    require_role(staff, roles)
    return get_in_scope(staff, Enterprise, enterprise_id, "enterprise_not_found", "没有找到该企业",
                        covers_enterprise)
