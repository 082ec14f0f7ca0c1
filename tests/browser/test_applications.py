"""申请审核 in a real browser: a county operator filters, opens the drawer, approves in bulk, rejects one with a reason."""
from playwright.sync_api import expect

from app.services.accounts import staff
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.builders import STAFF_PASSWORD, declare_health, make_worker, submit_application


def _seed(client):
    """Four outbound applications (one worker back from 湖北: 健康观察) and one inbound, all in 永宁县."""
    staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", display_name="王明", county_code="640121", by=staff.CLI)
    outbound = []
    for n in range(4):
        headers = make_worker(client, name=f"w{n}", n=n)
        if n == 1:
            declare_health(client, headers, temperature=36.6, places=["湖北省武汉市"])
        outbound.append(submit_application(client, headers))
    inbound = submit_application(client, make_worker(client, name="w9", n=9), direction="inbound",
                                 origin="甘肃省定西市", destination_city="银川市")
    return outbound, inbound


def _row(page, application_id):
    return page.locator(f"tr[data-application='{application_id}']")


def test_county_operator_reviews_applications(page, live):
    outbound, inbound = _seed(live.client)
    sign_in(page, live, "yongning", next_path="/console/applications")  # the console opens on the 看板
    page.wait_for_url("**/console/applications")
    assert "共 5 条" in text_of(page, "[data-testid=total]")
    assert "健康观察" in text_of(page, f"tr[data-application='{outbound[1]}']")
    check_a11y(page)
    shoot(page, "applications-list")

    # Filter: outbound only; the filters live in the URL.
    page.get_by_label("方向").select_option("outbound")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**direction=outbound**")
    assert page.locator("tr[data-application]").count() == 4 and _row(page, inbound).count() == 0

    # The drawer: masked identity, health record; Esc closes it.
    _row(page, outbound[1]).get_by_role("link", name="详情").click()
    drawer = page.locator("#application-drawer.show")
    drawer.wait_for()
    page.wait_for_timeout(400)  # the slide-in transition
    body = text_of(page, "#application-drawer")
    assert "张*丰" in body and "张三丰" not in body and "健康档案" in body and "湖北省武汉市" in body
    check_a11y(page, "#application-drawer")
    shoot(page, "applications-drawer", full_page=False)
    page.keyboard.press("Escape")
    drawer.wait_for(state="detached")

    # Bulk approve two ticked rows.
    for application_id in outbound[:2]:
        _row(page, application_id).get_by_role("checkbox").check()
    expect(page.locator("[data-selected-count]")).to_contain_text("已选 2 条")  # counted after the change event
    page.get_by_role("button", name="批量通过").click()
    page.wait_for_selector("#alerts .alert-success")
    assert "已通过 2 条" in text_of(page, "#alerts")
    assert "direction=outbound" in page.url
    assert "已通过" in text_of(page, f"tr[data-application='{outbound[0]}']")
    shoot(page, "applications-approved")

    # Reject one from its drawer, with a reason, after 确定.
    _row(page, outbound[2]).get_by_role("link", name="详情").click()
    page.locator("#application-drawer.show").wait_for()
    page.locator("#application-drawer").get_by_label("驳回原因").fill("目的地暂不接收")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#application-drawer").get_by_role("button", name="驳回").click()
    page.wait_for_selector("#alerts .alert-success")
    assert "已驳回 1 条" in text_of(page, "#alerts")
    assert "direction=outbound" in page.url  # back to the list as it was filtered
    assert "已驳回" in text_of(page, f"tr[data-application='{outbound[2]}']")
    check_a11y(page)
    shoot(page, "applications-rejected")


def test_filter_errors_empty_results_and_the_plain_detail_page(page, live):
    outbound, _ = _seed(live.client)
    sign_in(page, live, "yongning")
    page.goto("/console/applications?date_from=2020-13-45&status=submitted")
    assert "筛选条件有误" in text_of(page, "[data-testid=filter-error]")
    assert page.get_by_label("状态").input_value() == "submitted"  # what was asked stays in the bar
    check_a11y(page)
    shoot(page, "applications-filter-error")
    page.goto("/console/applications?destination=拉萨")
    assert "没有符合条件的报名" in text_of(page, "[data-testid=empty]")
    shoot(page, "applications-empty")
    page.goto(f"/console/applications/{outbound[1]}")  # the drawer's content as a page of its own (no JS needed)
    assert "健康档案" in text_of(page, "main") and "健康观察" in text_of(page, "main")
    check_a11y(page)
    shoot(page, "applications-detail-page")
