"""Local jobs in the mini-program: browse, suggestions, interest and its withdrawal."""
from sqlalchemy import select

from app.extensions import db
from app.models import EnterpriseJob
from tests.builders import login, make_worker

MP = "/api/mp/v1"


def _job(job_type):
    return db.session.scalar(select(EnterpriseJob).where(EnterpriseJob.job_type == job_type))


def test_vacancies_are_the_rows_still_short(client):
    headers = make_worker(client, declare=False)
    listed = client.get(f"{MP}/vacancies", headers=headers).json
    types = [item["job_type"] for item in listed["items"]]
    assert "纺织工" in types and "木工" not in types  # the sample 木工 row is short of nobody
    assert listed["total"] == len(types) and all(item["short"] > 0 for item in listed["items"])
    assert [item["short"] for item in listed["items"]] == sorted((item["short"] for item in listed["items"]), reverse=True)
    first = listed["items"][0]
    assert first["enterprise_name"] and first["county_name"] and first["my_interest"] is None
    by_type = client.get(f"{MP}/vacancies?job_type=纺织", headers=headers).json["items"]
    assert [item["job_type"] for item in by_type] == ["纺织工"]
    by_code = client.get(f"{MP}/vacancies?county=640122", headers=headers).json["items"]
    by_name = client.get(f"{MP}/vacancies?county=贺兰县", headers=headers).json["items"]
    assert by_code == by_name and {item["county_code"] for item in by_code} == {"640122"}
    page = client.get(f"{MP}/vacancies?per_page=2&page=2", headers=headers).json
    assert page["items"] == listed["items"][2:4] and page["total"] == listed["total"]
    assert client.get(f"{MP}/vacancies?per_page=0", headers=headers).status_code == 422
    assert client.get(f"{MP}/vacancies").status_code == 401


def test_suggestions_follow_job_intention_skills_and_county(client):
    headers = make_worker(client, declare=False, job_intention="纺织工", skills=["电焊"], hometown_county="灵武市",
                          current_address="银川市金凤区某小区")
    items = client.get(f"{MP}/vacancies/suggested?limit=50", headers=headers).json["items"]
    assert items[0]["job_type"] == "纺织工" and "求职意向" in items[0]["reason"]
    assert items[1]["job_type"] == "电焊工" and "技能" in items[1]["reason"]
    assert items[2]["county_name"] == "灵武市" and "家乡" in items[2]["reason"]
    assert "缺工" in items[-1]["reason"]
    assert len(items) == len(client.get(f"{MP}/vacancies", headers=headers).json["items"])
    assert len(client.get(f"{MP}/vacancies/suggested?limit=2", headers=headers).json["items"]) == 2


def test_interest_needs_a_profile_and_can_change_and_be_withdrawn(client):
    job = _job("纺织工")
    interest = f"{MP}/vacancies/{job.id}/interest"
    bare = login(client, "bare")
    refused = client.post(interest, json={"contact_allowed": True}, headers=bare)
    assert refused.status_code == 422 and refused.json["error"]["code"] == "profile_incomplete"
    headers = make_worker(client, declare=False)
    first = client.post(interest, json={"contact_allowed": False}, headers=headers)
    assert first.status_code == 201 and first.json["status"] == "interested"
    assert first.json["vacancy"]["job_type"] == "纺织工" and first.json["contact_allowed"] is False
    again = client.post(interest, json={"contact_allowed": True}, headers=headers)
    assert again.status_code == 200 and again.json["id"] == first.json["id"] and again.json["contact_allowed"]
    assert client.post(interest, json={}, headers=headers).status_code == 422
    listed = client.get(f"{MP}/vacancies?job_type=纺织工", headers=headers).json["items"]
    assert listed[0]["my_interest"] == {"status": "interested", "contact_allowed": True}
    assert client.delete(interest, headers=headers).status_code == 204
    assert client.delete(interest, headers=headers).status_code == 204  # withdrawing twice is harmless
    mine = client.get(f"{MP}/interests", headers=headers).json["items"]
    assert [(i["status"], i["contact_allowed"]) for i in mine] == [("withdrawn", False)]
    reopened = client.post(interest, json={"contact_allowed": False}, headers=headers)
    assert reopened.status_code == 200 and reopened.json["status"] == "interested"
    other = make_worker(client, name="other", n=1, declare=False)
    assert client.get(f"{MP}/interests", headers=other).json["items"] == []
    missing = client.delete(interest, headers=other)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "interest_not_found"


def test_no_interest_in_a_vacancy_that_is_full_or_unknown(client):
    headers = make_worker(client, declare=False)
    full = client.post(f"{MP}/vacancies/{_job('木工').id}/interest", json={"contact_allowed": True}, headers=headers)
    assert full.status_code == 409 and full.json["error"]["code"] == "vacancy_filled"
    unknown = client.post(f"{MP}/vacancies/987654/interest", json={"contact_allowed": True}, headers=headers)
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "vacancy_not_found"
