"""卡口扫码 page: the station for the officer's own checkpoint, its expected-arrivals fragment, roles and masking."""
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import ScanEvent
from tests.builders import scan_body
from tests.console_web.checkpoint_helpers import SCANS, bus_to, checkpoint_id, station_staff
from tests.console_web.helpers import csrf_of, make_web_staff

PAGE = "/console/checkpoint"


def test_the_station_page_carries_the_api_routes_the_csrf_meta_and_the_expected_list(client):
    bus = bus_to(client, checkpoint_id())
    csrf = station_staff(client)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert "卡口扫码 · 银川火车站" in html and 'data-testid="scan-input"' in html and "摄像头扫码" in html
    assert f'<meta name="csrf-token" content="{csrf}">' in html
    assert "/api/checkin/v1/scans" in html and "/api/checkin/v1/scans/batch" in html
    assert "already_arrived" in html  # the refusals shown as 复核, from scan_rules
    assert "checkpoint.js" in html and "<script>" not in html and "style=" not in html
    assert f"车次 {bus['trip']['id']}" in html and "已到 0 / 4" in html
    assert "待上传" in html and "camera=(self)" in page.headers["Permissions-Policy"]
    # Only masked names and the last four digits: never a full ID number.
    assert "张*丰" in html and "6401" not in html


def test_the_expected_fragment_puts_flagged_passengers_first_and_counts_arrivals(client):
    bus = bus_to(client, checkpoint_id())
    csrf = station_staff(client)
    qrs = list(bus["qrs"].values())
    sick = client.post(SCANS, json=scan_body(qrs[2], kind="arrive", temperature=38.2), headers={"X-CSRF-Token": csrf})
    assert sick.json["verdict"] == "isolate"
    well = client.post(SCANS, json=scan_body(qrs[0], kind="arrive"), headers={"X-CSRF-Token": csrf})
    assert well.json["verdict"] == "allow"
    fragment = client.get(f"{PAGE}/expected", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    rows = re.findall(r'<tr class="([^"]*)" data-testid="expected-passenger">(.*?)</tr>', fragment.text, re.S)
    assert len(rows) == 4
    assert rows[0][0] == "table-danger" and "关注" in rows[0][1] and "已隔离" in rows[0][1]  # flagged first
    assert [row[0] for row in rows[1:]].count("fg-done") == 1 and "已到达" in fragment.text
    assert "已到 2 / 4" in fragment.text and "需关注 1 人" in fragment.text


def test_no_bus_expected_says_so(client):
    station_staff(client)
    fragment = client.get(f"{PAGE}/expected")
    assert fragment.status_code == 200 and "暂无预计到达本卡口的车次" in fragment.text


def test_another_checkpoints_bus_is_not_listed(client):
    bus_to(client, checkpoint_id("hedong-airport"))
    station_staff(client)
    assert "暂无预计到达本卡口的车次" in client.get(PAGE).text


def test_other_roles_get_the_403_page(client):
    make_web_staff(client, "yongning")
    page = client.get(PAGE)
    assert page.status_code == 403 and "无权访问" in page.text and page.mimetype == "text/html"
    assert client.get(f"{PAGE}/expected").status_code == 403
    assert "卡口扫码" not in client.get("/console/password").text  # no menu entry either


def test_the_menu_leads_checkpoint_staff_to_the_station(client):
    station_staff(client)
    home = client.get("/console/")
    assert home.status_code == 302 and home.headers["Location"].endswith(PAGE)


def test_signed_out_visitors_go_to_sign_in(client):
    page = client.get(PAGE)
    assert page.status_code == 302 and "/console/login" in page.headers["Location"]


def test_a_scan_without_the_csrf_header_is_refused_and_not_stored(client):
    bus = bus_to(client, checkpoint_id())
    station_staff(client)
    before = db.session.scalar(select(func.count()).select_from(ScanEvent))
    refused = client.post(SCANS, json=scan_body(next(iter(bus["qrs"].values())), kind="arrive"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "csrf_failed"
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == before
    # The console's own POST guard holds as well (a form without its token).
    assert client.post("/console/logout").status_code == 403
    assert csrf_of(client.get("/console/password").text)
