"""A checkpoint night in a real browser: 30 passengers scanned as a wedge scanner types, 10 of them offline.

Then the figure: time from Enter to the verdict on screen, over 100 scans (run it against MariaDB:
RUN_BROWSER=1 TEST_DATABASE_URL=... serves gunicorn on MariaDB).
"""
import statistics
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import ScanEvent
from app.services.accounts import staff
from app.services.credentials import credentials
from tests.browser.helpers import check_a11y, shoot, shots_dir, sign_in, text_of
from tests.builders import STAFF_PASSWORD
from tests.console_web.checkpoint_helpers import bus_to, checkpoint_id

BATCH = "**/api/checkin/v1/scans/batch"


def _station(live, passengers=30, board=True):
    """A bus of `passengers` heading to 银川火车站 (boarded by its captain) and the station's officer."""
    railway = checkpoint_id()
    bus = bus_to(live.client, railway, passengers=passengers, board=board)
    staff.create_staff("railway", STAFF_PASSWORD, "checkpoint_staff", display_name="李卡口", checkpoint_id=railway, by=staff.CLI)
    return bus


def _forged(qr):
    """A QR text that decodes like a real one but whose signature does not hold."""
    raw = bytearray(credentials.base45_decode(qr[len(credentials.PREFIX):]))
    raw[-1] ^= 0x01
    return credentials.PREFIX + credentials.base45_encode(bytes(raw))


def _seq(page):
    return int(page.get_attribute("#verdict", "data-seq"))


def _scan(page, text, temperature=None, wedge=True):
    """Scan one code as a handheld scanner does (types the text, then Enter); returns what the verdict shows."""
    seq = _seq(page)
    if temperature is not None:
        page.fill("#scan-temperature", temperature)
        page.press("#scan-temperature", "Enter")  # back to the scan input
    assert page.evaluate("document.activeElement.id") == "scan-qr", "the scan input must hold the focus"
    if wedge:
        page.keyboard.type(text)
        page.keyboard.press("Enter")
    else:
        page.fill("#scan-qr", text)
        page.press("#scan-qr", "Enter")
    page.locator(f"#verdict[data-seq='{seq + 1}']").wait_for()  # a selector, not a script: the CSP forbids eval
    return {"state": page.get_attribute("#verdict", "data-verdict"), "text": text_of(page, "#verdict"),
            "id": page.get_attribute("#verdict", "data-client-event-id"),
            "ms": float(page.get_attribute("#verdict", "data-ms"))}


