"""Sending an export to the browser as an .xlsx attachment, documented in the OpenAPI spec."""
import io

from flask import send_file

from app.services.platform.exports import XLSX_MIMETYPE

# For @bp.doc(responses={200: XLSX_RESPONSE, ...}): the 200 answer is a file, not JSON.
XLSX_RESPONSE = {
    "description": "Excel 文件 (.xlsx)",
    "content": {XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}},
}


def xlsx_download(data, filename):
    """An attachment response for an .xlsx file; the Chinese file name is RFC 5987-encoded by Flask."""
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename,
                     max_age=0)
