"""Feeds for the isolation group and the checkpoint group: who is coming, when, in what health; flagged first."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, Enterprise, RosterEntry, StaffUser, Worker
from app.services.platform.timeutil import local_today
from tests.builders import make_staff, make_worker, publish_trip, qr_of, scan_body

ISOLATION = "/api/console/v1/feeds/isolation"
CHECKPOINTS = "/api/console/v1/feeds/checkpoints"
SCANS = "/api/checkin/v1/scans"


def checkpoint(code):
    return db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == code))


def in_hours(hours):
    """A Beijing wall-clock time `hours` from now, as the console sends it."""
    return (datetime.now(UTC) + timedelta(hours=8 + hours)).replace(tzinfo=None).isoformat(timespec="minutes")


def riders(trip):
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    return [rider for rider in trip["riders"] if rider["worker_id"] not in crew]


@pytest.fixture
def inbound(client):
    """An inbound trip to 银川火车站 in six hours, with one passenger isolated for fever at boarding."""
    trip = publish_trip(client, passengers=4, direction="inbound", origin="河南省周口市")
    patched = client.patch(f"/api/console/v1/trips/{trip['trip']['id']}", headers=trip["staff"],
                           json={"arrival_checkpoint_id": checkpoint("yinchuan-railway"),
                                 "expected_arrival_at": in_hours(6)})
    assert patched.status_code == 200, patched.json
    sick = riders(trip)[0]
    answer = client.post(SCANS, json=scan_body(qr_of(client, sick, trip["trip"]["id"]), temperature=38.2),
                         headers=trip["captain"]["headers"]).json
    assert answer["verdict"] == "isolate"
    return {**trip, "sick": sick}


def self_returnee(client, origin="湖北省武汉市", county_part="永宁新材料"):
    """A worker registered by their enterprise as back on their own today (零散返岗)."""
    make_worker(client, name="alone", n=70)
    worker_id = db.session.scalar(select(Worker.id).where(Worker.openid == "dev-alone"))
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name.contains(county_part)))
    hr = db.session.scalar(select(StaffUser.id).limit(1))
    db.session.add(RosterEntry(enterprise_id=enterprise.id, worker_id=worker_id, origin=origin,
                               arrival_date=local_today(), transport="train", transport_number="K1234",
                               registered_by=hr))
    db.session.commit()
    return worker_id


def test_isolation_group_sees_returnees_flagged_first_and_masked(client, inbound):
    outbound = publish_trip(client, passengers=2, start=20, staff_headers=inbound["staff"])  # leaving: not listed
    alone = self_returnee(client)
    officer = make_staff(client, "health", role="health_officer")
    response = client.get(ISOLATION, headers=officer)
    assert response.status_code == 200, response.json
    feed = response.json
    assert feed["total"] == 5
    order = [(item["source"], item["worker_id"]) for item in feed["items"]]
    assert order[:2] == [("trip", inbound["sick"]["worker_id"]), ("self", alone)]
    sick, far = feed["items"][0], feed["items"][1]
    assert sick["health"]["status"] == "red" and sick["isolate_verdict"] is True
    assert set(sick["flags"]) == {"red", "isolate_verdict", "isolation_order"}
    assert sick["isolation"] == {"status": "pending", "kind": None}
    assert sick["origin"] == "河南省周口市" and sick["expected_arrival_at"].endswith("+08:00")
    assert far["flags"] == ["high_risk_origin"] and far["arrival_date"] == local_today().isoformat()
    assert all(not item["flagged"] for item in feed["items"][2:])
    assert not {r["worker_id"] for r in outbound["riders"]} & {item["worker_id"] for item in feed["items"]}
    assert sick["name"] == "张*丰" and "*" in sick["id_number"] and "****" in sick["mobile"]
    assert "13900000001" not in response.get_data(as_text=True)
    page = client.get(ISOLATION, query_string={"per_page": 2, "page": 3}, headers=officer).json
    assert page["total"] == 5 and len(page["items"]) == 1


def test_isolation_window_and_county(client, inbound):
    alone = self_returnee(client, county_part="贺兰山食品")
    office = make_staff(client, "office", role="admin")
    now_only = client.get(ISOLATION, query_string={"hours_ahead": 0, "hours_back": 0}, headers=office).json
    assert [item["worker_id"] for item in now_only["items"]] == [alone]  # the bus is six hours away
    helan = make_staff(client, "health-hl", role="health_officer", county_code="640122")
    assert [item["worker_id"] for item in client.get(ISOLATION, headers=helan).json["items"]] == [alone]
    other = client.get(ISOLATION, query_string={"county": "640121"}, headers=helan)
    assert (other.status_code, other.json["error"]["code"]) == (403, "county_out_of_scope")
    narrowed = client.get(ISOLATION, query_string={"county": "640121"}, headers=office).json
    assert narrowed["total"] == 4 and alone not in {item["worker_id"] for item in narrowed["items"]}
    bad = client.get(ISOLATION, query_string={"hours_ahead": 1000}, headers=office)
    assert (bad.status_code, bad.json["error"]["code"]) == (422, "validation_error")


@pytest.mark.parametrize("role,model", [("county_operator", None), ("checkpoint_staff", Checkpoint),
                                        ("enterprise_hr", Enterprise)])
def test_isolation_feed_is_for_health_officers_and_the_office(client, role, model):
    scope = {f"{model.__tablename__[:-1]}_id": db.session.scalar(select(model.id).limit(1))} if model else {}
    headers = make_staff(client, "someone", role=role, **scope)
    response = client.get(ISOLATION, headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden_role")


def test_checkpoint_group_sees_its_trips_with_counts_and_health(client, inbound):
    railway = checkpoint("yinchuan-railway")
    staff = make_staff(client, "railway", role="checkpoint_staff", checkpoint_id=railway)
    response = client.get(CHECKPOINTS, headers=staff)
    assert response.status_code == 200, response.json
    [station] = response.json["checkpoints"]
    assert (station["checkpoint_id"], station["name"], station["passengers"], station["flagged"]) == \
        (railway, "银川火车站", 4, 1)
    [trip] = station["trips"]
    assert trip["trip_id"] == inbound["trip"]["id"] and trip["expected_arrival_at"].endswith("+08:00")
    assert trip["health"] == {"green": 3, "yellow": 0, "red": 1, "unknown": 0}
    assert trip["by_status"]["isolated"] == 1 and trip["by_status"]["assigned"] == 3
    [flagged] = trip["flagged_passengers"]
    assert flagged["worker_id"] == inbound["sick"]["worker_id"] and flagged["name"] == "张*丰"
    # The same list the scanner's expected route gives, summarized.
    expected = client.get(f"/api/checkin/v1/checkpoints/{railway}/expected", headers=staff).json
    assert [t["trip_id"] for t in expected["trips"]] == [trip["trip_id"]]
    soon = client.get(CHECKPOINTS, query_string={"hours_ahead": 1}, headers=staff).json
    assert soon["checkpoints"][0]["trips"] == []
    airport = client.get(CHECKPOINTS, query_string={"checkpoint_id": checkpoint("hedong-airport")}, headers=staff)
    assert (airport.status_code, airport.json["error"]["code"]) == (403, "wrong_checkpoint")


def test_office_sees_every_checkpoint(client, inbound):
    office = make_staff(client, "office", role="admin")
    feed = client.get(CHECKPOINTS, headers=office).json["checkpoints"]
    assert len(feed) == db.session.scalar(select(db.func.count()).select_from(Checkpoint))
    busy = [c for c in feed if c["trips"]]
    assert [c["checkpoint_id"] for c in busy] == [checkpoint("yinchuan-railway")]
    one = client.get(CHECKPOINTS, query_string={"checkpoint_id": checkpoint("hedong-airport")}, headers=office).json
    assert [c["trips"] for c in one["checkpoints"]] == [[]]
    missing = client.get(CHECKPOINTS, query_string={"checkpoint_id": 999999}, headers=office)
    assert (missing.status_code, missing.json["error"]["code"]) == (404, "checkpoint_not_found")


@pytest.mark.parametrize("role", ["county_operator", "health_officer"])
def test_checkpoint_feed_is_for_checkpoint_staff_and_the_office(client, role):
    response = client.get(CHECKPOINTS, headers=make_staff(client, "someone", role=role))
    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden_role")
