"""Field-level rights: every field of every console PATCH, written by every role.

The expectations are spelled here from the README's role table, apart from the rights table
(`app/services/platform/field_rights.py`) they check; a field added to a PATCH schema without a row in
that table fails `test_the_rights_table_names_exactly_the_fields_of_each_patch`.
"""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, Enterprise, Park, Trip
from app.models.staff import ROLES
from app.services.platform import field_rights
from console import enterprise_schemas, office_schemas, schemas
from tests.builders import make_staff, publish_trip

ENTERPRISE_NAME = "（示例）永宁新材料科技有限公司"  # in 永宁县 (640121), park yc-hitech
TRIP_FIELDS = {"plate", "driver_name", "driver_phone", "responsible_name", "responsible_phone", "medic_name",
               "medic_phone", "departure_time", "departure_place", "route", "notice", "captain_worker_id",
               "vice_captain_worker_id", "arrival_checkpoint_id", "expected_arrival_at"}
ENTERPRISE_FIELDS = {"name", "county_code", "park_id", "work_location", "products", "resume_date", "remarks"}
JOB_FIELDS = {"job_type", "filled", "short", "remarks"}
LIAISON_FIELDS = {"unit_name", "leader_name", "leader_office_phone", "leader_mobile", "liaison_name",
                  "liaison_office_phone", "liaison_mobile", "liaison_wechat"}
# Who may write what (README, "Staff console"): None = the role may not change the object at all.
EXPECTED = {
    "trip": {"admin": TRIP_FIELDS, "county_operator": TRIP_FIELDS, "park_operator": TRIP_FIELDS,
             "transport_operator": {"plate", "driver_name", "driver_phone", "medic_name", "medic_phone"}},
    "enterprise": {"admin": ENTERPRISE_FIELDS, "county_operator": ENTERPRISE_FIELDS,
                   "park_operator": ENTERPRISE_FIELDS,
                   "enterprise_hr": ENTERPRISE_FIELDS - {"name", "county_code", "park_id"}},
    "enterprise_job": {"admin": JOB_FIELDS, "county_operator": JOB_FIELDS, "park_operator": JOB_FIELDS,
                       "enterprise_hr": JOB_FIELDS},
    "liaison_unit": {"admin": LIAISON_FIELDS},
}
SCHEMAS = {"trip": schemas.TripPatchIn, "enterprise": enterprise_schemas.EnterprisePatchIn,
           "enterprise_job": enterprise_schemas.EnterpriseJobPatchIn, "liaison_unit": office_schemas.LiaisonUnitPatchIn}


def test_the_rights_table_names_exactly_the_fields_of_each_patch():
    for resource, schema in SCHEMAS.items():
        declared = set(schema().fields)
        assert {role: set(fields) for role, fields in field_rights.RIGHTS[resource].items()} == {
            role: fields for role, fields in EXPECTED[resource].items()}
        assert set(field_rights.RIGHTS[resource]["admin"]) == declared, resource


def staff_of(client, role):
    """Auth headers of a staff member of `role` whose scope covers the test's trip and enterprise."""
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name.startswith(ENTERPRISE_NAME)))
    scope = {"admin": {}, "county_operator": {"county_code": "640121"}, "park_operator": {"park_id": enterprise.park_id},
             "transport_operator": {"county_code": "640121"},
             "checkpoint_staff": {"checkpoint_id": db.session.scalar(select(Checkpoint.id).limit(1))},
             "enterprise_hr": {"enterprise_id": enterprise.id}, "health_officer": {}}[role]
    return make_staff(client, f"who-{role}", role=role, **scope)


