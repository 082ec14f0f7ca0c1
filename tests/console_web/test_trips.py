"""车次（一车一方案） in the browser: the list, the edit form under the role's field rights, printable manifests
and reconciliation, with the API's scope (404 outside it, 403 for a role without the right) and CSRF."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, Trip, Worker
from app.services.platform.timeutil import local_today
from tests.builders import depart, make_id_number, make_staff, publish_trip, qr_of, scan_body
from tests.console_web.helpers import make_web_staff

SCANS = "/api/checkin/v1/scans"


@pytest.fixture
def trip(client):
    """A published trip of 永宁县 with four passengers, and a county operator of 永宁县 signed in to the console."""
    made = publish_trip(client, passengers=4)
    made["csrf"] = make_web_staff(client, "yongning-web")
    made["id"] = made["trip"]["id"]
    return made


def other_county_trip(client):
    """A published trip of 兴庆区 (outside 永宁县's scope); returns its id."""
    staff = make_staff(client, "xingqing", county_code="640104")
    return publish_trip(client, passengers=2, start=20, staff_headers=staff, county_code="640104",
                        origin="兴庆区")["trip"]["id"]


def browser(app, username, role="county_operator", **scope):
    """A second browser (its own cookies) signed in as a new staff member; returns (client, CSRF token)."""
    other = app.test_client()
    return other, make_web_staff(other, username, role=role, **scope)


def checkpoint_browser(app):
    """A browser signed in as checkpoint staff of 京藏高速银川南收费站卡口."""
    checkpoint = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-south-toll"))
    return browser(app, "south-toll", role="checkpoint_staff", checkpoint_id=checkpoint)[0]


def passenger(made, index=0):
    """A rider who is neither captain nor vice-captain."""
    return [r for r in made["riders"] if r not in (made["captain"], made["vice"])][index]


def form_post(client, path, csrf, **fields):
    return client.post(path, data={"csrf_token": csrf, **fields})


def assert_page(response, status, *texts):
    assert response.status_code == status, response.text[:500]
    assert response.mimetype == "text/html"
    for text in texts:
        assert text in response.text, text


# --- the list -------------------------------------------------------------------------------------


def test_list_shows_trips_in_scope_with_seats_captain_status_and_links(client, trip):
    other = other_county_trip(client)
    page = client.get("/console/trips")
    assert_page(page, 200, "车次（一车一方案）", f'data-trip-id="{trip["id"]}"', "永宁县 → 浙江省宁波市", "已发布",
                "4/4", "（8座，实载率 50%）", f'/console/trips/{trip["id"]}/manifest',
                f'/console/trips/{trip["id"]}/reconciliation', "共 1 个车次")
    assert f'data-trip-id="{other}"' not in page.text
    today = local_today().isoformat()
    assert f"{today} 08:00" in page.text
    assert "张*丰" in page.text  # the captain, masked, with the masked phone
    assert re.search(r"139\*{4}\d{4}", page.text)


def test_list_filters_by_date_and_status_and_reports_a_bad_filter(client, trip):
    today = local_today()
    assert f'data-trip-id="{trip["id"]}"' in client.get(f"/console/trips?date={today}&status=published").text
    assert "没有符合条件的车次" in client.get("/console/trips?status=closed").text
    assert "没有符合条件的车次" in client.get(f"/console/trips?date={today.replace(year=today.year + 1)}").text
    bad = client.get("/console/trips?date=2020-13-40&status=flying")
    assert_page(bad, 200, "is-invalid", f'data-trip-id="{trip["id"]}"')  # bad filters are ignored and marked


def test_list_pages_fifty_rows_at_a_time(client, trip, monkeypatch):
    from console.web import trips_views

    monkeypatch.setattr(trips_views, "PER_PAGE", 1)
    publish_trip(client, passengers=2, start=10, staff_headers=trip["staff"])
    first = client.get("/console/trips")
    assert_page(first, 200, "共 2 个车次，第 1/2 页", "下一页")
    second = client.get("/console/trips?page=2")
    assert "第 2/2 页" in second.text and second.text.count("data-trip-id=") == 1
    assert "第 2/2 页" in client.get("/console/trips?page=99").text


def test_admin_sees_every_county_and_a_transport_operator_only_theirs(app, client, trip):
    other = other_county_trip(client)
    admin, _ = browser(app, "city", role="admin")
    page = admin.get("/console/trips").text
    assert f'data-trip-id="{trip["id"]}"' in page and f'data-trip-id="{other}"' in page
    bus, _ = browser(app, "bus-co", role="transport_operator")
    page = bus.get("/console/trips").text
    assert f'data-trip-id="{trip["id"]}"' in page and f'data-trip-id="{other}"' not in page


# --- the trip and its edit form -------------------------------------------------------------------


def test_operator_edits_the_plan_and_phones_show_masked(client, trip):
    path = f"/console/trips/{trip['id']}"
    page = client.get(path)
    assert_page(page, 200, 'name="plate"', 'name="responsible_name"', 'name="departure_time"', 'value="08:00"')
    saved = form_post(client, path, trip["csrf"], plate="宁A·12345", driver_name="王师傅", driver_phone="13800001234",
                      responsible_name="李干部", responsible_phone="", medic_name="赵医生", medic_phone="0951-5012345",
                      departure_time="07:30")
    assert saved.status_code == 302 and saved.headers["Location"].endswith(path)
    shown = client.get(path)
    assert_page(shown, 200, "车次信息已保存", 'value="宁A·12345"', "138****1234", "0951-****345", 'value="07:30"')
    assert "13800001234" not in shown.text and "5012345" not in shown.text
    row = db.session.get(Trip, trip["id"])
    assert (row.plate, row.driver_name, row.responsible_name, row.departure_time.strftime("%H:%M")) == (
        "宁A·12345", "王师傅", "李干部", "07:30")
    assert row.driver_phone_mask == "138****1234" and row.responsible_phone_mask is None
    # A blank phone keeps the number; a blank name clears it.
    form_post(client, path, trip["csrf"], plate="宁A·12345", driver_name="", driver_phone="")
    row = db.session.get(Trip, trip["id"])
    assert row.driver_name is None and row.driver_phone_mask == "138****1234"


def test_transport_operator_writes_vehicle_fields_only(app, trip):
    client, csrf = browser(app, "bus-co", role="transport_operator")
    path = f"/console/trips/{trip['id']}"
    page = client.get(path)
    assert_page(page, 200, 'name="plate"', 'name="driver_phone"', 'name="medic_name"', 'id="f-responsible_name" readonly',
                'id="f-departure_time" readonly')
    assert 'name="responsible_name"' not in page.text and 'name="departure_time"' not in page.text
    saved = form_post(client, path, csrf, plate="宁A·88888", driver_name="陈师傅", driver_phone="13900002222",
                      medic_name="孙护士", medic_phone="")
    assert saved.status_code == 302
    assert db.session.get(Trip, trip["id"]).plate == "宁A·88888"
    forged = form_post(client, path, csrf, plate="宁A·88888", departure_time="05:00", responsible_name="冒名")
    assert_page(forged, 403, "无权访问", "departure_time", "responsible_name")
    assert db.session.get(Trip, trip["id"]).departure_time.strftime("%H:%M") == "08:00"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"driver_phone": "12345"}, "driver_phone", "电话应为11位手机号"),
    ({"plate": "宁" * 17}, "plate", "长度应在 1 到 16 之间"),
    ({"departure_time": "25:99"}, "departure_time", "应为时刻"),
])
def test_invalid_input_is_shown_beside_its_field_and_nothing_is_saved(client, trip, fields, field, message):
    path = f"/console/trips/{trip['id']}"
    answer = form_post(client, path, trip["csrf"], **{"plate": "宁A·00001", **fields})
    assert_page(answer, 422, f'id="f-{field}-error"')
    assert message in re.search(rf'id="f-{field}-error">([^<]+)<', answer.text).group(1)
    assert f'class="form-control form-control-sm is-invalid" id="f-{field}"' in answer.text
    assert db.session.get(Trip, trip["id"]).plate is None


