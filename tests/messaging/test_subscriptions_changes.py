"""Review findings 1, 3 and 5: a grant given for a template id since replaced is never spent nor counted (and the
purge drops it); guessing staff-link codes is bounded before any code is looked at; two writers of one dedupe key
lose nothing (the second's insert is undone to a savepoint, its event still commits)."""
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Message, StaffUser, SubscriptionGrant
from app.services.messaging import outbox, staff_link, subscriptions
from app.services.office.retention import purge_expired
from app.services.platform import cache
from tests.builders import login, make_staff
from tests.messaging.message_helpers import TEMPLATE_IDS, WECHAT, worker_id
from tests.messaging.message_helpers import templated_app  # noqa: F401  (this module's `app` fixture)

SUBSCRIPTIONS = "/api/mp/v1/subscriptions"
LINK = "/api/mp/v1/me/staff-link"
CODE = "/api/console/v1/me/miniprogram-link/code"
CHANGED = {**WECHAT, "WECHAT_TEMPLATES": {**TEMPLATE_IDS, "trip_changed": "tmpl-trip-changed-v2"}}


def _change(n):
    return {"change": f"变更{n}", "departure": None, "note": "-"}


def test_a_grant_for_a_replaced_template_id_is_neither_spent_nor_counted(client, make_app):
    headers = login(client)
    old_id = TEMPLATE_IDS["trip_changed"]
    for _ in range(subscriptions.MAX_UNUSED):
        client.post(SUBSCRIPTIONS, json={"results": {old_id: "accept"}}, headers=headers)
    worker = worker_id(client, headers)
    changed = make_app(**CHANGED)
    with changed.app_context():
        message = outbox.to_worker(worker, "trip_changed", _change(1))
        db.session.commit()
        assert message.delivery == "inbox" and message.grant_id is None  # WeChat would refuse it
        assert db.session.scalar(select(func.count()).select_from(SubscriptionGrant)
                                 .where(SubscriptionGrant.used_at.is_(None))) == subscriptions.MAX_UNUSED
    mp = changed.test_client()
    assert mp.get(SUBSCRIPTIONS, headers=headers).json["unused"] == {}
    # The old grants take no room under the cap: an accept of the new id is kept, and spent.
    answer = mp.post(SUBSCRIPTIONS, json={"results": {"tmpl-trip-changed-v2": "accept"}}, headers=headers)
    assert answer.status_code == 200 and answer.json["unused"] == {"trip_changed": 1}
    with changed.app_context():
        assert outbox.to_worker(worker, "trip_changed", _change(2)).delivery == "queued"
        db.session.commit()
        # The purge drops unused grants of the replaced id (they can never be spent), not the spent one.
        assert purge_expired()["subscription_grants"] == subscriptions.MAX_UNUSED
        assert db.session.scalars(select(SubscriptionGrant.template_id)).all() == ["tmpl-trip-changed-v2"]


def test_staff_link_attempts_are_refused_when_they_cannot_be_counted(client, monkeypatch):
    staff = make_staff(client, "yongning")
    code = client.post(CODE, headers=staff).json["code"]
    worker = login(client, "zhang")
    monkeypatch.setattr(cache, "incr", lambda key, ttl: None)  # Redis unreachable
    answer = client.post(LINK, json={"code": code}, headers=worker)
    assert answer.status_code == 503 and answer.json["error"]["code"] == "unavailable"
    assert db.session.scalar(select(StaffUser.worker_id).where(StaffUser.username == "yongning")) is None


def test_all_logins_together_have_a_budget_of_attempts(client, monkeypatch):
    monkeypatch.setattr(staff_link, "LINK_BUDGET", 3)
    staff = make_staff(client, "yongning")
    code = client.post(CODE, headers=staff).json["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for name in ("a", "b", "c"):  # three logins, one guess each: under each login's own limit
        answer = client.post(LINK, json={"code": wrong}, headers=login(client, name))
        assert answer.json["error"]["code"] == "link_code_invalid"
    paused = client.post(LINK, json={"code": code}, headers=login(client, "zhang"))
    assert paused.status_code == 422 and paused.json["error"]["code"] == "link_code_attempts"


def test_each_attempt_is_counted_before_the_code_is_looked_at(client, monkeypatch):
    """Parallel guesses cannot all pass one read of the counter: the increment is the gate."""
    staff = make_staff(client, "yongning")
    client.post(CODE, headers=staff)
    worker = login(client, "zhang")
    order = []
    incr, get_bytes = cache.incr, cache.get_bytes
    monkeypatch.setattr(cache, "incr", lambda key, ttl: order.append(("incr", key)) or incr(key, ttl))
    monkeypatch.setattr(cache, "get_bytes", lambda key: order.append(("get", key)) or get_bytes(key))
    client.post(LINK, json={"code": "000000"}, headers=worker)
    assert [kind for kind, key in order if key.startswith("staff-link")][:3] == ["incr", "incr", "get"]


def _arrival():
    return {"arrived_at": datetime(2020, 2, 25, 1, 0), "place": "永宁卡口", "result": "放行", "note": "-"}


def test_a_dedupe_key_written_meanwhile_by_another_request_loses_nothing(client, make_app, monkeypatch):
    headers = login(client)
    worker = worker_id(client, headers)
    client.post(SUBSCRIPTIONS, json={"results": {TEMPLATE_IDS["arrival_recorded"]: "accept"}}, headers=headers)
    with make_app(**WECHAT).app_context():
        first = outbox.to_worker(worker, "arrival_recorded", _arrival(), dedupe_key="arrival:arrive:seat:1")
        db.session.commit()
        assert first.delivery == "queued"
        client.post(SUBSCRIPTIONS, json={"results": {TEMPLATE_IDS["arrival_recorded"]: "accept"}}, headers=headers)
        # The other request's lookup ran before the first committed: it does not see the message.
        monkeypatch.setattr(outbox, "by_dedupe_key", lambda key: None)
        monkeypatch.setattr(outbox, "_by_dedupe_key", lambda key: None, raising=False)
        db.session.add(SubscriptionGrant(worker_id=worker, template="trip_assigned", template_id="tmpl-x"))
        outbox.to_worker(worker, "arrival_recorded", _arrival(), dedupe_key="arrival:arrive:seat:1")
        db.session.commit()  # the event's own rows commit; no IntegrityError reaches the request
        assert db.session.scalar(select(func.count()).select_from(Message)) == 1
        assert db.session.scalar(select(func.count()).select_from(SubscriptionGrant)
                                 .where(SubscriptionGrant.template == "trip_assigned")) == 1
        # The grant the lost insert spent was given back with its savepoint.
        assert db.session.scalar(select(func.count()).select_from(SubscriptionGrant).where(
            SubscriptionGrant.template == "arrival_recorded", SubscriptionGrant.used_at.is_(None))) == 1
