"""The print rules of every .xlsx export (app/services/platform/exports.py), read back with openpyxl."""
import io
import re
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from app.services.platform import exports
from app.services.platform.exports import Sheet, safe_sheet_name, text_width, workbook, workbook_of
from app.services.platform.timeutil import LOCAL_ZONE

ID_NUMBER = "640104198509271234"
PHONE = "13812345678"
AT = datetime(2020, 2, 25, 7, 30, tzinfo=LOCAL_ZONE)


def _open(data):
    return openpyxl.load_workbook(io.BytesIO(data))


def _xml(data, part):
    """An element of the first sheet's XML as written (openpyxl drops defaults and misreads "&&12")."""
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    return re.search(f"<{part}[ >].*?(</{part}>|/>)", xml).group(0).replace("&amp;", "&")


def _narrow():
    return workbook("名单", ("姓名", "电话"), [("张三", PHONE)])


def _wide(rows=3):
    headers = ("姓名", "身份证号", "联系电话", "从何处返回", "返回日期", "开单时间", "隔离地点", "备注")
    return workbook("隔离人员名单", headers, [
        ("欧阳建国", ID_NUMBER, PHONE, "四川省成都市武侯区", date(2020, 2, 20), datetime(2020, 2, 25, 7, 30),
         "永宁县某酒店（集中隔离点）", "发热，已送医") for _ in range(rows)])


def test_text_width_counts_a_chinese_character_twice():
    assert text_width("ab") == 2 and text_width("张三") == 4 and text_width("（示例）A") == 9
    assert text_width("第一行\n二") == 6  # the longest line


def test_a_numbered_column_is_added_once():
    sheet = _open(_narrow()).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[1] == ["序号", "姓名", "电话"] and rows[2] == [1, "张三", PHONE]
    already = _open(workbook("附件", ("序号", "单位"), [(1, "甲"), (2, "乙")])).active
    assert [list(row) for row in already.iter_rows(values_only=True)][1:] == [["序号", "单位"], [1, "甲"], [2, "乙"]]


def test_groups_move_with_the_added_number_column():
    sheet = _open(workbook("表", ("单位", "办公电话", "手机号"), [("甲", "6017170", PHONE)],
                           groups=(("联系方式", 1, 2),))).active
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:D1", "C2:D2", "A2:A3", "B2:B3"} <= merged
    assert sheet["C3"].value == "办公电话" and sheet["A4"].value == 1


def test_widths_fit_ids_phones_and_times_and_long_text_wraps():
    sheet = _open(_wide()).active
    width = {sheet.cell(2, column).value: sheet.column_dimensions[sheet.cell(2, column).column_letter].width
             for column in range(1, sheet.max_column + 1)}
    assert width["身份证号"] >= len(ID_NUMBER) + 1 and width["联系电话"] >= len(PHONE) + 1
    assert width["开单时间"] >= len("2020-02-25 07:30") + 1 and width["返回日期"] >= len("2020-02-25") + 1
    assert width["从何处返回"] >= text_width("四川省成都市武侯区") + 1  # Chinese counted double
    assert width["序号"] < width["姓名"] < width["身份证号"]
    assert sheet["G3"].number_format == "yyyy-mm-dd hh:mm" and sheet["F3"].number_format == "yyyy-mm-dd"
    long = _open(workbook("表", ("备注",), [("很长的备注" * 30,)])).active
    assert int(long.column_dimensions["B"].width) == exports.MAX_WIDTH
    assert long["B3"].alignment.wrap_text and long.row_dimensions[3].height > 15  # wraps, the row grows


def test_a_row_is_one_line_when_its_column_was_sized_to_it_and_grows_when_it_wraps():
    name = "（示例）银川第10号新材料科技有限公司"
    assert exports.wrapped_lines(name, text_width(name) + exports.PADDING) == 1
    assert exports.wrapped_lines("很长的备注" * 10, exports.MAX_WIDTH) == 3
    assert exports.wrapped_lines("第一行\n第二行", 10) == 2
    sheet = _open(workbook_of([Sheet("表", ("名称", "备注"), [("甲", "短"), ("乙", "很长的备注" * 10)]),
                               Sheet("名单", ("体温",), [(None,)], row_height=20, one_page=True)])).worksheets
    assert sheet[0].row_dimensions[3].height is None and sheet[0].row_dimensions[4].height == 3 * exports.LINE_HEIGHT
    assert sheet[1].row_dimensions[3].height >= 20  # XlsxWriter rounds to whole pixels
    assert sheet[1].page_setup.fitToHeight is None and sheet[0].page_setup.fitToHeight == 0  # absent: 1 page tall


def test_every_cell_of_the_table_has_borders_and_the_title_spans_it():
    sheet = _open(_wide()).active
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:I1"}
    assert sheet["A1"].value == "隔离人员名单" and sheet["A1"].font.b
    for row in sheet.iter_rows(min_row=2, max_row=sheet.max_row):
        for cell in row:
            assert {cell.border.left.style, cell.border.right.style, cell.border.top.style,
                    cell.border.bottom.style} == {"thin"}, cell.coordinate


