"""How a health certificate (健康证明) is shown: its QR as a PNG, its basis in Chinese words, the printable A4 PDF.

The PDF is drawn with reportlab and its built-in CID font STSong-Light (Adobe's Chinese font,
which every PDF reader carries: no font file to ship). The QR is printed 70 mm wide, so a
phone scans it from paper at arm's length.
"""
import io
from datetime import datetime

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from app.services.credentials import credentials

FONT = "STSong-Light"
QR_SIZE = 70 * mm
STATUS_WORDS = {"green": "绿码（健康状况正常）", "yellow": "黄码（健康观察中）", "red": "红码（需隔离观察）"}
OBSERVATION_WORDS = {"none": "无须14天健康观察", "in_progress": "14天健康观察中，至{until}",
                     "completed": "14天健康观察（或隔离）已结束"}
CERTIFICATE_STATUS_WORDS = {"valid": "有效", "revoked": "已撤销", "expired": "已过期"}
VERIFY_LINES = (
    "核验方式：扫码核验。本地及互认城市的卡口、车站、园区使用返岗通扫描上方二维码核验，",
    "无网络时亦可离线核验。证明不含身份证号，核验时请同时出示本人身份证。",
)


def qr_png(text):
    """The certificate text as a QR PNG, in alphanumeric mode (the text is base45, QR-alphanumeric)."""
    return credentials.render_qr_png(text)


def basis_lines(basis):
    """The basis of a certificate (its `view` dict's basis) in Chinese lines, as the PDF prints them."""
    lines = []
    if basis.get("check_temperature") is not None:
        lines.append(f"行前体温检测：{basis['check_temperature']}℃，{_local_minute(basis.get('check_at'))}")
    lines.append("健康状态：" + STATUS_WORDS.get(basis["status"], basis["status"]))
    lines.append("健康观察：" + OBSERVATION_WORDS.get(basis["observation"], basis["observation"])
                 .format(until=basis.get("observation_until") or ""))
    return lines


def pdf(view, png):
    """The one-page A4 PDF of a certificate's view (certificates.view) with its QR PNG; returns bytes."""
    _register_font()
    buffer = io.BytesIO()
    # invariant: the same certificate gives the same bytes (no creation date); uncompressed text keeps it searchable.
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    page.setTitle(f"健康证明 {view['serial']}")
    width, height = A4
    page.setFont(FONT, 28)
    page.drawCentredString(width / 2, height - 30 * mm, "健康证明")
    page.setFont(FONT, 13)
    issuer = f"签发地：{view['issuer']['name']} {view['county']['name'] or view['county']['code']}"
    page.drawCentredString(width / 2, height - 40 * mm, issuer)
    rows = [("姓名", view["name"]), ("身份证号后四位", view["id_last4"]),
            ("签发时间", _local_minute(view["issued_at"])), ("有效期至", _local_minute(view["valid_until"])),
            ("证明编号", str(view["serial"])), ("状态", CERTIFICATE_STATUS_WORDS.get(view["status"], view["status"]))]
    y = height - 56 * mm
    for label, value in rows:
        page.drawString(30 * mm, y, f"{label}：")
        page.drawString(70 * mm, y, value)
        y -= 8 * mm
    page.drawString(30 * mm, y, "出具依据：")
    for line in view["basis_text"]:
        page.drawString(70 * mm, y, line)
        y -= 8 * mm
    if view["status"] != "valid":
        page.setFillColor(HexColor("#C0392B"))
        page.setFont(FONT, 20)
        page.drawCentredString(width / 2, y - 4 * mm, f"本证明{CERTIFICATE_STATUS_WORDS[view['status']]}")
        page.setFillColor(HexColor("#000000"))
    page.drawImage(ImageReader(io.BytesIO(png)), (width - QR_SIZE) / 2, y - 16 * mm - QR_SIZE, QR_SIZE, QR_SIZE)
    page.setFont(FONT, 11)
    y = y - 26 * mm - QR_SIZE
    for line in VERIFY_LINES:
        page.drawCentredString(width / 2, y, line)
        y -= 6 * mm
    page.setFont(FONT, 9)
    page.drawCentredString(width / 2, 15 * mm, "以上时间均为北京时间；证明以扫码核验结果为准。")
    page.showPage()
    page.save()
    return buffer.getvalue()


def _register_font():
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _local_minute(value):
    """An ISO +08:00 time as 2020-02-23 08:30（北京时间）."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M") + "（北京时间）"
