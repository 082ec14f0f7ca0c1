"""arrival_recorded, isolation_changed and the health officers' alerts: scans, uploads, follow-ups, orders."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, IsolationOrder, StaffUser
from app.services.platform.timeutil import LOCAL_ZONE
from tests.builders import make_staff, publish_trip, qr_of, scan_body
from tests.console.roster_helpers import ROSTER, hr, register
from tests.messaging.event_helpers import assert_fitted, messages

SCANS = "/api/checkin/v1/scans"
ORDERS = "/api/console/v1/isolation-orders"


def _staff_id(username):
    return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))


def _officers(client):
    """Health officers of 永宁县 (the trips' county), of 西夏区, and of the whole city: their ids by name."""
    make_staff(client, "wj-yongning", role="health_officer", county_code="640121")
    make_staff(client, "wj-xixia", role="health_officer", county_code="640105")
    make_staff(client, "wj-city", role="health_officer")
    return {name: _staff_id(f"wj-{name}") for name in ("yongning", "xixia", "city")}


def _at_railway(client, made):
    """The trip expected at the railway station, everyone boarded; the station's officer and the checkpoint."""
    checkpoint = db.session.scalar(select(Checkpoint).where(Checkpoint.code == "yinchuan-railway"))
    response = client.patch(f"/api/console/v1/trips/{made['trip']['id']}", headers=made["staff"],
                            json={"arrival_checkpoint_id": checkpoint.id})
    assert response.status_code == 200, response.json
    for rider in made["riders"]:
        boarded_at = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()  # before the uploads' arrivals
        boarded = client.post(SCANS, json=scan_body(qr_of(client, rider, made["trip"]["id"]), scanned_at=boarded_at),
                              headers=made["captain"]["headers"])
        assert boarded.json["verdict"] == "allow", boarded.json
    officer = make_staff(client, "railway", role="checkpoint_staff", checkpoint_id=checkpoint.id)
    return officer, checkpoint


def _arrive(client, made, rider, officer, **overrides):
    body = scan_body(qr_of(client, rider, made["trip"]["id"]), kind="arrive", device_id="gate-1", **overrides)
    response = client.post(SCANS, json=body, headers=officer)
    assert response.status_code == 200, response.json
    return response.json, body


def test_an_arrival_at_a_checkpoint_is_told_once_per_seat(client):
    made = publish_trip(client, passengers=3)
    officer, checkpoint = _at_railway(client, made)
    rider = made["riders"][0]
    answer, body = _arrive(client, made, rider, officer)
    assert answer["verdict"] == "allow"
    [message] = messages(rider["worker_id"], "arrival_recorded")
    scanned = datetime.fromisoformat(body["scanned_at"]).astimezone(LOCAL_ZONE)
    assert message.data == {"time1": f"{scanned.year}年{scanned.month}月{scanned.day}日 {scanned:%H:%M}",
                            "thing2": checkpoint.name, "phrase3": "放行", "thing4": "核验通过"}
    assert_fitted(message)
    again, _ = _arrive(client, made, rider, officer)  # scanned twice at the gate: refused, and not told again
    assert again["reason"] == "already_arrived"
    for kind in ("checkpoint", "checkpoint"):  # a checkpoint pass, repeated, is told once
        client.post(SCANS, json=scan_body(qr_of(client, rider, made["trip"]["id"]), kind=kind), headers=officer)
    assert [m.data["phrase3"] for m in messages(rider["worker_id"], "arrival_recorded")] == ["放行", "放行"]
    # The captain's own arrival scan of another passenger is not a checkpoint's record.
    other = made["riders"][1]
    client.post(SCANS, json=scan_body(qr_of(client, other, made["trip"]["id"]), kind="arrive"),
                headers=made["captain"]["headers"])
    assert messages(other["worker_id"], "arrival_recorded") == []


def test_a_fever_at_arrival_isolates_tells_the_worker_and_alerts_the_county_officers(client):
    officers = _officers(client)
    made = publish_trip(client, passengers=3)
    officer, checkpoint = _at_railway(client, made)
    rider = made["riders"][0]
    answer, _ = _arrive(client, made, rider, officer, temperature=38.4)
    assert answer["verdict"] == "isolate"
    [arrival] = messages(rider["worker_id"], "arrival_recorded")
    assert (arrival.data["phrase3"], arrival.data["thing4"]) == ("需隔离", "体温异常（38.4℃），请按规定隔离观察")
    [pending] = messages(rider["worker_id"], "isolation_changed")
    assert (pending.data["phrase1"], pending.data["thing2"]) == ("待处理", "等待卫健部门安排")
    assert_fitted(pending)
    alerted = {name: messages(staff_id=staff_id) for name, staff_id in officers.items()}
    assert len(alerted["yongning"]) == 1 and len(alerted["city"]) == 1 and alerted["xixia"] == []
    alert = alerted["yongning"][0]
    assert (alert.recipient_kind, alert.template, alert.title, alert.delivery) == ("staff", "staff_alert", "隔离待办",
                                                                                     "inbox")
    assert alert.data["thing1"] == "隔离单待处理" and alert.data["thing3"].startswith("张*丰：体温异常（38.4")
    assert_fitted(alert)


def test_an_uploaded_batch_of_arrivals_tells_each_passenger_once(client):
    made = publish_trip(client, passengers=3)
    officer, checkpoint = _at_railway(client, made)
    moment = datetime.now(UTC) - timedelta(minutes=5)
    scans = [scan_body(qr_of(client, rider, made["trip"]["id"]), kind="arrive", device_id="gate-2",
                       scanned_at=(moment + timedelta(seconds=index)).isoformat())
             for index, rider in enumerate(made["riders"])]
    scans.append({**scans[0], "client_event_id": scan_body("x")["client_event_id"]})  # the first one twice
    response = client.post("/api/checkin/v1/scans/batch", json={"scans": scans}, headers=officer)
    assert response.status_code == 200, response.json
    assert [r["verdict"] for r in response.json["results"]] == ["allow"] * 3 + ["deny"], response.json
    for rider in made["riders"]:
        [message] = messages(rider["worker_id"], "arrival_recorded")
        assert message.data["thing2"] == checkpoint.name and message.data["phrase3"] == "放行"
    replay = client.post("/api/checkin/v1/scans/batch", json={"scans": scans}, headers=officer)
    assert replay.status_code == 200
    assert sum(len(messages(r["worker_id"], "arrival_recorded")) for r in made["riders"]) == 3


def test_a_fever_at_boarding_opens_an_order_and_tells_the_worker(client):
    officers = _officers(client)
    made = publish_trip(client, passengers=3)
    rider = next(r for r in made["riders"] if r not in (made["captain"], made["vice"]))
    answer = client.post(SCANS, json=scan_body(qr_of(client, rider, made["trip"]["id"]), temperature=38.0),
                         headers=made["captain"]["headers"]).json
    assert answer["verdict"] == "isolate"
    assert [m.data["phrase1"] for m in messages(rider["worker_id"], "isolation_changed")] == ["待处理"]
    assert messages(rider["worker_id"], "arrival_recorded") == []
    assert len(messages(staff_id=officers["yongning"])) == 1


def test_an_abnormal_follow_up_tells_the_worker_and_the_officers_of_the_enterprise_county(client):
    officers = _officers(client)
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, days_ago=2)
    response = client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups",
                           json={"temperature": 38.1, "symptoms": ["cough"]}, headers=headers)
    assert response.status_code == 201, response.json
    [pending] = messages(row["worker_id"], "isolation_changed")
    assert pending.data["phrase1"] == "待处理" and pending.data["thing4"] == "随访异常：体温38.1℃"
    assert [len(messages(staff_id=i)) for i in officers.values()] == [1, 0, 1]
    second = client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups",
                         json={"temperature": 38.5, "date": (datetime.now(LOCAL_ZONE).date()
                                                             - timedelta(days=1)).isoformat()}, headers=headers)
    assert second.status_code == 201  # the order is already open: nobody is told twice
    assert len(messages(row["worker_id"], "isolation_changed")) == 1
    assert [len(messages(staff_id=i)) for i in officers.values()] == [1, 0, 1]


