"""Reading a certificate's PDF and QR in tests: the PDF's own text objects and its embedded image (zxing-cpp)."""
import base64
import io
import re
import zlib

import zxingcpp
from PIL import Image

from app.extensions import db
from app.models import HealthEvent
from app.models.base import utcnow


def decode_png(png):
    """The text of the QR code in a PNG (zxing-cpp), or None."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found[0].text if found else None


def pdf_pages(pdf):
    """How many pages the PDF has (its /Type /Page objects)."""
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def pdf_media_box(pdf):
    """The page's MediaBox as four floats."""
    return [float(value) for value in re.search(rb"/MediaBox \[ ([^\]]+) \]", pdf).group(1).split()]


def pdf_text(pdf):
    """The text the page draws: every (string) Tj, as reportlab writes CID text (UCS-2, big-endian)."""
    texts = []
    for literal in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", pdf, re.S):
        raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                     else {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(m.group(1), m.group(1)),
                     literal, flags=re.S)
        texts.append(raw.decode("utf-16-be", "replace") if len(raw) % 2 == 0 else raw.decode("latin-1"))
    return "\n".join(texts)


def pdf_qr_text(pdf):
    """Decode the image the PDF embeds (reportlab: ASCII85 + Flate RGB) and read its QR code."""
    match = re.search(rb"<<\s*(/BitsPerComponent[^>]*?/Subtype /Image[^>]*?)>>\s*stream\r?\n", pdf, re.S)
    header = match.group(1)
    width = int(re.search(rb"/Width (\d+)", header).group(1))
    height = int(re.search(rb"/Height (\d+)", header).group(1))
    length = int(re.search(rb"/Length (\d+)", header).group(1))
    data = pdf[match.end():match.end() + length].strip()
    if b"/ASCII85Decode" in header:
        data = base64.a85decode(data.removesuffix(b"~>"))
    pixels = zlib.decompress(data)
    mode = "RGB" if b"/DeviceRGB" in header else "L"
    return decode_png_image(Image.frombytes(mode, (width, height), pixels))


def decode_png_image(image):
    """The text of the QR code in a PIL image, or None."""
    found = zxingcpp.read_barcodes(image)
    return found[0].text if found else None


def pre_trip_check(worker_id, temperature="36.5", hours_ago=1, kind="pre_trip_check"):
    """A check written straight into the health record (as a staff check or a boarding scan would)."""
    from datetime import timedelta

    moment = utcnow() - timedelta(hours=hours_ago)
    db.session.add(HealthEvent(worker_id=worker_id, kind=kind, occurred_at=moment, recorded_at=moment,
                               temperature=temperature, symptoms=[], actor_kind="staff"))
    db.session.commit()
