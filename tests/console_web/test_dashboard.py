"""看板 at /console: figures and charts from stats.dashboard, filters, scope as the API, htmx refresh."""
import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Application, Checkpoint, Enterprise, EnterpriseJob
from app.services.employment.roster_exports import ORDER_STATUS_NAMES
from app.services.platform.timeutil import local_today
from tests.builders import make_staff, make_worker, publish_trip, qr_of, scan_body, submit_application
from tests.console_web.helpers import make_web_staff, web_login

HOME = "/console/"
STATS = "/api/console/v1/stats"
HX = {"HX-Request": "true"}


def _seed(client):
    """Two outbound applications in 永宁县 (640121) and one inbound in 贺兰县 (640122), submitted today."""
    for n in range(2):
        submit_application(client, make_worker(client, name=f"yn{n}", n=n))
    submit_application(client, make_worker(client, name="hl", n=5), county_code="640122", direction="inbound",
                       origin="甘肃省定西市", destination_city="银川市")


def _figures(html):
    """The large numbers of a rendered dashboard: {key: value}."""
    found = re.findall(r'data-figure="(\w+)">\s*<dl[^>]*>\s*<dt[^>]*>[^<]*</dt>\s*<dd[^>]*>(\d+)</dd>', html)
    assert found, "no figures on the page"
    return {key: int(value) for key, value in found}


def _charts(html):
    """The charts' JSON the page's script draws from."""
    found = re.search(r"<section id=\"figures\"[^>]* data-charts='([^']*)'", html)
    assert found, "no chart data on the page"
    return {chart["id"]: chart for chart in json.loads(unescape(found.group(1)))}


