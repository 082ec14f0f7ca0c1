"""An enterprise HR clerk's day (issue 13's acceptance): sign in, register a returnee who came back on their own,
record the day's follow-ups for 20 people in one table with one abnormal → the pending isolation order is there for
the health officer; the jobs page; and E's HR opening F's roster gets the 404 page. Plus the office's view of the
enterprise pages (list, register form, roster chooser), each checked with axe-core and shot at both sizes."""
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import StaffUser
from app.services.accounts import staff
from app.services.employment import roster
from app.services.platform.timeutil import local_today
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.builders import STAFF_PASSWORD, make_id_number, make_mobile, make_staff
from tests.console.roster_helpers import XIXIA, YONGNING, enterprise

NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴芳", "徐强", "孙丽", "马超", "朱琳",
         "胡军", "郭佳", "何平", "高峰", "林娜"]


def _nineteen_returnees(clerk, enterprise_id):
    """19 returnees the clerk registered on earlier days; returns their worker ids."""
    made = []
    for n, name in enumerate(NAMES):
        body = {"name": name, "id_number": make_id_number(area="510104", sequence=600 + n),
                "phone": make_mobile(600 + n),
                "origin": "四川省成都市", "arrival_date": local_today() - timedelta(days=3), "transport": "train",
                "transport_number": "K1234"}
        made.append(roster.register(clerk, enterprise_id, body).worker.id)
    return made


def test_an_hr_clerks_day(page, live):
    own = enterprise(YONGNING).id
    staff.create_staff("hr", STAFF_PASSWORD, "enterprise_hr", display_name="马丽", enterprise_id=own, by=staff.CLI)
    clerk = db.session.scalar(select(StaffUser).where(StaffUser.username == "hr"))
    workers = _nineteen_returnees(clerk, own)
    sign_in(page, live, "hr")

    # The first page of HR's menu is its own roster.
    page.wait_for_url(f"**/console/roster/{own}")
    assert "共 19 人" in text_of(page, "[data-testid=total]")
    assert "王*国" in text_of(page, "table") and "王建国" not in text_of(page, "table")
    check_a11y(page)
    shoot(page, "hr-roster")

    # 零散返岗登记: the 20th person.
    page.get_by_role("link", name="零散返岗登记").click()
    page.get_by_label("姓名").fill("田小宁")
    page.get_by_label("身份证号").fill(make_id_number(area="640121", sequence=700))
    page.get_by_label("手机号").fill(make_mobile(700))
    page.get_by_label("从何处返回").fill("甘肃省定西市")
    page.get_by_label("返回日期").fill((local_today() - timedelta(days=1)).isoformat())
    page.get_by_label("交通方式").select_option("bus")
    page.get_by_label("车次/航班/车牌").fill("甘J·12345")
    check_a11y(page)
    shoot(page, "hr-register")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#alerts")).to_contain_text("已登记零散返岗人员：田*宁")
    expect(page.locator("[data-testid=total]")).to_have_text("共 20 人")
    page.get_by_label("来源").select_option("self")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**source=self**")
    assert page.locator("tr[data-worker]").count() == 20  # every one of them came back on their own

    # 今日随访: one row per person, one save; 黄敏 has a fever.
    page.get_by_role("link", name="今日随访").click()
    rows = page.locator("tr[data-worker]")
    expect(rows).to_have_count(20)
    for index in range(20):
        rows.nth(index).locator("input[name^=temperature-]").fill("36.5")
    feverish = page.locator(f"tr[data-worker='{workers[7]}']")
    feverish.locator("input[name^=temperature-]").fill("38.1")
    feverish.locator("summary").click()
    feverish.get_by_label("咳嗽").check()
    expect(feverish.locator("summary")).to_have_text("咳嗽")
    feverish.locator("input[name^=note-]").fill("自述夜间咳嗽")
    check_a11y(page)
    shoot(page, "hr-follow-ups-filled")
    page.get_by_role("button", name="保存本表").click()
    expect(page.locator("#alerts")).to_contain_text("已保存 20 人的今日随访")
    expect(page.locator("#alerts")).to_contain_text("1 人异常")
    expect(page.locator("tr[data-recorded=abnormal]")).to_have_count(1)
    assert page.locator(f"tr[data-worker='{workers[7]}']").get_attribute("data-recorded") == "abnormal"
    assert "table-danger" in page.locator(f"tr[data-worker='{workers[7]}']").get_attribute("class")
    assert "隔离单" in text_of(page, f"tr[data-worker='{workers[7]}']")
    expect(page.locator("tr[data-recorded=normal]")).to_have_count(19)
    assert text_of(page, "[data-figure=abnormal]") == "1"
    check_a11y(page)
    shoot(page, "hr-follow-ups-saved")

    # The health officer sees the pending order (through the API: their page is another helper's).
    db.session.rollback()  # see what gunicorn committed (MariaDB's repeatable read)
    officer = make_staff(live.client, "officer", role="health_officer")
    pending = live.client.get("/api/console/v1/isolation-orders", query_string={"status": "pending"},
                              headers=officer).json["items"]
    assert [(order["worker"]["id"], order["reason"]) for order in pending] == [(workers[7], "fever")]
    assert pending[0]["worker"]["name"] == "黄*"

    # The roster now says 隔离中 for 黄敏.
    page.get_by_role("link", name="花名册", exact=True).click()
    page.get_by_label("上岗状态").select_option("isolated")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("tr[data-worker]")).to_have_count(1)
    assert "隔离中" in text_of(page, f"tr[data-worker='{workers[7]}']")

    # 岗位与缺工: the clerk adds a job row.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="企业与岗位（附件2）").click()
    page.wait_for_url(f"**/console/enterprises/{own}")
    page.get_by_label("新工种", exact=True).fill("叉车工")
    page.get_by_label("新工种 缺工人数").fill("3")
    page.get_by_role("button", name="添加").click()
    expect(page.locator("#alerts")).to_contain_text("已添加工种：叉车工")
    check_a11y(page)
    shoot(page, "hr-enterprise")
    assert "马丽" in text_of(page, "[data-testid=who]")


