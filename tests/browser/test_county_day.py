"""A county operator's day, one browser session from sign-in to the evening tally (issue 12's acceptance):
sign in, filter, approve in bulk, plan, move a passenger, change a captain, publish, print the manifests,
and watch reconciliation change while the captain scans."""
from playwright.sync_api import expect

from app.extensions import db
from app.models import Seat, Trip
from app.services.accounts import staff
from app.services.credentials import signing
from app.services.platform.timeutil import local_today
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.browser.test_trips import pdf_pages
from tests.builders import STAFF_PASSWORD, depart, make_worker, profile, qr_of, scan_body, submit_application

NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆"]


def _six_applications_for_today(client):
    """Six workers of 永宁县 applying to leave today; returns {application id: worker headers}."""
    today = local_today().isoformat()
    made = {}
    for n, name in enumerate(NAMES):
        headers = make_worker(client, name=f"day{n}", n=n)
        assert client.put("/api/mp/v1/me", json=profile(n, name=name), headers=headers).status_code == 200
        made[submit_application(client, headers, earliest_departure=today, latest_departure=today)] = headers
    # One inbound application the outbound filter must leave out.
    submit_application(client, make_worker(client, name="back", n=9), direction="inbound", origin="甘肃省定西市",
                       destination_city="银川市", earliest_departure=today, latest_departure=today)
    return made


def _vehicle(page, number):
    return page.locator("[data-testid=vehicle]", has=page.get_by_role("heading", name=f"{number}号车"))


def test_a_county_operators_day(page, live):
    signing.ensure_key()
    staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", display_name="王明", county_code="640121", by=staff.CLI)
    riders = _six_applications_for_today(live.client)
    sign_in(page, live, "yongning")

    # The day starts on the county's 看板; then 申请审核: outbound only, tick the page, approve in bulk.
    page.wait_for_url("**/console/")
    expect(page.locator("[data-figure=applications] dd")).to_have_text("7")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="申请审核").click()
    page.wait_for_url("**/console/applications")
    page.get_by_label("方向").select_option("outbound")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**direction=outbound**")
    assert page.locator("tr[data-application]").count() == 6
    page.get_by_label("全选本页").check()
    expect(page.locator("[data-selected-count]")).to_contain_text("已选 6 条")
    page.get_by_role("button", name="批量通过").click()
    expect(page.locator("#alerts")).to_contain_text("已通过 6 条")
    shoot(page, "day-approved")

    # 编班编组: today, buses of 8 seats at the 50% limit → two buses of 3 (or 4 + 2).
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="编班编组").click()
    today = local_today().isoformat()
    page.get_by_label("开始日期").fill(today)
    page.get_by_label("结束日期").fill(today)
    page.get_by_label("第1种车型座位数").fill("8")
    page.get_by_role("button", name="生成方案").click()
    page.wait_for_url("**/console/planning/*")
    expect(page.locator("#alerts")).to_contain_text("2 辆车、6 人")
    first = _vehicle(page, 1)
    moved = first.locator("[data-testid=passenger]").last.locator("[data-testid=name]").inner_text()
    first.get_by_label(moved).check()
    first.get_by_label("选中的乘客调到").select_option(label="2号车（大客车）")
    first.get_by_role("button", name="调车").click()
    expect(page.locator("#alerts")).to_contain_text("已调到车辆")
    assert moved in _vehicle(page, 2).inner_text()
    second = _vehicle(page, 2)
    plain = second.locator("[data-testid=passenger]", has_not=page.locator(".badge")).first
    new_captain = plain.locator("[data-testid=name]").inner_text()
    second.get_by_label(new_captain).check()
    second.get_by_role("button", name="设为车长").click()
    expect(page.locator("#alerts")).to_contain_text("已任命车长")
    captain_row = _vehicle(page, 2).locator("[data-testid=passenger]", has=page.locator("[data-testid=captain]"))
    assert captain_row.locator("[data-testid=name]").inner_text() == new_captain
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="发布").click()
    page.wait_for_selector("[data-testid=published]")
    shoot(page, "day-published")

    # 车次: print the day's manifests, one bus per A4 page.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="车次（一车一方案）").click()
    assert page.locator("tr[data-trip-id]").count() == 2
    page.get_by_role("link", name="打印当日名单").click()
    page.wait_for_selector("[data-testid=sheet]")
    page.emulate_media(media="print")
    assert not page.locator(".fg-menu").is_visible()
    assert pdf_pages(page.pdf(format="A4")) == 2
    page.emulate_media(media="screen")

    # The evening: the captain of bus 2 boards everyone on it; the tally on the page follows by itself.
    db.session.rollback()  # end this session's snapshot (MariaDB's repeatable read): see what gunicorn committed
    trip = db.session.scalars(db.select(Trip).order_by(Trip.id.desc())).first()
    seats = db.session.scalars(db.select(Seat).where(Seat.trip_id == trip.id, Seat.status == "assigned")).all()
    application_of = {seat.worker_id: seat.application_id for seat in seats}
    captain = riders[application_of[trip.captain_worker_id]]
    trip_id = trip.id
    depart(trip_id)
    page.goto(f"/console/trips/{trip_id}/reconciliation")
    expect(page.locator("[data-figure=boarded] dd")).to_have_text("0")
    for seat in seats:
        qr = qr_of(live.client, {"headers": riders[seat.application_id]}, trip_id)
        assert live.client.post("/api/checkin/v1/scans", json=scan_body(qr), headers=captain).json["verdict"] == "allow"
    expect(page.locator("[data-figure=boarded] dd")).to_have_text(str(len(seats)), timeout=25_000)
    check_a11y(page)
    shoot(page, "day-reconciliation")
    assert "王明" in text_of(page, "[data-testid=who]")
