"""WeChat's access token (app/services/platform/wechat.py): shared, refreshed once, never fought over.

In process through `responses`: a refused token (40001/42001) is fetched again and the call retried
once. With real processes against tests/fake_wechat.py: two processes refreshing at once end with
one token, with Redis (one stable_token call) and without (stable_token with force_refresh=false
answers both with the same token).
"""
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis as redis_lib
import responses
from wechatpy.exceptions import WeChatClientException

from app.crypto import generate_key
from app.extensions import db
from app.models import Message
from app.services.messaging import sender
from app.services.platform import wechat
from tests.fake_wechat import FakeWeChat
from tests.messaging.sender_helpers import queue, wechat_settings

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "https://api.weixin.qq.com/cgi-bin/stable_token"
SEND_URL = "https://api.weixin.qq.com/cgi-bin/message/subscribe/send"


@pytest.fixture
def wechat_app(make_app):
    """An app with WeChat configured (token in memory on SQLite, in Redis on MariaDB runs)."""
    app = make_app(**wechat_settings())
    with app.app_context():
        yield app


def send(client):
    """One subscribe message through the client."""
    return client.wxa.send_subscribe_message("o-token", "TPL-x", {"thing1": {"value": "x"}})


def token_in(call):
    """The access_token a request carried."""
    return call.request.url.split("access_token=")[1].split("&")[0]


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_a_refused_token_is_fetched_again_and_the_call_retried_once(wechat_app, errcode):
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-A", "expires_in": 7200})
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-B", "expires_in": 7200})
        mock.post(SEND_URL, json={"errcode": errcode, "errmsg": "access_token is invalid or not latest"})
        mock.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
        client = wechat.client()
        assert send(client)["errcode"] == 0
        sends = [call for call in mock.calls if call.request.url.startswith(SEND_URL)]
        assert [token_in(call) for call in sends] == ["TOKEN-A", "TOKEN-B"]
        assert client.session.get(client.access_token_key) == "TOKEN-B"
        bodies = [json.loads(call.request.body) for call in mock.calls if call.request.url == TOKEN_URL]
        assert [body["force_refresh"] for body in bodies] == [False, False]


def test_a_token_another_host_stored_meanwhile_is_used_without_fetching(wechat_app):
    client = wechat.client()

    def refuse_and_let_another_host_refresh(request):
        client.session.set(client.access_token_key, "TOKEN-FROM-ANOTHER-HOST", 7200)
        return 200, {}, json.dumps({"errcode": 40001, "errmsg": "invalid credential"})

    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-A", "expires_in": 7200})
        mock.add_callback(responses.POST, SEND_URL, callback=refuse_and_let_another_host_refresh)
        mock.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
        mock.calls.reset()
        send(client)
        assert [call.request.url for call in mock.calls].count(TOKEN_URL) == 1
        sends = [call for call in mock.calls if call.request.url.startswith(SEND_URL)]
        assert [token_in(call) for call in sends] == ["TOKEN-A", "TOKEN-FROM-ANOTHER-HOST"]


def test_a_token_refused_again_is_an_error_not_an_endless_retry(wechat_app):
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-A", "expires_in": 7200})
        mock.post(SEND_URL, json={"errcode": 40001, "errmsg": "invalid credential"})
        with pytest.raises(WeChatClientException) as raised:
            send(wechat.client())
        assert raised.value.errcode == 40001
        assert [call.request.url.startswith(SEND_URL) for call in mock.calls].count(True) == 2


def test_the_sender_queues_again_a_message_whose_token_keeps_being_refused(wechat_app):
    [message_id] = queue(1, openid="o-refused-token")
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-A", "expires_in": 7200})
        mock.post(SEND_URL, json={"errcode": 40001, "errmsg": "invalid credential"})
        assert sender.send_due()["retry"] == 1
    stored = db.session.get(Message, message_id)
    assert (stored.delivery, stored.errcode, stored.attempts) == ("queued", 40001, 1)


