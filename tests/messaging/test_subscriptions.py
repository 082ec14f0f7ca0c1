"""Consent for subscribe messages (GET/POST /api/mp/v1/subscriptions): what to ask for, grants recorded per accept,
wx.requestSubscribeMessage's answer posted as it came (errMsg ignored), bad template ids refused, the cap, the limit."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import SubscriptionGrant
from app.services.messaging import subscriptions
from tests.builders import login
from tests.messaging.message_helpers import TEMPLATE_IDS
from tests.messaging.message_helpers import templated_app  # noqa: F401  (this module's `app` fixture)

SUBSCRIPTIONS = "/api/mp/v1/subscriptions"


def _grants():
    return db.session.scalar(select(func.count()).select_from(SubscriptionGrant))


def test_offers_the_worker_templates_with_ids(client):
    headers = login(client)
    answer = client.get(SUBSCRIPTIONS, headers=headers)
    assert answer.status_code == 200
    offered = {item["key"]: item for item in answer.json["templates"]}
    assert "staff_alert" not in offered  # a worker who is not staff is not asked for staff alerts
    assert offered["trip_assigned"] == {"key": "trip_assigned", "template_id": TEMPLATE_IDS["trip_assigned"],
                                        "title": "出行安排通知"}
    assert len(offered) == 8 and answer.json["unused"] == {}


def test_only_configured_templates_are_offered(app, make_app):
    client = make_app(WECHAT_TEMPLATES={"trip_assigned": "tmpl-only"}).test_client()
    answer = client.get(SUBSCRIPTIONS, headers=login(client))
    assert [item["key"] for item in answer.json["templates"]] == ["trip_assigned"]


def test_each_accept_is_one_grant_and_errmsg_is_ignored(client):
    headers = login(client)
    results = {"errMsg": "requestSubscribeMessage:ok", TEMPLATE_IDS["trip_assigned"]: "accept",
               TEMPLATE_IDS["trip_changed"]: "reject", TEMPLATE_IDS["departure_reminder"]: "ban",
               TEMPLATE_IDS["arrival_recorded"]: "filter"}
    answer = client.post(SUBSCRIPTIONS, json={"results": results}, headers=headers)
    assert answer.status_code == 200 and answer.json == {"unused": {"trip_assigned": 1}}
    client.post(SUBSCRIPTIONS, json={"results": {TEMPLATE_IDS["trip_assigned"]: "accept"}}, headers=headers)
    assert client.get(SUBSCRIPTIONS, headers=headers).json["unused"] == {"trip_assigned": 2}
    grant = db.session.scalars(select(SubscriptionGrant)).first()
    assert grant.template == "trip_assigned" and grant.template_id == TEMPLATE_IDS["trip_assigned"]


def test_a_template_id_not_ours_is_422_and_nothing_is_kept(client):
    headers = login(client)
    results = {TEMPLATE_IDS["trip_assigned"]: "accept", "someone-elses-template": "accept"}
    answer = client.post(SUBSCRIPTIONS, json={"results": results}, headers=headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "subscription_invalid"
    assert "someone-elses-template" in answer.json["error"]["fields"]["results"]
    assert _grants() == 0


def test_a_result_wechat_does_not_give_is_422(client):
    headers = login(client)
    answer = client.post(SUBSCRIPTIONS, json={"results": {TEMPLATE_IDS["trip_assigned"]: "yes"}}, headers=headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "subscription_invalid"


def test_staff_alerts_cannot_be_subscribed_without_a_staff_link(client):
    headers = login(client)
    answer = client.post(SUBSCRIPTIONS, json={"results": {TEMPLATE_IDS["staff_alert"]: "accept"}}, headers=headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "subscription_invalid"
    assert _grants() == 0


def test_unused_grants_are_capped(client):
    headers = login(client)
    body = {"results": {TEMPLATE_IDS["cleared_to_work"]: "accept"}}
    for _ in range(subscriptions.MAX_UNUSED + 3):
        assert client.post(SUBSCRIPTIONS, json=body, headers=headers).status_code == 200
    assert client.get(SUBSCRIPTIONS, headers=headers).json["unused"] == {"cleared_to_work": subscriptions.MAX_UNUSED}


def test_malformed_bodies_are_422(client):
    headers = login(client)
    for body in ({}, {"results": []}, {"results": {"a": 1}}, {"results": {}, "extra": 1},
                 {"results": {f"t{i}": "accept" for i in range(21)}}):
        answer = client.post(SUBSCRIPTIONS, json=body, headers=headers)
        assert answer.status_code == 422, body


def test_posting_is_rate_limited_per_token(app, make_app):
    client = make_app(WECHAT_TEMPLATES=TEMPLATE_IDS, PROFILE_RATE_LIMIT="2 per minute").test_client()
    headers, other = login(client, "zhang"), login(client, "li")
    body = {"results": {TEMPLATE_IDS["trip_assigned"]: "accept"}}
    assert [client.post(SUBSCRIPTIONS, json=body, headers=headers).status_code for _ in range(3)] == [200, 200, 429]
    assert client.post(SUBSCRIPTIONS, json=body, headers=other).status_code == 200  # per token, not per address


def test_login_required(client):
    assert client.get(SUBSCRIPTIONS).status_code == 401
    assert client.post(SUBSCRIPTIONS, json={"results": {}}).status_code == 401
