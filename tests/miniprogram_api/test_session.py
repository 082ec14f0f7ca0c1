"""WeChat login, tokens and their limits. WeChat's servers are intercepted at the HTTP layer."""
import logging
from datetime import timedelta

import pytest
import requests
import responses
from sqlalchemy import select
from wechatpy.session.memorystorage import MemoryStorage

from app import crypto
from app.extensions import db
from app.models import AuthToken, Worker
from app.models.base import utcnow
from tests.builders import auth, login

TOKEN_URL = "https://api.weixin.qq.com/cgi-bin/stable_token"
CODE_URL = "https://api.weixin.qq.com/sns/jscode2session"
SESSION_KEY = "tiihtNczf5v6AKRyjwEUhQ=="


@pytest.fixture
def wechat_app(make_app):
    """An app configured with WeChat credentials, so the real wechatpy client is used."""
    app = make_app(WECHAT_APP_ID="wx0123456789abcdef", WECHAT_APP_SECRET="test-app-secret")
    with app.app_context():
        yield app


@pytest.fixture
def wechat():
    """Intercept every call to api.weixin.qq.com; access token fetch always succeeds."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "ACCESS_TOKEN", "expires_in": 7200})
        yield mock


def test_wechat_login_creates_worker_and_returns_token(wechat_app, wechat, caplog):
    wechat.get(CODE_URL, json={"openid": "o-abc123", "session_key": SESSION_KEY})
    client = wechat_app.test_client()
    with caplog.at_level(logging.DEBUG):
        response = client.post("/api/mp/v1/session", json={"code": "071abcDEF"})
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"token", "expires_in", "worker"}
    assert body["expires_in"] == wechat_app.config["TOKEN_TTL_SECONDS"]
    assert body["worker"]["profile_complete"] is False
    # The real client sent the code to jscode2session with our app id.
    sent = [call.request.url for call in wechat.calls if call.request.url.startswith(CODE_URL)]
    assert sent and "js_code=071abcDEF" in sent[0] and "appid=wx0123456789abcdef" in sent[0]
    # session_key stays on the server: not in the answer, not in a log line, encrypted in the row.
    assert SESSION_KEY not in response.get_data(as_text=True)
    assert SESSION_KEY not in caplog.text
    worker = db.session.scalar(select(Worker).where(Worker.openid == "o-abc123"))
    assert SESSION_KEY.encode() not in worker.session_key_cipher
    assert crypto.cipher().decrypt(worker.session_key_cipher, "worker.session_key") == SESSION_KEY
    me = client.get("/api/mp/v1/me", headers=auth(body["token"]))
    assert me.status_code == 200 and me.json["id"] == worker.id


def test_second_login_is_the_same_worker(wechat_app, wechat):
    wechat.get(CODE_URL, json={"openid": "o-same", "session_key": SESSION_KEY})
    client = wechat_app.test_client()
    first = client.post("/api/mp/v1/session", json={"code": "code-1"}).json
    second = client.post("/api/mp/v1/session", json={"code": "code-2"}).json
    assert first["worker"]["id"] == second["worker"]["id"]
    assert first["token"] != second["token"]


@pytest.mark.parametrize(
    "answer, status, code",
    [
        ({"errcode": 40029, "errmsg": "invalid code"}, 401, "wechat_code_invalid"),
        ({"errcode": 45011, "errmsg": "api minute-quota reach limit"}, 503, "wechat_rate_limited"),
        ({"errcode": -1, "errmsg": "system error"}, 503, "wechat_busy"),
        ({"errcode": 40226, "errmsg": "high risk user"}, 503, "wechat_error"),
    ],
)
def test_wechat_errors_become_clear_answers(wechat_app, wechat, answer, status, code):
    wechat.get(CODE_URL, json=answer)
    response = wechat_app.test_client().post("/api/mp/v1/session", json={"code": "bad"})
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert db.session.scalar(select(Worker)) is None


@pytest.mark.parametrize("failure", [requests.Timeout("slow"), requests.ConnectionError("down")])
def test_wechat_unreachable_is_503(wechat_app, wechat, failure):
    wechat.get(CODE_URL, body=failure)
    response = wechat_app.test_client().post("/api/mp/v1/session", json={"code": "any"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "wechat_unreachable"


def test_wechat_http_error_is_503(wechat_app, wechat):
    wechat.get(CODE_URL, status=502, body="bad gateway")
    response = wechat_app.test_client().post("/api/mp/v1/session", json={"code": "any"})
    assert response.status_code == 503


def test_dev_codes_do_not_work_when_wechat_is_configured(wechat_app, wechat):
    wechat.get(CODE_URL, json={"errcode": 40029, "errmsg": "invalid code"})
    response = wechat_app.test_client().post("/api/mp/v1/session", json={"code": "dev:alice"})
    assert response.status_code == 401


def test_dev_login_without_wechat(client):
    response = client.post("/api/mp/v1/session", json={"code": "dev:alice"})
    assert response.status_code == 201
    assert db.session.scalar(select(Worker.openid)) == "dev-alice"


def test_dev_code_must_be_well_formed(client):
    response = client.post("/api/mp/v1/session", json={"code": "hello"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "dev_code_invalid"


PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "a-real-secret-of-at-least-32-chars!",
              "REDIS_URL": "redis://127.0.0.1:1"}


def test_production_has_no_dev_login(make_app, backend):
    # Production without WeChat refuses to start at all; the dev path is never reachable there.
    from app.config import ConfigError

    database = backend["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("sqlite"):
        database = "mysql+pymysql://nobody@127.0.0.1:1/unused"  # never reached: the code fails first
    with pytest.raises(ConfigError, match="WECHAT_APP_ID"):
        make_app(**PRODUCTION, SQLALCHEMY_DATABASE_URI=database)
    app = make_app(**PRODUCTION, SQLALCHEMY_DATABASE_URI=database, WECHAT_APP_ID="wx1", WECHAT_APP_SECRET="s")
    app.extensions["wechat"].session = MemoryStorage()  # this test is about the code, not the token cache
    with app.app_context(), responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "AT", "expires_in": 7200})
        mock.get(CODE_URL, json={"errcode": 40029, "errmsg": "invalid code"})
        response = app.test_client().post("/api/mp/v1/session", json={"code": "dev:alice"})
        assert response.status_code == 401 and response.json["error"]["code"] == "wechat_code_invalid"
        assert "js_code=dev%3Aalice" in mock.calls[-1].request.url  # it went to WeChat, like any code


def test_production_refuses_sqlite_short_secrets_and_unknown_envs(make_app):
    from app.config import ConfigError

    with pytest.raises(ConfigError) as refused:
        make_app(APP_ENV="production", SECRET_KEY="short", WECHAT_APP_ID="wx1", WECHAT_APP_SECRET="s",
                 REDIS_URL="redis://127.0.0.1:1", SQLALCHEMY_DATABASE_URI="sqlite:///x.db")
    assert "SQLite" in str(refused.value) and "32" in str(refused.value)
    with pytest.raises(ConfigError, match="APP_ENV"):
        make_app(APP_ENV="prod")


def test_access_token_is_cached_in_redis_when_configured(make_app, backend):
    if not backend.get("REDIS_URL"):
        pytest.skip("needs TEST_REDIS_URL")
    app = make_app(WECHAT_APP_ID="wx0123456789abcdef", WECHAT_APP_SECRET="test-app-secret")
    client = app.test_client()
    with app.app_context(), responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "SHARED_TOKEN", "expires_in": 7200})
        mock.get(CODE_URL, json={"openid": "o-1", "session_key": SESSION_KEY})
        assert client.post("/api/mp/v1/session", json={"code": "a"}).status_code == 201
        assert client.post("/api/mp/v1/session", json={"code": "b"}).status_code == 201
        token_fetches = [call for call in mock.calls if call.request.url.startswith(TOKEN_URL)]
        assert len(token_fetches) == 1  # the second login reused the cached token
        redis_client = app.extensions["redis"]
        keys = [key.decode() for key in redis_client.keys(f"{app.config['RATELIMIT_KEY_PREFIX']}:wechatpy*")]
        assert keys and any(b"SHARED_TOKEN" in redis_client.get(key) for key in keys)


def test_requests_without_or_with_bad_token_are_401(client):
    assert client.get("/api/mp/v1/me").status_code == 401
    response = client.get("/api/mp/v1/me", headers=auth("not-a-token"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_expired_token_is_refused(client):
    headers = login(client)
    db.session.execute(AuthToken.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/mp/v1/me", headers=headers).status_code == 401


def test_logout_revokes_the_token(client):
    headers = login(client)
    other = login(client)
    assert client.delete("/api/mp/v1/session", headers=headers).status_code == 204
    assert client.get("/api/mp/v1/me", headers=headers).status_code == 401
    assert client.get("/api/mp/v1/me", headers=other).status_code == 200


def test_tokens_are_stored_hashed(client):
    headers = login(client)
    token = headers["Authorization"].split()[1]
    stored = db.session.scalar(select(AuthToken.token_hash))
    assert token not in stored


def test_login_is_rate_limited_per_ip(make_app):
    app = make_app(LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        codes = [client.post("/api/mp/v1/session", json={"code": f"dev:u{i}"}).status_code for i in range(4)]
        assert codes == [201, 201, 201, 429]
        response = client.post("/api/mp/v1/session", json={"code": "dev:u9"})
        assert response.json["error"]["code"] == "rate_limited"
        other_ip = client.post("/api/mp/v1/session", json={"code": "dev:u8"},
                               environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other_ip.status_code == 201


def test_openids_differing_only_in_case_are_different_workers(client):
    first = client.post("/api/mp/v1/session", json={"code": "dev:CaseAlice"}).json["worker"]["id"]
    second = client.post("/api/mp/v1/session", json={"code": "dev:casealice"}).json["worker"]["id"]
    assert first != second
