"""A health officer's day with health certificates (issue 14) in a real browser: issue one by the ID number on the card,
open it to print, see a fever refused with what is missing, revoke one from the drawer; then the office adds a partner
city from a list file carried by hand, checks its fingerprint read aloud, and refreshes it from a newer file."""
from datetime import timedelta

from playwright.sync_api import expect

from app.models.base import utcnow
from app.services.accounts import staff
from app.services.credentials import signing
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.builders import STAFF_PASSWORD, make_id_number, make_worker, submit_application
from tests.console_web.trust_helpers import partner_file, partner_fingerprint


def _menu(page, label):
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name=label).click()


def _outbound(client, n):
    headers = make_worker(client, f"worker{n}", n)
    submit_application(client, headers)
    return make_id_number(sequence=100 + n)


def test_a_health_officer_issues_prints_and_revokes(page, live):
    signing.ensure_key("certificate")
    id_number = _outbound(live.client, 0)
    other = _outbound(live.client, 1)
    staff.create_staff("weijian", STAFF_PASSWORD, "health_officer", display_name="马医生", county_code="640121",
                       by=staff.CLI)
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live, "weijian")
    _menu(page, "健康证明")
    page.wait_for_url("**/console/certificates")
    expect(page.locator("[data-testid=empty]")).to_be_visible()

    # 出具健康证明: the ID number from the card, the temperature just taken.
    page.get_by_role("link", name="出具健康证明").click()
    page.wait_for_url("**/console/certificates/new")
    check_a11y(page)
    shoot(page, "certificate-new")
    page.get_by_label("身份证号").fill(id_number)
    page.get_by_label("体温（℃）").fill("36.6")
    page.get_by_role("button", name="出具").click()
    page.wait_for_url("**/console/certificates/*")
    expect(page.locator("#alerts")).to_contain_text("已出具健康证明")
    expect(page.locator("[data-testid=detail-status]")).to_have_text("有效")
    expect(page.locator("[data-testid=detail-basis]")).to_contain_text("行前体温检测：36.6℃")
    qr = page.get_by_alt_text("的二维码", exact=False)
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('.fg-qr').naturalWidth") > 100  # the PNG loaded
    assert id_number not in page.content()
    printed = page.request.get(page.get_by_test_id("print").get_attribute("href"))
    assert printed.status == 200 and printed.headers["content-type"] == "application/pdf"
    check_a11y(page)
    shoot(page, "certificate-issued")

    # A fever: no certificate, the check kept, and the page says what is missing.
    page.get_by_role("link", name="继续出具").click()
    page.get_by_label("身份证号").fill(other)
    page.get_by_label("体温（℃）").fill("37.9")
    page.get_by_label("咳嗽").check()
    page.get_by_role("button", name="出具").click()
    missing = page.locator("[data-testid=missing]")
    expect(missing).to_contain_text("体温")
    expect(page.locator("[data-testid=issue-error]")).to_contain_text("张*丰")
    expect(page.get_by_label("咳嗽")).to_be_checked()
    expect(page.get_by_label("身份证号")).to_have_value("")
    check_a11y(page)
    shoot(page, "certificate-refused")

    # 撤销 from the drawer: a fixed reason, 确定.
    _menu(page, "健康证明")
    row = page.locator("tr[data-status=valid]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(id_number[-4:])
    row.get_by_role("link", name="张*丰").click()
    drawer = page.locator("#certificate-drawer.show")
    drawer.wait_for()
    expect(drawer.locator("[data-testid=detail-status]")).to_have_text("有效")
    check_a11y(page, "#certificate-drawer")
    shoot(page, "certificate-drawer", full_page=False)
    drawer.get_by_label("撤销原因").select_option("issued_in_error")
    page.once("dialog", lambda dialog: dialog.accept())
    drawer.get_by_role("button", name="撤销").click()
    expect(page.locator("#alerts")).to_contain_text("误签发")
    page.get_by_role("navigation", name="按状态查看").get_by_role("link", name="已撤销").click()
    page.wait_for_url("**status=revoked**")
    expect(page.locator("tr[data-status=revoked]")).to_have_count(1)
    assert "已撤销 1" in text_of(page, "nav[aria-label=按状态查看]")
    check_a11y(page)
    shoot(page, "certificate-list")


def test_the_office_adds_a_partner_city_from_a_file_and_refreshes_it(page, live, tmp_path):
    signing.ensure_key("root")
    staff.create_staff("office", STAFF_PASSWORD, "admin", display_name="协调办", by=staff.CLI)
    first = tmp_path / "lanzhou-trust-list.json"
    first.write_bytes(partner_file())
    newer = tmp_path / "lanzhou-trust-list-2.json"
    newer.write_bytes(partner_file(issued=utcnow() + timedelta(minutes=2), revoked=[12, 13]))
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live, "office")
    _menu(page, "互认城市")
    page.wait_for_url("**/console/trust")
    expect(page.get_by_test_id("fingerprint").locator("span")).to_have_count(16)
    expect(page.get_by_test_id("list-url")).to_contain_text("/api/checkin/v1/trust-list")
    check_a11y(page)

    # A wrong fingerprint is refused; the right one (read out by phone, in groups of four) imports.
    form = page.locator("form[action$='/trust/partners']")
    form.get_by_label("或上传对方的列表文件").set_input_files(str(first))
    form.get_by_label("对方根密钥指纹").fill("00" * 32)
    form.get_by_role("button", name="添加").click()
    expect(page.get_by_test_id("trust-error")).to_contain_text("指纹")
    form = page.locator("form[action$='/trust/partners']")
    form.get_by_label("或上传对方的列表文件").set_input_files(str(first))
    form.get_by_label("对方根密钥指纹").fill(partner_fingerprint(spaced=True))
    form.get_by_role("button", name="添加").click()
    expect(page.locator("#alerts")).to_contain_text("已添加互认城市 兰州市")
    row = page.locator("tr[data-partner='620100']")
    expect(row.get_by_test_id("partner-state")).to_have_text("正常")
    expect(row).to_contain_text("上传的文件")
    check_a11y(page)
    shoot(page, "trust-added")

    # A newer list carried by hand: 上传列表文件 on the partner's row.
    row.get_by_label("兰州市 的信任列表文件").set_input_files(str(newer))
    row.get_by_role("button", name="上传列表文件 兰州市").click()
    expect(page.locator("#alerts")).to_contain_text("已同步 兰州市")
    expect(page.locator("tr[data-partner='620100']")).to_contain_text("撤销 2")
    # An uploaded list has no address to fetch: its row offers upload, not 立即同步.
    expect(page.locator("tr[data-partner='620100']").get_by_role("button", name="立即同步 兰州市")).to_have_count(0)
    check_a11y(page)
    shoot(page, "trust-synced")
