"""Which role may write which field, for every PATCH of the console: the one table, checked in one place.

A role missing from a resource's row may not change that resource at all (403 forbidden_role);
a role listed may write only its fields, and a request naming any other field is refused whole
(403 field_not_editable, `fields` naming each one), so nothing is half applied. Scope (which
trip, which enterprise) is checked separately, by `scope`.
"""
from app.errors import Forbidden

TRIP = ("plate", "driver_name", "driver_phone", "responsible_name", "responsible_phone", "medic_name",
        "medic_phone", "departure_time", "departure_place", "route", "notice", "captain_worker_id",
        "vice_captain_worker_id", "arrival_checkpoint_id", "expected_arrival_at")
ENTERPRISE = ("name", "county_code", "park_id", "work_location", "products", "resume_date", "remarks")
ENTERPRISE_JOB = ("job_type", "filled", "short", "remarks")
LIAISON_UNIT = ("unit_name", "leader_name", "leader_office_phone", "leader_mobile", "liaison_name",
                "liaison_office_phone", "liaison_mobile", "liaison_wechat")

RIGHTS = {
    # PATCH /trips/<id> (一车一方案)
    "trip": {
        "admin": TRIP,
        "county_operator": TRIP,
        "park_operator": TRIP,
        # The bus company: its vehicle, its driver and the medic it carries; not the crew, route or times.
        "transport_operator": ("plate", "driver_name", "driver_phone", "medic_name", "medic_phone"),
    },
    # PATCH /enterprises/<id> (附件2)
    "enterprise": {
        "admin": ENTERPRISE,
        "county_operator": ENTERPRISE,
        "park_operator": ENTERPRISE,
        # An enterprise keeps its own details but cannot rename itself or move out of its county or park.
        "enterprise_hr": ("work_location", "products", "resume_date", "remarks"),
    },
    # PATCH /enterprises/<id>/jobs/<job_id>
    "enterprise_job": {
        "admin": ENTERPRISE_JOB,
        "county_operator": ENTERPRISE_JOB,
        "park_operator": ENTERPRISE_JOB,
        "enterprise_hr": ENTERPRISE_JOB,
    },
    # PATCH /liaison-units/<id> (附件1): the coordination office's list
    "liaison_unit": {
        "admin": LIAISON_UNIT,
    },
}

_NAMES = {"trip": "车次", "enterprise": "企业信息", "enterprise_job": "工种", "liaison_unit": "联络单位"}


def require_role(staff, resource):
    """Raise Forbidden (forbidden_role) unless the staff member's role may change this kind of object at all."""
    if staff.role not in RIGHTS[resource]:
        raise Forbidden("forbidden_role", f"当前角色无权修改{_NAMES[resource]}")


def writable(staff, resource):
    """The fields of a resource the staff member's role may write (empty when it may not change it at all)."""
    return RIGHTS[resource].get(staff.role, ())


def check_fields(staff, resource, changes):
    """Raise Forbidden (field_not_editable, naming the fields) if the changes touch a field the role may not write."""
    require_role(staff, resource)
    allowed = RIGHTS[resource][staff.role]
    refused = sorted(name for name in changes if name not in allowed)
    if refused:
        raise Forbidden("field_not_editable", f"当前角色不能修改{_NAMES[resource]}的这些字段：{'、'.join(refused)}",
                        fields={name: "当前角色不可修改" for name in refused})
