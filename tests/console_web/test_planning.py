"""编班编组 pages: run the planner, read the draft, move passengers, appoint captains, publish or discard."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Checkpoint, Plan, Seat, Trip
from app.services.platform.timeutil import local_today
from tests.builders import approved_applications, make_staff
from tests.console_web.helpers import csrf_of, make_web_staff

HTMX = {"HX-Request": "true"}
STALE = "该方案已被他人修改，请刷新后再操作"


def planner_form(csrf, **overrides):
    """The planner form as an operator fills it: the next ten days, one bus of 10 seats, 50%."""
    today = local_today()
    form = {"csrf_token": csrf, "date_from": today.isoformat(), "date_to": (today + timedelta(days=10)).isoformat(),
            "direction": "", "departure_time": "07:30", "load_factor": "50", "notice": "全程佩戴口罩",
            "vehicle_name_0": "大客车", "vehicle_seats_0": "10", "vehicle_count_0": "20"}
    form.update(overrides)
    return form


def draft(client, csrf, passengers=7):
    """Approved applications of 永宁县 and a draft made through the page (7 → two vehicles of 5 and 2)."""
    approved_applications(client, make_staff(client, "reviewer"), passengers)
    response = client.post("/console/planning", data=planner_form(csrf))
    assert response.status_code == 302, response.text
    plan = db.session.scalar(select(Plan).order_by(Plan.id.desc()))
    assert response.headers["Location"].endswith(f"/console/planning/{plan.id}")
    return plan


def vehicles(plan_id):
    """{trip_id: [application ids]} and the trips, biggest first, as stored."""
    db.session.expire_all()
    trips = db.session.scalars(select(Trip).where(Trip.plan_id == plan_id).order_by(Trip.id)).all()
    seats = {trip.id: sorted(db.session.scalars(select(Seat.application_id).where(
        Seat.trip_id == trip.id, Seat.live_application_id.is_not(None)))) for trip in trips}
    return seats, sorted(trips, key=lambda trip: -len(seats[trip.id]))


def _version(plan_id):
    db.session.expire_all()
    return db.session.get(Plan, plan_id).version


def test_planning_page_shows_the_form_and_this_scopes_drafts(client):
    csrf = make_web_staff(client)
    page = client.get("/console/planning")
    assert page.status_code == 200 and "生成方案" in page.text and 'aria-current="page"' in page.text
    assert 'data-testid="no-drafts"' in page.text and 'name="county_code"' not in page.text  # own county only
    plan = draft(client, csrf)
    listing = client.get("/console/planning").text
    row = re.search(rf"#{plan.id} .*?</tr>", listing, re.DOTALL).group(0)
    assert "草稿" in row and "<td>2</td>" in row and "<td>7</td>" in row
    helan = client.application.test_client()
    make_web_staff(helan, "helan", county_code="640122")
    assert f"#{plan.id} " not in helan.get("/console/planning").text


def test_running_the_planner_shows_convoys_vehicles_and_seats_masked(client):
    csrf = make_web_staff(client)
    plan = draft(client, csrf)
    page = client.get(f"/console/planning/{plan.id}", follow_redirects=True)
    assert page.status_code == 200
    assert "已生成方案草稿" in page.text and "2 辆车、7 人" in page.text
    assert page.text.count('data-testid="convoy"') == 1 and page.text.count('data-testid="vehicle"') == 2
    assert page.text.count("★ 车长") == 2 and page.text.count("☆ 副车长") == 2
    assert "载客率 <strong>50%</strong>" in page.text and "上限 50%（5 人）" in page.text
    assert "张*丰" in page.text and "张三丰" not in page.text  # names masked
    assert re.search(r"640104\*{8}\d{4}", page.text) and not re.search(r"640104\d{12}", page.text)
    assert "班组长 张*丰" in page.text and "全程佩戴口罩" in page.text


def test_planner_form_errors_are_shown_and_nothing_is_made(client):
    csrf = make_web_staff(client)
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    for overrides, field in (({"date_from": yesterday}, "date_from"),
                             ({"vehicle_seats_0": "0"}, "vehicle_types.0.seats"),
                             ({"vehicle_name_0": "", "vehicle_seats_0": "", "vehicle_count_0": ""}, "vehicle_types"),
                             ({"load_factor": "abc"}, "load_factor")):
        response = client.post("/console/planning", data=planner_form(csrf, **overrides))
        assert response.status_code == 422, overrides
        assert f'id="{field.replace(".", "-")}-error"' in response.text, overrides
        assert "Not a valid" not in response.text and "Missing data" not in response.text  # said in Chinese
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 0
    no_token = client.post("/console/planning", data={k: v for k, v in planner_form(csrf).items() if k != "csrf_token"})
    assert no_token.status_code == 403 and "text/html" in no_token.content_type


def test_move_a_passenger_with_a_plain_form(client):
    csrf = make_web_staff(client)
    plan = draft(client, csrf)
    seats, (big, small) = vehicles(plan.id)
    mover = seats[big.id][-1]
    response = client.post(f"/console/planning/{plan.id}/moves", data={
        "csrf_token": csrf, "version": "1", "application_id": mover, "trip_id": small.id, "from_trip": big.id})
    assert response.status_code == 302
    assert mover in vehicles(plan.id)[0][small.id] and _version(plan.id) == 2
    assert "已调到车辆" in client.get(response.headers["Location"]).text


def test_move_with_htmx_swaps_the_two_vehicles_and_the_version(client):
    csrf = make_web_staff(client)
    plan = draft(client, csrf)
    seats, (big, small) = vehicles(plan.id)
    response = client.post(f"/console/planning/{plan.id}/moves", headers=HTMX, data={
        "csrf_token": csrf, "version": "1", "application_id": seats[big.id][-1], "trip_id": small.id,
        "from_trip": big.id})
    assert response.status_code == 200 and "已调到车辆" in response.text
    assert f'id="slot-{big.id}" hx-swap-oob="true"' in response.text
    assert f'id="slot-{small.id}" hx-swap-oob="true"' in response.text
    assert 'value="2" class="fg-plan-version" hx-swap-oob="outerHTML:.fg-plan-version"' in response.text
    assert "<html" not in response.text


def test_appoint_captain_and_vice_captain_from_the_page(client):
    csrf = make_web_staff(client)
    plan = draft(client, csrf)
    _, (big, small) = vehicles(plan.id)
    crew = (big.captain_worker_id, big.vice_captain_worker_id)
    other = db.session.scalar(select(Seat).where(Seat.trip_id == big.id, Seat.worker_id.not_in(crew)))
    made = client.post(f"/console/planning/{plan.id}/moves", headers=HTMX, data={
        "csrf_token": csrf, "version": "1", "application_id": other.application_id, "role": "captain",
        "trip_id": str(small.id), "from_trip": big.id})  # a target left chosen in the vehicle's form: ignored
    assert made.status_code == 200 and "已任命车长" in made.text
    db.session.expire_all()
    trip = db.session.get(Trip, big.id)
    assert (trip.captain_worker_id, trip.vice_captain_worker_id) == (other.worker_id, crew[1])
    plain = client.post(f"/console/planning/{plan.id}/moves", data={
        "csrf_token": csrf, "version": "2", "application_id": other.application_id, "role": "vice_captain"})
    assert plain.status_code == 302 and "已任命副车长" in client.get(plain.headers["Location"]).text
    db.session.expire_all()
    assert db.session.get(Trip, big.id).vice_captain_worker_id == other.worker_id


def test_a_second_operator_on_a_stale_page_gets_the_conflict_not_an_overwrite(client, app):
    csrf = make_web_staff(client, "yongning-a")
    plan = draft(client, csrf)
    other = app.test_client()
    make_web_staff(other, "yongning-b")
    other_csrf = csrf_of(other.get(f"/console/planning/{plan.id}").text)  # both pages show version 1
    seats, (big, small) = vehicles(plan.id)
    first = client.post(f"/console/planning/{plan.id}/moves", headers=HTMX, data={
        "csrf_token": csrf, "version": "1", "application_id": seats[big.id][-1], "trip_id": small.id})
    assert first.status_code == 200
    before = vehicles(plan.id)[0]
    stale = other.post(f"/console/planning/{plan.id}/moves", headers=HTMX, data={
        "csrf_token": other_csrf, "version": "1", "application_id": seats[big.id][-2], "trip_id": small.id})
    assert stale.status_code == 200 and stale.headers["HX-Retarget"] == "#alerts"
    assert STALE in stale.text and f'href="/console/planning/{plan.id}">刷新</a>' in stale.text
    plain = other.post(f"/console/planning/{plan.id}/moves", data={
        "csrf_token": other_csrf, "version": "1", "application_id": seats[big.id][-2], "role": "captain"})
    assert plain.status_code == 409 and STALE in plain.text and ">刷新</a>" in plain.text
    assert 'class="fg-plan-version"' in plain.text and 'value="2"' in plain.text  # the page as it is now
    for action in ("publish", "discard"):
        refused = other.post(f"/console/planning/{plan.id}/{action}", data={"csrf_token": other_csrf, "version": "1"})
        assert refused.status_code == 409 and STALE in refused.text
    assert vehicles(plan.id)[0] == before and _version(plan.id) == 2
    assert db.session.get(Plan, plan.id).status == "draft"


def test_refused_moves_say_why(client):
    csrf = make_web_staff(client)
    plan = draft(client, csrf, passengers=10)  # two full vehicles
    seats, (big, small) = vehicles(plan.id)
    full = client.post(f"/console/planning/{plan.id}/moves", data={
        "csrf_token": csrf, "version": "1", "application_id": seats[big.id][0], "trip_id": small.id})
    assert full.status_code == 409 and "该车次已满" in full.text
    unchosen = client.post(f"/console/planning/{plan.id}/moves", headers=HTMX, data={
        "csrf_token": csrf, "version": "1", "application_id": seats[big.id][0], "trip_id": "", "action": "move"})
    assert unchosen.headers["HX-Retarget"] == "#alerts" and "请选择要调到的车辆" in unchosen.text
    nobody = client.post(f"/console/planning/{plan.id}/moves", data={
        "csrf_token": csrf, "version": "1", "trip_id": small.id, "action": "move"})
    assert nobody.status_code == 422 and "请先选择乘客" in nobody.text
    assert _version(plan.id) == 1


def test_publish_then_the_page_links_to_trips(client):
    csrf = make_web_staff(client)
    plan = draft(client, csrf)
    response = client.post(f"/console/planning/{plan.id}/publish", data={"csrf_token": csrf, "version": "1"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert f"方案 #{plan.id} 已发布" in page and 'href="/console/trips"' in page and "已发布" in page
    assert 'data-testid="vehicle-form"' not in page and ">发布</button>" not in page
    again = client.post(f"/console/planning/{plan.id}/publish", data={"csrf_token": csrf, "version": "2"})
    assert again.status_code == 409 and "该方案已发布或已作废" in again.text


def test_discard_returns_to_the_list(client):
    csrf = make_web_staff(client)
    plan = draft(client, csrf)
    response = client.post(f"/console/planning/{plan.id}/discard", data={"csrf_token": csrf, "version": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/planning")
    listing = client.get("/console/planning").text
    assert f"方案 #{plan.id} 已作废" in listing and 'data-testid="no-drafts"' in listing


def test_scope_another_county_is_404_and_other_roles_403(client, app):
    csrf = make_web_staff(client)
    plan = draft(client, csrf)
    helan = app.test_client()
    helan_csrf = make_web_staff(helan, "helan", county_code="640122")
    for response in (helan.get(f"/console/planning/{plan.id}"),
                     helan.post(f"/console/planning/{plan.id}/moves", data={
                         "csrf_token": helan_csrf, "version": "1", "application_id": "1", "role": "captain"}),
                     helan.post(f"/console/planning/{plan.id}/publish",
                                data={"csrf_token": helan_csrf, "version": "1"})):
        assert response.status_code == 404 and "未找到" in response.text and "text/html" in response.content_type
    assert db.session.get(Plan, plan.id).status == "draft"
    gate = {"checkpoint_id": db.session.scalar(select(Checkpoint.id).limit(1))}
    for username, role, scope in (("bus", "transport_operator", {}), ("gate", "checkpoint_staff", gate)):
        other = app.test_client()
        make_web_staff(other, username, role, **scope)
        for path in ("/console/planning", f"/console/planning/{plan.id}"):
            response = other.get(path)
            assert response.status_code == 403 and "无权访问" in response.text, (role, path)
        assert "编班编组" not in other.get("/console/password").text  # not in their menu
    assert client.post(f"/console/planning/{plan.id}/publish", data={"version": "1"}).status_code == 403


def test_admin_picks_the_county_to_plan_for(client):
    make_web_staff(client, "city", "admin")
    approved_applications(client, make_staff(client, "reviewer"), 3)
    page = client.get("/console/planning").text
    assert 'name="county_code"' in page and "永宁县" in page
    csrf = csrf_of(page)
    unpicked = client.post("/console/planning", data=planner_form(csrf))
    assert unpicked.status_code == 422 and "管理员编班需指定一个县区或园区" in unpicked.text
    picked = client.post("/console/planning", data=planner_form(csrf, county_code="640121"))
    assert picked.status_code == 302
    assert db.session.scalar(select(Plan.county_code)) == "640121"


def test_a_run_with_nothing_to_plan_says_so(client):
    csrf = make_web_staff(client)
    response = client.post("/console/planning", data=planner_form(csrf), follow_redirects=True)
    assert response.status_code == 200
    assert "alert-warning" in response.text and "0 辆车、0 人" in response.text
    assert 'data-testid="empty-plan"' in response.text and ">作废</button>" in response.text