def test_a_trip_that_left_cannot_be_edited(client, trip):
    depart(trip["id"])
    captain = trip["captain"]
    client.post(SCANS, json=scan_body(qr_of(client, passenger(trip), trip["id"])), headers=captain["headers"])
    path = f"/console/trips/{trip['id']}"
    page = client.get(path)
    assert_page(page, 200, "已发车", 'data-testid="not-editable"')
    assert 'name="plate"' not in page.text
    refused = form_post(client, path, trip["csrf"], plate="宁A·99999")
    assert_page(refused, 409, "车次已出发或已取消，不能修改")
    assert db.session.get(Trip, trip["id"]).plate is None


# --- manifests ----------------------------------------------------------------------------------


def test_manifest_prints_masked_names_id_last4_crew_phones_and_sign_off_lines(client, trip):
    form_post(client, f"/console/trips/{trip['id']}", trip["csrf"], plate="宁A·12345", medic_name="赵医生")
    page = client.get(f"/console/trips/{trip['id']}/manifest")
    assert_page(page, 200, "乘车名单", "宁A·12345", "赵医生", "车长签字", "随车医护签字", "发车时间", "到达时间",
                "data-print", "trips.js", "trips.css")
    assert page.text.count('data-testid="sheet"') == 1
    workers = db.session.scalars(select(Worker)).all()
    for worker in workers:
        assert worker.name not in page.text  # 张三丰 shows as 张*丰
        assert worker.id_number_mask not in page.text  # only the last four
    assert page.text.count("张*丰") >= 4 + 2  # four seats, captain and vice
    for n in range(4):
        assert f"<td>{make_id_number(sequence=100 + n)[-4:]}</td>" in page.text
    captain = db.session.get(Worker, trip["trip"]["captain_worker_id"])
    vice = db.session.get(Worker, trip["trip"]["vice_captain_worker_id"])
    assert captain.mobile_mask in re.search(r'data-testid="captain">(.*?)</dd>', page.text, re.DOTALL).group(1)
    assert vice.mobile_mask in re.search(r'data-testid="vice">(.*?)</dd>', page.text, re.DOTALL).group(1)
    assert "onclick" not in page.text and "<script>" not in page.text