def test_a4_one_page_wide_headers_repeated_and_a_footer_with_pages_and_time():
    data = workbook_of([Sheet("名单", ("姓名",), [("张三",)])], exported_at=AT)
    sheet = _open(data).active
    assert sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    # fitToWidth left out means 1 (the schema's default): one page wide, as many pages tall as the rows need.
    assert 'fitToHeight="0"' in _xml(data, "pageSetup") and "fitToWidth" not in _xml(data, "pageSetup")
    assert sheet.print_title_rows == "$2:$2"
    footer = sheet.oddFooter
    assert footer.center.text == "第 &P 页 / 共 &N 页" and footer.right.text == "导出时间 2020-02-25 07:30"
    assert footer.left.text == "名单"


def test_export_time_is_beijing_time():
    from datetime import UTC
    sheet = _open(workbook_of([Sheet("名单", ("姓名",), [])], exported_at=datetime(2020, 2, 24, 23, 30,
                                                                                   tzinfo=UTC))).active
    assert sheet.oddFooter.right.text == "导出时间 2020-02-25 07:30"


def test_an_ampersand_in_a_title_is_not_read_as_a_footer_code():
    footer = _xml(workbook("A&B 公司 &12 名单", ("姓名",), []), "oddFooter")
    assert footer.startswith("<oddFooter>&LA&&B 公司 &&12 名单&C第 &P 页")


def test_landscape_only_when_the_columns_need_it():
    assert _open(_narrow()).active.page_setup.orientation == "portrait"
    assert _open(_wide()).active.page_setup.orientation == "landscape"
    assert not exports.landscape_needed([20] * 4) and exports.landscape_needed([20] * 6)


def test_two_header_rows_are_both_repeated():
    sheet = _open(workbook("表", ("单位", "办公电话", "手机号"), [], groups=(("联系方式", 1, 2),))).active
    assert sheet.print_title_rows == "$2:$3"


def test_notes_and_closing_lines_are_merged_and_the_headers_come_after_the_notes():
    data = workbook_of([Sheet("乘车名单", ("座位号", "上车体温"), [(1, None)], notes=("车牌：宁A·12345",),
                              closing=("车长签字：____",), blank_columns=("上车体温",))])
    sheet = _open(data).active
    assert sheet["A2"].value == "车牌：宁A·12345" and sheet["A3"].value == "序号" and sheet["A4"].value == 1
    assert sheet.print_title_rows == "$3:$3" and sheet["A6"].value == "车长签字：____"
    assert {"A1:C1", "A2:C2", "A6:C6"} <= {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.column_dimensions["C"].width >= exports.BLANK_WIDTH  # room to write a temperature by hand


def test_text_stays_text_and_values_keep_their_type():
    sheet = _open(workbook("表", ("a", "b", "c", "d"), [("=1+2", True, 36.8, "0012")])).active
    assert [cell.value for cell in sheet[3]] == [1, "=1+2", "是", 36.8, "0012"]
    assert sheet["B3"].data_type == "s"


@pytest.mark.parametrize("character", list("/\\[]:*?"))
def test_every_character_excel_refuses_in_a_sheet_name_is_replaced(character):
    name = safe_sheet_name(f"银川{character}公司")
    assert character not in name and name == "银川" + character.translate(exports._SHEET_NAME_SWAPS) + "公司"
    data = workbook_of([Sheet(f"银川{character}公司 花名册", ("姓名",), [("张三",)], name=f"银川{character}公司")])
    assert _open(data).sheetnames == [name]


def test_sheet_names_are_cut_to_31_and_kept_unique():
    long = "宁夏回族自治区银川市永宁县望远镇某某新材料科技股份有限公司第一分公司"
    assert len(long) > 31 and safe_sheet_name(long) == long[:31]
    taken = {safe_sheet_name(long).casefold()}
    second = safe_sheet_name(long + "二", taken)
    assert second == long[:28] + "(2)" and len(second) == 31
    assert safe_sheet_name("Sheet", {"sheet", "sheet(2)"}) == "Sheet(3)"
    assert safe_sheet_name("'引号'") == "引号" and safe_sheet_name("  ") == "Sheet"
    assert safe_sheet_name("History") == "History_"
    assert safe_sheet_name("𠀀" * 20) == "𠀀" * 15  # a character beyond the BMP counts two units in Excel
    book = _open(workbook_of([Sheet("t", ("a",), [], name=long + "一"), Sheet("t", ("a",), [], name=long + "二"),
                              Sheet("t", ("a",), [], name=long.upper() + "三")]))
    assert book.sheetnames == [long[:31], long[:28] + "(2)", long[:28] + "(3)"]


def test_no_sheet_gives_a_valid_empty_workbook():
    assert _open(workbook_of([])).sheetnames == ["（空）"]
