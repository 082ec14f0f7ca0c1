"""The health certificate's PDF as poppler reads it: one A4 page whose text says what a checkpoint officer reads.

Runs with RUN_SHEETS=1 (`.ci/run` sets it and installs poppler-utils); without it, tests/console/test_certificates.py
reads the same PDF's text objects directly.
"""
import os
import shutil
import subprocess

import pytest

from app.services.credentials import signing
from tests.builders import make_id_number, make_staff, make_worker, submit_application

RUN_SHEETS = os.environ.get("RUN_SHEETS") == "1"
pytestmark = [pytest.mark.sheets,
              pytest.mark.skipif(not RUN_SHEETS, reason="set RUN_SHEETS=1 to read PDFs with poppler")]


def test_poppler_reads_the_certificate(client, backend, tmp_path):
    if backend["BACKEND"] != "sqlite":
        pytest.skip("the PDF does not depend on the database")
    assert shutil.which("pdftotext") and shutil.which("pdfinfo"), "install poppler-utils"
    signing.ensure_key("certificate")
    headers = make_worker(client)
    submit_application(client, headers)
    worker_id = client.get("/api/mp/v1/me", headers=headers).json["id"]
    officer = make_staff(client, "weijian", role="health_officer", county_code="640121")
    serial = client.post(f"/api/console/v1/workers/{worker_id}/certificates", json={"temperature": 36.6},
                         headers=officer).json["serial"]
    path = tmp_path / "certificate.pdf"
    path.write_bytes(client.get("/api/mp/v1/certificates/current.pdf", headers=headers).data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info and "(A4)" in info
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("健康证明", "签发地：银川市 永宁县", "张*丰", make_id_number(sequence=100)[-4:], str(serial),
                     "行前体温检测：36.6℃", "绿码", "扫码核验", "互认城市", "北京时间"):
        assert expected in text, expected
    assert make_id_number(sequence=100) not in text
