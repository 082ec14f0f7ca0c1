"""Rules of local jobs and the enterprise sheet, called directly."""
import pytest
from sqlalchemy import select

from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.models import EnterpriseJob, Park, StaffUser, Worker
from app.services.employment import enterprises, vacancies


def test_suggestions_rank_job_before_place_and_say_why(app):
    worker = Worker(job_intention="服装厂缝纫工", skills=["叉车"], hometown_county="银川市兴庆区")
    ranked = vacancies.suggested(worker, limit=4)
    reasons = [(job.job_type, reason) for job, _, _, reason in ranked]
    assert reasons[0] == ("缝纫工", "符合您的求职意向“服装厂缝纫工”")
    assert reasons[1] == ("叉车司机", "符合您的技能“叉车”")
    assert reasons[2] == ("钢筋工", "在您的家乡兴庆区")
    assert "缺工" in reasons[3][1]


def test_suggestions_for_an_empty_profile_are_the_most_short(app):
    ranked = vacancies.suggested(Worker(), limit=3)
    shorts = [job.short for job, *_ in ranked]
    assert shorts == sorted(shorts, reverse=True) and all(short > 0 for short in shorts)


def test_job_list_writes_counts_the_way_the_sheet_does(app):
    jobs = [EnterpriseJob(job_type="纺织工", filled=20, short=0), EnterpriseJob(job_type="包装工", filled=10, short=3)]
    assert enterprises.job_list(jobs, "filled") == "纺织工（20）、包装工（10）"
    assert enterprises.job_list([], "short") is None


def test_placement_follows_the_registering_staff(app):
    helan_park = db.session.scalar(select(Park).where(Park.code == "helan-ip"))
    park_staff = StaffUser(role="park_operator", park_id=helan_park.id)
    assert enterprises._placement(park_staff, None, None, creating=True) == ("640122", helan_park.id)
    with pytest.raises(Forbidden):
        enterprises._placement(park_staff, None, None)  # leaving its park on update
    county_staff = StaffUser(role="county_operator", county_code="640121")
    assert enterprises._placement(county_staff, None, None, creating=True) == ("640121", None)
    with pytest.raises(Invalid) as error:
        enterprises._placement(county_staff, None, helan_park.id)
    assert error.value.code == "park_not_in_county"


def test_hire_refuses_when_nothing_is_short(app, client):
    from tests.builders import make_staff, make_worker

    job = db.session.scalar(select(EnterpriseJob).where(EnterpriseJob.job_type == "缝纫工"))
    make_worker(client, declare=False)
    worker = db.session.scalar(select(Worker))
    (interest, *_), created = vacancies.express_interest(worker, job.id, contact_allowed=False)
    assert created
    job.short = 0
    db.session.commit()
    make_staff(client, "office", role="admin")
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == "office"))
    with pytest.raises(Conflict) as error:
        vacancies.hire(staff, job.enterprise_id, interest.id)
    assert error.value.code == "no_shortage"
    assert db.session.get(type(interest), interest.id).status == "interested"