def test_a_checkpoint_night_with_the_network_cut_for_ten(page, live, console_log):
    bus = _station(live)
    qrs = list(bus["qrs"].values())
    sign_in(page, live, "railway")
    assert page.url.endswith("/console/checkpoint")
    assert "已到 0 / 30" in text_of(page, "#expected")
    check_a11y(page)
    shoot(page, "checkpoint-idle")
    sent = []
    console_log.allow("HTTP 422 POST")  # a reading out of range, refused by the API (and stored nowhere)
    shown = _scan(page, qrs[0], temperature="45")
    assert shown["state"] == "error" and "体温应在 34.0 到 43.0 之间" in shown["text"], shown
    page.fill("#scan-temperature", "36.5")
    page.press("#scan-temperature", "Enter")

    # Online: 15 pass, 2 with fever, 2 forged codes, 1 who already arrived.
    for qr in qrs[:15]:
        shown = _scan(page, qr)
        assert shown["state"] == "allow" and "放行" in shown["text"] and "张*丰" in shown["text"], shown
        sent.append(shown["id"])
    assert "36.5" == page.input_value("#scan-temperature")
    shoot(page, "checkpoint-allow")
    for qr in qrs[15:17]:
        shown = _scan(page, qr, temperature="38.4")
        assert shown["state"] == "isolate" and "隔离" in shown["text"] and "38.4" in shown["text"], shown
        sent.append(shown["id"])
    assert page.input_value("#scan-temperature") == "38.4"  # the field keeps its last value
    check_a11y(page)
    shoot(page, "checkpoint-isolate")
    page.fill("#scan-temperature", "36.6")
    page.press("#scan-temperature", "Enter")
    for qr in qrs[17:19]:
        shown = _scan(page, _forged(qr))
        assert shown["state"] == "deny" and "拒绝" in shown["text"] and "篡改" in shown["text"], shown
        assert "张*丰" not in shown["text"]  # a refused code discloses nobody
        sent.append(shown["id"])
    check_a11y(page)
    shoot(page, "checkpoint-deny")
    shown = _scan(page, qrs[0])
    assert shown["state"] == "recheck" and "复核" in shown["text"] and "已登记到达" in shown["text"], shown
    sent.append(shown["id"])
    check_a11y(page)
    shoot(page, "checkpoint-recheck")
    expect(page.locator("#expected")).to_contain_text("已到 17 / 30")
    assert "需关注 2 人" in text_of(page, "#expected")

    # The network goes: 10 more (8 pass, 1 fever, 1 repeat) wait in the browser.
    page.route(BATCH, lambda route: route.fulfill(status=503, content_type="application/json",
                                                  body='{"error": {"code": "unavailable", "message": "忙"}}'))
    console_log.allow("HTTP 503 POST")
    page.context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    offline = [(qr, None) for qr in qrs[19:27]] + [(qrs[27], "38.1"), (qrs[1], "36.6")]
    for qr, temperature in offline:
        shown = _scan(page, qr, temperature=temperature)
        assert shown["state"] == "queued" and "已离线保存，联网后自动上传" in shown["text"], shown
        sent.append(shown["id"])
    assert text_of(page, "[data-testid=queue]") == "待上传 10 条"
    check_a11y(page)
    shoot(page, "checkpoint-offline-queue")

    # Back online while the server is in trouble: nothing is lost, the queue survives a reload.
    page.context.set_offline(False)
    expect(page.locator("#net-state")).to_have_text("在线")
    page.wait_for_timeout(500)
    page.reload()
    assert text_of(page, "[data-testid=queue]") == "待上传 10 条"
    assert page.input_value("#scan-temperature") == "36.6"
    # The network drops and returns once more, the server answers again: the queue goes up by itself.
    page.unroute(BATCH)
    page.context.set_offline(True)
    page.context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_text("0")
    summary = text_of(page, "#upload-summary")
    assert summary.startswith("已上传 10 条：放行 8，复核 1，隔离 1，拒绝 0；冲突 1 条"), summary
    expect(page.locator("#expected")).to_contain_text("已到 26 / 30")
    assert "需关注 3 人" in text_of(page, "#expected")
    check_a11y(page)
    shoot(page, "checkpoint-uploaded")

    # Every scan stored exactly once, with the verdicts the screen showed.
    db.session.rollback()
    rows = db.session.execute(select(ScanEvent.client_event_id, ScanEvent.verdict, ScanEvent.reason, ScanEvent.mode)
                              .where(ScanEvent.actor_kind == "staff")).all()
    assert len(sent) == len(set(sent)) == 30
    assert sorted(row.client_event_id for row in rows) == sorted(sent)
    verdicts = sorted((row.verdict, row.reason, row.mode) for row in rows)
    assert verdicts.count(("allow", "ok", "online")) == 15 and verdicts.count(("allow", "ok", "offline")) == 8
    assert verdicts.count(("isolate", "fever", "online")) == 2 and verdicts.count(("isolate", "fever", "offline")) == 1
    assert verdicts.count(("deny", "invalid", "online")) == 2
    assert verdicts.count(("deny", "already_arrived", "online")) == verdicts.count(("deny", "already_arrived",
                                                                                       "offline")) == 1


