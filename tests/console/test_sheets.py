"""Every .xlsx export through the API: named twice (filename + filename*), numbered (序号), laid out for A4;
the roster of an enterprise whose name Excel refuses as a sheet name; the passenger manifest sheet."""
import io
import re
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from app.extensions import db
from app.models import AuditLog
from console.downloads import ascii_fallback, content_disposition
from tests.builders import make_staff, publish_trip
from tests.console.roster_helpers import ROSTER, XIXIA, enterprise, hr, register
from tests.console.test_liaison import UNITS, create

API = "/api/console/v1"
EVERY_REFUSED = "/\\[]:*?"


def rfc6266_name(header):
    """The name a browser saves (RFC 6266: filename* wins over filename)."""
    starred = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    return unquote(starred.group(1)) if starred else re.search(r'filename="([^"]*)"', header).group(1)


def curl_name(header):
    """The name `curl -OJ` saves: curl reads only `filename=` (it does not decode filename*)."""
    return re.search(r'(?:^|;)\s*filename="?([^";]+)', header).group(1)


def download(client, path, headers, **query):
    """An export's answer, checked to be an .xlsx attachment with both names; returns (response, book)."""
    response = client.get(path, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment; ")
    assert re.search(r'filename="[\x20-\x7e]+\.xlsx"', header) and "filename*=UTF-8''" in header
    assert header.isascii()
    return response, openpyxl.load_workbook(io.BytesIO(response.data))


def names_of(response):
    """(the Chinese name a browser keeps, the ASCII name curl -OJ keeps)."""
    header = response.headers["Content-Disposition"]
    assert rfc6266_name(header) == parse_options_header(header)[1]["filename"]
    return rfc6266_name(header), curl_name(header)


def assert_printable(sheet, header_row=2):
    """序号 first, numbered 1…n, title merged over the whole table, A4 fitted one page wide, headers repeated."""
    assert sheet.cell(header_row, 1).value == "序号"
    numbers = [row[0] for row in sheet.iter_rows(min_row=header_row + 1, values_only=True) if isinstance(row[0], int)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert f"A1:{openpyxl.utils.get_column_letter(sheet.max_column)}1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.page_setup.paperSize == 9 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows.startswith(f"${header_row}:")
    assert "第 &P 页 / 共 &N 页" in sheet.oddFooter.center.text and "导出时间" in sheet.oddFooter.right.text
    return numbers


@pytest.fixture
def office(client):
    return make_staff(client, "office", role="admin")


def test_content_disposition_keeps_the_chinese_name_and_a_meaningful_ascii_one():
    header = content_disposition("花名册-3-20200225.xlsx", "roster-3-20200225.xlsx")
    assert header == ("attachment; filename=\"roster-3-20200225.xlsx\"; "
                      "filename*=UTF-8''%E8%8A%B1%E5%90%8D%E5%86%8C-3-20200225.xlsx")
    assert rfc6266_name(header) == "花名册-3-20200225.xlsx" and curl_name(header) == "roster-3-20200225.xlsx"
    assert parse_options_header(header)[1]["filename"] == "花名册-3-20200225.xlsx"
    # Without a given fallback the ASCII part is kept and "export" stands for the Chinese words.
    assert ascii_fallback("附件1_务工人员返岗复工联络员名单.xlsx") == "export-1.xlsx"
    assert ascii_fallback("名单.xlsx") == "export.xlsx" and ascii_fallback("list 名单 v2.xlsx") == "list-v2.xlsx"
    assert content_disposition("a\"b;名单.xlsx", 'a"b\\.xlsx').startswith('attachment; filename="a_b_.xlsx"; ')
    assert "%22" in content_disposition('a"b.xlsx')  # a quote cannot end the encoded name either


def test_attachment1_liaison_list(client, office):
    create(client, office, 0)
    response, book = download(client, f"{UNITS}/export", office)
    assert names_of(response) == ("附件1_务工人员返岗复工联络员名单.xlsx", "attachment1-liaison-units.xlsx")
    sheet = book.active
    assert_printable(sheet, header_row=2)
    assert sheet.print_title_rows == "$2:$3" and sheet["A4"].value == 1  # one 序号, not two
    assert [cell.value for cell in sheet[2]].count("序号") == 1


def test_attachment2_enterprises(client, office):
    response, book = download(client, f"{API}/enterprises/export.xlsx", office)
    chinese, ascii_name = names_of(response)
    assert chinese.startswith("重点企业用工服务保障工作信息汇总表-") and re.fullmatch(
        r"attachment2-enterprises-\d{4}-\d{2}-\d{2}\.xlsx", ascii_name)
    sheet = book.active
    assert len(assert_printable(sheet)) >= 2 and [cell.value for cell in sheet[2]].count("序号") == 1
    assert sheet.page_setup.orientation == "landscape"  # ten columns do not fit a portrait A4


def test_attachment3_roster_and_isolation_list(client, office):
    headers, enterprise_id = hr(client)
    row = register(client, headers, enterprise_id)
    client.post(f"{ROSTER.format(enterprise_id)}/{row['worker_id']}/follow-ups", json={"temperature": 38.2},
                headers=headers)
    response, book = download(client, f"{API}/exports/attachment3.xlsx", office)
    assert re.fullmatch(r"附件3-复工信息登记-\d{8}\.xlsx", names_of(response)[0])
    assert re.fullmatch(r"attachment3-returnees-\d{8}\.xlsx", names_of(response)[1])
    assert assert_printable(book.active) == [1]
    response, book = download(client, f"{ROSTER.format(enterprise_id)}.xlsx", headers)
    assert names_of(response)[1].startswith(f"roster-{enterprise_id}-")
    assert assert_printable(book.active) == [1] and book.active.page_setup.orientation == "landscape"
    response, book = download(client, f"{API}/isolation-orders.xlsx", office)
    assert names_of(response)[1].startswith("isolation-list-")
    sheet = book.active
    assert assert_printable(sheet) == [1] and sheet["C3"].value == row["id_number"]


def test_roster_of_an_enterprise_named_with_every_character_excel_refuses(client):
    headers, enterprise_id = hr(client)
    name = f"银川{EVERY_REFUSED}新材料科技有限公司永宁县望远镇第一生产基地包装车间"
    enterprise().name = name
    db.session.commit()
    register(client, headers, enterprise_id)
    response, book = download(client, f"{ROSTER.format(enterprise_id)}.xlsx", headers)
    (tab,) = book.sheetnames
    assert len(tab) == 31 and not set(EVERY_REFUSED) & set(tab) and tab.startswith("银川／＼【】：＊？新材料")
    assert book.active["A1"].value == f"{name} 返岗人员花名册"  # the title keeps the name as written
    attachment3 = download(client, f"{API}/exports/attachment3.xlsx", headers)[1].active
    assert attachment3["H3"].value == name


# --- the passenger manifest sheet ----------------------------------------------------------


@pytest.fixture
def trip(client):
    return publish_trip(client, passengers=4)


def manifest_url(trip_id):
    return f"{API}/trips/{trip_id}/manifest.xlsx"


def test_manifest_sheet_of_a_trip_masked_as_the_manifest(client, trip):
    trip_id = trip["trip"]["id"]
    response, book = download(client, manifest_url(trip_id), trip["staff"])
    assert names_of(response) == (f"乘车名单-车次{trip_id}.xlsx", f"manifest-trip-{trip_id}.xlsx")
    (sheet,) = book.worksheets
    assert sheet.title.startswith(f"车次{trip_id}")
    assert sheet["A1"].value == f"“点对点”返岗专车乘车名单 · 车次 #{trip_id}"
    assert sheet["A2"].value.startswith("出发：") and "车长：" in sheet["A4"].value
    listed = client.get(f"/api/checkin/v1/trips/{trip_id}/manifest", headers=trip["staff"]).json["seats"]
    assert [cell.value for cell in sheet[5]] == ["序号", "座位号", "姓名", "身份证后四位", "乘车状态", "健康状况",
                                                 "上车体温", "到达体温", "备注"]
    rows = [list(row) for row in sheet.iter_rows(min_row=6, max_row=5 + len(listed), values_only=True)]
    assert [row[1:6] for row in rows] == [[seat["seat_no"], seat["name"], seat["id_last4"], "已编班", "正常"]
                                          for seat in listed]
    assert_printable(sheet, header_row=5)
    assert sheet.print_title_rows == "$5:$5" and "车长签字" in sheet.cell(sheet.max_row, 1).value
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "export.manifest"))
    assert entry.object_id == trip_id and entry.details["trips"] == [trip_id] and entry.details["rows"] == 4