def test_each_step_of_an_order_is_told(client):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, days_ago=2)
    client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups", json={"temperature": 38.0},
                headers=headers)
    order_id = db.session.scalar(select(IsolationOrder.id))
    officer = make_staff(client, "weijian", role="health_officer")
    place = "永宁县集中隔离点（望远宾馆）三号楼二单元，联系电话0951-1234567，请携带身份证和换洗衣物"
    active = client.post(f"{ORDERS}/{order_id}/activate", json={"kind": "centralized", "place": place},
                         headers=officer)
    assert active.status_code == 200, active.json
    released = client.post(f"{ORDERS}/{order_id}/release", json={"note": "核酸阴性，解除隔离"}, headers=officer)
    assert released.status_code == 200
    told = messages(row["worker_id"], "isolation_changed")
    assert [m.data["phrase1"] for m in told] == ["待处理", "开始隔离", "解除隔离"]
    assert told[1].data["thing2"].startswith("集中隔离 永宁县集中隔离点") and len(told[1].data["thing2"]) == 20
    assert place in told[1].body and told[1].data["thing4"].startswith("至")
    assert told[2].data["thing4"] == "核酸阴性，解除隔离"
    for message in told:
        assert_fitted(message)
    opened = client.post(ORDERS, json={"worker_id": row["worker_id"], "kind": "home", "place": "家中"},
                         headers=officer)
    assert opened.status_code == 201, opened.json
    assert messages(row["worker_id"], "isolation_changed")[-1].data["phrase1"] == "开始隔离"


def test_a_dismissed_order_is_told_with_the_reason(client):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id, days_ago=2)
    client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups", json={"temperature": 39.0},
                headers=headers)
    order_id = db.session.scalar(select(IsolationOrder.id))
    officer = make_staff(client, "weijian", role="health_officer")
    dismissed = client.post(f"{ORDERS}/{order_id}/dismiss", json={"note": "体温录入错误，复测36.5℃"}, headers=officer)
    assert dismissed.status_code == 200, dismissed.json
    last = messages(row["worker_id"], "isolation_changed")[-1]
    assert (last.data["phrase1"], last.data["thing4"]) == ("撤销", "体温录入错误，复测36.5℃")