def test_hr_cannot_open_another_enterprises_roster(page, live):
    own, other = enterprise(YONGNING).id, enterprise(XIXIA).id
    staff.create_staff("hr", STAFF_PASSWORD, "enterprise_hr", display_name="马丽", enterprise_id=own, by=staff.CLI)
    sign_in(page, live, "hr")
    response = page.goto(f"/console/roster/{other}")
    assert response.status == 404
    assert "未找到" in text_of(page, "main") and XIXIA not in page.content()
    check_a11y(page)
    shoot(page, "hr-other-roster-404")


def test_the_office_on_the_enterprise_pages(page, live):
    staff.create_staff("office", STAFF_PASSWORD, "admin", display_name="协调办", by=staff.CLI)
    sign_in(page, live, "office", next_path="/console/enterprises")
    page.wait_for_url("**/console/enterprises")
    assert page.locator("tr[data-enterprise]").count() >= 2
    check_a11y(page)
    shoot(page, "office-enterprises")
    page.get_by_label("企业名称").fill("纺织")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**name=**")
    assert page.locator("tr[data-enterprise]").count() == 1
    assert "name=" in page.get_by_role("link", name="导出附件2").get_attribute("href")
    page.get_by_role("link", name="登记企业").click()
    page.get_by_label("企业名称").fill("银川新建服装厂")
    page.get_by_label("所在县区").select_option(label="永宁县")
    page.get_by_label("生产物资种类").fill("防护服")
    check_a11y(page)
    shoot(page, "office-enterprise-new")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#alerts")).to_contain_text("已登记企业：银川新建服装厂")
    check_a11y(page)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="花名册 · 每日随访").click()
    page.wait_for_url("**/console/roster")
    check_a11y(page)
    shoot(page, "office-roster-choose")
