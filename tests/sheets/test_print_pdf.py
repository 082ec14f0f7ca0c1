"""Every export printed by LibreOffice: each sheet, 50 rows through the real API, converted to PDF with
`soffice --headless --convert-to pdf`, then read with pdfinfo and pdftotext.

A clerk's complaints, each checked on paper: columns spread over several pages (every page must carry the
whole header, first column to last, and 序号 1…50 in order), the title split, portrait where the columns
needed landscape, ID numbers and phones clipped or wrapped (their whole text must be in the PDF's text:
LibreOffice writes only the glyphs it shows, and a wrapped number breaks across lines), times shown as ###,
no page numbers. Runs with RUN_SHEETS=1 (`.ci/run` sets it and installs libreoffice-calc and poppler-utils).
"""
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from app.services.credentials import signing
from tests.builders import make_staff, publish_trip
from tests.console.roster_helpers import ROSTER, hr, register
from tests.console.test_liaison import UNITS, unit

RUN_SHEETS = os.environ.get("RUN_SHEETS") == "1"
pytestmark = [pytest.mark.sheets,
              pytest.mark.skipif(not RUN_SHEETS, reason="set RUN_SHEETS=1 to print the sheets with LibreOffice "
                                                        "(.ci/run does)")]
API = "/api/console/v1"
ROWS = 50
BUS = 40  # a manifest holds one vehicle: an 80-seat coach at the notice's 50 % load
# Columns whose every value must be readable on paper, whole.
EXACT_COLUMNS = ("身份证号", "联系电话", "手机号", "办公电话", "身份证后四位")
WITH_PEOPLE = ("attachment1", "attachment3", "roster", "isolation", "manifest")  # 附件2 lists enterprises only
PHONE_MASK = re.compile(r"1\d{2}\*{4}\d{4}")


@pytest.fixture
def tools(backend):
    """soffice, pdfinfo and pdftotext; the layout does not depend on the database, so SQLite only."""
    if backend["BACKEND"] != "sqlite":
        pytest.skip("the print layout is the same on every database; printed once, on SQLite")
    missing = [tool for tool in ("soffice", "pdfinfo", "pdftotext") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"RUN_SHEETS=1 but {', '.join(missing)} not installed (apt-get install libreoffice-calc "
                    "poppler-utils; .ci/run does)", pytrace=False)


def _get(client, path, headers, **query):
    response = client.get(path, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.data


def _sheets_of_fifty(client):
    """{name: xlsx bytes} of every export, each with 50 rows."""
    office = make_staff(client, "office", role="admin")
    for n in range(ROWS):
        assert client.post(UNITS, json=unit(n), headers=office).status_code == 201
    for n in range(ROWS):
        body = {"name": f"（示例）银川第{n}号新材料科技股份有限公司", "county_code": "640121",
                "work_location": "永宁县望远镇工业园区", "products": "口罩、防护服、消毒液", "resume_date": "2020-02-20",
                "remarks": "急需缝纫工，提供食宿"}
        assert client.post(f"{API}/enterprises", json=body, headers=office).status_code == 201
    headers, enterprise_id = hr(client)
    for n in range(ROWS):
        row = register(client, headers, enterprise_id, n=n, origin="四川省成都市武侯区")
        fever = client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups",
                            json={"temperature": 38.2}, headers=headers)
        assert fever.status_code == 201 and fever.json["isolation_order_id"]
    officer = make_staff(client, "weijian", role="health_officer", county_code="640121")
    signing.ensure_key()
    trip = publish_trip(client, passengers=BUS, start=100)
    client.patch(f"{API}/trips/{trip['trip']['id']}", json={"plate": "宁A·12345", "driver_name": "王师傅",
                                                            "driver_phone": "13995001234"}, headers=trip["staff"])
    return {
        "attachment1": _get(client, f"{UNITS}/export", office),
        "attachment2": _get(client, f"{API}/enterprises/export.xlsx", office, county_code="640121"),
        "attachment3": _get(client, f"{API}/exports/attachment3.xlsx", office),
        "roster": _get(client, f"{ROSTER.format(enterprise_id)}.xlsx", headers),
        "isolation": _get(client, f"{API}/isolation-orders.xlsx", officer, full_ids="true"),
        "manifest": _get(client, f"{API}/trips/{trip['trip']['id']}/manifest.xlsx", trip["staff"]),
    }


def _to_pdf(files, folder):
    """Convert every .xlsx in one LibreOffice run, with a profile of its own (parallel runs do not clash)."""
    profile = folder / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), *map(str, files)], check=True, capture_output=True, timeout=300)
    return {path.stem: path.with_suffix(".pdf") for path in files}


