"""The console's session, through its pages as a browser sends them: cookie, CSRF, idle sign-out, headers, error pages."""
from datetime import timedelta

import pytest
from click.testing import CliRunner

from app import config as app_config
from app.extensions import db
from app.models import AuthToken
from app.models.base import utcnow
from app.services.accounts import staff
from tests.builders import STAFF_PASSWORD
from tests.console_web.helpers import csrf_of, make_web_staff, web_login


def _session_row():
    return db.session.query(AuthToken).filter(AuthToken.revoked_at.is_(None)).order_by(AuthToken.id.desc()).first()


def test_signing_in_sets_an_httponly_lax_cookie_and_goes_where_asked(client):
    staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", county_code="640121", by=staff.CLI)
    page = client.get("/console/login?next=/console/password")
    response = client.post("/console/login", data={"username": "yongning", "password": STAFF_PASSWORD,
                                                   "csrf_token": csrf_of(page.text), "next": "/console/password"})
    assert response.status_code == 302 and response.headers["Location"] == "/console/password"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("fg_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_production_always_makes_the_cookie_secure():
    settings = app_config.from_environment()
    settings.update({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "mysql+pymysql://h/db",
                     "DATA_KEY": "k", "WECHAT_APP_ID": "a", "WECHAT_APP_SECRET": "b", "REDIS_URL": "redis://h",
                     "CONSOLE_COOKIE_SECURE": False})
    assert app_config.finalize(settings, "/tmp")["CONSOLE_COOKIE_SECURE"] is True


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/api/console/v1/me", "javascript:x"])
def test_sign_in_never_redirects_off_the_console(client, target):
    staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", county_code="640121", by=staff.CLI)
    page = client.get("/console/login")
    response = client.post("/console/login", data={"username": "yongning", "password": STAFF_PASSWORD,
                                                   "csrf_token": csrf_of(page.text), "next": target})
    assert response.headers["Location"] == "/console/"


def test_the_sign_in_form_needs_its_own_csrf_token(client):
    staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", county_code="640121", by=staff.CLI)
    client.get("/console/login")
    response = client.post("/console/login", data={"username": "yongning", "password": STAFF_PASSWORD,
                                                   "csrf_token": "forged"})
    assert response.status_code == 403 and "text/html" in response.content_type
    assert "页面已过期" in response.text


def test_a_wrong_password_answers_like_the_api_and_is_throttled_with_it(make_app):
    app = make_app(STAFF_LOGIN_RATE_LIMIT="1000 per minute")
    with app.app_context():
        from app.services.office.reference_data import load_reference_data
        load_reference_data()
        staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", county_code="640121", by=staff.CLI)
        client = app.test_client()
        statuses = []
        for _ in range(7):
            page = client.get("/console/login")
            response = client.post("/console/login", data={"username": "yongning", "password": "wrong-password",
                                                           "csrf_token": csrf_of(page.text)})
            statuses.append(response.status_code)
        assert statuses[:5] == [401] * 5 and 429 in statuses[5:]
        assert "用户名或密码错误" in client.post("/console/login", data={
            "username": "nobody", "password": "x", "csrf_token": csrf_of(client.get("/console/login").text)}).text


def test_state_changes_need_the_csrf_token_as_field_or_header(client):
    csrf = make_web_staff(client)
    body = {"current_password": STAFF_PASSWORD, "new_password": "another-password-1",
            "new_password_again": "another-password-1"}
    refused = client.post("/console/password", data=body)
    assert refused.status_code == 403 and "csrf_failed" in refused.text
    assert client.post("/console/password", data={**body, "csrf_token": "0" * 40}).status_code == 403
    accepted = client.post("/console/password", data=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 302


def test_an_idle_session_ends_and_an_active_one_slides(app, client):
    make_web_staff(client)
    row = _session_row()
    ttl = app.config["STAFF_TOKEN_TTL_SECONDS"]
    row.expires_at = utcnow() + timedelta(seconds=ttl - 600)  # ten minutes since the last click
    db.session.commit()
    assert client.get("/console/password").status_code == 200
    db.session.refresh(row)
    assert row.expires_at > utcnow() + timedelta(seconds=ttl - 60)  # moved a full TTL ahead again
    row.expires_at = utcnow() - timedelta(seconds=1)  # idle for STAFF_TOKEN_TTL_SECONDS
    db.session.commit()
    response = client.get("/console/password")
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/login")


def test_htmx_requests_of_a_stranger_are_sent_to_the_sign_in_page(client):
    response = client.get("/console/password", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/console/login")


def test_signing_out_revokes_the_session_everywhere(client):
    csrf = make_web_staff(client)
    assert client.post("/console/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/console/password").status_code == 302
    assert _session_row() is None


def test_changing_the_password_ends_other_sessions_but_this_one(app, client):
    make_web_staff(client)
    other = app.test_client()
    web_login(other, "yongning")
    csrf = csrf_of(client.get("/console/password").text)
    response = client.post("/console/password", data={
        "csrf_token": csrf, "current_password": STAFF_PASSWORD, "new_password": "another-password-1",
        "new_password_again": "another-password-1"})
    assert response.status_code == 302
    assert "密码已修改" in client.get("/console/password").text
    assert other.get("/console/password").status_code == 302


@pytest.mark.parametrize("form, field, message", [
    ({"current_password": "wrong-one-12", "new_password": "another-password-1",
      "new_password_again": "another-password-1"}, "current_password", "当前密码不正确"),
    ({"current_password": STAFF_PASSWORD, "new_password": "short", "new_password_again": "short"},
     "new_password", "至少10位"),
    ({"current_password": STAFF_PASSWORD, "new_password": "another-password-1",
      "new_password_again": "another-password-2"}, "new_password_again", "不一致"),
])
def test_a_refused_password_change_says_why_and_changes_nothing(client, form, field, message):
    csrf = make_web_staff(client)
    response = client.post("/console/password", data={**form, "csrf_token": csrf})
    assert response.status_code == 422 and message in response.text
    assert f'id="{field}-error"' in response.text
    web_login(client.application.test_client(), "yongning")  # the old password still works


def test_staff_cli_resets_a_password_and_deactivates_an_account(app, client):
    make_web_staff(client)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "reset-password", "yongning", "--password-env", "NEW_PW"],
                           env={"NEW_PW": "a-reset-password-1"})
    assert result.exit_code == 0, result.output
    assert client.get("/console/password").status_code == 302  # the reset ended the session
    web_login(app.test_client(), "yongning", password="a-reset-password-1")
    result = runner.invoke(args=["staff", "deactivate", "yongning"])
    assert result.exit_code == 0 and "deactivated" in result.output
    browser = app.test_client()
    page = browser.get("/console/login")
    refused = browser.post("/console/login", data={"username": "yongning", "password": "a-reset-password-1",
                                                   "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 401 and "用户名或密码错误" in refused.text
    unknown = runner.invoke(args=["staff", "deactivate", "nobody"])
    assert unknown.exit_code != 0 and "没有该用户名" in unknown.output
    short = runner.invoke(args=["staff", "reset-password", "yongning", "--password-env", "NEW_PW"], env={"NEW_PW": "x"})
    assert short.exit_code != 0 and "10" in short.output


def test_every_console_answer_carries_the_security_headers(client):
    for path in ("/console/login", "/console/no-such-page", "/console/vendor/htmx.min.js"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"


def test_console_urls_answer_html_pages_while_the_api_keeps_json(client):
    make_web_staff(client)
    page = client.get("/console/no-such-page")
    assert page.status_code == 404 and "text/html" in page.content_type and "未找到" in page.text
    api = client.get("/api/console/v1/no-such-route")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"
    assert not [path for path in client.get("/openapi.json").json["paths"] if path.startswith("/console")]


def test_only_the_listed_front_end_files_are_served(client):
    assert client.get("/console/vendor/htmx.min.js").status_code == 200
    assert client.get("/console/vendor/package.json").status_code == 404
    assert client.get("/console/vendor/..%2Fpackage.json").status_code == 404


def test_the_menu_lists_only_pages_the_role_may_open(client):
    from app.models import Enterprise

    make_web_staff(client, "hr", role="enterprise_hr", enterprise_id=db.session.query(Enterprise.id).first()[0])
    page = client.get("/console/password").text
    assert "申请审核" not in page and "卡口扫码" not in page
    assert "花名册 · 每日随访" in page and "企业与岗位（附件2）" in page  # HR's pages (issue 13)
    assert client.get("/console/").headers["Location"] == "/console/roster"  # the first of its menu


def test_a_forged_token_with_non_ascii_characters_is_refused_not_a_500(client):
    csrf = make_web_staff(client)
    body = {"current_password": STAFF_PASSWORD, "new_password": "another-password-1",
            "new_password_again": "another-password-1", "csrf_token": "é" * 40}
    assert client.post("/console/password", data=body).status_code == 403
    scan = client.post("/api/checkin/v1/scans", json={}, headers={"X-CSRF-Token": "é" + csrf[1:]})
    assert scan.status_code == 403 and scan.json["error"]["code"] == "csrf_failed"


def test_guessing_the_current_password_from_an_open_console_is_throttled_like_a_login(client):
    csrf = make_web_staff(client)
    statuses = [client.post("/console/password", data={
        "csrf_token": csrf, "current_password": f"guess-number-{n}", "new_password": "another-password-1",
        "new_password_again": "another-password-1"}).status_code for n in range(7)]
    assert statuses[:5] == [422] * 5 and 429 in statuses[5:]


def test_a_form_posted_after_the_session_ended_leads_to_sign_in_not_an_error(client):
    csrf = make_web_staff(client)
    _session_row().expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.post("/console/password", data={"csrf_token": csrf, "current_password": "x"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/login")
