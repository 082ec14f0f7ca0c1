"""A health officer's day in a real browser (issue 13's acceptance): an abnormal follow-up has opened an order; the
officer signs in, sees it, reads the person's health record in the drawer, starts the isolation, releases it with a
note; the 隔离组 feed follows without a reload. Then the office's liaison list: move a unit, edit one, delete one."""
from playwright.sync_api import expect

from app.services.accounts import staff
from app.services.office import liaison
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.builders import STAFF_PASSWORD
from tests.console.roster_helpers import ROSTER, hr, register
from tests.console.test_liaison import unit

PLACE = "永宁县集中隔离点（望远宾馆）"


def _abnormal_follow_up(client, headers, enterprise_id, worker_id):
    response = client.post(f"{ROSTER.format(enterprise_id)}/{worker_id}/follow-ups",
                           json={"temperature": 38.4, "symptoms": ["cough"]}, headers=headers)
    assert response.status_code == 201 and response.json["isolation_order_id"], response.json
    return response.json["isolation_order_id"]


def _menu(page, label):
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name=label).click()


def _tab(page, word):
    page.get_by_role("navigation", name="按状态查看").get_by_role("link", name=word).click()


def test_a_health_officers_day(page, live):
    # An enterprise of 永宁县 registered two returnees (零散返岗) today; one has fever and a cough at the follow-up.
    headers, enterprise_id = hr(live.client)
    sick = register(live.client, headers, enterprise_id, n=0, days_ago=0)
    well = register(live.client, headers, enterprise_id, n=1, days_ago=0, name="王建国")
    order_id = _abnormal_follow_up(live.client, headers, enterprise_id, sick["worker_id"])
    staff.create_staff("weijian", STAFF_PASSWORD, "health_officer", display_name="马医生", county_code="640121", by=staff.CLI)
    # No colour transitions (Bootstrap honours reduced motion): axe must not read a button halfway through one
    # when the closing drawer gives the focus back to it.
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live, "weijian")

    # 隔离管理: the pending order is there, under 待处理.
    _menu(page, "隔离管理")
    page.wait_for_url("**/console/isolation")
    _tab(page, "待处理")
    page.wait_for_url("**status=pending**")
    row = page.locator(f"tr[data-order='{order_id}']")
    expect(row).to_contain_text("李*光")
    expect(row).to_contain_text("发热")
    feed_row = page.locator(f"#isolation-feed [data-worker='{sick['worker_id']}']")
    expect(feed_row).to_contain_text("待处理")
    check_a11y(page)
    shoot(page, "isolation-pending")

    # The drawer: the person's record, newest first, with the follow-up that opened the order.
    row.get_by_role("link", name="李*光", exact=True).click()
    drawer = page.locator("#isolation-drawer.show")
    drawer.wait_for()
    record = text_of(page, "#isolation-drawer [data-testid=health-record]")
    assert "企业随访" in record and "体温 38.4℃" in record and "咳嗽" in record
    assert "李四光" not in text_of(page, "#isolation-drawer")
    check_a11y(page, "#isolation-drawer")
    shoot(page, "isolation-drawer", full_page=False)

    # 开始隔离: kind and place, 确定.
    drawer.get_by_label("隔离方式").select_option("centralized")
    drawer.get_by_label("隔离地点").fill(PLACE)
    page.once("dialog", lambda dialog: dialog.accept())
    drawer.get_by_role("button", name="开始隔离").click()
    expect(page.locator("#alerts")).to_contain_text("已开始集中隔离")
    assert "status=pending" in page.url  # back to the list the officer was on
    expect(page.locator(f"tr[data-order='{order_id}']")).to_have_count(0)
    _tab(page, "隔离中")
    row = page.locator(f"tr[data-order='{order_id}']")
    expect(row.locator("[data-order-status]")).to_have_text("隔离中")
    expect(page.locator(f"#isolation-feed [data-worker='{sick['worker_id']}']")).to_contain_text("隔离中")

    # The feed refreshes without reloading the page: the other returnee turns abnormal meanwhile.
    page.evaluate("window.fgStillHere = true")
    second = _abnormal_follow_up(live.client, headers, enterprise_id, well["worker_id"])
    page.locator(".fg-feed").get_by_role("button", name="刷新").click()
    expect(page.locator(f"#isolation-feed [data-worker='{well['worker_id']}']")).to_contain_text("待处理")
    assert page.evaluate("window.fgStillHere === true")
    assert second != order_id

    # 解除隔离 with a note, 确定.
    row.get_by_role("link", name="解除 李*光").click()
    drawer = page.locator("#isolation-drawer.show")
    drawer.wait_for()
    expect(drawer.locator("[data-testid=record-event][data-kind=isolation_start]")).to_contain_text(PLACE)
    drawer.get_by_label("说明（可选）").fill("核酸阴性，期满解除")
    page.once("dialog", lambda dialog: dialog.accept())
    drawer.get_by_role("button", name="解除隔离").click()
    expect(page.locator("#alerts")).to_contain_text("已解除隔离")
    _tab(page, "已解除")
    row = page.locator(f"tr[data-order='{order_id}']")
    expect(row.locator("[data-order-status]")).to_have_text("已解除")
    row.get_by_role("link", name="详情 李*光").click()
    page.locator("#isolation-drawer.show").wait_for()
    expect(page.locator("#isolation-drawer [data-testid=detail-note]")).to_have_text("核酸阴性，期满解除")
    expect(page.locator("#isolation-drawer [data-kind=isolation_end]").first).to_contain_text("解除集中隔离")
    page.keyboard.press("Escape")
    page.locator("#isolation-drawer.show").wait_for(state="detached")
    check_a11y(page)
    shoot(page, "isolation-released")

    # The feed offers 开单 for the released person; the new-order page shows their record.
    page.locator(f"#isolation-feed [data-worker='{sick['worker_id']}']").get_by_role("link", name="开单").click()
    page.wait_for_url("**/console/isolation/new?worker_id=*")
    expect(page.locator("[data-testid=health-record]")).to_contain_text("解除隔离")
    check_a11y(page)
    shoot(page, "isolation-new")

    # A wrong date says why, and keeps what was typed.
    page.get_by_label("隔离方式").select_option("home")
    page.get_by_label("隔离地点").fill("家中")
    page.get_by_label("开始日期").fill("2026-01-10")
    page.get_by_label("结束日期").fill("2026-01-01")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="开单").click()
    expect(page.locator("[data-testid=action-error]")).to_contain_text("结束日期")
    expect(page.get_by_label("隔离地点")).to_have_value("家中")


