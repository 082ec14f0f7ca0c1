"""Enterprises (附件2) and their job rows: who registers, who sees, who edits."""
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Checkpoint, Enterprise, EnterpriseJob, Park
from tests.builders import make_staff

API = "/api/console/v1"


def _park_id(code):
    return db.session.scalar(select(Park.id).where(Park.code == code))


def _enterprise_id(county_code):
    return db.session.scalar(select(Enterprise.id).where(Enterprise.county_code == county_code).order_by(Enterprise.id))


def test_county_operator_registers_in_its_county(client):
    yongning = make_staff(client, "yongning", county_code="640121")
    helan = make_staff(client, "helan", county_code="640122")
    body = {"name": "永宁服装厂", "work_location": "永宁县杨和镇", "products": "防护服", "resume_date": "2020-02-20",
            "remarks": "急需缝纫工"}
    created = client.post(f"{API}/enterprises", json=body, headers=yongning)
    assert created.status_code == 201, created.json
    assert created.json["county_code"] == "640121" and created.json["park_id"] is None
    assert created.json["jobs"] == [] and created.json["short_total"] == 0
    again = client.post(f"{API}/enterprises", json={**body, "name": " 永宁服装厂 "}, headers=yongning)
    assert again.status_code == 409 and again.json["error"]["code"] == "enterprise_name_taken"
    elsewhere = client.post(f"{API}/enterprises", json={"name": "别处", "county_code": "640122"}, headers=yongning)
    assert elsewhere.status_code == 403 and elsewhere.json["error"]["code"] == "enterprise_out_of_scope"
    wrong_park = client.post(f"{API}/enterprises", json={"name": "别处", "park_id": _park_id("helan-ip")},
                             headers=yongning)
    assert wrong_park.status_code == 422 and wrong_park.json["error"]["code"] == "park_not_in_county"
    in_park = client.post(f"{API}/enterprises", json={"name": "园区厂", "park_id": _park_id("yongning-ip")},
                          headers=yongning)
    assert in_park.status_code == 201 and in_park.json["park_id"] == _park_id("yongning-ip")

    listed = client.get(f"{API}/enterprises", headers=yongning).json
    assert {item["county_code"] for item in listed["items"]} == {"640121"}
    assert created.json["id"] in [item["id"] for item in listed["items"]]
    assert created.json["id"] not in [item["id"] for item in client.get(f"{API}/enterprises", headers=helan).json["items"]]
    enterprise = f"{API}/enterprises/{created.json['id']}"
    assert client.get(enterprise, headers=helan).status_code == 404
    patched = client.patch(enterprise, json={"products": "口罩"}, headers=helan)
    assert patched.status_code == 404 and patched.json["error"]["code"] == "enterprise_not_found"
    patched = client.patch(enterprise, json={"products": "口罩", "resume_date": None}, headers=yongning)
    assert patched.status_code == 200 and patched.json["products"] == "口罩" and patched.json["resume_date"] is None
    moved = client.patch(enterprise, json={"county_code": "640122"}, headers=yongning)
    assert moved.status_code == 403 and moved.json["error"]["code"] == "enterprise_out_of_scope"


def test_park_operator_registers_in_its_park_and_county(client):
    park_id = _park_id("helan-ip")
    park = make_staff(client, "park", role="park_operator", park_id=park_id)
    created = client.post(f"{API}/enterprises", json={"name": "贺兰园区新厂"}, headers=park)
    assert created.status_code == 201
    assert created.json["park_id"] == park_id and created.json["county_code"] == "640122"
    other_park = client.post(f"{API}/enterprises", json={"name": "x厂", "park_id": _park_id("yongning-ip")},
                             headers=park)
    assert other_park.status_code == 403 and other_park.json["error"]["code"] == "enterprise_out_of_scope"
    listed = client.get(f"{API}/enterprises", headers=park).json["items"]
    assert listed and {item["park_id"] for item in listed} == {park_id}
    outside = _enterprise_id("640104")  # the sample builder in 兴庆区, in no park
    assert client.get(f"{API}/enterprises/{outside}", headers=park).status_code == 404
    left = client.patch(f"{API}/enterprises/{created.json['id']}", json={"park_id": None}, headers=park)
    assert left.status_code == 403


def test_admin_places_anywhere_but_needs_a_county(client):
    admin = make_staff(client, "office", role="admin")
    nowhere = client.post(f"{API}/enterprises", json={"name": "无处厂"}, headers=admin)
    assert nowhere.status_code == 422 and "county_code" in nowhere.json["error"]["fields"]
    unknown = client.post(f"{API}/enterprises", json={"name": "无处厂", "county_code": "110101"}, headers=admin)
    assert unknown.status_code == 422 and "county_code" in unknown.json["error"]["fields"]
    by_park = client.post(f"{API}/enterprises", json={"name": "灵武厂", "park_id": _park_id("lingwu-ip")}, headers=admin)
    assert by_park.status_code == 201 and by_park.json["county_code"] == "640181"
    mismatch = client.patch(f"{API}/enterprises/{by_park.json['id']}", json={"county_code": "640104"}, headers=admin)
    assert mismatch.status_code == 422 and mismatch.json["error"]["code"] == "park_not_in_county"
    moved = client.patch(f"{API}/enterprises/{by_park.json['id']}", json={"county_code": "640104", "park_id": None},
                         headers=admin)
    assert moved.status_code == 200 and moved.json["county_code"] == "640104"
    assert client.get(f"{API}/enterprises?county_code=640104", headers=admin).json["total"] == 2


