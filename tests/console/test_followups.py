"""Daily follow-ups (随访): one per returnee and day, abnormal ones open a pending isolation order."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import HealthEvent, IsolationOrder
from app.services.platform.timeutil import local_today
from tests.builders import make_staff
from tests.console.roster_helpers import ROSTER, XIXIA, hr, inbound_trip, passengers, register

FOLLOW_UPS = ROSTER + "/{}/follow-ups"


def _day(days_ago):
    return (local_today() - timedelta(days=days_ago)).isoformat()


def test_one_normal_follow_up_per_day(client):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, days_ago=3)
    url = FOLLOW_UPS.format(enterprise_id, row["worker_id"])
    first = client.post(url, json={"temperature": 36.6, "note": "无不适"}, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["abnormal"] is False and first.json["isolation_order_id"] is None
    assert first.json["date"] == local_today().isoformat()
    again = client.post(url, json={"temperature": 36.5}, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "follow_up_exists"
    yesterday = client.post(url, json={"temperature": 36.4, "date": _day(1)}, headers=headers)
    assert yesterday.status_code == 201 and yesterday.json["date"] == _day(1)
    listed = client.get(url, headers=headers).json["items"]
    assert [item["date"] for item in listed] == [local_today().isoformat(), _day(1)]
    event = db.session.get(HealthEvent, first.json["id"])
    assert event.kind == "follow_up" and event.actor_kind == "staff"
    roster_row = client.get(ROSTER.format(enterprise_id), headers=headers).json["items"][0]
    assert roster_row["clearance"]["follow_ups"] == 2 and roster_row["clearance"]["state"] == "in_observation"


def test_an_abnormal_follow_up_opens_a_pending_order(client):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, days_ago=3)
    url = FOLLOW_UPS.format(enterprise_id, row["worker_id"])
    fever = client.post(url, json={"temperature": 37.3, "date": _day(1)}, headers=headers)
    assert fever.status_code == 201 and fever.json["abnormal"] is True
    order = db.session.get(IsolationOrder, fever.json["isolation_order_id"])
    assert (order.status, order.reason, order.health_event_id) == ("pending", "fever", fever.json["id"])
    cough = client.post(url, json={"temperature": 36.5, "symptoms": ["cough"]}, headers=headers)
    assert cough.json["abnormal"] is True and cough.json["isolation_order_id"] == order.id  # still the one order
    assert len(db.session.scalars(select(IsolationOrder)).all()) == 1
    roster_row = client.get(ROSTER.format(enterprise_id), headers=headers).json["items"][0]
    assert roster_row["clearance"]["state"] == "isolated" and roster_row["clearance"]["reason"] == "isolation_pending"
    assert roster_row["health"]["status"] == "red"
    isolated = client.get(ROSTER.format(enterprise_id), query_string={"clearance": "isolated"}, headers=headers)
    assert isolated.json["total"] == 1


def test_dates_and_arrival_are_checked(client):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, days_ago=1)
    url = FOLLOW_UPS.format(enterprise_id, row["worker_id"])
    before = client.post(url, json={"temperature": 36.5, "date": _day(2)}, headers=headers)
    assert before.status_code == 422 and "date" in before.json["error"]["fields"]
    future = client.post(url, json={"temperature": 36.5, "date": _day(-1)}, headers=headers)
    assert future.status_code == 422 and "date" in future.json["error"]["fields"]
    trip = inbound_trip(client, enterprise_id, passengers=2)
    on_the_road = passengers(trip) or [trip["captain"]]
    response = client.post(FOLLOW_UPS.format(enterprise_id, on_the_road[0]["worker_id"]), json={"temperature": 36.5},
                           headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "returnee_not_arrived"


def test_scope_of_follow_ups(client):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id)
    url = FOLLOW_UPS.format(enterprise_id, row["worker_id"])
    other_hr, other_id = hr(client, XIXIA, "hr2")
    assert client.post(url, json={"temperature": 36.5}, headers=other_hr).status_code == 404
    assert client.get(url, headers=other_hr).status_code == 404
    # The worker is not on the other enterprise's roster, even for its own HR.
    elsewhere = client.post(FOLLOW_UPS.format(other_id, row["worker_id"]), json={"temperature": 36.5},
                            headers=other_hr)
    assert elsewhere.status_code == 404 and elsewhere.json["error"]["code"] == "returnee_not_found"
    county = make_staff(client, "yongning")
    denied = client.post(url, json={"temperature": 36.5}, headers=county)
    assert denied.status_code == 403 and denied.json["error"]["code"] == "forbidden_role"
    assert client.get(url, headers=county).status_code == 200  # operators read


def test_record_many_is_all_or_nothing(client):
    """HR's table of the day (followups.record_many): every row recorded as `record` would, or none at all."""
    import pytest

    from app.errors import Invalid
    from app.models import StaffUser
    from app.services.employment import followups

    headers, enterprise_id = hr(client)
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == "hr"))
    first, second, third = (register(client, headers, enterprise_id, n=n, days_ago=2)["worker_id"] for n in range(3))
    with pytest.raises(Invalid) as refused:
        tomorrow = local_today() + timedelta(days=1)
        followups.record_many(staff, enterprise_id, [(first, {"temperature": 38.0}),
                                                     (second, {"temperature": 36.5, "date": tomorrow}),
                                                     (999999, {"temperature": 36.5})])
    assert refused.value.code == "validation_error"
    assert set(refused.value.fields) == {str(second), "999999"} and "不能晚于今天" in refused.value.fields[str(second)]
    assert db.session.scalars(select(HealthEvent).where(HealthEvent.kind == "follow_up")).all() == []
    assert db.session.scalars(select(IsolationOrder)).all() == []
    done = followups.record_many(staff, enterprise_id, [(first, {"temperature": 38.0}), (third, {"temperature": 36.4})])
    assert [(worker_id, abnormal, order is not None) for worker_id, _, _, abnormal, order in done] == [
        (first, True, True), (third, False, False)]
    today = followups.on_day_by_worker([first, second, third])
    assert set(today) == {first, third} and today[first][1] is True and today[first][2].status == "pending"
    again = pytest.raises(Invalid, followups.record_many, staff, enterprise_id, [(third, {"temperature": 36.4})])
    assert "当天已随访" in again.value.fields[str(third)]
