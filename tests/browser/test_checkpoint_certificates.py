"""Another city's health certificate (互认) at the scan station, in a real browser.

兰州市's trust list is imported from a saved file (`partners.add`, as `flask trust add` does), its
certificates signed as it signs them (tests/certificates/partner_city.py). The officer scans one:
复核, holder not registered here → the form opens in place → registers with the ID card → 放行; a
partner whose data is 30 hours old → amber with its age; a revoked certificate → red; offline a certificate
is neither queued nor registered; and this city's own certificate passes with live trust data.
"""
from playwright.sync_api import expect
from sqlalchemy import select

from app import crypto
from app.extensions import db
from app.models import ScanEvent, Worker
from app.models.base import utcnow
from app.services.accounts import staff
from app.services.credentials import certificates, signing
from app.services.people.identity import mask_id_number
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.browser.test_checkpoint import _scan, _seq
from tests.builders import STAFF_PASSWORD, make_id_number
from tests.certificates.partner_city import PARTNER_COUNTY, PartnerCity
from tests.console_web.checkpoint_helpers import checkpoint_id

REGISTER = "**/api/checkin/v1/certificates/register"
HOLDER_ID = make_id_number(area=PARTNER_COUNTY, sequence=461)
OTHER_ID = make_id_number(area=PARTNER_COUNTY, sequence=462)


def _station(page, live, tmp_path, **partner):
    """兰州市 imported from a saved list, the 银川火车站 officer signed in at the station; returns the partner."""
    city = PartnerCity(tmp_path, **partner)
    city.add()
    staff.create_staff("railway", STAFF_PASSWORD, "checkpoint_staff", display_name="李卡口",
                       checkpoint_id=checkpoint_id(), by=staff.CLI)
    # The verdict's colour fades in 0.1 s: axe-core run in the middle of the fade reads a colour in between.
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live, "railway")
    assert page.url.endswith("/console/checkpoint")
    return city


def _register(page, id_number, name, mobile="13900000001"):
    """Type into the open registration form and press Enter, as the officer does from the ID card."""
    page.fill("#register-id", id_number)
    page.fill("#register-name", name)
    page.fill("#register-mobile", mobile)
    page.press("#register-name", "Enter")


def _focused(page):
    return page.evaluate("document.activeElement.id")


def test_a_partner_certificate_is_registered_in_place_and_passes(page, live, tmp_path, console_log):
    city = _station(page, live, tmp_path)
    sent = []
    page.on("request", lambda request: sent.append(request.post_data_json) if "/certificates/register" in request.url
            else None)
    page.fill("#scan-temperature", "36.8")
    page.press("#scan-temperature", "Enter")
    qr = city.certificate(HOLDER_ID)
    shown = _scan(page, qr)
    assert shown["state"] == "recheck" and "复核" in shown["text"] and "尚未在本地登记" in shown["text"], shown
    card = text_of(page, "[data-testid=verdict-certificate]")
    for said in ("兰州市 · 县区代码 620102", "王*明", HOLDER_ID[-4:], "绿码", "行前体温 36.4℃", "已结束",
                 "互认数据 1 小时前更新"):
        assert said in card, (said, card)
    assert "须人工复核" not in card and HOLDER_ID not in page.content()
    expect(page.locator("[data-testid=register-form]")).to_be_visible()
    assert _focused(page) == "register-id"  # the officer types from the ID card at once
    assert text_of(page, "[data-testid=register-reading]") == "体温 36.8℃，症状：无"
    check_a11y(page)
    shoot(page, "checkpoint-certificate-unregistered")
    shoot(page, "checkpoint-certificate-unregistered-screen", full_page=False)  # what the officer sees

    # The ID card says another number: refused beside the field, nothing stored, the form stays.
    console_log.allow("HTTP 422 POST")
    console_log.allow("HTTP 409 POST")
    _register(page, OTHER_ID, "王小明")
    expect(page.locator("#register-id-error")).to_have_text("身份证号或姓名与健康证明不符")
    assert page.get_attribute("#register-id", "aria-invalid") == "true" and _focused(page) == "register-id"
    _register(page, HOLDER_ID, "李小明")
    expect(page.locator("#register-name-error")).to_have_text("与健康证明不符")
    assert page.get_attribute("#register-id", "aria-invalid") is None
    check_a11y(page, "#register-form")
    shoot(page, "checkpoint-certificate-register-error")

    # The network drops as the officer presses Enter: the same registration is retried with the same id.
    page.route(REGISTER, lambda route: route.abort("internetdisconnected"))
    _register(page, HOLDER_ID, "王小明", "13900000001")
    expect(page.locator("[data-testid=register-error]")).to_contain_text("网络中断，未能登记")
    page.unroute(REGISTER)
    seq = _seq(page)
    page.press("#register-mobile", "Enter")
    page.locator(f"#verdict[data-seq='{seq + 1}']").wait_for()
    assert page.get_attribute("#verdict", "data-verdict") == "allow"
    verdict = text_of(page, "#verdict")
    assert "放行" in verdict and "（已核对身份证）" in verdict and "新建档案" in verdict, verdict
    assert HOLDER_ID not in page.content()
    expect(page.locator("[data-testid=register-form]")).to_be_hidden()
    assert _focused(page) == "scan-qr"
    check_a11y(page)
    shoot(page, "checkpoint-certificate-registered")

    ids = [body["client_event_id"] for body in sent]
    assert len(sent) == 4 and ids[0] != ids[1] != ids[2] and ids[2] == ids[3], ids  # refused: new; lost: same
    assert {body["temperature"] for body in sent} == {36.8} and sent[3]["mobile"] == "13900000001"
    db.session.rollback()
    worker = db.session.scalar(select(Worker))
    assert worker.name == "王小明" and worker.openid is None
    stored = db.session.scalars(select(ScanEvent.client_event_id).where(ScanEvent.worker_id == worker.id)).all()
    assert stored == [ids[3]]

    # Registered now: the next scan of the same certificate passes at once.
    again = _scan(page, qr)
    assert again["state"] == "allow" and "王*明" in again["text"], again


