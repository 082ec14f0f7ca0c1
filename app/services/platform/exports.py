"""Excel exports (.xlsx, XlsxWriter) of the office's tables, written the same way for every sheet.

Cells are written by type: text always as text, so a name starting with "=" can never
become a formula in the HR clerk's Excel; dates as real dates; numbers as numbers.
"""
import io
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(title, headers, rows, groups=()):
    """An .xlsx file (bytes) with one sheet: a title row, optional header groups, headers, rows.

    `groups` are (label, first_column, last_column) merged above the headers, as in 附件1
    where 联系方式 spans 办公电话 and 手机号. Headers with no group span both header rows.
    """
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1, "text_wrap": True})
    heading = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    cell = book.add_format({"border": 1})
    day = book.add_format({"border": 1, "num_format": "yyyy-mm-dd"})
    moment = book.add_format({"border": 1, "num_format": "yyyy-mm-dd hh:mm"})

    sheet.merge_range(0, 0, 0, max(len(headers) - 1, 1), title, heading)
    header_row = 1
    if groups:
        header_row = 2
        grouped = set()
        for label, first, last in groups:
            sheet.merge_range(1, first, 1, last, label, bold) if last > first else sheet.write_string(1, first, label, bold)
            grouped.update(range(first, last + 1))
        for column, header in enumerate(headers):
            if column not in grouped:
                sheet.merge_range(1, column, 2, column, header, bold)
    for column, header in enumerate(headers):
        if not groups or column in grouped:
            sheet.write_string(header_row, column, header, bold)
        sheet.set_column(column, column, max(10, 2 * len(header) + 2))

    for offset, row in enumerate(rows, start=header_row + 1):
        for column, value in enumerate(row):
            _write(sheet, offset, column, value, cell, day, moment)
    sheet.freeze_panes(header_row + 1, 0)
    book.close()
    return output.getvalue()


def _write(sheet, row, column, value, cell, day, moment):
    if value is None:
        sheet.write_blank(row, column, None, cell)
    elif isinstance(value, bool):
        sheet.write_string(row, column, "是" if value else "否", cell)
    elif isinstance(value, (int, float, Decimal)):
        sheet.write_number(row, column, float(value), cell)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value, moment)
    elif isinstance(value, date):
        sheet.write_datetime(row, column, datetime(value.year, value.month, value.day), day)
    else:
        sheet.write_string(row, column, str(value), cell)
