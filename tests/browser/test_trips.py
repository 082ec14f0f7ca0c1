"""车次（一车一方案） in a real browser: the list, editing a trip, the A4 manifest (one vehicle per printed page),
and reconciliation that refreshes itself while the captain scans through the API."""
import re

from playwright.sync_api import expect

from app.services.accounts import staff
from tests.browser.helpers import check_a11y, shoot, shots_dir, sign_in, text_of
from tests.builders import STAFF_PASSWORD, depart, publish_trip, qr_of, scan_body

SCANS = "/api/checkin/v1/scans"


def pdf_pages(document):
    """Pages of a PDF as Chromium writes it (page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", document))


def figure(page, key):
    return int(text_of(page, f"[data-figure={key}] dd"))


def test_trips_list_edit_manifest_and_reconciliation(page, live):
    first = publish_trip(live.client, passengers=4)
    # A 50-seat coach at 50% load: its 25 passengers still print on one A4 sheet.
    publish_trip(live.client, passengers=25, start=10, staff_headers=first["staff"], destination_city="江苏省苏州市")
    trip_id = first["trip"]["id"]
    staff.create_staff("yongning-web", STAFF_PASSWORD, "county_operator", display_name="王明", county_code="640121", by=staff.CLI)

    sign_in(page, live, "yongning-web", next_path="/console/trips")
    assert page.locator("tr[data-trip-id]").count() == 2
    assert "4/4" in text_of(page, f"tr[data-trip-id='{trip_id}']") and "实载率 50%" in text_of(page, "main")
    check_a11y(page)
    shoot(page, "trips-list")

    page.locator(f"tr[data-trip-id='{trip_id}']").get_by_role("link", name="编辑").click()
    page.wait_for_url(f"**/console/trips/{trip_id}")
    page.get_by_label("司机电话").fill("12345")
    page.get_by_role("button", name="保存").click()
    assert "电话应为11位手机号" in text_of(page, "#f-driver_phone-error")
    shoot(page, "trip-invalid")
    page.get_by_label("车牌号").fill("宁A·12345")
    page.get_by_label("司机姓名").fill("王师傅")
    page.get_by_label("司机电话").fill("13800001234")
    page.get_by_label("随车医护").fill("赵医生")
    page.get_by_label("发车时间").fill("07:30")
    page.get_by_role("button", name="保存").click()
    assert "车次信息已保存" in text_of(page, "#alerts")
    assert "138****1234" in text_of(page, "main") and "13800001234" not in page.content()
    check_a11y(page)
    shoot(page, "trip-detail")

    page.get_by_role("link", name="车次（一车一方案）").first.click()
    page.get_by_role("link", name="打印当日名单").click()
    page.wait_for_selector("[data-testid=sheet]")
    assert page.locator("[data-testid=sheet]").count() == 2
    assert "宁A·12345" in text_of(page, "main") and "车长签字" in text_of(page, "main")
    check_a11y(page)
    shoot(page, "manifest")
    with page.expect_download() as downloaded:  # the same selection as .xlsx; the browser keeps the Chinese name
        page.get_by_role("link", name="导出表格").click()
    day = re.search(r"\d{4}-\d{2}-\d{2}", text_of(page, "h1")).group(0)
    assert downloaded.value.suggested_filename == f"乘车名单-{day}.xlsx"
    page.evaluate("window.print = function () { window.fgPrinted = true; }")  # headless: no print dialog to wait on
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.fgPrinted === true")
    page.emulate_media(media="print")
    assert not page.locator(".fg-menu").is_visible() and not page.locator(".fg-header").is_visible()
    assert not page.get_by_role("button", name="打印").is_visible()
    shoot(page, "manifest-print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi: what a page of paper holds
    page.screenshot(path=str(shots_dir() / f"{live.backend}-manifest-print-a4.png"), full_page=True)
    document = page.pdf(format="A4")
    (shots_dir() / f"{live.backend}-manifest.pdf").write_bytes(document)
    assert pdf_pages(document) == 2  # one vehicle per A4 page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.emulate_media(media="screen")

    page.goto(f"/console/trips/{trip_id}/reconciliation")
    assert (figure(page, "seats"), figure(page, "boarded"), figure(page, "arrived")) == (4, 0, 0)
    check_a11y(page)
    depart(trip_id)
    captain = first["captain"]["headers"]
    riders = [r for r in first["riders"] if r not in (first["captain"], first["vice"])]
    for rider in riders:
        assert live.client.post(SCANS, json=scan_body(qr_of(live.client, rider, trip_id)),
                                headers=captain).json["verdict"] == "allow"
    live.client.post(SCANS, json=scan_body(qr_of(live.client, riders[0], trip_id), kind="arrive"), headers=captain)
    # No reload: the fragment asks the server again every 15 s.
    expect(page.locator("[data-figure=boarded] dd")).to_have_text("2", timeout=25_000)
    assert (figure(page, "arrived"), figure(page, "missing")) == (1, 1)
    assert page.locator("[data-testid=passengers] tr[data-status=arrived]").count() == 1
    check_a11y(page)
    shoot(page, "reconciliation")


def test_transport_operator_sees_crew_and_times_read_only(page, live):
    trip_id = publish_trip(live.client, passengers=2)["trip"]["id"]
    staff.create_staff("bus-co", STAFF_PASSWORD, "transport_operator", display_name="客运公司", county_code="640121", by=staff.CLI)
    sign_in(page, live, "bus-co", next_path=f"/console/trips/{trip_id}")
    assert page.get_by_label("跟车负责人").get_attribute("readonly") is not None
    assert page.get_by_label("发车时间").get_attribute("readonly") is not None
    page.get_by_label("车牌号").fill("宁A·D0001")
    page.get_by_label("随车医护").fill("孙护士")
    page.get_by_role("button", name="保存").click()
    assert "车次信息已保存" in text_of(page, "#alerts")
    check_a11y(page)
    shoot(page, "trip-transport-operator")
    page.goto(f"/console/trips/{trip_id + 1000}")
    assert "未找到" in text_of(page, "main")
