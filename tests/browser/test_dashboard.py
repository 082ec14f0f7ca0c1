"""看板 in the browser: the office filters the city's figures and the charts follow with no reload; a county
operator sees their county only. Charts are checked as drawn (a canvas, an ECharts instance with series)."""
from playwright.sync_api import expect

from app.services.accounts import staff
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.builders import STAFF_PASSWORD, make_worker, publish_trip, qr_of, scan_body, submit_application

CHART_IDS = ("applications", "trips", "passengers", "directions", "check_in", "anomalies", "isolations", "vacancies")
SERIES = "el => { const chart = echarts.getInstanceByDom(el); return chart ? chart.getOption().series.length : 0; }"


def _seed(client):
    """A 永宁 trip of four (one boarded and arrived, one isolated at boarding) and one 贺兰 inbound application."""
    trip = publish_trip(client, passengers=4)
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    well, sick = [rider for rider in trip["riders"] if rider["worker_id"] not in crew][:2]
    captain, trip_id = trip["captain"]["headers"], trip["trip"]["id"]
    for rider, kind, temperature in ((well, "board", 36.5), (sick, "board", 38.2), (well, "arrive", 36.4)):
        body = scan_body(qr_of(client, rider, trip_id), kind=kind, temperature=temperature)
        assert client.post("/api/checkin/v1/scans", json=body, headers=captain).status_code in (200, 201)
    submit_application(client, make_worker(client, name="hl", n=50), county_code="640122", direction="inbound",
                       origin="甘肃省定西市", destination_city="银川市")


def _figure(page, key):
    return page.locator(f"[data-figure={key}] dd")


def _charts_drawn(page):
    """Every chart with data is a canvas with an ECharts instance holding series."""
    for chart_id in CHART_IDS:
        element = page.locator(f"[data-chart={chart_id}]")
        if element.count() == 0:  # 所选范围内没有数据
            continue
        expect(element.locator("canvas")).to_have_count(1)
        assert element.evaluate(SERIES) > 0, chart_id


def test_the_office_filters_the_dashboard(page, live):
    _seed(live.client)
    staff.create_staff("office", STAFF_PASSWORD, "admin", display_name="刘主任", by=staff.CLI)
    sign_in(page, live, "office")
    page.wait_for_url("**/console/")
    expect(_figure(page, "applications")).to_have_text("5")
    expect(_figure(page, "arrived")).to_have_text("1")
    expect(_figure(page, "anomalies")).to_have_text("1")
    _charts_drawn(page)
    check_a11y(page)
    shoot(page, "dashboard-office")

    # County 贺兰县: the figures change without a reload, and the URL keeps the filter.
    page.evaluate("window.__notReloaded = true")
    page.get_by_label("县区", exact=True).select_option(label="贺兰县")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**county=640122**")
    expect(_figure(page, "applications")).to_have_text("1")
    expect(_figure(page, "trips")).to_have_text("0")
    assert page.evaluate("window.__notReloaded === true")
    _charts_drawn(page)
    assert page.locator("[data-chart=applications]").evaluate(SERIES) > 0

    # 刷新 after a new application in 贺兰县: the new figure, the same filter, still no reload.
    submit_application(live.client, make_worker(live.client, name="hl2", n=51), county_code="640122",
                       direction="inbound", origin="甘肃省定西市", destination_city="银川市")
    page.get_by_role("link", name="刷新").click()
    expect(_figure(page, "applications")).to_have_text("2")
    assert page.evaluate("window.__notReloaded === true") and "county=640122" in page.url
    assert page.get_by_label("县区", exact=True).input_value() == "640122"

    # A window with nothing in it: zeros, and the charts say so instead of drawing empty axes.
    page.get_by_label("开始日期", exact=True).fill("2020-02-01")
    page.get_by_label("结束日期", exact=True).fill("2020-02-02")
    page.get_by_role("button", name="查询").click()
    expect(_figure(page, "applications")).to_have_text("0")
    for chart_id in ("applications", "trips", "passengers", "check_in", "anomalies"):
        expect(page.locator(f"[data-testid=chart-{chart_id}] [data-testid=no-data]")).to_have_count(1)
    _charts_drawn(page)  # the charts with fixed categories (directions, isolation, vacancies) still draw
    shoot(page, "dashboard-office-empty")

    # A reload of the pushed URL gives the same page (the filter is in the URL).
    page.reload()
    expect(_figure(page, "applications")).to_have_text("0")
    assert page.get_by_label("开始日期", exact=True).input_value() == "2020-02-01"


def test_charts_stack_and_fit_a_phone(page, live):
    _seed(live.client)
    staff.create_staff("office", STAFF_PASSWORD, "admin", by=staff.CLI)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live, "office")
    _charts_drawn(page)
    boxes = [page.locator(f"[data-chart={chart_id}]").bounding_box() for chart_id in ("applications", "trips")]
    assert all(box["width"] <= 390 for box in boxes)
    assert boxes[1]["y"] > boxes[0]["y"] + boxes[0]["height"]  # stacked, not side by side
    canvas = page.locator("[data-chart=applications] canvas").bounding_box()
    assert canvas["width"] <= 390  # the chart resized to the phone, not drawn at desktop width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing pushes the page sideways
    check_a11y(page)


def test_a_county_operator_sees_their_county_only(page, live):
    _seed(live.client)
    staff.create_staff("helan", STAFF_PASSWORD, "county_operator", display_name="马丽", county_code="640122", by=staff.CLI)
    sign_in(page, live, "helan")
    page.wait_for_url("**/console/")
    expect(_figure(page, "applications")).to_have_text("1")
    expect(_figure(page, "trips")).to_have_text("0")
    assert "贺兰县" in text_of(page, "[data-testid=fixed-scope]")
    assert page.locator("select[name=county]").count() == 0
    _charts_drawn(page)
    check_a11y(page)
    shoot(page, "dashboard-county")
    # Another county by the URL: the 403 page, as the API answers.
    response = page.goto("/console/?county=640121")
    assert response.status == 403
    assert "只能查看本县区的数据" in text_of(page, "main")