def test_time_from_enter_to_verdict_over_100_scans(page, live):
    bus = _station(live, board=False)
    qrs = list(bus["qrs"].values())
    sign_in(page, live, "railway")
    page.select_option("#scan-kind", "checkpoint")
    page.focus("#scan-qr")
    in_page, seen_by_test = [], []
    for n in range(100):
        began = time.perf_counter()
        shown = _scan(page, qrs[n % len(qrs)], wedge=False)
        seen_by_test.append((time.perf_counter() - began) * 1000)
        assert shown["state"] == "allow", shown
        in_page.append(shown["ms"])
    figures = {name: (statistics.median(values), statistics.quantiles(values, n=20)[18])
               for name, values in (("in page", in_page), ("seen by the test", seen_by_test))}
    report = "; ".join(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms" for name, (median, p95) in figures.items())
    line = f"checkpoint scan station, Enter → verdict on screen, 100 scans on {live.backend}: {report}"
    print("\n" + line)
    with open(shots_dir() / f"{live.backend}-checkpoint-latency.txt", "w", encoding="utf-8") as out:
        out.write(line + "\n")
    assert figures["in page"][1] < 1500  # the goal is ≤ 300 ms; this guards against a stall, not a slow machine


def _qr_video(text, path, width=640, height=480, frames=10):
    """A Y4M clip of a QR code on white, for chromium's fake camera (--use-file-for-fake-video-capture)."""
    import qrcode
    from PIL import Image

    code = qrcode.make(text, box_size=8, border=4).get_image().convert("L")
    frame = Image.new("L", (width, height), 255)
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    chroma = bytes([128]) * (width * height // 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        out.writelines(b"FRAME\n" + frame.tobytes() + chroma for _ in range(frames))
    return path


# What the camera shows, read back from the page when no code came out of it: the frame's size, its
# darkest and lightest luma, how many dark pixels, and what ZXing makes of that very frame.
_CAMERA_FRAME = """() => {
  const video = document.getElementById('camera-view');
  if (!video || !video.videoWidth) { return {video: video ? video.readyState : null}; }
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const context = canvas.getContext('2d');
  context.drawImage(video, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let low = 255, high = 0, dark = 0;
  for (let i = 0; i < data.length; i += 4) { low = Math.min(low, data[i]); high = Math.max(high, data[i]); if (data[i] < 64) { dark++; } }
  let decoded;
  try { decoded = new ZXingBrowser.BrowserQRCodeReader().decodeFromCanvas(canvas).getText().slice(0, 12); }
  catch (error) { decoded = ((error && error.name) + ': ' + (error && error.message)).slice(0, 80); }
  return {video: video.readyState, size: [canvas.width, canvas.height], luma: [low, high], dark, decoded};
}"""


def _open_camera(chromium, live, clip, errors):
    """A browser of its own (the fake camera is a launch flag, playing `clip`), signed in at the station,
    with the camera button pressed; returns (browser, page, seq before the scan)."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}"])
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live.url)
    context.grant_permissions(["camera"], origin=live.url)
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live, "railway")
    seq = _seq(page)
    page.get_by_role("button", name="摄像头扫码").click()
    return browser, page, seq


def test_the_camera_button_decodes_a_code_into_the_same_path(live, chromium, tmp_path):
    bus = _station(live, passengers=3)
    errors, tried = [], []
    # ZXing cannot read every perfectly drawn synthetic code: in .ci/run it once failed on one passenger's
    # code in two browsers while the frame it read held the whole code (its own decodeFromCanvas failed on
    # that very frame, printed below). A camera never gives such a perfect image; the test then shows the
    # next passenger's code, in a new browser, as an officer would hold up the next phone.
    for qr in bus["qrs"].values():
        clip = _qr_video(qr, tmp_path / f"qr{len(tried)}.y4m")
        browser, page, seq = _open_camera(chromium, live, clip, errors)
        try:
            try:
                page.locator(f"#verdict[data-seq='{seq + 1}']").wait_for(timeout=20_000)
            except PlaywrightTimeout:
                tried.append({"button": page.inner_text("#camera-button"), "frame": page.evaluate(_CAMERA_FRAME)})
                print(f"camera gave nothing in 20 s: {tried[-1]}")
                continue
            assert page.get_attribute("#verdict", "data-verdict") == "allow"
            assert "放行" in text_of(page, "#verdict") and "张*丰" in text_of(page, "#verdict")
            assert page.locator("#camera-box").is_hidden()
            assert page.evaluate("document.activeElement.id") == "scan-qr"
            break
        finally:
            browser.close()
    assert len(tried) < len(bus["qrs"]), f"no passenger's code was read from the camera: {tried}"
    assert errors == []
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ScanEvent).where(ScanEvent.actor_kind == "staff")) == 1


def test_a_reading_typed_wrong_offline_does_not_hold_back_the_queue(page, live, console_log):
    bus = _station(live, passengers=3)
    qrs = list(bus["qrs"].values())
    sign_in(page, live, "railway")
    page.context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    wrong = _scan(page, qrs[0], temperature="365")  # a slip of the finger: 36.5 meant
    right = _scan(page, qrs[1], temperature="36.5")
    assert wrong["state"] == right["state"] == "queued"
    console_log.allow("HTTP 422 POST")  # the batch holding the wrong reading, refused as a whole
    page.context.set_offline(False)
    expect(page.locator("#upload-summary")).to_contain_text("1 条扫码数据有误、未能上传，请重新扫码")
    assert "体温" in text_of(page, "#upload-list")
    shoot(page, "checkpoint-invalid-set-aside")
    expect(page.locator("#queue-count")).to_have_text("0", timeout=20_000)  # the rest went up at the next try
    db.session.rollback()
    stored = set(db.session.scalars(select(ScanEvent.client_event_id).where(ScanEvent.actor_kind == "staff")))
    assert right["id"] in stored and wrong["id"] not in stored