def test_manifest_of_a_convoy_and_of_a_day_one_sheet_per_vehicle(client):
    staff = make_staff(client, "ops")
    first = publish_trip(client, passengers=4, staff_headers=staff)
    second = publish_trip(client, passengers=2, start=10, staff_headers=staff)
    ids = sorted([first["trip"]["id"], second["trip"]["id"]])
    response, book = download(client, f"{API}/trips/manifests.xlsx", staff)
    assert re.fullmatch(r"manifests-\d{4}-\d{2}-\d{2}\.xlsx", names_of(response)[1])
    assert [sheet.title.split()[0] for sheet in book.worksheets] == [f"车次{n}" for n in ids]
    assert [sheet.max_row for sheet in book.worksheets] == [5 + 4 + 2, 5 + 2 + 2]
    none = download(client, f"{API}/trips/manifests.xlsx", staff, date="2020-01-01")[1]
    assert none.sheetnames == ["乘车名单"] and none.active["A1"].value == "没有符合条件的车次"
    assert client.get(f"{API}/trips/manifests.xlsx", headers=staff, query_string={"date": "x"}).status_code == 422
    convoy = download(client, manifest_url(ids[0]), staff, convoy="true")
    assert names_of(convoy[0])[1] == f"manifest-convoy-{ids[0]}.xlsx" and len(convoy[1].worksheets) >= 1


def test_manifest_sheet_scope_and_roles(client, trip):
    trip_id = trip["trip"]["id"]
    other_county = make_staff(client, "xingqing", county_code="640104")
    response = client.get(manifest_url(trip_id), headers=other_county)
    assert response.status_code == 404 and response.json["error"]["code"] == "trip_not_found"
    response = client.get(manifest_url(2147483647), headers=trip["staff"])
    assert response.status_code == 404
    officer = make_staff(client, "weijian", role="health_officer", county_code="640121")
    hr_headers, _ = hr(client, XIXIA, "hr-x")
    for headers in (officer, hr_headers):
        for path in (manifest_url(trip_id), f"{API}/trips/manifests.xlsx"):
            response = client.get(path, headers=headers)
            assert response.status_code == 403 and response.json["error"]["code"] == "forbidden_role"
    assert client.get(manifest_url(trip_id)).status_code == 401
    day = client.get(f"{API}/trips/manifests.xlsx", headers=other_county)
    assert openpyxl.load_workbook(io.BytesIO(day.data)).sheetnames == ["乘车名单"]  # nothing of 永宁县
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "export.manifest",
                                                    AuditLog.object_id == trip_id)) is None
