"""The dashboard (GET /api/console/v1/stats): counts by status, direction, county and Beijing day, in scope."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Application, Enterprise, EnterpriseJob, Park
from app.services.platform.timeutil import local_today
from tests.builders import (
    close_trip,
    depart,
    make_staff,
    make_worker,
    profile,
    publish_trip,
    qr_of,
    scan_body,
    submit_application,
)
from tests.console.roster_helpers import ROSTER, hr, register

STATS = "/api/console/v1/stats"
SCANS = "/api/checkin/v1/scans"
ORDERS = "/api/console/v1/isolation-orders"


def enterprise(name_part):
    return db.session.scalar(select(Enterprise).where(Enterprise.name.contains(name_part)))


@pytest.fixture
def world(client):
    """A trip of 永宁县 (640121) with one arrival, one fever at boarding and two no-shows; an
    application to a 贺兰 park enterprise (640122); job rows in both counties."""
    trip = publish_trip(client, passengers=4)
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    riders = [rider for rider in trip["riders"] if rider["worker_id"] not in crew]
    captain, trip_id = trip["captain"]["headers"], trip["trip"]["id"]
    well, sick = qr_of(client, riders[0], trip_id), qr_of(client, riders[1], trip_id)
    assert client.post(SCANS, json=scan_body(well), headers=captain).json["verdict"] == "allow"
    assert client.post(SCANS, json=scan_body(sick, temperature=38.1), headers=captain).json["verdict"] == "isolate"
    assert client.post(SCANS, json=scan_body(well, kind="arrive"), headers=captain).json["verdict"] == "allow"
    helan = enterprise("贺兰山食品")
    worker = make_worker(client, name="helan", n=50)
    submit_application(client, worker, county_code="640122", employer_id=helan.id, employer_name=helan.name,
                       direction="inbound")
    db.session.execute(delete(EnterpriseJob))  # the reference data's sample rows: known figures only
    db.session.add_all([EnterpriseJob(enterprise_id=helan.id, job_type="普工", filled=3, short=5),
                        EnterpriseJob(enterprise_id=helan.id, job_type="叉车", filled=1, short=0),
                        EnterpriseJob(enterprise_id=enterprise("永宁新材料").id, job_type="焊工", filled=2, short=1)])
    db.session.commit()
    return {**trip, "helan": helan}


def test_office_sees_everything(client, world):
    office = make_staff(client, "office", role="admin")
    response = client.get(STATS, headers=office)
    assert response.status_code == 200, response.json
    stats = response.json
    applications = stats["applications"]
    assert applications["total"] == 5
    assert applications["by_status"]["assigned"] == 4 and applications["by_status"]["submitted"] == 1
    assert applications["by_direction"] == {"outbound": 4, "inbound": 1}
    assert applications["by_county"] == {"640121": 4, "640122": 1}
    assert applications["by_day"] == [{"day": local_today().isoformat(), "count": 5}]
    today = [{"day": local_today().isoformat(), "count": 1}]
    assert stats["trips"]["total"] == 1 and stats["trips"]["by_status"]["arrived"] == 1
    assert stats["trips"]["by_direction"] == {"outbound": 1, "inbound": 0}
    assert (stats["trips"]["by_county"], stats["trips"]["by_day"]) == ({"640121": 1}, today)
    passengers = stats["passengers"]
    assert passengers["by_status"] == {"assigned": 0, "boarded": 0, "arrived": 1, "no_show": 2, "isolated": 1}
    assert passengers["by_direction"] == {"outbound": 4, "inbound": 0} and passengers["by_county"] == {"640121": 4}
    assert passengers["by_day"] == [{"day": local_today().isoformat(), "count": 4}]
    assert stats["check_in"] == {"boarded": 1, "arrived": 1, "no_show": 2}
    assert stats["health"]["anomalies_by_reason"] == {"fever": 1}
    assert stats["health"]["anomalies_by_source"] == {"scan": 1, "follow_up": 0}
    assert stats["health"]["isolations_by_status"] == {"pending": 1, "active": 0, "released": 0, "dismissed": 0}
    assert stats["health"]["isolations_by_kind"]["undecided"] == 1
    assert stats["vacancies"] == {"filled": 6, "short": 6, "by_county": [
        {"county_code": "640121", "filled": 2, "short": 1}, {"county_code": "640122", "filled": 4, "short": 5}]}


def test_figures_agree_with_the_manifest_and_survive_closing_the_trip(client, world):
    office = make_staff(client, "office", role="admin")
    trip_id = world["trip"]["id"]
    manifest = client.get(f"/api/checkin/v1/trips/{trip_id}/manifest", headers=world["staff"]).json["counts"]
    before = client.get(STATS, headers=office).json["passengers"]["by_status"]
    assert before == {name: manifest[name] for name in before}
    depart(trip_id)
    closed = close_trip(client, trip_id, world["staff"])
    assert closed.status_code == 200, closed.json
    after = client.get(STATS, headers=office).json
    # Closing revokes the no-shows' seats: they are still no-shows, and the fever case still isolated.
    assert after["passengers"]["by_status"] == before and after["check_in"]["no_show"] == 2
    listed = client.get(f"/api/checkin/v1/trips/{trip_id}/manifest", headers=world["staff"]).json["counts"]
    assert listed == manifest  # and the manifest still lists them


def test_county_and_park_operators_see_their_own(client, world):
    helan = make_staff(client, "helan", county_code="640122")
    stats = client.get(STATS, headers=helan).json
    assert stats["filters"]["county"] == "640122" and stats["applications"]["total"] == 1
    assert stats["trips"]["total"] == 0 and stats["passengers"]["total"] == 0
    assert stats["health"]["anomalies"] == 0 and stats["health"]["isolations"] == 0
    assert (stats["vacancies"]["filled"], stats["vacancies"]["short"]) == (4, 5)
    other = client.get(STATS, query_string={"county": "640121"}, headers=helan)
    assert (other.status_code, other.json["error"]["code"]) == (403, "county_out_of_scope")
    yongning = client.get(STATS, headers=world["staff"]).json
    assert yongning["applications"]["total"] == 4 and yongning["health"]["isolations"] == 1
    park_id = world["helan"].park_id
    park = make_staff(client, "helan-park", role="park_operator", park_id=park_id)
    stats = client.get(STATS, headers=park).json
    assert stats["applications"]["by_county"] == {"640122": 1} and stats["trips"]["total"] == 0
    assert stats["vacancies"]["by_county"] == [{"county_code": "640122", "filled": 4, "short": 5}]
    assert client.get(STATS, query_string={"county": "640121"}, headers=park).status_code == 403
    other_park = db.session.scalar(select(Park.id).where(Park.code == "lingwu-ip"))
    lingwu = make_staff(client, "lingwu-park", role="park_operator", park_id=other_park)
    assert client.get(STATS, headers=lingwu).json["applications"]["total"] == 0


def _follow_up(client, headers, enterprise_id, worker_id, temperature, days_ago=0, symptoms=()):
    body = {"temperature": temperature, "symptoms": list(symptoms),
            "date": (local_today() - timedelta(days=days_ago)).isoformat()}
    response = client.post(f"{ROSTER.format(enterprise_id)}/{worker_id}/follow-ups", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_a_roster_returnee_counts_where_the_isolation_list_shows_them(client):
    """A mini-program user with no employer in their profile, on a 永宁 enterprise's roster (零散返岗)."""
    make_worker(client, "wang", n=7)
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, id_number=profile(7)["id_number"], name=profile(7)["name"],
                   days_ago=3)
    worker_id = row["worker_id"]
    _follow_up(client, headers, enterprise_id, worker_id, 36.5, days_ago=3)  # normal: not an anomaly
    assert _follow_up(client, headers, enterprise_id, worker_id, 38.0, days_ago=2)["isolation_order_id"]
    _follow_up(client, headers, enterprise_id, worker_id, 37.3, days_ago=1)  # at the threshold is a fever
    _follow_up(client, headers, enterprise_id, worker_id, 36.5, symptoms=["cough"])

    officer = make_staff(client, "health-yn", role="health_officer", county_code="640121")
    listed = client.get(ORDERS, headers=officer).json
    assert listed["total"] == 1 and listed["items"][0]["worker"]["id"] == worker_id
    health = client.get(STATS, headers=officer).json["health"]
    assert health["isolations"] == 1 and health["isolations_by_status"]["pending"] == 1
    assert health["anomalies"] == 3 and health["anomalies_by_source"] == {"scan": 0, "follow_up": 3}
    assert health["anomalies_by_reason"] == {"fever": 2, "symptoms": 1}
    today = client.get(STATS, query_string={"date_from": local_today().isoformat()}, headers=officer).json
    assert today["health"]["anomalies_by_reason"] == {"symptoms": 1} and today["health"]["isolations"] == 1

    elsewhere = make_staff(client, "health-hl", role="health_officer", county_code="640122")
    assert client.get(ORDERS, headers=elsewhere).json["total"] == 0
    health = client.get(STATS, headers=elsewhere).json["health"]
    assert (health["anomalies"], health["isolations"]) == (0, 0)
    park_id = db.session.scalar(select(Park.id).where(Park.code == "yc-hitech"))
    park = make_staff(client, "hitech-park", role="park_operator", park_id=park_id)
    health = client.get(STATS, headers=park).json["health"]
    assert (health["anomalies"], health["isolations"]) == (3, 1)
    other_park = db.session.scalar(select(Park.id).where(Park.code == "lingwu-ip"))
    lingwu = make_staff(client, "lingwu-park", role="park_operator", park_id=other_park)
    health = client.get(STATS, headers=lingwu).json["health"]
    assert (health["anomalies"], health["isolations"]) == (0, 0)

    order_id = listed["items"][0]["id"]
    assert client.post(f"{ORDERS}/{order_id}/dismiss", json={"note": "误报"}, headers=officer).status_code == 200
    health = client.get(STATS, headers=officer).json["health"]
    assert health["isolations"] == 0 and health["isolations_by_status"]["dismissed"] == 1  # a false alarm