def _pages(pdf):
    """[(width, height, text)] of every page: sizes from pdfinfo, text from pdftotext -layout."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    texts = text.split("\f")[:len(sizes)]
    return [(width, height, page) for (width, height), page in zip(sizes, texts)]


def _expectations(data):
    """What the sheet promises: its title, header row, orientation and the values that must print whole."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header_row = next(row for row in range(1, 8) if sheet.cell(row, 1).value == "序号")
    two_rows = sheet.cell(header_row + 1, 1).value is None  # 序号 merged over two header rows (附件1)
    columns = range(1, sheet.max_column + 1)
    leaf = {column: (two_rows and sheet.cell(header_row + 1, column).value) or sheet.cell(header_row, column).value
            for column in columns}
    exact = [str(value) for row in sheet.iter_rows(min_row=header_row + 1 + two_rows, values_only=True)
             for column, value in enumerate(row, start=1) if value and leaf.get(column) in EXACT_COLUMNS]
    notes = " ".join(str(sheet.cell(row, 1).value or "") for row in range(1, header_row))
    exact += PHONE_MASK.findall(notes)
    numbers = [row[0] for row in sheet.iter_rows(min_row=header_row + 1, values_only=True) if isinstance(row[0], int)]
    return {"title": sheet["A1"].value, "rows": len(numbers), "first": "序号", "last": leaf[sheet.max_column],
            "landscape": sheet.page_setup.orientation == "landscape", "exact": exact}


def _problems(name, data, pdf):
    """Everything wrong with one printed sheet, as sentences (empty when it prints as a clerk expects)."""
    expected, pages = _expectations(data), _pages(pdf)
    found = []
    if not pages:
        return [f"{name}: no page printed"]
    text = "\n".join(page for _, _, page in pages)
    if expected["title"] not in pages[0][2]:
        found.append(f"{name}: the title is not whole on page 1")
    for number, (width, height, page) in enumerate(pages, start=1):
        if (width > height) != expected["landscape"]:
            found.append(f"{name}: page {number} is {'landscape' if width > height else 'portrait'}")
        if sorted((round(width), round(height))) != [595, 842]:
            found.append(f"{name}: page {number} is not A4 ({width} x {height})")
        for header in (expected["first"], expected["last"]):
            if header not in page:  # a page holding only spilled-over columns lacks one of the two
                found.append(f"{name}: page {number} lacks the column {header}")
        if not re.search(rf"第\s*{number}\s*页\s*/\s*共\s*{len(pages)}\s*页", page):  # pdftotext's spacing varies
            found.append(f"{name}: page {number} has no footer 第 {number} 页 / 共 {len(pages)} 页")
        if "导出时间" not in page:
            found.append(f"{name}: page {number} has no export time")
    rows = expected["rows"]
    numbers = [int(n) for n in re.findall(r"^\s*(\d{1,3})\s", text, re.MULTILINE) if int(n) <= rows]
    if rows < min(ROWS, BUS) or numbers != list(range(1, rows + 1)):
        found.append(f"{name}: 序号 printed {numbers}, not 1…{rows} in order")
    if len(pages) > 3:
        found.append(f"{name}: {rows} rows took {len(pages)} pages (one page wide takes 2 or 3)")
    if "###" in text:
        found.append(f"{name}: a value printed as ###")
    clipped = [value for value in expected["exact"] if value not in text]
    if clipped:
        found.append(f"{name}: {len(clipped)} ID numbers or phones not printed whole, e.g. {clipped[:3]}")
    if name in WITH_PEOPLE and len(expected["exact"]) < rows:
        found.append(f"{name}: only {len(expected['exact'])} ID numbers or phones to check")
    return found


def test_every_export_prints_one_page_wide_with_ids_and_phones_whole(tools, client, tmp_path):
    exports = _sheets_of_fifty(client)
    files = []
    for name, data in exports.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        files.append(path)
    pdfs = _to_pdf(files, tmp_path)
    problems = [problem for name, data in exports.items() for problem in _problems(name, data, pdfs[name])]
    assert not problems, "\n".join(problems)
    assert len(_pages(pdfs["manifest"])) == 1  # a full coach and its signature lines on one page
    # The wide ones turned landscape, the manifest (eight narrow columns) stayed portrait.
    orientation = {name: _expectations(data)["landscape"] for name, data in exports.items()}
    assert orientation["attachment2"] and orientation["roster"] and not orientation["manifest"]