def test_esc_closes_the_form_and_the_symptoms_it_kept(page, live, tmp_path):
    city = _station(page, live, tmp_path)
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/certificates/register" in request.url else None)
    page.click("#symptom-box summary")
    page.check("#symptom-cough")
    page.focus("#scan-qr")
    _scan(page, city.certificate(OTHER_ID, name="赵小红", serial=2))
    expect(page.locator("[data-testid=register-form]")).to_be_visible()
    assert page.is_checked("#symptom-cough")  # what was typed for this arrival stays for the registration
    expect(page.locator("[data-testid=register-reading]")).to_have_text("体温 36.5℃，症状：咳嗽")
    page.keyboard.press("Enter")  # nothing typed yet: said beside the fields, nothing sent
    expect(page.locator("#register-id-error")).to_have_text("请填写身份证号")
    expect(page.locator("#register-name-error")).to_have_text("请填写姓名")
    page.click("#verdict")  # focus goes back to the scan input; Esc still cancels the form
    assert _focused(page) == "scan-qr"
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=register-form]")).to_be_hidden()
    assert _focused(page) == "scan-qr" and not page.is_checked("#symptom-cough") and sent == []


def test_a_stale_partner_is_amber_and_says_how_old_its_data_is(page, live, tmp_path):
    city = _station(page, live, tmp_path, signed_hours_ago=30)  # a list carried by hand, signed 30 hours ago
    shown = _scan(page, city.certificate(HOLDER_ID))
    assert shown["state"] == "recheck" and "复核" in shown["text"] and "30小时未更新" in shown["text"], shown
    card = text_of(page, "[data-testid=verdict-certificate]")
    assert "互认数据 30 小时前更新" in card and "已超过 24 小时，须人工复核" in card, card
    assert page.get_attribute("[data-testid=certificate-trust]", "class") == "fg-trust-stale"  # bold, underlined
    assert page.get_attribute("[data-testid=verdict-certificate]", "data-stale") == "1"
    # Old trust data, but a genuine certificate and no record here: the officer looks, and may register the holder.
    expect(page.locator("[data-testid=register-form]")).to_be_visible()
    check_a11y(page)
    shoot(page, "checkpoint-certificate-stale")


def test_a_revoked_certificate_is_red(page, live, tmp_path):
    city = _station(page, live, tmp_path, revoked=[5])
    shown = _scan(page, city.certificate(HOLDER_ID, serial=5))
    assert shown["state"] == "deny" and "拒绝" in shown["text"] and "已被签发地撤销" in shown["text"], shown
    assert "兰州市" in text_of(page, "[data-testid=verdict-certificate]")
    expect(page.locator("[data-testid=register-form]")).to_be_hidden()
    check_a11y(page)
    shoot(page, "checkpoint-certificate-revoked")


def test_offline_a_certificate_is_neither_registered_nor_queued(page, live, tmp_path):
    city = _station(page, live, tmp_path)
    qr = city.certificate(HOLDER_ID)
    # The network fails while the browser still thinks it is online: a trip QR would be queued, a certificate not.
    page.route("**/api/checkin/v1/scans", lambda route: route.abort("internetdisconnected"))
    shown = _scan(page, qr)
    assert shown["state"] == "error" and "网络中断" in shown["text"] and "不存入待上传" in shown["text"], shown
    assert text_of(page, "[data-testid=queue]") == "待上传 0 条"
    page.unroute("**/api/checkin/v1/scans")
    _scan(page, qr)
    expect(page.locator("[data-testid=register-form]")).to_be_visible()
    page.context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    _register(page, HOLDER_ID, "王小明")
    expect(page.locator("[data-testid=register-error]")).to_contain_text("离线时不能登记外地健康证明")
    page.keyboard.press("Escape")
    shown = _scan(page, qr)
    assert shown["state"] == "error" and "须联网" in shown["text"] and "不存入待上传" in shown["text"], shown
    assert text_of(page, "[data-testid=queue]") == "待上传 0 条"
    check_a11y(page)
    shoot(page, "checkpoint-certificate-offline")
    page.context.set_offline(False)
    db.session.rollback()
    assert db.session.scalar(select(Worker.id)) is None


def test_this_citys_own_certificate_passes_with_live_data(page, live, tmp_path):
    _station(page, live, tmp_path)
    signing.ensure_key("certificate")
    worker = Worker(openid="openid-own", name="张三丰", consent_version="2020-02-v1", consent_at=utcnow())
    crypto.seal(worker, "id_number", make_id_number(sequence=463), "worker.id_number", mask_id_number, indexed=True)
    db.session.add(worker)
    db.session.flush()
    row = certificates.sign_and_store(worker, "640104", {"status": "green", "observation": "none"}, "staff")
    db.session.commit()
    shown = _scan(page, row.text)
    assert shown["state"] == "allow" and "放行" in shown["text"], shown
    card = text_of(page, "[data-testid=verdict-certificate]")
    assert "银川市 · 兴庆区" in card and "张*丰" in card and "本地签发，实时数据" in card, card
    assert "无须14天健康观察" in card and "行前体温" not in card
