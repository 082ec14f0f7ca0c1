"""编班编组 in a real browser: run the planner, move a passenger, change a captain, publish; a second
operator working from a stale page is told the plan changed instead of overwriting it."""
from app.services.accounts import staff
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.builders import STAFF_PASSWORD, declare_health, login, make_staff, profile, submit_application

NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊"]


def _approved_workers(client):
    """Seven workers of 永宁县 with distinct names, each with an approved application (7 → two vehicles of 10 seats)."""
    reviewer = make_staff(client, "reviewer")
    for n, name in enumerate(NAMES):
        headers = login(client, f"w{n}")
        assert client.put("/api/mp/v1/me", json=profile(n, name=name), headers=headers).status_code == 200
        declare_health(client, headers)
        application_id = submit_application(client, headers)
        approved = client.post(f"/api/console/v1/applications/{application_id}/approve", headers=reviewer)
        assert approved.status_code == 200


def _fits_a_phone(page):
    """At 390 px wide the page scrolls down only, never sideways."""
    before = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(150)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(before)
    assert width <= 390, f"the page is {width} px wide on a phone"


def _vehicle(page, number):
    return page.locator("[data-testid=vehicle]", has=page.get_by_role("heading", name=f"{number}号车"))


def test_plan_move_appoint_publish_and_a_stale_second_operator(page, live, chromium):
    with live.app.app_context():
        staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", display_name="王明", county_code="640121", by=staff.CLI)
        staff.create_staff("yongning2", STAFF_PASSWORD, "county_operator", display_name="李强", county_code="640121", by=staff.CLI)
    _approved_workers(live.client)

    sign_in(page, live, "yongning", next_path="/console/planning")
    menu = page.get_by_role("navigation", name="主菜单")
    assert menu.get_by_role("link", name="编班编组").get_attribute("aria-current") == "page"
    check_a11y(page)
    shoot(page, "planning-form")
    page.get_by_label("第1种车型座位数").fill("10")
    page.get_by_role("button", name="生成方案").click()
    page.wait_for_url("**/console/planning/*")
    assert "2 辆车、7 人" in text_of(page, "#alerts")
    assert page.locator("[data-testid=captain]").count() == 2
    assert "载客率 50%" in text_of(page, "#" + _vehicle(page, 1).get_attribute("id"))
    check_a11y(page)
    shoot(page, "planning-draft")
    _fits_a_phone(page)
    draft_url = page.url

    # A second operator of the same county opens the same draft (version 1) in another browser.
    other_context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                         timezone_id="Asia/Shanghai", base_url=live.url)
    other = other_context.new_page()
    other.fg_backend = live.backend
    errors = []
    other.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(other, live, "yongning2", next_path=draft_url.replace(live.url, ""))

    # Move the last passenger of vehicle 1 (5 of 10 seats) to vehicle 2, by htmx: pick, choose, 调车.
    first = _vehicle(page, 1)
    name = first.locator("[data-testid=passenger]").last.locator("[data-testid=name]").inner_text()
    first.get_by_label(name).check()
    first.get_by_label("选中的乘客调到").select_option(label="2号车（大客车）")
    first.get_by_role("button", name="调车").click()
    page.wait_for_selector("#alerts :text('已调到车辆')")
    assert name in _vehicle(page, 2).inner_text() and name not in _vehicle(page, 1).inner_text()
    assert "已排 4 人" in _vehicle(page, 1).inner_text() and "已排 3 人" in _vehicle(page, 2).inner_text()
    shoot(page, "planning-moved")

    # Make a passenger who holds no role captain of vehicle 1: the page still carries the new version.
    plain = _vehicle(page, 1).locator("[data-testid=passenger]", has_not=page.locator(".badge")).first
    plain_name = plain.locator("[data-testid=name]").inner_text()
    _vehicle(page, 1).get_by_label(plain_name).check()
    _vehicle(page, 1).get_by_role("button", name="设为车长").click()
    page.wait_for_selector("#alerts :text('已任命车长')")
    captain = _vehicle(page, 1).locator("[data-testid=passenger]", has=page.locator("[data-testid=captain]"))
    assert captain.locator("[data-testid=name]").inner_text() == plain_name
    assert page.locator("#plan-version").inner_text() == "3"
    page.mouse.move(0, 0)  # off the button now under the pointer: axe would measure a hover colour mid-transition
    page.wait_for_timeout(300)
    check_a11y(page)
    shoot(page, "planning-captain")

    # The second operator, still looking at version 1, tries a move: refused, told to refresh.
    stale = _vehicle(other, 1)
    stale_name = stale.locator("[data-testid=passenger]").nth(3).locator("[data-testid=name]").inner_text()
    stale.get_by_label(stale_name).check()
    stale.get_by_label("选中的乘客调到").select_option(label="2号车（大客车）")
    stale.get_by_role("button", name="调车").click()
    other.wait_for_selector("[data-testid=plan-changed]")
    assert "该方案已被他人修改，请刷新后再操作" in text_of(other, "[data-testid=plan-changed]")
    check_a11y(other)
    shoot(other, "planning-conflict")
    other.get_by_role("link", name="刷新").click()
    other.wait_for_selector("#plan-version:text('3')")
    assert name in _vehicle(other, 2).inner_text() and stale_name in _vehicle(other, 1).inner_text()
    other_context.close()
    assert not errors

    menu.get_by_role("link", name="编班编组").click()
    plan_id = draft_url.rsplit("/", 1)[1]  # ids do not restart on MariaDB
    assert f"#{plan_id} 草稿" in text_of(page, "[data-testid=drafts]")
    check_a11y(page)
    shoot(page, "planning-list")
    _fits_a_phone(page)
    page.locator("[data-testid=drafts]").get_by_role("link", name="打开").click()

    # Publish, confirming the 确定/取消 dialog.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="发布").click()
    page.wait_for_selector("[data-testid=published]")
    assert "已发布" in text_of(page, "#alerts")
    assert page.get_by_role("link", name="到车次页补充车牌、司机、随车医护").get_attribute("href") == "/console/trips"
    check_a11y(page)
    shoot(page, "planning-published")
