"""内容审核 in a real browser: a county operator sees the texts WeChat's check flagged in their county, reads them,
handles one (已联系本人, with a note), and finds it under 已处理; the pending one waits for WeChat under 待复查."""
from playwright.sync_api import expect

from app.extensions import db
from app.models import Worker
from app.services.accounts import staff
from app.services.people import content_security
from app.services.people.content_security import Verdict
from tests.browser.helpers import check_a11y, shoot, sign_in
from tests.builders import STAFF_PASSWORD, make_worker


def _flag(worker_id, *verdicts):
    """Flags as the profile hook leaves them (the served app has no WeChat: the verdicts stand for its answers)."""
    worker = db.session.get(Worker, worker_id)
    flags = content_security.record(worker, list(verdicts))
    db.session.commit()
    return [flag.id for flag in flags]


def _tab(page, word):
    page.get_by_role("navigation", name="按状态查看").get_by_role("link", name=word).click()


def test_a_county_operator_handles_flagged_texts(page, live):
    make_worker(live.client, "w1", n=1, declare=False)
    make_worker(live.client, "w2", n=2, declare=False)
    first, second = db.session.query(Worker.id).order_by(Worker.id).all()
    [review] = _flag(first[0], Verdict("job_intention", "电子厂普工，想进老乡群一起走，联系微信 abc123", 1, "review",
                                       label=10001, trace_id="t-1"))
    [risky, pending] = _flag(second[0], Verdict("current_address", "永宁县望远镇幸福村3组", 1, "risky", label=20006),
                             Verdict("skills", "焊工、电工", 1, "pending", error="ConnectTimeout"))
    staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", display_name="李专员", county_code="640121",
                       by=staff.CLI)
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live, "yongning")

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="内容审核").click()
    page.wait_for_url("**/console/content")
    row = page.locator(f"tr[data-check='{review}']")
    expect(row).to_contain_text("电子厂普工，想进老乡群一起走")
    expect(row).to_contain_text("张*丰")
    expect(row).to_contain_text("求职意向")
    expect(row).to_contain_text("需人工审核")
    expect(row).to_contain_text("广告")
    expect(page.locator(f"tr[data-check='{risky}']")).to_contain_text("有风险")
    expect(page.locator(f"tr[data-check='{pending}']")).to_have_count(0)  # not on the working list
    check_a11y(page)
    shoot(page, "content-open")

    # 处理: contacted the worker, with a note; the flash confirms, the row leaves 待处理.
    row.get_by_label("处理结果").select_option("contacted")
    row.get_by_label("说明").fill("已电话联系本人，提醒勿留联系方式")
    row.get_by_role("button", name="处理").click()
    page.wait_for_load_state("load")
    expect(page.locator("#alerts")).to_contain_text("已处理：已联系本人")
    expect(page.locator(f"tr[data-check='{review}']")).to_have_count(0)

    _tab(page, "已处理")
    page.wait_for_url("**status=handled**")
    done = page.locator(f"tr[data-check='{review}']")
    expect(done).to_contain_text("已联系本人")
    expect(done).to_contain_text("提醒勿留联系方式")
    check_a11y(page)
    shoot(page, "content-handled")

    _tab(page, "待复查")
    page.wait_for_url("**status=pending**")
    expect(page.locator(f"tr[data-check='{pending}']")).to_contain_text("焊工、电工")
    expect(page.locator(f"tr[data-check='{pending}'] select")).to_have_count(0)
    check_a11y(page)
    shoot(page, "content-pending")