def _table(html, chart_id):
    """A chart's table as rows of cell texts (header row first)."""
    table = re.search(rf'<table[^>]*data-table="{chart_id}">(.*?)</table>', html, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_the_office_sees_the_city_at_console(client):
    _seed(client)
    make_web_staff(client, "office", role="admin")
    for url in ("/console", HOME):
        page = client.get(url)
        assert page.status_code == 200 and "<h1" in page.text and "看板" in page.text, url
    html = page.text
    assert _figures(html)["applications"] == 3
    assert 'aria-current="page"' in html and 'href="/console/">看板</a>' in html  # the menu entry is the current one
    charts = _charts(html)
    assert set(charts) == {"applications", "trips", "passengers", "directions", "check_in", "anomalies",
                           "isolations", "vacancies"}
    today = local_today().isoformat()
    assert charts["applications"]["categories"] == [today]
    assert {s["name"]: s["data"] for s in charts["applications"]["series"]}["待审核"] == [3]
    assert {s["name"]: s["data"] for s in charts["directions"]["series"]} == {"外出务工": [2, 0, 0], "返岗来银": [1, 0, 0]}
    # The numbers beside the chart are the chart's: 日期 | 待审核 … | 合计.
    header, row = _table(html, "applications")
    assert header[0] == "日期" and header[-1] == "合计" and row[0] == today and row[header.index("待审核")] == "3"
    assert "echarts.min.js" in html and "dashboard.js" in html
    assert '<option value="640121"' in html  # the office may choose a county


def test_filters_narrow_the_figures(client):
    _seed(client)
    make_web_staff(client, "office", role="admin")
    helan = client.get(HOME, query_string={"county": "640122"}).text
    assert _figures(helan)["applications"] == 1 and '<option value="640122" selected>' in helan
    application = db.session.scalar(select(Application).where(Application.county_code == "640121").limit(1))
    application.created_at = application.created_at.replace(year=2020, month=2, day=24, hour=2)
    db.session.commit()
    window = client.get(HOME, query_string={"date_from": "2020-02-24", "date_to": "2020-02-24"}).text
    assert _figures(window)["applications"] == 1 and 'value="2020-02-24"' in window
    assert _charts(window)["applications"]["categories"] == ["2020-02-24"]
    empty = client.get(HOME, query_string={"date_from": "2099-01-01"}).text
    assert _figures(empty)["applications"] == 0 and "所选范围内没有数据" in empty
    # Empty form fields are no filter, as when the filter bar is sent untouched.
    assert _figures(client.get(HOME, query_string={"date_from": "", "county": ""}).text)["applications"] == 3


def test_htmx_gets_only_the_figures_with_the_filter_kept(client):
    _seed(client)
    make_web_staff(client, "office", role="admin")
    part = client.get(HOME, query_string={"county": "640121"}, headers=HX)
    assert part.status_code == 200 and "<html" not in part.text and part.text.lstrip().startswith('<section id="figures"')
    assert _figures(part.text)["applications"] == 2
    # 刷新 asks for the same filter again.
    assert 'hx-get="/console/?county=640121"' in part.text
    # A 后退 htmx cannot restore from its cache asks for the whole page.
    restore = client.get(HOME, query_string={"county": "640121"}, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_bad_filters_say_so_in_chinese(client):
    make_web_staff(client, "office", role="admin")
    for query, words in (({"date_from": "2020-13-45"}, "开始日期"), ({"county": "yongning"}, "应为6位县区代码"),
                         ({"date_from": "2020-02-25", "date_to": "2020-02-24"}, "结束日期 不能早于开始日期")):
        page = client.get(HOME, query_string=query)
        assert page.status_code == 422, query
        assert "有误" in page.text and words in page.text and 'role="search"' in page.text
        assert "data-figure" not in page.text and "data-charts" not in page.text
    part = client.get(HOME, query_string={"date_from": "2020-02-25", "date_to": "2020-02-24"}, headers=HX)
    assert part.status_code == 200 and "日期范围有误" in part.text  # htmx swaps no 422: the message goes in place


def test_county_staff_see_their_county_only(client):
    _seed(client)
    make_web_staff(client, "yongning")  # county operator of 永宁县
    page = client.get(HOME)
    assert page.status_code == 200
    assert _figures(page.text)["applications"] == 2
    assert 'data-testid="fixed-scope">永宁县' in page.text and 'name="county"' not in page.text
    assert _figures(client.get(HOME, query_string={"county": "640121"}).text)["applications"] == 2
    other = client.get(HOME, query_string={"county": "640122"})
    assert other.status_code == 403 and "只能查看本县区的数据" in other.text and "data-figure" not in other.text
    part = client.get(HOME, query_string={"county": "640122"}, headers=HX)
    assert part.headers.get("HX-Retarget") == "#alerts" and "只能查看本县区的数据" in part.text


def test_a_health_officer_of_a_county_sees_it_only(client):
    _seed(client)
    make_web_staff(client, "health-hl", role="health_officer", county_code="640122")
    assert _figures(client.get(HOME).text)["applications"] == 1
    assert client.get(HOME, query_string={"county": "640121"}).status_code == 403


@pytest.mark.parametrize("role,scope,landing", [
    ("enterprise_hr", "enterprise", "/console/roster"),
    ("checkpoint_staff", "checkpoint", "/console/checkpoint"),
    ("transport_operator", None, "/console/trips"),
])
def test_other_roles_land_on_their_own_page_and_may_not_ask_for_figures(client, role, scope, landing):
    kwargs = {}
    if scope == "enterprise":
        kwargs["enterprise_id"] = db.session.scalar(select(Enterprise.id).limit(1))
    elif scope == "checkpoint":
        kwargs["checkpoint_id"] = db.session.scalar(select(Checkpoint.id).limit(1))
    make_web_staff(client, "someone", role=role, **kwargs)
    home = client.get(HOME)
    assert home.status_code == 302 and home.headers["Location"].endswith(landing)
    asked = client.get(HOME, query_string={"date_from": "2020-02-24"})
    assert asked.status_code == 403 and "无权访问" in asked.text and asked.mimetype == "text/html"
    assert 'href="/console/">看板' not in client.get("/console/password").text  # no menu entry either


def _seed_every_figure(client):
    """Beside _seed: a 永宁 trip of four boarded (one at 38.2 °C → isolate, an isolation order) and one arrived,
    and a 永宁 enterprise's job short of workers, so no figure of the dashboard is a comparison of zeros."""
    trip = publish_trip(client, passengers=4, start=10)
    crew = {trip["captain"]["worker_id"], trip["vice"]["worker_id"]}
    well, sick = [rider for rider in trip["riders"] if rider["worker_id"] not in crew][:2]
    captain, trip_id = trip["captain"]["headers"], trip["trip"]["id"]
    for rider, kind, temperature in ((well, "board", 36.5), (sick, "board", 38.2), (well, "arrive", 36.4)):
        body = scan_body(qr_of(client, rider, trip_id), kind=kind, temperature=temperature)
        assert client.post("/api/checkin/v1/scans", json=body, headers=captain).status_code in (200, 201)
    yongning = db.session.scalar(select(Enterprise).where(Enterprise.county_code == "640121").order_by(Enterprise.id))
    db.session.add(EnterpriseJob(enterprise_id=yongning.id, job_type="看板测试工", filled=2, short=6))
    db.session.commit()


def test_the_dashboard_shows_what_the_api_answers(client):
    """One filter, two faces: every figure and every daily count on the page equals GET /stats."""
    _seed(client)
    _seed_every_figure(client)
    headers = make_staff(client, "office", role="admin")
    web_login(client, "office")
    today = local_today().isoformat()
    query = {"county": "640121", "date_from": today, "date_to": today}
    api = client.get(STATS, query_string=query, headers=headers).json
    html = client.get(HOME, query_string=query).text
    figures, charts = _figures(html), _charts(html)
    # Every figure is there to compare: none is a zero equal to a zero.
    assert all(figures[key] > 0 for key in ("applications", "trips", "passengers", "boarded", "arrived", "anomalies",
                                            "isolations", "short")), figures
    assert figures == {"applications": api["applications"]["total"], "trips": api["trips"]["total"],
                       "passengers": api["passengers"]["total"], **api["check_in"],
                       "anomalies": api["health"]["anomalies"], "isolations": api["health"]["isolations"],
                       "short": api["vacancies"]["short"]}
    for block in ("applications", "trips", "passengers"):
        chart = charts[block]
        assert chart["categories"] == [entry["day"] for entry in api[block]["daily"]]
        assert {s["key"]: s["data"] for s in chart["series"]} == {
            status: [entry["by_status"][status] for entry in api[block]["daily"]] for status in api[block]["by_status"]}
    assert [s["data"] for s in charts["directions"]["series"]] == [
        [api[block]["by_direction"][direction] for block in ("applications", "trips", "passengers")]
        for direction in ("outbound", "inbound")]
    assert {s["key"]: s["data"] for s in charts["check_in"]["series"]} == {
        key: [entry["check_in"][key] for entry in api["passengers"]["daily"]] for key in ("boarded", "arrived", "no_show")}
    assert {s["key"]: s["data"] for s in charts["anomalies"]["series"]} == {
        key: [row[key] for row in api["health"]["anomalies_by_county"]]
        for key in ("scan_isolate", "follow_up_fever", "follow_up_symptoms")}
    # The API's JSON sorts its keys; the chart keeps the states' own order, with their names as categories.
    assert charts["isolations"]["categories"] == list(ORDER_STATUS_NAMES.values())
    assert [s["data"] for s in charts["isolations"]["series"]] == [
        [api["health"]["isolations_by_status"].get(key, 0) for key in ORDER_STATUS_NAMES]]
    assert [s["data"] for s in charts["vacancies"]["series"]] == [
        [row[key] for row in api["vacancies_by_enterprise"]] for key in ("filled", "short")]
    assert _figures(html)["applications"] == 6  # the filter did narrow (贺兰's application is out)