def trip_target(client):
    """A published trip of 永宁县, and of its park yc-hitech too (so every operator's scope covers it), and a valid
    value for each field."""
    trip = publish_trip(client, passengers=3)
    row = db.session.get(Trip, trip["trip"]["id"])
    row.park_id = db.session.scalar(select(Park.id).where(Park.code == "yc-hitech"))
    db.session.commit()
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    other = next(rider["worker_id"] for rider in trip["riders"] if rider["worker_id"] not in crew)
    values = {"plate": "宁A12345", "driver_name": "王师傅", "driver_phone": "13912345678", "responsible_name": "李队长",
              "responsible_phone": "13812345678", "medic_name": "赵医生", "medic_phone": "13712345678",
              "departure_time": "09:30", "departure_place": "永宁县汽车站", "route": "京藏高速", "notice": "全程佩戴口罩",
              "captain_worker_id": other, "vice_captain_worker_id": None,
              "arrival_checkpoint_id": db.session.scalar(select(Checkpoint.id).limit(1)),
              "expected_arrival_at": (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="minutes")}
    return f"/api/console/v1/trips/{row.id}", values


def enterprise_target(client):
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name.startswith(ENTERPRISE_NAME)))
    values = {"name": ENTERPRISE_NAME + "（改）", "county_code": "640121", "park_id": enterprise.park_id,
              "work_location": "永宁县望远镇工业园", "products": "新材料、口罩", "resume_date": "2020-03-01", "remarks": "已复工"}
    return f"/api/console/v1/enterprises/{enterprise.id}", values


def job_target(client):
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name.startswith(ENTERPRISE_NAME)))
    job_id = enterprise_job_id(enterprise.id)
    return (f"/api/console/v1/enterprises/{enterprise.id}/jobs/{job_id}",
            {"job_type": "焊工", "filled": 7, "short": 3, "remarks": "急缺"})


def enterprise_job_id(enterprise_id):
    from app.models import EnterpriseJob

    return db.session.scalar(select(EnterpriseJob.id).where(EnterpriseJob.enterprise_id == enterprise_id))


def liaison_target(client):
    office = make_staff(client, "office-maker", role="admin")
    made = client.post("/api/console/v1/liaison-units", json={"unit_name": "市人社局", "leader_name": "张局长",
                                                              "liaison_name": "王科长"}, headers=office)
    assert made.status_code == 201, made.json
    values = {"unit_name": "市人力资源和社会保障局", "leader_name": "张副局长", "leader_office_phone": "0951-6017170",
              "leader_mobile": "13912345678", "liaison_name": "王主任", "liaison_office_phone": "6017171",
              "liaison_mobile": "13812345678", "liaison_wechat": "wx_liaison01"}
    return f"/api/console/v1/liaison-units/{made.json['id']}", values


TARGETS = {"trip": trip_target, "enterprise": enterprise_target, "enterprise_job": job_target,
           "liaison_unit": liaison_target}


@pytest.mark.parametrize("resource", sorted(TARGETS))
def test_every_field_of_every_patch_against_every_role(client, resource):
    path, values = TARGETS[resource](client)
    assert set(values) == set(SCHEMAS[resource]().fields)  # every field of the PATCH is tried
    got, want = {}, {}
    for role in ROLES:
        headers, allowed = staff_of(client, role), EXPECTED[resource].get(role)
        for name, value in values.items():
            response = client.patch(path, json={name: value}, headers=headers)
            error = response.json.get("error", {})
            got[role, name] = (response.status_code, error.get("code"), sorted(error.get("fields") or {}))
            if allowed is None:
                want[role, name] = (403, "forbidden_role", [])
            elif name in allowed:
                want[role, name] = (200, None, [])
            else:
                want[role, name] = (403, "field_not_editable", [name])
    assert got == want


def test_a_refused_field_refuses_the_whole_request(client):
    path, _ = trip_target(client)
    headers = staff_of(client, "transport_operator")
    response = client.patch(path, json={"plate": "宁A99999", "captain_worker_id": 1, "route": "G6"}, headers=headers)
    assert response.status_code == 403 and response.json["error"]["code"] == "field_not_editable"
    assert set(response.json["error"]["fields"]) == {"captain_worker_id", "route"}
    assert db.session.scalar(select(Trip.plate)) is None