def test_the_office_keeps_the_liaison_list(page, live):
    admin = staff.create_staff("office", STAFF_PASSWORD, "admin", display_name="协调办", by=staff.CLI)
    for n in range(3):
        liaison.create_unit(admin, unit(n))
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live, "office")
    _menu(page, "联络员（附件1）")
    page.wait_for_url("**/console/liaison")
    names = page.locator("[data-testid=unit-name]")
    expect(names).to_have_text(["永宁县人社局0", "永宁县人社局1", "永宁县人社局2"])
    expect(page.locator("table")).to_contain_text("138****0001")
    check_a11y(page)
    shoot(page, "liaison-list")

    # 下移 the first, 上移 the last: plain forms.
    page.get_by_role("button", name="下移 永宁县人社局0").click()
    expect(page.locator("#alerts")).to_contain_text("已调整顺序")
    expect(names).to_have_text(["永宁县人社局1", "永宁县人社局0", "永宁县人社局2"])
    page.get_by_role("button", name="上移 永宁县人社局2").click()
    expect(names).to_have_text(["永宁县人社局1", "永宁县人社局2", "永宁县人社局0"])

    # 编辑: the mobile is only a masked hint; a new leader is saved.
    page.get_by_role("link", name="编辑 永宁县人社局2").click()
    expect(page.get_by_label("分管领导手机号", exact=True)).to_have_value("")
    expect(page.get_by_label("分管领导手机号", exact=True)).to_have_attribute("placeholder", "现为 130****0002，留空不改")
    page.get_by_role("textbox", name="分管领导", exact=True).fill("赵敏")
    page.get_by_label("分管领导办公电话", exact=True).fill("办公室")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("[data-testid=form-error]")).to_contain_text("分管领导办公电话")
    check_a11y(page)
    shoot(page, "liaison-form-error")
    page.get_by_label("分管领导办公电话", exact=True).fill("0951-6017171")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#alerts")).to_contain_text("已保存：永宁县人社局2")
    expect(page.locator("tr", has_text="永宁县人社局2")).to_contain_text("赵敏")

    # 删除, 取消 first (nothing happens), then 确定.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="删除 永宁县人社局0").click()
    expect(names).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="删除 永宁县人社局0").click()
    expect(page.locator("#alerts")).to_contain_text("已删除：永宁县人社局0")
    expect(names).to_have_text(["永宁县人社局1", "永宁县人社局2"])
    shoot(page, "liaison-after")
