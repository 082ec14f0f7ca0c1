"""The manifest as .xlsx from the trip pages: linked with the page's selection, the API's scope and roles."""
import io
import re

import openpyxl
from sqlalchemy import select

from app.extensions import db
from app.models import Worker
from app.services.platform.timeutil import local_today
from tests.builders import make_staff, publish_trip
from tests.console_web.helpers import make_web_staff
from tests.console_web.test_trips import assert_page, browser, other_county_trip, trip  # noqa: F401  (fixture)


def _book(response):
    assert response.status_code == 200, response.text[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _link(html, testid):
    found = re.search(rf'data-testid="{testid}"\s+href="([^"]+)"', html)
    assert found, testid
    return found.group(1).replace("&amp;", "&")


def test_each_trip_page_links_its_manifest_sheet(client, trip):
    detail = client.get(f"/console/trips/{trip['id']}").text
    assert _link(detail, "manifest-xlsx") == f"/console/trips/{trip['id']}/manifest.xlsx"
    printed = client.get(f"/console/trips/{trip['id']}/manifest?convoy=1").text
    assert _link(printed, "manifest-xlsx") == f"/console/trips/{trip['id']}/manifest.xlsx?convoy=1"
    listed = client.get("/console/trips", query_string={"date": local_today().isoformat(), "status": "published"})
    day_link = _link(listed.text, "day-manifests-xlsx")
    assert day_link == f"/console/trips/manifests.xlsx?date={local_today().isoformat()}&status=published"
    day_page = client.get("/console/trips/manifests", query_string={"status": "published"}).text
    assert _link(day_page, "manifest-xlsx") == (f"/console/trips/manifests.xlsx?status=published"
                                                f"&date={local_today().isoformat()}")
    (sheet,) = _book(client.get(day_link)).worksheets
    assert sheet.title.startswith(f"车次{trip['id']}")
    assert _book(client.get("/console/trips/manifests.xlsx?status=closed")).sheetnames == ["乘车名单"]


def test_the_sheet_shows_what_the_printed_manifest_shows(client, trip):
    response = client.get(f"/console/trips/{trip['id']}/manifest.xlsx")
    assert re.search(rf'filename="manifest-trip-{trip["id"]}\.xlsx"', response.headers["Content-Disposition"])
    sheet = _book(response).active
    text = "\n".join(str(value) for row in sheet.iter_rows(values_only=True) for value in row if value)
    for worker in db.session.scalars(select(Worker)):
        assert worker.name not in text and worker.id_number_mask not in text  # 张*丰 and the last four only
    captain = db.session.get(Worker, trip["trip"]["captain_worker_id"])
    assert captain.mobile_mask in sheet["A4"].value and "车长签字" in text


def test_outside_the_scope_404_page_and_without_the_role_403_page(app, client, trip):
    other = other_county_trip(client)
    assert_page(client.get(f"/console/trips/{other}/manifest.xlsx"), 404, "未找到")
    assert_page(client.get(f"/console/trips/{other}/manifest.xlsx?convoy=1"), 404)
    officer, _ = browser(app, "weijian", role="health_officer", county_code="640121")
    assert_page(officer.get(f"/console/trips/{trip['id']}/manifest.xlsx"), 403)
    assert_page(officer.get("/console/trips/manifests.xlsx"), 403)
    anonymous = app.test_client().get(f"/console/trips/{trip['id']}/manifest.xlsx")
    assert anonymous.status_code == 302 and "/console/login" in anonymous.headers["Location"]


def test_a_bad_date_is_ignored_as_on_the_printed_list(client):
    staff = make_staff(client, "ops")
    publish_trip(client, passengers=2, staff_headers=staff)
    make_web_staff(client, "yongning-web")
    assert len(_book(client.get("/console/trips/manifests.xlsx?date=x")).worksheets) == 1  # today's