def test_health_officers_see_their_county_or_all(client, world):
    everywhere = make_staff(client, "health", role="health_officer")
    assert client.get(STATS, headers=everywhere).json["applications"]["total"] == 5
    narrowed = client.get(STATS, query_string={"county": "640122"}, headers=everywhere).json
    assert narrowed["applications"]["total"] == 1 and narrowed["health"]["isolations"] == 0
    local = make_staff(client, "health-yn", role="health_officer", county_code="640121")
    stats = client.get(STATS, headers=local).json
    assert stats["health"]["anomalies"] == 1 and stats["health"]["isolations"] == 1


@pytest.mark.parametrize("role,scope", [("enterprise_hr", "enterprise"), ("checkpoint_staff", "checkpoint"),
                                        ("transport_operator", None)])
def test_other_roles_may_not_see_the_dashboard(client, role, scope):
    from app.models import Checkpoint

    ids = {"enterprise": ("enterprise_id", Enterprise), "checkpoint": ("checkpoint_id", Checkpoint)}
    kwargs = {}
    if scope:
        name, model = ids[scope]
        kwargs[name] = db.session.scalar(select(model.id).limit(1))
    headers = make_staff(client, "someone", role=role, **kwargs)
    response = client.get(STATS, headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden_role")


def test_days_are_beijing_days(client, world):
    office = make_staff(client, "office", role="admin")
    # 17:30 UTC on 23 February is 01:30 on the 24th in Beijing.
    late = db.session.scalar(select(Application).where(Application.county_code == "640122"))
    late.created_at = datetime(2020, 2, 23, 17, 30)
    early = db.session.scalar(select(Application).where(Application.county_code == "640121").limit(1))
    early.created_at = datetime(2020, 2, 23, 15, 59)  # 23:59 on the 23rd in Beijing
    db.session.commit()
    by_day = client.get(STATS, headers=office).json["applications"]["by_day"]
    assert by_day[:2] == [{"day": "2020-02-23", "count": 1}, {"day": "2020-02-24", "count": 1}]
    one_day = client.get(STATS, query_string={"date_from": "2020-02-24", "date_to": "2020-02-24"},
                         headers=office).json
    assert one_day["applications"]["total"] == 1 and one_day["applications"]["by_county"] == {"640122": 1}
    assert one_day["trips"]["total"] == 0 and one_day["health"]["anomalies"] == 0
    today = local_today()
    current = client.get(STATS, query_string={"date_from": today.isoformat(), "date_to": today.isoformat()},
                         headers=office).json
    assert current["trips"]["total"] == 1 and current["health"]["anomalies"] == 1
    assert current["applications"]["total"] == 3
    later = client.get(STATS, query_string={"date_from": (today + timedelta(days=1)).isoformat()}, headers=office)
    assert later.json["trips"]["total"] == 0 and later.json["passengers"]["total"] == 0
    backwards = client.get(STATS, query_string={"date_from": "2020-02-25", "date_to": "2020-02-24"}, headers=office)
    assert (backwards.status_code, backwards.json["error"]["code"]) == (422, "validation_error")


def test_dates_out_of_range_are_refused(client):
    office = make_staff(client, "office", role="admin")
    for bad in ({"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}, {"county": "yongning"}):
        response = client.get(STATS, query_string=bad, headers=office)
        assert (response.status_code, response.json["error"]["code"]) == (422, "validation_error"), bad


def test_the_dashboard_counts_abnormal_follow_ups_as_assess_judges_them(client):
    """The anomaly count is one SQL query; it must agree with health_rules.assess, follow-up by follow-up."""
    from collections import Counter
    from decimal import Decimal

    from app.models import HealthEvent, Worker
    from app.models.base import utcnow
    from app.services.office import stats
    from app.services.people import health
    from app.services.people.health_rules import assess

    make_worker(client, "grid", n=9)
    worker_id = db.session.scalar(select(Worker.id))
    grid = [(temperature, symptoms) for temperature in (None, "36.0", "37.2", "37.3", "38.5")
            for symptoms in (None, [], ["cough"], ["fever", "fatigue"])]
    events = [HealthEvent(worker_id=worker_id, kind="follow_up", occurred_at=utcnow() - timedelta(minutes=index),
                          temperature=Decimal(temperature) if temperature else None, symptoms=symptoms,
                          actor_kind="staff")
              for index, (temperature, symptoms) in enumerate(grid)]
    db.session.add_all(events)
    db.session.commit()

    rules = health.rules()
    judged = Counter(reason for status, reason, _ in (assess(health.to_observation(event), rules) for event in events)
                     if status != "green")
    counted = stats._anomalies(stats.Area())
    assert counted["anomalies_by_source"]["follow_up"] == sum(judged.values()) == 14
    assert counted["anomalies_by_reason"] == dict(judged)


def test_the_breakdowns_the_dashboard_draws(client, world):
    """By day and status, check-in by day, anomalies by county, vacancies by enterprise: each sums to its total."""
    office = make_staff(client, "office", role="admin")
    stats = client.get(STATS, headers=office).json
    today = local_today().isoformat()
    [applications] = stats["applications"]["daily"]
    assert applications == {"day": today, "count": 5, "by_direction": {"outbound": 4, "inbound": 1},
                            "by_status": stats["applications"]["by_status"]}
    [trips] = stats["trips"]["daily"]
    assert trips["by_status"]["arrived"] == 1 and trips["count"] == 1
    [passengers] = stats["passengers"]["daily"]
    assert passengers["by_status"] == stats["passengers"]["by_status"]
    assert passengers["check_in"] == stats["check_in"] == {"boarded": 1, "arrived": 1, "no_show": 2}
    assert stats["health"]["anomalies_by_county"] == [
        {"county_code": "640121", "total": 1, "scan_isolate": 1, "follow_up_fever": 0, "follow_up_symptoms": 0}]
    by_enterprise = stats["vacancies_by_enterprise"]
    assert [(row["name"], row["filled"], row["short"]) for row in by_enterprise] == [
        (world["helan"].name, 4, 5), (enterprise("永宁新材料").name, 2, 1)]
    assert by_enterprise[0]["county_code"] == "640122"
    helan = make_staff(client, "helan", county_code="640122")
    narrowed = client.get(STATS, headers=helan).json
    assert [row["name"] for row in narrowed["vacancies_by_enterprise"]] == [world["helan"].name]
    assert narrowed["health"]["anomalies_by_county"] == [] and narrowed["passengers"]["daily"] == []


def test_follow_ups_count_in_every_county_of_the_worker(client):
    """A 永宁 roster returnee who also applied to travel from 贺兰: both counties' lists show them, so both count."""
    make_worker(client, "wang", n=7)
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, id_number=profile(7)["id_number"], name=profile(7)["name"],
                   days_ago=1)
    _follow_up(client, headers, enterprise_id, row["worker_id"], 38.2, days_ago=1)
    _follow_up(client, headers, enterprise_id, row["worker_id"], 36.5, symptoms=["cough"])
    db.session.add(Application(worker_id=row["worker_id"], direction="outbound", county_code="640122", origin="银川市",
                               destination_city="宁波市", destination_address="宁波", earliest_departure=local_today(),
                               latest_departure=local_today(), status="cancelled"))
    db.session.commit()
    office = make_staff(client, "office", role="admin")
    health = client.get(STATS, headers=office).json["health"]
    assert health["anomalies"] == 2
    assert [(row["county_code"], row["follow_up_fever"], row["follow_up_symptoms"])
            for row in health["anomalies_by_county"]] == [("640121", 1, 1), ("640122", 1, 1)]
    yongning = client.get(STATS, query_string={"county": "640121"}, headers=office).json["health"]
    assert [row["county_code"] for row in yongning["anomalies_by_county"]] == ["640121"]


def test_a_scanned_seat_that_no_longer_counts_is_left_out_as_the_manifest_leaves_it(client, world):
    """A seat revoked for another reason than a no-show (re-issued, cancelled) leaves the figures with its scans."""
    from app.models import Revocation, ScanEvent, Seat

    office = make_staff(client, "office", role="admin")
    trip_id = world["trip"]["id"]
    arrived = db.session.scalar(select(ScanEvent.seat_id).where(ScanEvent.kind == "arrive"))
    seat = db.session.get(Seat, arrived)
    seat.status = "revoked"
    db.session.add(Revocation(serial=seat.id, reason="reissued"))
    db.session.commit()
    stats = client.get(STATS, headers=office).json
    assert stats["passengers"]["total"] == 3 and stats["passengers"]["by_status"]["arrived"] == 0
    assert stats["check_in"] == {"boarded": 0, "arrived": 0, "no_show": 2}
    manifest = client.get(f"/api/checkin/v1/trips/{trip_id}/manifest", headers=world["staff"]).json["counts"]
    assert stats["passengers"]["by_status"] == {name: manifest[name] for name in stats["passengers"]["by_status"]}