def test_convoy_and_day_manifests_print_one_sheet_per_vehicle(client):
    staff = make_staff(client, "ops")
    make_web_staff(client, "yongning-web")  # the API's staff and the console's sign in apart
    first = publish_trip(client, passengers=2, staff_headers=staff)
    publish_trip(client, passengers=3, start=10, staff_headers=staff, destination_city="江苏省苏州市")
    convoy = client.get(f"/console/trips/{first['trip']['id']}/manifest?convoy=1")
    assert_page(convoy, 200, "班组乘车名单", "共 1 辆车")
    day = client.get("/console/trips/manifests")
    assert_page(day, 200, f"{local_today():%Y-%m-%d} 乘车名单", "共 2 辆车", "浙江省宁波市", "江苏省苏州市")
    assert day.text.count('data-testid="sheet"') == 2
    assert client.get("/console/trips/manifests?status=closed").text.count('data-testid="sheet"') == 0


def test_print_stylesheet_puts_each_vehicle_on_its_own_a4_page(client, trip):
    css = client.get("/console/static/trips.css")
    assert css.status_code == 200
    text = css.get_data(as_text=True)
    assert "size: A4" in text and "@media print" in text
    assert "break-after: page" in text and "page-break-after: always" in text
    assert ".fg-menu" in text and ".fg-header" in text  # no menu or header on paper
    assert "window.print()" in client.get("/console/static/trips.js").get_data(as_text=True)


# --- reconciliation ------------------------------------------------------------------------------


def figure(html, key):
    return int(re.search(rf'data-figure="{key}"><dt>[^<]+</dt><dd>(\d+)</dd>', html).group(1))


