"""schedule.run_due with a fixed clock: reminders the evening before and before departure, once, never late;
clearance to start work once per arrival."""
from datetime import time, timedelta

from app.extensions import db
from app.models import Trip
from app.services.notices import schedule
from app.services.platform.timeutil import local_today, utc_at
from tests.builders import publish_trip
from tests.console.roster_helpers import ROSTER, YONGNING, hr, register
from tests.messaging.event_helpers import assert_fitted, messages


def _leaving_tomorrow_at_eight(client, **overrides):
    made = publish_trip(client, **overrides)
    trip = db.session.get(Trip, made["trip"]["id"])
    trip.departure_date, trip.departure_time = local_today() + timedelta(days=1), time(8, 0)
    db.session.commit()
    return made, trip.departure_date


def _reminders(made):
    return {rider["worker_id"]: [m.data["thing4"] for m in messages(rider["worker_id"], "departure_reminder")]
            for rider in made["riders"]}


def test_the_evening_and_lead_reminders_go_once_each(client):
    made, day = _leaving_tomorrow_at_eight(client, passengers=3)
    evening = utc_at(day - timedelta(days=1), 20)  # 20:00 Beijing the day before
    assert schedule.run_due(evening - timedelta(minutes=1))["reminders"] == 0
    assert schedule.run_due(evening + timedelta(minutes=5)) == {"reminders": 3, "cleared": 0}
    assert schedule.run_due(evening + timedelta(minutes=6))["reminders"] == 0  # a second tick writes nothing
    lead = utc_at(day, 6)  # 120 minutes before 08:00
    assert schedule.run_due(lead - timedelta(minutes=1))["reminders"] == 0  # the night: neither window is open
    assert schedule.run_due(lead)["reminders"] == 3
    assert schedule.run_due(lead + timedelta(minutes=30))["reminders"] == 0
    expected = [schedule.EVENING_NOTE, schedule.LEAD_NOTE]
    assert all(notes == expected for notes in _reminders(made).values())
    message = messages(made["riders"][0]["worker_id"], "departure_reminder")[0]
    assert message.data["date1"] == f"{day.year}年{day.month}月{day.day}日 08:00"
    assert message.data["thing3"].startswith("车牌待定 ") and message.data["thing2"] == "永宁县汽车站"
    assert message.dedupe_key.startswith("reminder:evening:seat:")
    assert_fitted(message)


def test_a_reminder_is_not_sent_late(client):
    made, day = _leaving_tomorrow_at_eight(client, passengers=2)
    assert schedule.run_due(utc_at(day, 1))["reminders"] == 0  # the evening passed while the scheduler was down
    assert schedule.run_due(utc_at(day, 8) + timedelta(minutes=1))["reminders"] == 0  # the bus has left
    assert schedule.run_due(utc_at(day, 7))["reminders"] == 2  # only the lead one, still before departure
    assert all(notes == [schedule.LEAD_NOTE] for notes in _reminders(made).values())


def test_cancelled_trips_and_seats_get_no_reminder(client):
    made, day = _leaving_tomorrow_at_eight(client, passengers=3)
    rider = made["trip"]["passengers"][-1]
    client.post(f"/api/console/v1/trips/{made['trip']['id']}/seats/{rider['seat_id']}/cancel", headers=made["staff"])
    assert schedule.run_due(utc_at(day, 7))["reminders"] == 2
    assert messages(rider["worker_id"], "departure_reminder") == []
    client.post(f"/api/console/v1/trips/{made['trip']['id']}/cancel", json={"reason": "停运"}, headers=made["staff"])
    assert schedule.run_due(utc_at(day - timedelta(days=1), 21))["reminders"] == 0


def _followed_up(client, days_ago, n=0, headers=None, enterprise_id=None):
    """A 零散返岗 returnee arrived `days_ago` days ago with one normal follow-up on the day after."""
    if headers is None:
        headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, n=n, days_ago=days_ago)
    day = (local_today() - timedelta(days=days_ago - 1)).isoformat()
    response = client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups",
                           json={"temperature": 36.4, "date": day}, headers=headers)
    assert response.status_code == 201, response.json
    return row, headers, enterprise_id


def test_cleared_to_work_is_told_once_per_arrival(client):
    cleared, headers, enterprise_id = _followed_up(client, days_ago=15)
    observing, _, _ = _followed_up(client, days_ago=5, n=1, headers=headers, enterprise_id=enterprise_id)
    long_ago, _, _ = _followed_up(client, days_ago=30, n=2, headers=headers, enterprise_id=enterprise_id)
    now = utc_at(local_today(), 9)
    assert schedule.run_due(now) == {"reminders": 0, "cleared": 1}
    [message] = messages(cleared["worker_id"], "cleared_to_work")
    ended = local_today() - timedelta(days=2)  # 14 days from the arrival 15 days ago
    assert message.data == {"thing1": YONGNING, "date2": f"{ended.year}年{ended.month}月{ended.day}日",
                            "thing3": "观察期满且随访均正常，可以上岗"}
    assert_fitted(message)
    assert messages(observing["worker_id"]) == [] and messages(long_ago["worker_id"]) == []
    # Clearance is looked at again only after CLEARED_EVERY_SECONDS, and then writes nothing new.
    assert schedule.run_due(now + timedelta(minutes=1))["cleared"] == 0
    later = now + timedelta(seconds=schedule.CLEARED_EVERY_SECONDS + 1)
    assert schedule.run_due(later)["cleared"] == 0
    assert len(messages(cleared["worker_id"], "cleared_to_work")) == 1


def test_nobody_is_cleared_without_a_follow_up_or_under_an_open_order(client):
    headers, enterprise_id = hr(client)
    unchecked = register(client, headers, enterprise_id, days_ago=15)
    sick, _, _ = _followed_up(client, days_ago=15, n=1, headers=headers, enterprise_id=enterprise_id)
    client.post(f"{ROSTER.format(enterprise_id)}/{sick['worker_id']}/follow-ups", json={"temperature": 38.2},
                headers=headers)
    assert schedule.run_due(utc_at(local_today(), 9))["cleared"] == 0
    assert messages(unchecked["worker_id"]) == []
    assert messages(sick["worker_id"], "cleared_to_work") == []
