"""WeChat intercepted at HTTP for the phone and content-security tests: a configured app, workers with an openid."""
import json

import pytest
import responses

from app.extensions import db
from tests.builders import auth, profile

API = "https://api.weixin.qq.com/"
TOKEN_URL = API + "cgi-bin/stable_token"
CODE_URL = API + "sns/jscode2session"
PHONE_URL = API + "wxa/business/getuserphonenumber"
CHECK_URL = API + "wxa/msg_sec_check"
APP_ID = "wx0123456789abcdef"


@pytest.fixture
def wechat_app(make_app):
    """An app configured with WeChat credentials, so the real wechatpy client is used, with reference data."""
    from app.services.office.reference_data import load_reference_data

    app = make_app(WECHAT_APP_ID=APP_ID, WECHAT_APP_SECRET="test-app-secret")
    with app.app_context():
        load_reference_data()
        yield app


@pytest.fixture
def wechat():
    """Every call to api.weixin.qq.com intercepted; the access token fetch always succeeds."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "ACCESS_TOKEN", "expires_in": 7200})
        yield mock


def wechat_login(client, mock, openid="o-worker-1"):
    """Log in through the intercepted jscode2session; returns the auth headers."""
    mock.get(CODE_URL, json={"openid": openid, "session_key": "tiihtNczf5v6AKRyjwEUhQ=="})
    response = client.post("/api/mp/v1/session", json={"code": f"code-{openid}"})
    assert response.status_code == 201, response.json
    return auth(response.json["token"])


def verdicts(mock, by_text=None, default="pass"):
    """Answer msgSecCheck by the text sent: by_text maps a word in it to a suggest, or to an exception/status."""
    by_text = by_text or {}

    def answer(request):
        body = json.loads(request.body)
        assert body["version"] == 2 and body["openid"] and body["scene"] in (1, 2)
        suggest = next((value for word, value in by_text.items() if word in body["content"]), default)
        if isinstance(suggest, Exception):
            raise suggest
        if isinstance(suggest, dict):
            return 200, {}, json.dumps(suggest)
        label = {"pass": 100, "review": 21000, "risky": 20006}[suggest]
        return 200, {}, json.dumps({"errcode": 0, "errmsg": "ok", "trace_id": f"trace-{suggest}",
                                    "result": {"suggest": suggest, "label": label},
                                    "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest,
                                                "label": label, "prob": 90}]})

    mock.add_callback(responses.POST, CHECK_URL, callback=answer)


def check_calls(mock):
    """The texts sent to msgSecCheck, in order."""
    return [json.loads(call.request.body)["content"] for call in mock.calls if call.request.url.startswith(CHECK_URL)]


def registered(client, mock, openid="o-worker-1", n=0, **overrides):
    """A worker logged in through WeChat with a complete profile (every text passes); returns the headers."""
    headers = wechat_login(client, mock, openid)
    response = client.put("/api/mp/v1/me", json=profile(n, **overrides), headers=headers)
    assert response.status_code == 200, response.json
    db.session.remove()
    return headers