def test_reconciliation_follows_the_scans_and_refreshes_itself(client, trip):
    path = f"/console/trips/{trip['id']}/reconciliation"
    page = client.get(path)
    assert_page(page, 200, "清点核对", 'hx-trigger="every 15s"', "本班组", "trips.js")
    assert (figure(page.text, "seats"), figure(page.text, "boarded"), figure(page.text, "arrived")) == (4, 0, 0)
    depart(trip["id"])
    captain = trip["captain"]["headers"]
    first, second = passenger(trip, 0), passenger(trip, 1)
    for rider in (first, second):
        answer = client.post(SCANS, json=scan_body(qr_of(client, rider, trip["id"])), headers=captain)
        assert answer.json["verdict"] == "allow"
    client.post(SCANS, json=scan_body(qr_of(client, first, trip["id"]), kind="arrive"), headers=captain)
    fragment = client.get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="reconciliation"' in fragment.text
    assert 'hx-trigger="every 15s"' in fragment.text
    assert (figure(fragment.text, "boarded"), figure(fragment.text, "arrived"), figure(fragment.text, "missing")) == (
        2, 1, 1)
    assert fragment.text.count('data-status="arrived"') == 1 and fragment.text.count('data-status="boarded"') == 1
    assert "已到达" in fragment.text and "已上车" in fragment.text


def test_a_fever_at_boarding_shows_as_isolated(client, trip):
    depart(trip["id"])
    rider = passenger(trip)
    answer = client.post(SCANS, json=scan_body(qr_of(client, rider, trip["id"]), temperature=38.2),
                         headers=trip["captain"]["headers"])
    assert answer.json["verdict"] == "isolate"
    page = client.get(f"/console/trips/{trip['id']}/reconciliation").text
    assert figure(page, "isolated") == 1 and 'data-status="isolated"' in page and "异常" in page


# --- scope, roles, CSRF ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/manifest", "/manifest?convoy=1", "/reconciliation"])
def test_another_countys_trip_is_a_404_page(client, trip, suffix):
    other = other_county_trip(client)
    answer = client.get(f"/console/trips/{other}{suffix}")
    assert_page(answer, 404, "未找到")
    assert "兴庆区 →" not in answer.text


def test_another_countys_trip_cannot_be_edited(client, trip):
    other = other_county_trip(client)
    assert_page(form_post(client, f"/console/trips/{other}", trip["csrf"], plate="宁A·66666"), 404, "未找到")
    assert db.session.get(Trip, other).plate is None


@pytest.mark.parametrize("path", ["/console/trips", "/console/trips/{id}", "/console/trips/{id}/manifest",
                                  "/console/trips/manifests", "/console/trips/{id}/reconciliation"])
def test_checkpoint_staff_get_the_403_page(app, trip, path):
    assert_page(checkpoint_browser(app).get(path.format(id=trip["id"])), 403, "无权访问")


def test_only_roles_with_trips_see_the_menu_entry(app, client, trip):
    assert 'href="/console/trips"' in client.get("/console/password").text
    assert "车次（一车一方案）" not in checkpoint_browser(app).get("/console/password").text
    bus, _ = browser(app, "bus-co", role="transport_operator")
    assert 'href="/console/trips"' in bus.get("/console/password").text


def test_an_edit_without_the_csrf_token_is_refused(client, trip):
    path = f"/console/trips/{trip['id']}"
    assert_page(client.post(path, data={"plate": "宁A·77777"}), 403, "页面已过期")
    assert_page(client.post(path, data={"plate": "宁A·77777", "csrf_token": "forged"}), 403)
    assert db.session.get(Trip, trip["id"]).plate is None


def test_signed_out_visitors_are_sent_to_sign_in(app, trip):
    stranger = app.test_client()
    answer = stranger.get(f"/console/trips/{trip['id']}/manifest")
    assert answer.status_code == 302 and "/console/login" in answer.headers["Location"]
    polled = stranger.get(f"/console/trips/{trip['id']}/reconciliation", headers={"HX-Request": "true"})
    assert polled.status_code == 204 and "/console/login" in polled.headers["HX-Redirect"]
