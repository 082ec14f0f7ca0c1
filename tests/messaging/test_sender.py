"""The sender (app/services/messaging/sender.py): each WeChat answer's outcome, backoff, leases, the CLI.

WeChat is intercepted at HTTP with `responses`; nothing reaches the network.
"""
import json
import logging
import time
from datetime import timedelta

import pytest
import requests
import responses
from sqlalchemy import select, update

from app.extensions import db
from app.models import Message, StaffUser, SubscriptionGrant
from app.models.base import utcnow
from app.services.accounts import staff
from app.services.messaging import outbox, sender
from tests.builders import STAFF_PASSWORD
from tests.messaging.sender_helpers import APP_ID, TEMPLATE_IDS, queue, subject_of, wechat_settings, worker_with_openid

TOKEN_URL = "https://api.weixin.qq.com/cgi-bin/stable_token"
SEND_URL = "https://api.weixin.qq.com/cgi-bin/message/subscribe/send"


@pytest.fixture
def wechat_app(make_app):
    """An app that sends subscribe messages; retries start at 30 s, give up after 3 attempts."""
    app = make_app(**wechat_settings(NOTIFY_RETRY_SECONDS=30, NOTIFY_MAX_ATTEMPTS=3, NOTIFY_BATCH=10,
                                     NOTIFY_LEASE_SECONDS=60))
    with app.app_context():
        yield app


