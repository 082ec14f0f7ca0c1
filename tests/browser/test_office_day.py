"""The coordination office's day (issue 13's acceptance, the office's part): the admin signs in, creates a county
staff account, finds it in the list, resets its password, reads the audit log of that, and the new county
account signs in and is refused the accounts page (403).

It opens on the 看板: a county filter changes the figures and the charts are drawn again (the `page` fixture
fails on any console error); the dashboard itself is tested in test_dashboard.py.
"""
import re

from playwright.sync_api import expect

from app.services.accounts import staff
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.browser.test_dashboard import _charts_drawn, _figure, _seed
from tests.builders import STAFF_PASSWORD


def _menu(page, label):
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name=label, exact=True).click()


def test_the_office_manages_an_account_and_reads_the_audit_log(page, live, chromium):
    staff.create_staff("office", STAFF_PASSWORD, "admin", display_name="协调办张", by=staff.CLI)
    _seed(live.client)
    sign_in(page, live, "office")

    # 看板: the city's figures, then 贺兰县's, without a reload.
    page.wait_for_url("**/console/")
    expect(_figure(page, "applications")).to_have_text("5")
    _charts_drawn(page)
    page.get_by_label("县区", exact=True).select_option(label="贺兰县")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**county=640122**")
    expect(_figure(page, "applications")).to_have_text("1")
    _charts_drawn(page)

    # 账号: the list, then a new county account with a password the system makes and shows once.
    _menu(page, "账号")
    page.wait_for_url("**/console/accounts")
    expect(page.locator("tr[data-account=office]")).to_be_visible()
    check_a11y(page)
    shoot(page, "office-accounts")
    page.get_by_role("link", name="新建账号").click()
    page.get_by_label("用户名").fill("xixia")
    page.get_by_label("姓名").fill("赵西夏")
    page.get_by_label("角色").select_option(label="县区专班")
    expect(page.get_by_label("企业")).to_be_hidden()  # only the scope the role takes is offered
    page.get_by_label("县区").select_option(label="西夏区")
    check_a11y(page)
    shoot(page, "office-account-new")
    page.get_by_role("button", name="新建").click()
    expect(page.locator("#alerts")).to_contain_text("已新建账号 xixia")
    first_password = page.locator("[data-testid=new-password]").inner_text()
    assert len(first_password) >= 10
    assert text_of(page, "[data-testid=scope]") == "西夏区"
    check_a11y(page)
    shoot(page, "office-account-created")

    # It is in the list, found by its county.
    _menu(page, "账号")
    page.get_by_label("管辖范围").select_option(label="西夏区")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**scope=county**")
    rows = page.locator("tr[data-account]")
    expect(rows).to_have_count(1)
    assert "赵西夏" in rows.inner_text() and "县区专班" in rows.inner_text() and "在用" in rows.inner_text()

    # Reset its password to one the admin types (confirmed in a 确定/取消 dialog).
    rows.get_by_role("link", name="管理").click()
    page.get_by_label("新密码").fill("reset-by-office-1")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="重置密码").click()
    expect(page.locator("#alerts")).to_contain_text("已重置 xixia 的密码")
    assert questions and "确定重置 xixia 的密码" in questions[0]
    assert page.locator("[data-testid=new-password]").count() == 0  # a typed password is not shown back
    check_a11y(page)
    shoot(page, "office-account-detail")

    # 审计日志: account changes by the admin; both entries are there, newest first, in words.
    _menu(page, "审计日志")
    page.get_by_label("操作人").fill("office")
    page.get_by_label("操作", exact=True).select_option(label="账号变更")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r".*action=group%3Aaccounts.*"))
    actions = page.locator("tr[data-entry]")
    expect(actions).to_have_count(2)
    assert [a.get_attribute("data-action") for a in actions.all()] == ["staff.reset_password", "staff.create"]
    table = text_of(page, "table")
    assert "重置密码" in table and "新建账号" in table and "协调办张（office）" in table
    assert "reset-by-office-1" not in page.content() and first_password not in page.content()
    check_a11y(page)
    shoot(page, "office-audit")
    # The entry's object links to the account's page.
    actions.first.get_by_role("link", name=re.compile(r"#\d+")).click()
    page.wait_for_url(re.compile(r".*/console/accounts/\d+$"))
    assert "赵西夏" in text_of(page, "main")

    # The county account signs in with the new password; the accounts and audit pages are not theirs.
    county = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", base_url=live.url)
    try:
        theirs = county.new_page()
        sign_in(theirs, live, "xixia", password="reset-by-office-1")
        assert "赵西夏" in text_of(theirs, "[data-testid=who]")
        menu = text_of(theirs, "nav[aria-label=主菜单]")
        assert "账号" not in menu and "审计日志" not in menu
        for path in ("/console/accounts", "/console/audit"):
            response = theirs.goto(path)
            assert response.status == 403 and "无权访问" in text_of(theirs, "main"), path
        check_a11y(theirs)
        theirs.fg_backend, theirs.fg_test = page.fg_backend, page.fg_test
        shoot(theirs, "office-county-403")
    finally:
        county.close()
