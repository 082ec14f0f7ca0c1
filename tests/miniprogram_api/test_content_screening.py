"""Review finding 10: the worker's other free texts are screened too (户籍县区, a health declaration's places), and
the profile's texts are checked before anything is set or locked. WeChat intercepted at HTTP."""
import requests
import responses
from sqlalchemy import select, update

from app.extensions import db
from app.models import ContentCheck, HealthEvent
from app.models.base import utcnow
from app.services.people import content_security
from tests.builders import declare_health, profile
from tests.miniprogram_api.wechat_helpers import CHECK_URL, check_calls, registered, verdicts, wechat_login
from tests.miniprogram_api.wechat_helpers import wechat, wechat_app  # noqa: F401  (fixtures)

ME = "/api/mp/v1/me"


def _flags():
    db.session.remove()
    return db.session.scalars(select(ContentCheck).order_by(ContentCheck.id)).all()


def test_a_risky_hometown_county_is_refused(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, {"赌场": "risky"})
    headers = wechat_login(client, wechat)
    answer = client.put(ME, json=profile(0, hometown_county="永宁县赌场"), headers=headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "content_risky"
    assert set(answer.json["error"]["fields"]) == {"hometown_county"} and "户籍县区" in answer.json["error"]["message"]


def test_texts_are_checked_before_the_id_number_is_applied(wechat_app, wechat, monkeypatch):
    client = wechat_app.test_client()
    verdicts(wechat)
    headers = wechat_login(client, wechat)
    seen = []
    screen = content_security.screen

    def watching(worker, texts, fields):
        seen.append(worker.id_number_index)  # what the request had set (and locked) when WeChat was called
        return screen(worker, texts, fields)

    monkeypatch.setattr(content_security, "screen", watching)
    assert client.put(ME, json=profile(0), headers=headers).status_code == 200
    assert seen == [None]


def test_declared_places_are_checked_flagged_and_a_risky_one_refused(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, {"赌场": "risky", "夜总会": "review"})
    headers = registered(client, wechat)
    refused = declare_health(client, headers, places=["银川", "澳门赌场"])
    assert refused.status_code == 422 and refused.json["error"]["code"] == "content_risky"
    assert set(refused.json["error"]["fields"]) == {"places"}
    assert db.session.scalar(select(HealthEvent.id).where(HealthEvent.kind == "declaration")) is None
    assert declare_health(client, headers, places=["银川", "某夜总会"]).status_code == 201
    assert check_calls(wechat)[-1] == "银川、某夜总会"
    [flag] = _flags()
    assert (flag.field, flag.status, flag.scene, flag.application_id) == ("places", "review", 1, None)
    assert content_security.field_words(flag) == "健康申报的途经地"


def test_wechat_down_never_blocks_a_declaration_and_the_places_are_checked_later(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, {"银川": requests.ConnectionError("down")})
    headers = registered(client, wechat)  # every profile text passes
    assert declare_health(client, headers, places=["银川"]).status_code == 201
    [flag] = _flags()
    assert (flag.field, flag.status, flag.content) == ("places", "pending", "银川")
    assert content_security.current_text(flag) == "银川"  # the declaration still holds it
    wechat.remove(responses.POST, CHECK_URL)
    verdicts(wechat)
    db.session.execute(update(ContentCheck).values(next_check_at=utcnow()))
    db.session.commit()
    assert content_security.recheck_pending()["pass"] == 1
    assert [flag.status for flag in _flags()] == ["pass"]