@pytest.fixture
def wechat():
    """Intercept api.weixin.qq.com; the token is always ACCESS_TOKEN."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "ACCESS_TOKEN", "expires_in": 7200})
        yield mock


def sends(mock):
    """The bodies posted to subscribe/send."""
    return [json.loads(call.request.body) for call in mock.calls if call.request.url.startswith(SEND_URL)]


def message(message_id):
    """The row as stored now."""
    db.session.expire_all()
    return db.session.get(Message, message_id)


def test_a_queued_message_is_sent_with_its_page_data_and_miniprogram_state(wechat_app, wechat):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok", "msgid": 1})
    [message_id] = queue(1, openid="o-sent")
    assert sender.send_due() == {"sent": 1, "retry": 0, "failed": 0, "claimed": 1}
    [body] = sends(wechat)
    assert body["touser"] == "o-sent" and body["template_id"] == TEMPLATE_IDS["application_decided"]
    assert body["page"] == "pages/applications/detail?id=0" and body["miniprogram_state"] == "trial"
    assert body["lang"] == "zh_CN"
    assert body["data"]["thing1"] == {"value": "m0 外出务工报名"} and body["data"]["phrase2"] == {"value": "通过"}
    assert set(body["data"]) == {"thing1", "phrase2", "thing3", "time4"}
    assert "access_token=ACCESS_TOKEN" in [c.request.url for c in wechat.calls if c.request.url.startswith(SEND_URL)][0]
    stored = message(message_id)
    assert (stored.delivery, stored.attempts, stored.claimed_by, stored.errcode) == ("sent", 1, None, None)
    assert stored.sent_at is not None
    assert sender.send_due()["claimed"] == 0  # nothing is sent twice


@pytest.mark.parametrize("errcode, failure", [
    (43101, "no_grant"), (47003, "bad_data"), (40003, "invalid_openid"), (40037, "invalid_template"),
    (41030, "invalid_page"),
])
def test_refusals_of_the_message_itself_fail_it_for_good(wechat_app, wechat, errcode, failure):
    wechat.post(SEND_URL, json={"errcode": errcode, "errmsg": f"refused for o-refused rid: 1"})
    [message_id] = queue(1, openid="o-refused")
    assert sender.send_due() == {"sent": 0, "retry": 0, "failed": 1, "claimed": 1}
    stored = message(message_id)
    assert (stored.delivery, stored.failure, stored.errcode, stored.attempts) == ("failed", failure, errcode, 1)
    assert "o-refused" not in stored.last_error and str(errcode) in stored.last_error
    stored.next_attempt_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert sender.send_due()["claimed"] == 0 and len(sends(wechat)) == 1  # never retried


@pytest.mark.parametrize("answer", [
    {"json": {"errcode": -1, "errmsg": "system error"}},
    {"json": {"errcode": 45009, "errmsg": "reach max api daily quota limit"}},
    {"json": {"errcode": 45011, "errmsg": "api minute-quota reach limit"}},
    {"status": 502, "body": "bad gateway"},
    {"body": requests.ConnectionError("connection refused to /send?access_token=ACCESS_TOKEN")},
    {"body": requests.ReadTimeout("read timed out")},
])
def test_busy_wechat_and_network_errors_queue_the_message_again_after_a_backoff(wechat_app, wechat, caplog,
                                                                                answer):
    wechat.post(SEND_URL, **answer)
    [message_id] = queue(1, openid="o-busy")
    before = utcnow()
    with caplog.at_level(logging.DEBUG):
        assert sender.send_due()["retry"] == 1
    stored = message(message_id)
    assert (stored.delivery, stored.attempts, stored.claimed_by, stored.failure) == ("queued", 1, None, None)
    wait = (stored.next_attempt_at - before).total_seconds()
    assert 30 * 0.8 - 1 <= wait <= 30 * 1.2 + 1  # NOTIFY_RETRY_SECONDS, ±20 % jitter
    assert stored.last_error and "ACCESS_TOKEN" not in stored.last_error
    assert "ACCESS_TOKEN" not in caplog.text and "o-busy" not in caplog.text
    assert sender.send_due()["claimed"] == 0  # not due yet


def test_backoff_doubles_and_the_last_attempt_gives_up(wechat_app, wechat):
    wechat.post(SEND_URL, json={"errcode": -1, "errmsg": "system error"})
    [message_id] = queue(1, openid="o-gives-up")
    waits = []
    for _ in range(3):  # NOTIFY_MAX_ATTEMPTS
        now = utcnow()
        db.session.execute(update(Message).where(Message.id == message_id).values(next_attempt_at=now))
        db.session.commit()
        sender.send_due()
        stored = message(message_id)
        if stored.delivery == "queued":
            waits.append((stored.next_attempt_at - now).total_seconds())
    assert 24 - 1 <= waits[0] <= 36 + 1 and 48 - 1 <= waits[1] <= 72 + 1
    assert (stored.delivery, stored.failure, stored.attempts, stored.errcode) == ("failed", "gave_up", 3, -1)
    assert len(sends(wechat)) == 3


def test_backoff_is_capped(wechat_app):
    assert sender.backoff_seconds(1) <= 36
    assert 3600 * 0.8 <= sender.backoff_seconds(30) <= 3600 * 1.2


def test_an_outage_holds_back_the_rest_of_the_batch_after_one_try(wechat_app, wechat):
    wechat.post(SEND_URL, body=requests.ConnectionError("unreachable"))
    ids = queue(4, openid="o-outage")
    assert sender.send_due() == {"sent": 0, "retry": 1, "failed": 0, "claimed": 4}
    assert len(sends(wechat)) == 1
    rows = [message(message_id) for message_id in ids]
    assert [row.delivery for row in rows] == ["queued"] * 4 and [row.attempts for row in rows] == [1, 0, 0, 0]
    assert len({row.next_attempt_at for row in rows}) == 1  # all wait for the same retry
    assert all(row.claimed_by is None for row in rows)


def test_a_message_another_sender_claimed_is_left_alone_until_its_lease_lapses(wechat_app, wechat):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    [message_id] = queue(1, openid="o-lease")
    db.session.execute(update(Message).where(Message.id == message_id).values(
        delivery="sending", claimed_by="deadhost:1:abcd", claimed_until=utcnow() + timedelta(seconds=30)))
    db.session.commit()
    assert sender.send_due()["claimed"] == 0 and not sends(wechat)
    # The other sender died: once its lease lapses this one takes the message over.
    db.session.execute(update(Message).where(Message.id == message_id).values(
        claimed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert sender.send_due() == {"sent": 1, "retry": 0, "failed": 0, "claimed": 1}
    assert message(message_id).delivery == "sent" and len(sends(wechat)) == 1


def test_two_senders_claim_disjoint_messages_and_mark_only_their_own(wechat_app, monkeypatch):
    ids = queue(6, openid="o-two")
    monkeypatch.setattr(sender, "sender_id", lambda: "host-a:1:aaaa")
    first, _ = sender.claim(4)
    monkeypatch.setattr(sender, "sender_id", lambda: "host-b:2:bbbb")
    second, _ = sender.claim(4)
    assert first == ids[:4] and second == ids[4:]  # oldest first, nothing twice
    # B may not mark or release what A holds.
    sender.release(first)
    assert {message(message_id).claimed_by for message_id in first} == {"host-a:1:aaaa"}


def test_a_stopped_sender_gives_back_what_it_has_not_sent(wechat_app, wechat):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    ids = queue(3, openid="o-stop")
    asked = []

    def stop():
        asked.append(1)
        return len(asked) > 1  # a SIGTERM arrives while the first message is being sent

    assert sender.send_due(stop=stop) == {"sent": 1, "retry": 0, "failed": 0, "claimed": 3}
    rows = [message(message_id) for message_id in ids]
    assert [row.delivery for row in rows] == ["sent", "queued", "queued"]
    assert rows[1].claimed_by is None and rows[1].attempts == 0
    assert sender.send_due()["sent"] == 2


def test_the_lease_is_renewed_when_it_could_lapse_during_a_send(make_app, wechat):
    app = make_app(**wechat_settings(NOTIFY_LEASE_SECONDS=4, WECHAT_TIMEOUT=1.0))
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    with app.app_context():
        ids = queue(2, openid="o-renew")
        claimed, until = sender.claim(10)
        renewed_until, held = sender._keep_lease(until - timedelta(seconds=3), claimed)  # as if 3 s went by
        assert held == ids and renewed_until > until - timedelta(seconds=3)
        # (MariaDB's DATETIME keeps whole seconds)
        assert abs((message(ids[0]).claimed_until - renewed_until).total_seconds()) < 1
        # A message another sender took over meanwhile is dropped, not sent.
        db.session.execute(update(Message).where(Message.id == ids[1]).values(claimed_by="other:9:ffff"))
        db.session.commit()
        _, held = sender._keep_lease(utcnow(), held)
        assert held == [ids[0]]


def test_messages_that_cannot_be_sent_fail_with_a_reason(wechat_app, wechat):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    [no_template] = queue(1, openid="o-a")
    [changed] = queue(1, openid="o-b", key="trip_changed")
    no_openid_worker = worker_with_openid("o-c")
    db.session.add(SubscriptionGrant(worker_id=no_openid_worker.id, template="arrival_recorded",
                                     template_id=TEMPLATE_IDS["arrival_recorded"]))
    db.session.flush()
    queued = outbox.to_worker(no_openid_worker.id, "arrival_recorded",
                              {"arrived_at": utcnow(), "place": "银川站", "result": "正常", "note": "无"})
    no_openid_worker.openid = None  # e.g. erased after the message was queued
    db.session.commit()
    no_openid = queued.id
    wechat_app.config["WECHAT_TEMPLATES"] = {**TEMPLATE_IDS, "application_decided": None,
                                             "trip_changed": "TPL-new-trip-changed"}
    assert sender.send_due() == {"sent": 0, "retry": 0, "failed": 3, "claimed": 3}
    assert message(no_template).failure == "no_template"
    assert message(changed).failure == "template_changed"
    assert message(no_openid).failure == "no_openid"
    assert all(message(i).attempts == 0 for i in (no_template, changed, no_openid)) and not sends(wechat)


def test_without_wechat_a_queued_message_fails_as_no_wechat(make_app):
    app = make_app()  # WECHAT_APP_ID unset: the dev and test default
    with app.app_context():
        worker = worker_with_openid("o-nowechat")
        row = Message(recipient_kind="worker", worker_id=worker.id, template="application_decided", title="t",
                      body="b", data={"thing1": "x"}, delivery="queued", attempts=0, next_attempt_at=utcnow())
        db.session.add(row)
        db.session.commit()
        assert sender.send_due()["failed"] == 1
        assert message(row.id).failure == "no_wechat"


def test_many_messages_share_one_access_token(wechat_app, wechat):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    queue(5, openid="o-token")
    assert sender.send_due()["sent"] == 5
    token_calls = [c for c in wechat.calls if c.request.url == TOKEN_URL]
    assert len(token_calls) == 1
    body = json.loads(token_calls[0].request.body)
    assert body == {"grant_type": "client_credential", "appid": APP_ID, "secret": "test-app-secret",
                    "force_refresh": False}


def test_notify_run_once_sends_everything_due_and_status_counts_it(wechat_app, wechat):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    wechat.post(SEND_URL, json={"errcode": 43101, "errmsg": "user refuse to accept the msg"})
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    queue(25, openid="o-cli")  # more than one batch (NOTIFY_BATCH=10)
    runner = wechat_app.test_cli_runner()
    result = runner.invoke(args=["notify", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 24, retry later 0, failed 1" in result.output
    assert sorted(subject_of(body) for body in sends(wechat)) == sorted(f"m{n}" for n in range(25))
    status = runner.invoke(args=["notify", "status"])
    assert status.exit_code == 0
    assert "queued 0" in status.output and "sent 24" in status.output and "no_grant 1" in status.output
    assert "oldest queued: none" in status.output


def test_each_pass_runs_the_schedule_first_and_a_failing_schedule_does_not_stop_delivery(wechat_app, wechat,
                                                                                         monkeypatch):
    from app import cli_notify

    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    queue(2, openid="o-tick")
    ticks = []

    def failing_tick(now, stop=None):
        ticks.append(now)
        raise RuntimeError("reminders broke")

    monkeypatch.setattr(cli_notify, "_tick", failing_tick)
    result = wechat_app.test_cli_runner().invoke(args=["notify", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert len(ticks) == 1 and abs((ticks[0] - utcnow()).total_seconds()) < 60
    assert "sent 2," in result.output


def test_a_pass_runs_the_reminders_and_rechecks_pending_texts_at_most_once_per_poll(wechat_app, wechat, monkeypatch):
    from app import cli_notify
    from app.services.notices import schedule
    from app.services.people import content_security

    calls = []
    monkeypatch.setattr(schedule, "run_due", lambda now: calls.append("schedule"))
    monkeypatch.setattr(content_security, "recheck_pending", lambda stop=None: calls.append(("recheck", stop)))
    wechat_app.config["NOTIFY_POLL_SECONDS"] = 60
    stopping = lambda: False  # noqa: E731
    ticker = cli_notify._Ticker(stop=stopping)
    ticker()
    ticker()  # a busy sender's next pass, within the poll interval
    assert calls == ["schedule", ("recheck", stopping)]  # the recheck also ends on SIGTERM
    ticker.last -= 61
    ticker()
    assert calls == ["schedule", ("recheck", stopping)] * 2


def test_a_send_slower_than_the_lease_keeps_the_lease(make_app):
    """One send may take a token lock wait, stable_token, the send, a 40001 refetch and the resend: its lease holds."""
    app = make_app(**wechat_settings(NOTIFY_LEASE_SECONDS=2))
    with app.app_context(), responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "ACCESS_TOKEN", "expires_in": 7200})
        [message_id] = queue(1, openid="o-slow")
        seen = []

        def slow(request):
            time.sleep(3.5)  # well past the 2 s lease
            with db.engine.connect() as connection:  # as another sender would read it
                seen.append((connection.scalar(select(Message.claimed_until).where(Message.id == message_id)),
                             utcnow()))
            return 200, {}, json.dumps({"errcode": 0, "errmsg": "ok"})

        mock.add_callback(responses.POST, SEND_URL, callback=slow)
        assert sender.send_due() == {"sent": 1, "retry": 0, "failed": 0, "claimed": 1}
        [(claimed_until, at)] = seen
        assert claimed_until > at  # still this sender's: no other sender could have taken it and sent it again
        stored = message(message_id)
        assert (stored.delivery, stored.claimed_by, stored.claimed_until) == ("sent", None, None)


@pytest.mark.parametrize("change", [None, "unlinked", "relinked", "deactivated"])
def test_a_staff_alert_is_sent_only_while_its_staff_member_is_active_and_linked(wechat_app, wechat, change):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    wechat_app.config["WECHAT_TEMPLATES"] = {**TEMPLATE_IDS, "staff_alert": "TPL-staff_alert"}
    staff.create_staff("office", STAFF_PASSWORD, "admin", by=staff.CLI)
    clerk = db.session.scalar(select(StaffUser).where(StaffUser.username == "office"))
    linked = worker_with_openid("o-clerk")
    clerk.worker_id = linked.id
    db.session.add(SubscriptionGrant(worker_id=linked.id, template="staff_alert", template_id="TPL-staff_alert"))
    db.session.flush()
    [alert] = outbox.to_staff([clerk.id], "新的出行报名待审核", "永宁县 3 条", kind="报名待审核")
    db.session.commit()
    assert (alert.delivery, alert.worker_id) == ("queued", linked.id)
    if change == "unlinked":
        clerk.worker_id = None
    elif change == "relinked":
        clerk.worker_id = worker_with_openid("o-clerk-new-phone").id
    elif change == "deactivated":
        clerk.active = False
    db.session.commit()
    if change is None:
        assert sender.send_due()["sent"] == 1 and sends(wechat)[0]["touser"] == "o-clerk"
        return
    assert sender.send_due() == {"sent": 0, "retry": 0, "failed": 1, "claimed": 1}
    stored = message(alert.id)
    assert (stored.delivery, stored.failure, stored.attempts) == ("failed", "unlinked", 0) and not sends(wechat)


def test_notify_run_without_wechat_leaves_the_queue_and_writes_only_the_scheduled_messages(make_app, monkeypatch):
    from app.services.notices import schedule

    app = make_app()  # WECHAT_APP_ID unset
    ticks = []
    monkeypatch.setattr(schedule, "run_due", lambda now: ticks.append(now))
    with app.app_context():
        worker = worker_with_openid("o-kept")
        row = Message(recipient_kind="worker", worker_id=worker.id, template="application_decided", title="t",
                      body="b", data={"thing1": "x"}, delivery="queued", attempts=0, next_attempt_at=utcnow())
        db.session.add(row)
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["notify", "run", "--once"])
        assert result.exit_code == 0, result.output
        assert "WECHAT_APP_ID" in result.output and "nothing is sent" in result.output
        assert len(ticks) == 1  # the reminders still run (into the in-app inbox)
        assert message(row.id).delivery == "queued"  # kept for a sender that can send it