def test_enterprise_hr_keeps_only_its_own_sheet(client):
    own, other = _enterprise_id("640105"), _enterprise_id("640122")
    hr = make_staff(client, "hr", role="enterprise_hr", enterprise_id=own)
    listed = client.get(f"{API}/enterprises", headers=hr).json
    assert [item["id"] for item in listed["items"]] == [own]
    assert client.get(f"{API}/enterprises/{other}", headers=hr).status_code == 404
    assert client.patch(f"{API}/enterprises/{other}", json={"remarks": "x"}, headers=hr).status_code == 404
    updated = client.patch(f"{API}/enterprises/{own}", json={"resume_date": "2020-02-24", "remarks": "已复工"},
                           headers=hr)
    assert updated.status_code == 200 and updated.json["resume_date"] == "2020-02-24"
    renamed = client.patch(f"{API}/enterprises/{own}", json={"name": "改名", "park_id": None}, headers=hr)
    assert renamed.status_code == 403 and renamed.json["error"]["code"] == "field_not_editable"
    assert set(renamed.json["error"]["fields"]) == {"name", "park_id"}
    registered = client.post(f"{API}/enterprises", json={"name": "新厂", "county_code": "640105"}, headers=hr)
    assert registered.status_code == 403 and registered.json["error"]["code"] == "forbidden_role"
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == own)))
    assert "enterprise.update" in actions


def test_other_roles_are_403(client):
    enterprise_id = _enterprise_id("640105")
    job_id = db.session.scalar(select(EnterpriseJob.id).where(EnterpriseJob.enterprise_id == enterprise_id))
    checkpoint = make_staff(client, "gate", role="checkpoint_staff", checkpoint_id=db.session.scalar(select(Checkpoint.id).limit(1)))
    health = make_staff(client, "health", role="health_officer")
    transport = make_staff(client, "bus", role="transport_operator")
    for headers in (checkpoint, health, transport):
        for response in (client.get(f"{API}/enterprises", headers=headers),
                         client.get(f"{API}/enterprises/{enterprise_id}", headers=headers),
                         client.post(f"{API}/enterprises/{enterprise_id}/jobs", json={"job_type": "x"}, headers=headers),
                         client.get(f"{API}/enterprises/export.xlsx", headers=headers),
                         client.get(f"{API}/enterprises/{enterprise_id}/interests", headers=headers),
                         client.post(f"{API}/enterprises", json={"name": "某企业", "county_code": "640105"},
                                     headers=headers),
                         client.patch(f"{API}/enterprises/{enterprise_id}", json={"remarks": "x"}, headers=headers),
                         client.patch(f"{API}/enterprises/{enterprise_id}/jobs/{job_id}", json={"short": 1},
                                      headers=headers),
                         client.delete(f"{API}/enterprises/{enterprise_id}/jobs/{job_id}", headers=headers),
                         client.post(f"{API}/enterprises/{enterprise_id}/interests/1/hire", headers=headers)):
            assert response.status_code == 403 and response.json["error"]["code"] == "forbidden_role"
    assert db.session.get(EnterpriseJob, job_id) is not None  # nothing changed


def test_mini_program_routes_refuse_staff_tokens(client):
    office = make_staff(client, "office", role="admin")
    for response in (client.get("/api/mp/v1/vacancies", headers=office),
                     client.get("/api/mp/v1/vacancies/suggested", headers=office),
                     client.get("/api/mp/v1/interests", headers=office),
                     client.post("/api/mp/v1/vacancies/1/interest", json={"contact_allowed": True}, headers=office)):
        assert response.status_code == 401, response.json


def test_job_rows_one_per_job_type(client):
    own, other = _enterprise_id("640105"), _enterprise_id("640122")
    hr = make_staff(client, "hr", role="enterprise_hr", enterprise_id=own)
    other_hr = make_staff(client, "hr2", role="enterprise_hr", enterprise_id=other)
    jobs = f"{API}/enterprises/{own}/jobs"
    created = client.post(jobs, json={"job_type": "挡车工", "filled": 3, "short": 7, "remarks": "两班倒"}, headers=hr)
    assert created.status_code == 201 and created.json["short"] == 7
    job = f"{jobs}/{created.json['id']}"
    twice = client.post(jobs, json={"job_type": " 挡车工 "}, headers=hr)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "job_type_taken"
    blank = client.post(jobs, json={"job_type": "   "}, headers=hr)
    assert blank.status_code == 422 and "job_type" in blank.json["error"]["fields"]
    negative = client.patch(job, json={"short": -1}, headers=hr)
    assert negative.status_code == 422
    clash = client.patch(job, json={"job_type": "纺织工"}, headers=hr)  # a sample row of this enterprise
    assert clash.status_code == 409 and clash.json["error"]["code"] == "job_type_taken"
    assert client.patch(job, json={"short": 2}, headers=hr).json["short"] == 2
    assert client.patch(job, json={"short": 0}, headers=other_hr).status_code == 404
    assert client.post(f"{API}/enterprises/{own}/jobs", json={"job_type": "y"}, headers=other_hr).status_code == 404
    wrong_parent = client.patch(f"{API}/enterprises/{other}/jobs/{created.json['id']}", json={"short": 1},
                                headers=make_staff(client, "office", role="admin"))
    assert wrong_parent.status_code == 404 and wrong_parent.json["error"]["code"] == "job_not_found"
    sheet = client.get(f"{API}/enterprises/{own}", headers=hr).json
    assert any(j["job_type"] == "挡车工" for j in sheet["jobs"])
    assert sheet["short_total"] == sum(j["short"] for j in sheet["jobs"])
    assert client.delete(job, headers=other_hr).status_code == 404
    assert client.delete(job, headers=hr).status_code == 204
    assert client.delete(job, headers=hr).status_code == 404
