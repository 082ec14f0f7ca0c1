"""The worker's mobile from WeChat (getPhoneNumber): POST /me/phone. WeChat is intercepted at HTTP."""
import json

import pytest
import requests
from sqlalchemy import select

from app import crypto
from app.extensions import db
from app.models import AuditLog, Worker
from tests.builders import PRIVACY_VERSION, login, make_mobile, profile
from tests.miniprogram_api.wechat_helpers import PHONE_URL, wechat_login
from tests.miniprogram_api.wechat_helpers import wechat, wechat_app  # noqa: F401  (fixtures)

PHONE = "/api/mp/v1/me/phone"


def _phone_info(number="13912345678", country="86"):
    return {"errcode": 0, "errmsg": "ok",
            "phone_info": {"phoneNumber": number, "purePhoneNumber": number, "countryCode": country,
                           "watermark": {"timestamp": 1637744274, "appid": "wx0123456789abcdef"}}}


def _consented(client, mock):
    headers = wechat_login(client, mock)
    assert client.put("/api/mp/v1/me", json={"consent_version": PRIVACY_VERSION}, headers=headers).status_code == 200
    return headers


def _stored(openid="o-worker-1"):
    db.session.remove()
    return db.session.scalar(select(Worker).where(Worker.openid == openid))


def test_the_code_gives_the_verified_mobile_stored_encrypted(wechat_app, wechat):
    client = wechat_app.test_client()
    headers = _consented(client, wechat)
    wechat.post(PHONE_URL, json=_phone_info())
    response = client.post(PHONE, json={"code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"},
                           headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["mobile"] == "139****5678" and response.json["mobile_verified"] is True
    sent = [call.request for call in wechat.calls if call.request.url.startswith(PHONE_URL)]
    assert json.loads(sent[0].body) == {"code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"}
    assert "access_token=ACCESS_TOKEN" in sent[0].url
    worker = _stored()
    assert worker.mobile_verified_at is not None
    # Stored exactly as a typed mobile: encrypted, masked, findable by the same blind index.
    assert b"13912345678" not in worker.mobile_cipher
    assert crypto.cipher().decrypt(worker.mobile_cipher, "worker.mobile") == "13912345678"
    assert worker.mobile_index == crypto.cipher().blind_index("13912345678", "worker.mobile")
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_id == worker.id)) == "worker.mobile_verified"
    me = client.get("/api/mp/v1/me", headers=headers).json
    assert me["mobile_verified"] is True and me["mobile"] == "139****5678"


def test_typing_another_mobile_clears_the_mark_and_the_same_one_keeps_it(wechat_app, wechat):
    client = wechat_app.test_client()
    headers = _consented(client, wechat)
    wechat.post(PHONE_URL, json=_phone_info("13912345678"))
    assert client.post(PHONE, json={"code": "c1"}, headers=headers).json["mobile_verified"] is True
    same = client.put("/api/mp/v1/me", json={"mobile": "139 1234 5678"}, headers=headers)
    assert same.status_code == 200 and same.json["mobile_verified"] is True
    other = client.put("/api/mp/v1/me", json={"mobile": make_mobile(7)}, headers=headers)
    assert other.status_code == 200 and other.json["mobile_verified"] is False
    assert other.json["mobile"] == "139****0007" and _stored().mobile_verified_at is None


@pytest.mark.parametrize("answer, status, code", [
    ({"errcode": 40029, "errmsg": "invalid code"}, 422, "phone_code_invalid"),
    ({"errcode": 1400001, "errmsg": "feature quota exhausted"}, 503, "phone_quota_exhausted"),
    ({"errcode": -1, "errmsg": "system error"}, 503, "wechat_busy"),
    ({"errcode": 45011, "errmsg": "api minute-quota reach limit"}, 503, "wechat_rate_limited"),
    ({"errcode": 40013, "errmsg": "invalid appid"}, 503, "wechat_error"),
    (_phone_info("85291234567", "852"), 422, "phone_not_mainland"),
    (_phone_info("1234567", "86"), 422, "phone_not_mainland"),
    ({"errcode": 0, "errmsg": "ok"}, 503, "wechat_error"),
])
def test_wechat_errors_are_clear_answers_and_change_nothing(wechat_app, wechat, answer, status, code):
    client = wechat_app.test_client()
    headers = _consented(client, wechat)
    assert client.put("/api/mp/v1/me", json={"mobile": make_mobile(3)}, headers=headers).status_code == 200
    before = _stored()
    kept = (before.mobile_cipher, before.mobile_index, before.mobile_mask)
    wechat.post(PHONE_URL, json=answer)
    response = client.post(PHONE, json={"code": "c"}, headers=headers)
    assert response.status_code == status and response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    after = _stored()
    assert (after.mobile_cipher, after.mobile_index, after.mobile_mask) == kept
    assert after.mobile_verified_at is None


def test_the_quota_answer_says_to_type_the_number(wechat_app, wechat):
    client = wechat_app.test_client()
    headers = _consented(client, wechat)
    wechat.post(PHONE_URL, json={"errcode": 1400001, "errmsg": "quota"})
    assert "手动填写" in client.post(PHONE, json={"code": "c"}, headers=headers).json["error"]["message"]


