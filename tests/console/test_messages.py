"""The console's JSON for messages: a staff member's own notifications (通知), and the office's deliveries
(消息发送: counts by state, the failed list with why, 重新发送 with its audit)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Message, StaffUser, SubscriptionGrant
from app.models.base import utcnow
from tests.builders import make_staff, make_worker
from tests.messaging.message_helpers import TEMPLATE_IDS, WECHAT, alert, decided, worker_id

NOTIFICATIONS = "/api/console/v1/notifications"
MESSAGES = "/api/console/v1/messages"


def _staff_id(username):
    return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))


def _fail(message_id, failure="gave_up", errcode=-1, attempts=8, last_error="系统繁忙"):
    """As the sender leaves a message it gave up on."""
    message = db.session.get(Message, message_id)
    message.delivery, message.failure, message.errcode = "failed", failure, errcode
    message.attempts, message.last_error, message.next_attempt_at = attempts, last_error, None
    db.session.commit()


def test_notifications_are_the_callers_own_newest_first(client):
    mine = make_staff(client, "yongning")
    theirs = make_staff(client, "helan", county_code="640122")
    ids = alert([_staff_id("yongning")], subject="新的出行报名待审核") + alert([_staff_id("yongning")], subject="车次待发布")
    other = alert([_staff_id("helan")])
    answer = client.get(NOTIFICATIONS, headers=mine)
    assert answer.status_code == 200
    assert [item["id"] for item in answer.json["items"]] == ids[::-1]
    assert answer.json["total"] == 2 and answer.json["unread"] == 2
    assert answer.json["items"][0]["title"] == "报名待审核" and "事项：车次待发布" in answer.json["items"][0]["body"]
    paged = client.get(NOTIFICATIONS, query_string={"per_page": 1, "page": 2}, headers=mine).json
    assert [item["id"] for item in paged["items"]] == [ids[0]] and paged["total"] == 2

    marked = client.post(f"{NOTIFICATIONS}/read", json={"ids": ids[:1] + other}, headers=mine)
    assert marked.status_code == 200 and marked.json == {"marked": 1, "unread": 1}
    unread = client.get(NOTIFICATIONS, query_string={"unread": "true"}, headers=mine).json
    assert [item["id"] for item in unread["items"]] == [ids[1]]
    assert client.post(f"{NOTIFICATIONS}/read", json={"all": True}, headers=mine).json == {"marked": 1, "unread": 0}
    assert client.get(NOTIFICATIONS, headers=theirs).json["unread"] == 1  # the other account's stays unread


def test_notification_bodies_and_queries_are_checked(client):
    headers = make_staff(client, "yongning")
    for body in ({}, {"ids": []}, {"all": True, "ids": [1]}, {"ids": [0]}):
        assert client.post(f"{NOTIFICATIONS}/read", json=body, headers=headers).status_code == 422, body
    assert client.get(NOTIFICATIONS, query_string={"per_page": 101}, headers=headers).status_code == 422
    assert client.get(NOTIFICATIONS).status_code == 401


def test_deliveries_counts_and_the_failed_list(client):
    office = make_staff(client, "office", role="admin")
    worker = worker_id(client, make_worker(client, "zhang"))
    first, second, third = decided(worker, n=3)
    _fail(first, "no_grant", 43101, 1, "user refuse to accept the msg")
    _fail(second, "bad_data", 47003, 1, "argument invalid! data.thing1.value invalid")
    queued = db.session.get(Message, third)
    queued.delivery, queued.next_attempt_at, queued.created_at = "queued", utcnow(), utcnow() - timedelta(minutes=5)
    db.session.commit()
    answer = client.get(MESSAGES, headers=office)
    assert answer.status_code == 200
    assert answer.json["counts"] == {"inbox": 0, "queued": 1, "sending": 0, "sent": 0, "failed": 2}
    assert 290 <= answer.json["oldest_queued_seconds"] <= 400
    assert [item["id"] for item in answer.json["items"]] == [second, first]
    row = answer.json["items"][1]
    assert row["failure"] == "no_grant" and row["failure_name"] == "用户未授权" and row["errcode"] == 43101
    assert row["recipient"] == "张*丰" and row["template_title"] == "报名审核结果通知"
    assert row["attempts"] == 1 and row["last_error"] == "user refuse to accept the msg"
    assert answer.json["items"][0]["failure_name"] == "数据不合规"
    only = client.get(MESSAGES, query_string={"delivery": "queued"}, headers=office).json["items"]
    assert [item["id"] for item in only] == [third]
    assert client.get(MESSAGES, query_string={"template": "trip_assigned"}, headers=office).json["items"] == []


def test_retry_puts_failed_messages_back_and_audits(client):
    office = make_staff(client, "office", role="admin")
    worker = worker_id(client, make_worker(client, "zhang"))
    gave_up, bad, fine = decided(worker, n=3)
    _fail(gave_up)
    _fail(bad, "bad_data", 47003)
    answer = client.post(f"{MESSAGES}/retry", json={"ids": [gave_up, bad, fine, 999999]}, headers=office)
    assert answer.status_code == 200
    assert answer.json["retried"] == [gave_up, bad]
    assert {item["id"]: item["reason"] for item in answer.json["skipped"]} == {fine: "not_failed", 999999: "not_found"}
    db.session.expire_all()
    message = db.session.get(Message, gave_up)
    assert (message.delivery, message.attempts, message.failure, message.errcode, message.last_error) == \
        ("queued", 0, None, None, None)
    assert message.next_attempt_at is not None and message.next_attempt_at <= utcnow()
    audited = db.session.scalars(select(AuditLog).where(AuditLog.action == "message.retry")).all()
    assert sorted(entry.object_id for entry in audited) == [gave_up, bad]
    assert {entry.details["failure"] for entry in audited} == {"gave_up", "bad_data"}


@pytest.fixture
def wechat_client(app, make_app):
    """A client of an app with WeChat and its templates configured (grants can be spent), on the same database."""
    return make_app(**WECHAT).test_client()


def test_a_message_without_consent_is_resent_only_with_a_new_grant(client, wechat_client):
    office = make_staff(client, "office", role="admin")
    headers = make_worker(client, "zhang")  # logged in through the dev path of the app without WeChat
    [message_id] = decided(worker_id(client, headers), n=1)
    _fail(message_id, "no_grant", 43101, 1)
    refused = wechat_client.post(f"{MESSAGES}/retry", json={"ids": [message_id]}, headers=office).json
    assert refused["retried"] == [] and refused["skipped"][0]["reason"] == "no_grant"
    assert "重新授权" in refused["skipped"][0]["message"]
    results = {TEMPLATE_IDS["application_decided"]: "accept"}
    assert wechat_client.post("/api/mp/v1/subscriptions", json={"results": results}, headers=headers).status_code == 200
    retried = wechat_client.post(f"{MESSAGES}/retry", json={"ids": [message_id]}, headers=office).json
    assert retried["retried"] == [message_id]
    db.session.expire_all()
    message = db.session.get(Message, message_id)
    assert message.delivery == "queued" and db.session.get(SubscriptionGrant, message.grant_id).used_at is not None


def test_deliveries_are_the_offices_only(client):
    county = make_staff(client, "yongning")
    for method, url, body in (("get", MESSAGES, None), ("post", f"{MESSAGES}/retry", {"ids": [1]})):
        answer = getattr(client, method)(url, json=body, headers=county)
        assert answer.status_code == 403 and answer.json["error"]["code"] == "forbidden_role"


def test_delivery_queries_are_checked(client):
    office = make_staff(client, "office", role="admin")
    for query in ({"delivery": "lost"}, {"template": "nope"}, {"page": 0}, {"per_page": 201}):
        assert client.get(MESSAGES, query_string=query, headers=office).status_code == 422, query
    for body in ({}, {"ids": []}, {"ids": ["x"]}, {"ids": list(range(1, 202))}):
        assert client.post(f"{MESSAGES}/retry", json=body, headers=office).status_code == 422, body


def test_a_staff_alert_is_resent_only_to_the_login_still_linked(client):
    office = make_staff(client, "office", role="admin")
    make_staff(client, "yongning")
    linked = worker_id(client, make_worker(client, "zhang"))
    clerk = db.session.get(StaffUser, _staff_id("yongning"))
    clerk.worker_id, clerk.display_name = linked, "王永宁"
    db.session.commit()
    first, second = alert([clerk.id]) + alert([clerk.id])
    for message_id in (first, second):
        db.session.get(Message, message_id).worker_id = linked  # as to_staff queues it for the linked login
        _fail(message_id)
    assert client.post(f"{MESSAGES}/retry", json={"ids": [first]}, headers=office).json["retried"] == [first]
    db.session.get(StaffUser, clerk.id).worker_id = None  # the clerk unlinks
    db.session.commit()
    answer = client.post(f"{MESSAGES}/retry", json={"ids": [second]}, headers=office).json
    assert answer["retried"] == [] and answer["skipped"][0]["reason"] == "unlinked"
    listed = client.get(MESSAGES, headers=office).json["items"]
    assert [(item["id"], item["recipient"]) for item in listed] == [(second, "工作人员 王*宁")]


@pytest.mark.parametrize("side", ["console", "miniprogram"])
def test_unlinking_keeps_queued_alerts_in_the_console_only(client, wechat_client, side):
    clerk_headers = make_staff(client, "yongning")
    worker_headers = make_worker(client, "zhang")
    linked = worker_id(client, worker_headers)
    clerk = db.session.get(StaffUser, _staff_id("yongning"))
    clerk.worker_id = linked
    db.session.commit()
    accepted = {TEMPLATE_IDS["staff_alert"]: "accept"}
    assert wechat_client.post("/api/mp/v1/subscriptions", json={"results": accepted},
                              headers=worker_headers).status_code == 200
    with wechat_client.application.app_context():
        [queued] = alert([clerk.id])
    [other] = alert([clerk.id])  # no grant left: the console list only
    sent = db.session.get(Message, queued)
    assert sent.delivery == "queued" and db.session.get(Message, other).delivery == "inbox"
    if side == "console":
        answer = client.delete("/api/console/v1/me/miniprogram-link", headers=clerk_headers)
    else:
        answer = client.delete("/api/mp/v1/me/staff-link", headers=worker_headers)
    assert answer.status_code in (200, 204), answer.json
    db.session.expire_all()
    message = db.session.get(Message, queued)
    assert (message.delivery, message.next_attempt_at) == ("inbox", None)
    listed = client.get(NOTIFICATIONS, headers=clerk_headers).json
    assert sorted(item["id"] for item in listed["items"]) == sorted([queued, other])
