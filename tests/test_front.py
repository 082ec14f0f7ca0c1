"""What the app does with what the production front sends: the queue budget (X-Request-Start) and request ids."""
import re
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ScanEvent
from app.queue_budget import queued_seconds
from tests.builders import login, publish_trip, qr_of, scan_body

SCANS = "/api/checkin/v1/scans"
NGINX_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # what nginx's $request_id looks like


def stamp(seconds_ago):
    """X-Request-Start as nginx writes it (t=${msec})."""
    return {"X-Request-Start": f"t={time.time() - seconds_ago:.3f}"}


def assert_overloaded(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    error = response.json["error"]
    assert error["code"] == "overloaded" and error["message"] == "服务繁忙，请稍后再试"
    assert error["request_id"] == response.headers["X-Request-Id"]


# --- queue budget --------------------------------------------------------------------------------


def test_request_that_waited_past_the_budget_is_refused_with_retry_after(client):
    assert_overloaded(client.get("/healthz", headers=stamp(2.0)))


def test_request_within_the_budget_is_served(client):
    assert client.get("/healthz", headers=stamp(0.1)).status_code == 200


def test_budget_is_configurable_and_zero_turns_it_off(make_app):
    strict = make_app(QUEUE_BUDGET_MS=50).test_client()
    assert_overloaded(strict.get("/healthz", headers=stamp(0.2)))
    off = make_app(QUEUE_BUDGET_MS=0).test_client()
    assert off.get("/healthz", headers=stamp(3600)).status_code == 200


@pytest.mark.parametrize("value", ["", "t=", "t=soon", "t=nan", "t=-5", "garbage"])
def test_missing_or_unreadable_stamp_is_served(client, value):
    assert client.get("/healthz", headers={"X-Request-Start": value}).status_code == 200


def test_a_scan_refused_for_waiting_is_not_stored_and_its_retry_is(client):
    trip = publish_trip(client, passengers=4)
    rider = next(r for r in trip["riders"] if r not in (trip["captain"], trip["vice"]))
    body = scan_body(qr_of(client, rider, trip["trip"]["id"]))
    headers = {**trip["captain"]["headers"], **stamp(1.0)}
    assert_overloaded(client.post(SCANS, json=body, headers=headers))
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 0
    retried = client.post(SCANS, json=body, headers={**trip["captain"]["headers"], **stamp(0.01)})
    assert retried.status_code == 200 and retried.json["verdict"] == "allow"
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 1


def test_refusal_comes_before_rate_limits_and_body_checks(make_app):
    """A stale request costs nothing: no rate-limit hit is counted, its body is not even parsed."""
    app = make_app(LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    stale = client.post("/api/mp/v1/session", data="{not json", content_type="application/json", headers=stamp(2))
    assert_overloaded(stale)
    assert client.post("/api/mp/v1/session", json={"code": "dev:first"}).status_code in (200, 201)
    assert client.post("/api/mp/v1/session", json={"code": "dev:second"}).status_code == 429


@pytest.mark.parametrize("header, now, expected", [
    ("t=1764676800.250", 1764676800.750, 0.5),        # nginx: seconds with milliseconds
    ("t=1764676800250", 1764676800.750, 0.5),         # milliseconds
    ("t=1764676800250000", 1764676800.750, 0.5),      # microseconds
    ("1764676800.250", 1764676800.750, 0.5),          # without "t="
    ("t=1764676801.000", 1764676800.000, 0.0),        # from the future: no wait
    (None, 1764676800.0, None),
    ("t=inf", 1764676800.0, 0.0),
])
def test_queued_seconds_reads_the_stamp(header, now, expected):
    waited = queued_seconds(header, now)
    assert waited == pytest.approx(expected) if expected is not None else waited is None


# --- request ids -----------------------------------------------------------------------------------


def test_every_answer_carries_a_request_id_and_errors_return_it(client):
    ok = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", ok.headers["X-Request-Id"])
    for response in (client.get("/api/mp/v1/nothing-here"), client.patch("/api/mp/v1/session", json={}),
                     client.put("/api/mp/v1/me", json=["x"], headers=login(client))):
        assert response.status_code in (404, 405, 422)
        assert response.json["error"]["request_id"] == response.headers["X-Request-Id"]
    assert len({client.get("/healthz").headers["X-Request-Id"] for _ in range(3)}) == 3


def test_nginx_request_id_is_kept(client):
    response = client.get("/api/mp/v1/nothing-here", headers={"X-Request-Id": NGINX_ID})
    assert response.headers["X-Request-Id"] == NGINX_ID and response.json["error"]["request_id"] == NGINX_ID


@pytest.mark.parametrize("sent", ["short", "x" * 65, "abc def ghi jkl", "0123456789\x1b[31mred", "id\"quoted\"x",
                                  "-starts-with-dash"])
def test_malformed_request_id_is_replaced(client, sent):
    response = client.get("/api/mp/v1/nothing-here", headers={"X-Request-Id": sent})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
    assert response.json["error"]["request_id"] == response.headers["X-Request-Id"]


def test_unexpected_error_returns_its_request_id(make_app, monkeypatch):
    app = make_app()
    from app.services.people import privacy

    monkeypatch.setattr(privacy, "notice", lambda: 1 / 0)
    with app.app_context():
        response = app.test_client().get("/api/mp/v1/privacy-notice", headers={"X-Request-Id": NGINX_ID})
    assert response.status_code == 500 and response.json["error"]["request_id"] == NGINX_ID
