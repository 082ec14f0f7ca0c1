"""Isolation orders: health officers activate, open and release them; county scope; the record follows."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import HealthEvent, IsolationOrder
from app.services.platform.timeutil import local_today
from tests.builders import make_staff
from tests.console.roster_helpers import ROSTER, XIXIA, hr, inbound_trip, passengers, register, scan

ORDERS = "/api/console/v1/isolation-orders"
DECISION = {"kind": "centralized", "place": "永宁县集中隔离点（望远宾馆）"}


def _abnormal(client, headers, enterprise_id, **body):
    row = register(client, headers, enterprise_id, days_ago=2, **body)
    response = client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups",
                           json={"temperature": 38.0}, headers=headers)
    return row, response.json["isolation_order_id"]


def _events(worker_id, kind):
    return db.session.scalars(select(HealthEvent).where(HealthEvent.worker_id == worker_id,
                                                        HealthEvent.kind == kind)).all()


def test_activate_and_release_a_pending_order(client):
    headers, enterprise_id = hr(client)
    row, order_id = _abnormal(client, headers, enterprise_id)
    officer = make_staff(client, "weijian", role="health_officer")
    listed = client.get(ORDERS, query_string={"status": "pending"}, headers=officer).json
    assert [item["id"] for item in listed["items"]] == [order_id] and listed["items"][0]["worker"]["name"] == "李*光"
    release_early = client.post(f"{ORDERS}/{order_id}/release", json={}, headers=officer)
    assert release_early.status_code == 409 and release_early.json["error"]["code"] == "isolation_order_not_active"
    active = client.post(f"{ORDERS}/{order_id}/activate", json=DECISION, headers=officer)
    assert active.status_code == 200, active.json
    assert (active.json["status"], active.json["kind"], active.json["place"]) == ("active", "centralized",
                                                                                 DECISION["place"])
    assert active.json["starts_on"] == local_today().isoformat()
    assert active.json["ends_on"] == (local_today() + timedelta(days=13)).isoformat()
    assert len(_events(row["worker_id"], "isolation_start")) == 1
    twice = client.post(f"{ORDERS}/{order_id}/activate", json=DECISION, headers=officer)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "isolation_order_not_pending"
    roster_row = client.get(ROSTER.format(enterprise_id), headers=headers).json["items"][0]
    assert roster_row["clearance"]["reason"] == "isolation_active"
    released = client.post(f"{ORDERS}/{order_id}/release", json={"note": "核酸阴性"}, headers=officer)
    assert released.status_code == 200 and released.json["status"] == "released"
    assert released.json["closed_by"] is not None and released.json["closed_at"]
    assert len(_events(row["worker_id"], "isolation_end")) == 1
    again = client.post(f"{ORDERS}/{order_id}/release", json={}, headers=officer)
    assert again.status_code == 409
    roster_row = client.get(ROSTER.format(enterprise_id), headers=headers).json["items"][0]
    # Released: the observation starts again today, the record is green again.
    assert roster_row["health"]["status"] == "green"
    assert (roster_row["clearance"]["state"], roster_row["clearance"]["reason"]) == ("in_observation",
                                                                                     "observation_period")
    assert roster_row["clearance"]["observation_ends_on"] == (local_today() + timedelta(days=13)).isoformat()


def test_open_an_order_directly(client):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id)
    officer = make_staff(client, "weijian", role="health_officer", county_code="640121")
    body = {**DECISION, "kind": "home", "place": "家中", "worker_id": row["worker_id"],
            "starts_on": local_today().isoformat(), "ends_on": (local_today() + timedelta(days=6)).isoformat()}
    backwards = client.post(ORDERS, json={**body, "ends_on": (local_today() - timedelta(days=1)).isoformat()},
                            headers=officer)
    assert backwards.status_code == 422 and "ends_on" in backwards.json["error"]["fields"]
    opened = client.post(ORDERS, json=body, headers=officer)
    assert opened.status_code == 201, opened.json
    assert (opened.json["status"], opened.json["kind"], opened.json["opened_by"]) == ("active", "home",
                                                                                      opened.json["decided_by"])
    assert len(_events(row["worker_id"], "isolation_start")) == 1
    twice = client.post(ORDERS, json=body, headers=officer)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "isolation_order_open"
    unknown = client.post(ORDERS, json={**body, "worker_id": 999999}, headers=officer)
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "worker_not_found"


def test_county_scope_of_health_officers(client):
    headers, enterprise_id = hr(client)
    _, order_id = _abnormal(client, headers, enterprise_id)
    other_hr, other_id = hr(client, XIXIA, "hr2")
    other_row, other_order = _abnormal(client, other_hr, other_id, n=1)
    yongning = make_staff(client, "wj-yn", role="health_officer", county_code="640121")
    xixia = make_staff(client, "wj-xx", role="health_officer", county_code="640105")
    everyone = make_staff(client, "wj-all", role="health_officer")
    assert [o["id"] for o in client.get(ORDERS, headers=yongning).json["items"]] == [order_id]
    assert [o["id"] for o in client.get(ORDERS, headers=xixia).json["items"]] == [other_order]
    assert client.get(ORDERS, headers=everyone).json["total"] == 2
    for path in (f"{ORDERS}/{order_id}", ):
        response = client.get(path, headers=xixia)
        assert response.status_code == 404 and response.json["error"]["code"] == "isolation_order_not_found"
    assert client.post(f"{ORDERS}/{order_id}/activate", json=DECISION, headers=xixia).status_code == 404
    assert client.post(f"{ORDERS}/{order_id}/release", json={}, headers=xixia).status_code == 404
    assert client.post(f"{ORDERS}/{order_id}/dismiss", json={"note": "误报"}, headers=xixia).status_code == 404
    direct = client.post(ORDERS, json={**DECISION, "worker_id": other_row["worker_id"]}, headers=yongning)
    assert direct.status_code == 404 and direct.json["error"]["code"] == "worker_not_found"
    for role, scope in (("enterprise_hr", None), ("county_operator", {})):
        staff = headers if scope is None else make_staff(client, "ops-x", role=role)
        for response in (client.get(ORDERS, headers=staff), client.get(f"{ORDERS}/{order_id}", headers=staff),
                         client.post(f"{ORDERS}/{order_id}/activate", json=DECISION, headers=staff),
                         client.post(f"{ORDERS}/{order_id}/release", json={}, headers=staff),
                         client.post(f"{ORDERS}/{order_id}/dismiss", json={"note": "误报"}, headers=staff),
                         client.post(ORDERS, json={**DECISION, "worker_id": 1}, headers=staff)):
            assert response.status_code == 403 and response.json["error"]["code"] == "forbidden_role"


def test_an_order_opened_by_a_scan_is_decided_by_the_trip_county(client):
    _, enterprise_id = hr(client)
    trip = inbound_trip(client, enterprise_id, passengers=3)
    rider = passengers(trip)[0]
    answer = scan(client, trip, rider, temperature=37.8)
    assert answer["verdict"] == "isolate"
    order = db.session.scalar(select(IsolationOrder))
    assert order.status == "pending" and order.scan_event_id is not None
    officer = make_staff(client, "wj-yn", role="health_officer", county_code="640121")
    active = client.post(f"{ORDERS}/{order.id}/activate", json=DECISION, headers=officer)
    assert active.status_code == 200 and active.json["trip_id"] == trip["trip"]["id"]
    assert client.get(ORDERS, query_string={"kind": "centralized"}, headers=officer).json["total"] == 1
    assert client.get(ORDERS, query_string={"kind": "home"}, headers=officer).json["total"] == 0


def test_a_false_alarm_is_dismissed_without_isolating_anyone(client):
    from app.models import AuditLog

    headers, enterprise_id = hr(client)
    row, order_id = _abnormal(client, headers, enterprise_id)
    officer = make_staff(client, "weijian", role="health_officer")
    no_reason = client.post(f"{ORDERS}/{order_id}/dismiss", json={}, headers=officer)
    assert no_reason.status_code == 422 and "note" in no_reason.json["error"]["fields"]
    dismissed = client.post(f"{ORDERS}/{order_id}/dismiss", json={"note": "体温录入错误，复测36.6"}, headers=officer)
    assert dismissed.status_code == 200, dismissed.json
    assert (dismissed.json["status"], dismissed.json["note"]) == ("dismissed", "体温录入错误，复测36.6")
    assert not _events(row["worker_id"], "isolation_start") and not _events(row["worker_id"], "isolation_end")
    assert db.session.scalar(select(AuditLog.object_id).where(AuditLog.action == "isolation.dismiss")) == order_id
    again = client.post(f"{ORDERS}/{order_id}/dismiss", json={"note": "再次"}, headers=officer)
    assert again.status_code == 409 and again.json["error"]["code"] == "isolation_order_not_pending"
    assert client.post(f"{ORDERS}/{order_id}/activate", json=DECISION, headers=officer).status_code == 409
    roster_row = client.get(f"{ROSTER.format(enterprise_id)}?source=self", headers=headers).json["items"][0]
    assert roster_row["clearance"]["state"] != "isolated"
    listed = client.get(ORDERS, query_string={"status": "dismissed"}, headers=officer).json
    assert [item["id"] for item in listed["items"]] == [order_id]


def test_worker_in_scope_is_the_county_rule_of_open_order(client):
    """The person an officer may isolate: of their county (by roster or application), anyone for the city."""
    import pytest

    from app.errors import Forbidden, NotFound
    from app.services.accounts import staff as staff_accounts
    from app.services.employment import isolation

    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id)
    yongning = staff_accounts.create_staff("wj-yn", "correct-horse-battery", "health_officer", county_code="640121", by=staff_accounts.CLI)
    xixia = staff_accounts.create_staff("wj-xx", "correct-horse-battery", "health_officer", county_code="640105", by=staff_accounts.CLI)
    city = staff_accounts.create_staff("wj-all", "correct-horse-battery", "health_officer", by=staff_accounts.CLI)
    assert isolation.worker_in_scope(yongning, row["worker_id"]).id == row["worker_id"]
    assert isolation.worker_in_scope(city, row["worker_id"]).id == row["worker_id"]
    with pytest.raises(NotFound):
        isolation.worker_in_scope(xixia, row["worker_id"])
    with pytest.raises(NotFound):
        isolation.worker_in_scope(city, 999999)
    operator = staff_accounts.create_staff("ops", "correct-horse-battery", "county_operator", county_code="640121", by=staff_accounts.CLI)
    with pytest.raises(Forbidden):
        isolation.worker_in_scope(operator, row["worker_id"])