def test_a_token_stable_token_hands_out_again_after_refusing_it_is_replaced_by_a_forced_refresh(wechat_app):
    """After 40001, stable_token (force_refresh=false) may give back the refused token: then force once."""
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-A", "expires_in": 7200})
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-A", "expires_in": 7100})
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-B", "expires_in": 7200})
        mock.post(SEND_URL, json={"errcode": 40001, "errmsg": "invalid credential"})
        mock.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
        client = wechat.client()
        assert send(client)["errcode"] == 0
        bodies = [json.loads(call.request.body) for call in mock.calls if call.request.url == TOKEN_URL]
        assert [body["force_refresh"] for body in bodies] == [False, False, True]
        sends = [call for call in mock.calls if call.request.url.startswith(SEND_URL)]
        assert [token_in(call) for call in sends] == ["TOKEN-A", "TOKEN-B"]
        assert client.session.get(client.access_token_key) == "TOKEN-B"


def test_a_token_is_used_to_the_end_of_its_life_without_fetching_it_on_every_call(wechat_app, monkeypatch):
    """stable_token gives the same token until it lapses: its last minute costs no extra stable_token calls."""
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-A", "expires_in": 30})  # in its last minute
        mock.post(TOKEN_URL, json={"access_token": "TOKEN-B", "expires_in": 7200})
        mock.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
        client = wechat.client()
        started = clock[0]
        for after in (0, 2, 10, 25, 31, 40):  # seconds after the first fetch; TOKEN-A lapses at 30
            clock[0] = started + after
            send(client)
        assert [call.request.url for call in mock.calls].count(TOKEN_URL) == 2
        sends = [call for call in mock.calls if call.request.url.startswith(SEND_URL)]
        assert [token_in(call) for call in sends] == ["TOKEN-A"] * 4 + ["TOKEN-B"] * 2


# --- two processes ----------------------------------------------------------------------------------

CHILD = """
import json, os, sys, time
from app import create_app
from app.services.platform import wechat
app = create_app(json.loads(os.environ["CHILD_CONFIG"]))
with app.app_context():
    client = wechat.client()
    time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
    print(json.dumps({"token": client.access_token, "at": time.time()}), flush=True)
"""


def run_two_processes(fake, tmp_path, redis_url):
    """Two processes of the app read the access token at the same instant; their answers."""
    config = {"TESTING": True, "APP_ENV": "testing", "SECRET_KEY": "test-secret", "DATA_KEY": generate_key(),
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}", "REDIS_URL": redis_url,
              "RATELIMIT_KEY_PREFIX": f"fangang-test-{uuid.uuid4().hex[:12]}", **wechat_settings(fake.url)}
    env = {**os.environ, "CHILD_CONFIG": json.dumps(config), "START_AT": str(time.time() + 4)}
    children = [subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
    answers = []
    for child in children:
        out, err = child.communicate(timeout=30)
        assert child.returncode == 0, err
        answers.append(json.loads(out.strip().splitlines()[-1]))
    return answers


def test_two_processes_without_redis_both_fetch_and_still_hold_one_token(tmp_path):
    # Each process has its own memory storage: both ask, and stable_token (force_refresh=false) answers
    # both with the token that is valid, where cgi-bin/token would have given the second a new one and
    # invalidated the first's.
    with FakeWeChat(token_latency=0.5) as fake:
        answers = run_two_processes(fake, tmp_path, redis_url=None)
        state = fake.state()
    assert answers[0]["token"] == answers[1]["token"] == "TOKEN-1"
    assert state["token_calls"] == 2 and state["force_refresh"] == [False, False]


def test_two_processes_sharing_redis_make_one_stable_token_call(tmp_path):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    redis_lib.Redis.from_url(url, socket_connect_timeout=2).ping()
    with FakeWeChat(token_latency=0.5) as fake:
        answers = run_two_processes(fake, tmp_path, redis_url=url)
        state = fake.state()
    # One fetched while the other waited on the Redis lock, then read what the first stored.
    assert answers[0]["token"] == answers[1]["token"] == "TOKEN-1"
    assert state["token_calls"] == 1
    assert abs(answers[0]["at"] - answers[1]["at"]) < 1.5


def test_the_fake_server_hands_out_one_token_until_forced(tmp_path):
    with FakeWeChat() as fake:
        assert fake.issue_token(force=False)[0] == fake.issue_token(force=False)[0] == "TOKEN-1"
        assert fake.issue_token(force=True)[0] == "TOKEN-2"
