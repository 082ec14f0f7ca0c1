"""The console's frame in a real browser: sign in and out, the header, password change, CSRF, CSP, error pages."""
from urllib.request import urlopen

from app.services.accounts import staff
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.builders import STAFF_PASSWORD


def _operator(username="yongning"):
    staff.create_staff(username, STAFF_PASSWORD, "county_operator", display_name="王明", county_code="640121", by=staff.CLI)


def test_sign_in_shows_who_and_where_and_sign_out_ends_it(page, live):
    _operator()
    page.goto("/console/password")  # not signed in: sent to the form, then back here
    assert "/console/login" in page.url
    check_a11y(page)
    shoot(page, "login")
    page.get_by_label("用户名").fill("yongning")
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码错误" in text_of(page, "[data-testid=login-error]")
    shoot(page, "login-error")
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/password")
    assert text_of(page, "[data-testid=who]") == "王明 · 永宁县 · 县区专班"
    check_a11y(page)
    shoot(page, "account")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/console/login**")
    page.goto("/console/password")
    assert "/console/login" in page.url


def test_change_password_then_the_old_one_no_longer_signs_in(page, live):
    _operator()
    sign_in(page, live, "yongning", next_path="/console/password")
    page.get_by_label("当前密码").fill(STAFF_PASSWORD)
    page.get_by_label("新密码（至少10位）").fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="保存新密码").click()
    assert "至少10位" in page.inner_text("main")
    shoot(page, "password-error")
    page.get_by_label("当前密码").fill(STAFF_PASSWORD)
    page.get_by_label("新密码（至少10位）").fill("a-new-password-2026")
    page.get_by_label("再次输入新密码").fill("a-new-password-2026")
    page.get_by_role("button", name="保存新密码").click()
    assert "密码已修改" in text_of(page, "#alerts")
    page.get_by_role("button", name="退出").click()
    page.get_by_label("用户名").fill("yongning")
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码错误" in text_of(page, "[data-testid=login-error]")
    sign_in(page, live, "yongning", password="a-new-password-2026")


def test_a_form_without_its_csrf_token_is_refused(page, live):
    _operator()
    sign_in(page, live, "yongning", next_path="/console/password")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_label("当前密码").fill(STAFF_PASSWORD)
    page.get_by_label("新密码（至少10位）").fill("a-new-password-2026")
    page.get_by_label("再次输入新密码").fill("a-new-password-2026")
    page.get_by_role("button", name="保存新密码").click()
    assert "CSRF" in page.inner_text("main") or "页面已过期" in page.inner_text("main")
    assert "403" in page.inner_text("main")
    shoot(page, "csrf-refused")


def test_pages_carry_the_csp_and_unknown_console_urls_get_the_404_page(page, live):
    _operator()
    sign_in(page, live, "yongning")
    response = page.goto("/console/no-such-page")
    assert response.status == 404
    assert "未找到" in page.inner_text("main")
    check_a11y(page)
    shoot(page, "404")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    with urlopen(f"{live.url}/console/login") as answer:
        assert answer.headers["Content-Security-Policy"] == csp
        assert answer.headers["X-Frame-Options"] == "DENY"