@pytest.mark.parametrize("failure", [requests.ConnectTimeout("slow"), requests.ConnectionError("down"),
                                     requests.ReadTimeout("slow")])
def test_wechat_unreachable_is_503(wechat_app, wechat, failure):
    client = wechat_app.test_client()
    headers = _consented(client, wechat)
    wechat.post(PHONE_URL, body=failure)
    response = client.post(PHONE, json={"code": "c"}, headers=headers)
    assert response.status_code == 503 and response.json["error"]["code"] == "wechat_unreachable"
    assert _stored().mobile_cipher is None


def test_consent_comes_first(wechat_app, wechat):
    client = wechat_app.test_client()
    headers = wechat_login(client, wechat)
    wechat.post(PHONE_URL, json=_phone_info())
    response = client.post(PHONE, json={"code": "c"}, headers=headers)
    assert response.status_code == 422 and response.json["error"]["code"] == "consent_required"
    assert not [call for call in wechat.calls if call.request.url.startswith(PHONE_URL)]  # the code is not spent


def test_dev_code_without_wechat(client):
    headers = login(client)
    client.put("/api/mp/v1/me", json={"consent_version": PRIVACY_VERSION}, headers=headers)
    response = client.post(PHONE, json={"code": "dev:13800001111"}, headers=headers)
    assert response.status_code == 200
    assert response.json["mobile"] == "138****1111" and response.json["mobile_verified"] is True
    for bad in ("13800001111", "dev:1380000111", "dev:12800001111"):
        refused = client.post(PHONE, json={"code": bad}, headers=headers)
        assert refused.status_code == 422, bad
        assert refused.json["error"]["code"] in ("dev_code_invalid", "phone_not_mainland")
    assert client.get("/api/mp/v1/me", headers=headers).json["mobile"] == "138****1111"


def test_dev_codes_are_sent_to_wechat_when_it_is_configured(wechat_app, wechat):
    client = wechat_app.test_client()
    headers = _consented(client, wechat)
    wechat.post(PHONE_URL, json={"errcode": 40029, "errmsg": "invalid code"})
    response = client.post(PHONE, json={"code": "dev:13800001111"}, headers=headers)
    assert response.status_code == 422 and response.json["error"]["code"] == "phone_code_invalid"


def test_production_without_wechat_is_503(app, client):
    headers = login(client)
    client.put("/api/mp/v1/me", json={"consent_version": PRIVACY_VERSION}, headers=headers)
    app.config["APP_ENV"] = "production"  # production refuses to start unconfigured; this reaches the branch
    response = client.post(PHONE, json={"code": "dev:13800001111"}, headers=headers)
    assert response.status_code == 503 and response.json["error"]["code"] == "wechat_not_configured"


def test_needs_a_login_and_a_code(client):
    assert client.post(PHONE, json={"code": "dev:13800001111"}).status_code == 401
    headers = login(client)
    assert client.post(PHONE, json={}, headers=headers).status_code == 422
    assert client.post(PHONE, json={"code": "x", "mobile": "1"}, headers=headers).status_code == 422


def test_rate_limited_per_token_like_the_profile(make_app):
    app = make_app(PROFILE_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        headers = login(client)
        statuses = [client.post(PHONE, json={"code": "dev:13800001111"}, headers=headers).status_code
                    for _ in range(3)]
    assert statuses[-1] == 429


def test_a_verified_mobile_completes_the_profile_without_typing_one(client):
    headers = login(client)
    body = profile(0)
    client.put("/api/mp/v1/me", json={"consent_version": PRIVACY_VERSION}, headers=headers)
    assert client.post(PHONE, json={"code": f"dev:{body['mobile']}"}, headers=headers).status_code == 200
    del body["mobile"]
    response = client.put("/api/mp/v1/me", json=body, headers=headers)
    assert response.status_code == 200 and response.json["mobile_verified"] is True
    assert response.json["profile_complete"] is True


@pytest.mark.parametrize("errcode, code", [(-1, "wechat_busy"), (45011, "wechat_rate_limited"),
                                           (40013, "wechat_error")])
def test_busy_and_rate_limited_are_the_shared_answers_with_the_phones_hint(wechat_app, wechat, errcode, code):
    """One table (wechat.SHARED_ERRORS) for the answers every WeChat call can give; each call adds its hint."""
    from app.services.platform import wechat as wechat_service

    client = wechat_app.test_client()
    headers = _consented(client, wechat)
    wechat.post(PHONE_URL, json={"errcode": errcode, "errmsg": "busy"})
    error = client.post(PHONE, json={"code": "c"}, headers=headers).json["error"]
    assert error["code"] == code and error["message"].endswith("，也可以手动填写手机号")
    if errcode in wechat_service.SHARED_ERRORS:
        assert error["message"].startswith(wechat_service.SHARED_ERRORS[errcode][2])
        login = wechat_service.error_for(errcode, {}, (None, None, None))
        assert (login.code, login.message) == wechat_service.SHARED_ERRORS[errcode][1:]
