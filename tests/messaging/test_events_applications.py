"""application_decided: approving or rejecting (one or many) writes the worker's message in the same transaction."""
from datetime import date

from sqlalchemy import func, select

from app.errors import Conflict
from app.extensions import db
from app.models import Application, Message, SubscriptionGrant
from app.services.notices import events
from app.services.platform.timeutil import local_today
from tests.builders import application, make_staff, make_worker, submit_application
from tests.messaging.event_helpers import assert_fitted, grant, messages, wechat_app

API = "/api/console/v1/applications"


def _worker_with_application(client, n=0):
    headers = make_worker(client, name=f"w{n}", n=n)
    application_id = submit_application(client, headers)
    return headers, application_id, db.session.get(Application, application_id).worker_id


def _window(body):
    first, last = date.fromisoformat(body["earliest_departure"]), date.fromisoformat(body["latest_departure"])
    return f"{first.month}月{first.day}日–{last.month}月{last.day}日"


def test_approval_tells_the_worker_once(client):
    staff = make_staff(client)
    _, application_id, worker_id = _worker_with_application(client)
    assert client.post(f"{API}/{application_id}/approve", headers=staff).status_code == 200
    assert client.post(f"{API}/{application_id}/approve", headers=staff).status_code == 200  # harmless repeat
    [message] = messages(worker_id)
    assert (message.template, message.recipient_kind, message.delivery) == ("application_decided", "worker", "inbox")
    assert message.data["thing1"] == f"外出务工报名 {_window(application())}"
    assert (message.data["phrase2"], message.data["thing3"]) == ("已通过", "请留意编班和乘车通知")
    decided_at = db.session.get(Application, application_id).decided_at
    assert message.data["time4"] == events.templates.fields.fit("time4", decided_at)
    assert message.data["time4"].startswith(f"{local_today().year}年")
    assert message.page == f"pages/applications/detail?id={application_id}"
    assert message.title == "报名审核结果通知" and "审核结果：已通过" in message.body
    assert_fitted(message)


def test_rejection_carries_the_whole_reason_in_the_inbox_and_a_cut_one_to_wechat(client):
    staff = make_staff(client)
    _, application_id, worker_id = _worker_with_application(client)
    reason = "目的地企业尚未复工，" + "请与企业确认复工日期后重新报名。" * 10
    response = client.post(f"{API}/{application_id}/reject", json={"reason": reason[:255]}, headers=staff)
    assert response.status_code == 200, response.json
    [message] = messages(worker_id)
    assert message.data["phrase2"] == "未通过"
    assert len(message.data["thing3"]) == 20 and message.data["thing3"].startswith("原因：目的地企业尚未复工")
    assert message.data["thing3"].endswith("…")
    assert f"备注：原因：{reason[:255]}" in message.body
    assert_fitted(message)


def test_bulk_decisions_tell_each_decided_worker(client):
    staff = make_staff(client)
    made = [_worker_with_application(client, n) for n in range(3)]
    ids = [application_id for _, application_id, _ in made]
    response = client.post(f"{API}/decisions", json={"ids": ids + [999999], "decision": "approve"}, headers=staff)
    assert [result["ok"] for result in response.json["results"]] == [True, True, True, False]
    for _, _, worker_id in made:
        assert [m.data["phrase2"] for m in messages(worker_id, "application_decided")] == ["已通过"]
    assert db.session.scalar(select(func.count()).select_from(Message)) == 3


def test_inbound_subject_names_the_return(client):
    staff = make_staff(client)
    headers = make_worker(client)
    body = application(direction="inbound", origin="四川省成都市", destination_city="银川市",
                       destination_address="永宁县望远镇")
    created = client.post("/api/mp/v1/applications", json=body, headers=headers)
    assert created.status_code == 201, created.json
    client.post(f"{API}/{created.json['id']}/approve", headers=staff)
    [message] = messages(db.session.get(Application, created.json["id"]).worker_id)
    assert message.data["thing1"] == f"返岗出行报名 {_window(body)}"


def test_a_decision_rolled_back_leaves_no_message(client, monkeypatch):
    staff = make_staff(client)
    _, application_id, worker_id = _worker_with_application(client)
    real = events.application_decided

    def then_fail(application_):
        real(application_)  # the message is written ...
        raise Conflict("application_not_decidable", "该报名当前状态不能审核")  # ... and the event fails after it

    monkeypatch.setattr(events, "application_decided", then_fail)
    single = client.post(f"{API}/{application_id}/approve", headers=staff)
    assert single.status_code == 409
    bulk = client.post(f"{API}/decisions", json={"ids": [application_id], "decision": "approve"}, headers=staff)
    assert bulk.json["results"][0]["ok"] is False
    assert messages(worker_id) == []
    assert db.session.get(Application, application_id).status == "submitted"


def test_a_worker_holding_a_grant_gets_it_queued_and_the_grant_spent(client, make_app):
    staff = make_staff(client)
    granted = [_worker_with_application(client, n) for n in range(2)]
    _, plain_application, plain_worker = _worker_with_application(client, 2)
    wechat = wechat_app(make_app)
    with wechat.app_context():
        for _, _, worker_id in granted:
            grant(worker_id, "application_decided")
        grant(granted[1][2], "trip_assigned")  # a grant of another template is not spent
    console = wechat.test_client()
    for _, application_id, _ in granted:
        assert console.post(f"{API}/{application_id}/approve", headers=staff).status_code == 200
    assert console.post(f"{API}/{plain_application}/approve", headers=staff).status_code == 200
    for _, _, worker_id in granted:
        [message] = messages(worker_id)
        assert message.delivery == "queued" and message.next_attempt_at is not None
        spent = db.session.get(SubscriptionGrant, message.grant_id)
        assert spent.worker_id == worker_id and spent.template == "application_decided" and spent.used_at
    assert [m.delivery for m in messages(plain_worker)] == ["inbox"]
    unused = db.session.scalars(select(SubscriptionGrant.template).where(SubscriptionGrant.used_at.is_(None))).all()
    assert unused == ["trip_assigned"]


def test_without_wechat_or_its_template_a_grant_is_not_spent(client, make_app):
    staff = make_staff(client)
    made = [_worker_with_application(client, n) for n in range(2)]
    for _, _, worker_id in made:
        grant(worker_id, "application_decided")
    client.post(f"{API}/{made[0][1]}/approve", headers=staff)  # this app has no WeChat
    other_templates = wechat_app(make_app, WECHAT_TEMPLATES={"trip_assigned": "tmpl-x"})
    other_templates.test_client().post(f"{API}/{made[1][1]}/approve", headers=staff)
    assert [m.delivery for _, _, w in made for m in messages(w)] == ["inbox", "inbox"]
    assert db.session.scalar(select(func.count()).where(SubscriptionGrant.used_at.is_not(None))) == 0
