"""Sending an export to the browser as an .xlsx attachment, documented in the OpenAPI spec.

Every download names its file twice (RFC 6266): `filename*` in UTF-8, the Chinese name browsers
save, and `filename`, an ASCII name for clients that read only that one (curl -OJ, old mail
gateways). The ASCII name is meaningful (roster-3-2020-02-25.xlsx), not the Chinese name with its
characters dropped.
"""
import io
import re
import unicodedata
from urllib.parse import quote

from flask import send_file

from app.services.platform.exports import XLSX_MIMETYPE

# For @bp.doc(responses={200: XLSX_RESPONSE, ...}): the 200 answer is a file, not JSON.
XLSX_RESPONSE = {
    "description": "Excel 文件 (.xlsx)",
    "content": {XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}},
}


def xlsx_download(data, filename, ascii_name=None):
    """An attachment response for an .xlsx file named `filename` (Chinese), with `ascii_name` as the fallback.

    Without ascii_name the fallback is the name's ASCII part, "export" standing for the Chinese words.
    """
    response = send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename,
                         max_age=0)
    response.headers["Content-Disposition"] = content_disposition(filename, ascii_name)
    return response


def content_disposition(filename, ascii_name=None):
    """`attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded name>` (RFC 6266 and RFC 8187)."""
    fallback = _ascii_only(ascii_name or ascii_fallback(filename))
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def ascii_fallback(filename):
    """An ASCII file name from a Chinese one: its ASCII runs kept, "export" for the words that were Chinese."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    kept = re.sub(r"[^A-Za-z0-9]+", "-", unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode())
    kept = kept.strip("-")
    if not re.search(r"[A-Za-z]", kept):
        kept = f"export-{kept}" if kept else "export"
    return f"{kept}.{extension}" if extension else kept


def _ascii_only(name):
    """A name safe inside a quoted header parameter: printable ASCII without quotes or backslashes."""
    return re.sub(r'[^\x20-\x7e]|["\\]', "_", name)
