"""Excel exports (.xlsx, XlsxWriter) of the office's tables, written and laid out for print alike, every sheet.

Cells are written by type: text always as text, so a name starting with "=" can never
become a formula in the HR clerk's Excel; dates as real dates; numbers as numbers.

Every sheet prints as the notice's attachments do: a title row merged across the table, a 序号
column, borders on every cell, columns as wide as their longest cell (a Chinese character counts
double) so that ID numbers, phones and times are never clipped or shown as ###, A4 turned
landscape when the columns need it, one page wide, the header rows repeated on every page, and a
footer with 第 x 页 / 共 y 页 and the export time (Beijing). These rules live here and only here.
"""
import io
import math
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter

from app.services.platform.timeutil import LOCAL_ZONE

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_HEADER = "序号"

# Column widths are in Excel's unit, the width of a "0" of the default font (Calibri 11: 7 px).
PADDING = 2  # breathing room either side of the longest cell
MIN_WIDTH = 6
MAX_WIDTH = 40  # a longer text wraps inside its cell instead of widening the page
BLANK_WIDTH = 10  # a column left blank for handwriting (上车体温) still gets room for a pen
LINE_HEIGHT = 16  # points per line of a wrapped cell (11-point text, Chinese glyphs included)
HEADER_LINE = 12  # a longer header wraps onto two lines rather than widening its column
# Portrait A4 is 210 mm wide, less 1.27 cm margins either side; a column of width w prints 7w + 5 px at 96 dpi.
A4_PORTRAIT_MM, SIDE_MARGIN_INCH = 210, 0.5
DATE_FORMAT, MOMENT_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
_DISPLAY_LENGTHS = {datetime: len("2020-02-25 07:30"), date: len("2020-02-25")}

# Excel refuses these in a sheet's name; each becomes its full-width twin, which reads the same to a clerk.
_SHEET_NAME_SWAPS = str.maketrans({"/": "／", "\\": "＼", "[": "【", "]": "】", ":": "：", "*": "＊", "?": "？"})
SHEET_NAME_LIMIT = 31  # Excel counts UTF-16 code units


@dataclass
class Sheet:
    """One printed table: a title, lines under it, header groups, headers, rows, lines after it.

    `groups` are (label, first_column, last_column) merged above the headers, as in 附件1 where
    联系方式 spans 办公电话 and 手机号 (columns counted as given, before a 序号 column is added).
    `notes` print between the title and the table (a manifest's vehicle and crew), `closing` after
    it (signature lines). `name` is the sheet's tab, the title by default; it is made safe here.
    """

    title: str
    headers: tuple
    rows: list
    groups: tuple = ()
    name: str | None = None
    notes: tuple = ()
    closing: tuple = ()
    blank_columns: tuple = ()  # headers of columns left blank to be filled by hand
    row_height: float | None = None  # points; taller rows to write in by hand (a manifest's temperatures)
    one_page: bool = False  # shrink to one page tall as well (a vehicle's manifest with its signatures)


def workbook(title, headers, rows, groups=()):
    """An .xlsx file (bytes) with one sheet: a title row, optional header groups, headers, rows."""
    return workbook_of([Sheet(title, tuple(headers), list(rows), groups)])


def workbook_of(sheets, exported_at=None):
    """An .xlsx file (bytes) with one sheet per `Sheet`, each laid out for print; exported_at defaults to now."""
    moment = (exported_at or datetime.now(LOCAL_ZONE)).astimezone(LOCAL_ZONE)
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "remove_timezone": True})
    formats = _formats(book)
    taken = set()
    for sheet in sheets or [Sheet("（空）", (), [])]:
        name = safe_sheet_name(sheet.name or sheet.title, taken)
        taken.add(name.casefold())
        _write_sheet(book.add_worksheet(name), numbered(sheet), formats, moment)
    book.close()
    return output.getvalue()


def numbered(sheet):
    """The sheet with a 序号 column first (1, 2, …), unless its first column already is 序号."""
    if sheet.headers and sheet.headers[0] == NUMBER_HEADER:
        return sheet
    rows = [(number, *row) for number, row in enumerate(sheet.rows, start=1)]
    groups = tuple((label, first + 1, last + 1) for label, first, last in sheet.groups)
    return replace(sheet, headers=(NUMBER_HEADER, *sheet.headers), rows=rows, groups=groups)


def safe_sheet_name(name, taken=()):
    """A tab name Excel accepts: / \\ [ ] : * ? as their full-width twins, no edge apostrophes, at most
    31 UTF-16 units, and unique (case-insensitively) among `taken` (casefolded names) with a (2), (3)… suffix."""
    base = unicodedata.normalize("NFC", str(name or "")).translate(_SHEET_NAME_SWAPS)
    base = re.sub(r"[\x00-\x1f]", " ", base).strip().strip("'").strip() or "Sheet"
    if base.casefold() == "history":  # reserved by Excel
        base += "_"
    candidate, number = _cut(base, SHEET_NAME_LIMIT), 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f"({number})"
        candidate = _cut(base, SHEET_NAME_LIMIT - len(suffix)).rstrip("'") + suffix
    return candidate


def _cut(text, units):
    """The longest prefix of text within `units` UTF-16 code units (a rare character counts two)."""
    used, kept = 0, []
    for character in text:
        used += 2 if ord(character) > 0xFFFF else 1
        if used > units:
            break
        kept.append(character)
    return "".join(kept).rstrip("'")


def text_width(text):
    """Display width of text in columns: a Chinese (wide or full-width) character counts two."""
    return max((sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
                for line in str(text).split("\n")), default=0)


def column_widths(sheet):
    """Each column's width from its longest cell and its header (which may wrap), within MIN/MAX_WIDTH."""
    widths = []
    for column, header in enumerate(sheet.headers):
        longest = max((_display_width(row[column]) for row in sheet.rows if column < len(row)), default=0)
        heading = text_width(header)
        if heading > HEADER_LINE:
            heading = max(HEADER_LINE, math.ceil(heading / 2))
        floor = BLANK_WIDTH if header in sheet.blank_columns else MIN_WIDTH
        widths.append(max(floor, min(MAX_WIDTH, max(longest, heading) + PADDING)))
    return widths


def landscape_needed(widths):
    """Whether the columns are wider than an A4 portrait page (less its margins) at 100 %."""
    return _width_mm(widths) > A4_PORTRAIT_MM - 2 * SIDE_MARGIN_INCH * 25.4


def _width_mm(widths):
    return sum(math.floor(7 * width + 5) for width in widths) * 25.4 / 96


def _display_width(value):
    if value is None:
        return 0
    for kind, length in _DISPLAY_LENGTHS.items():
        if isinstance(value, kind):
            return length
    if isinstance(value, bool):
        return 2
    if isinstance(value, float):
        return len(f"{value:g}")
    return text_width(value)


def _formats(book):
    border = {"border": 1, "valign": "vcenter"}
    return {
        "title": book.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter",
                                  "text_wrap": True}),
        "note": book.add_format({"align": "left", "valign": "vcenter", "text_wrap": True}),
        "header": book.add_format({**border, "bold": True, "align": "center", "text_wrap": True,
                                   "bg_color": "#F2F2F2"}),
        "cell": book.add_format({**border, "text_wrap": True}),
        "number": book.add_format({**border, "align": "center"}),
        "day": book.add_format({**border, "num_format": DATE_FORMAT, "align": "center"}),
        "moment": book.add_format({**border, "num_format": MOMENT_FORMAT, "align": "center"}),
    }


def _write_sheet(sheet, spec, formats, moment):
    widths = column_widths(spec)
    last = max(len(spec.headers) - 1, 1)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    _merged_line(sheet, 0, last, spec.title, widths, formats["title"], line_height=24, scale=1.3)
    row = 1
    for note in spec.notes:
        _merged_line(sheet, row, last, note, widths, formats["note"])
        row += 1
    first_header = row
    row = _write_headers(sheet, spec, row, formats["header"])
    last_header = row - 1
    _fit_height(sheet, last_header, spec.headers, widths)
    for values in spec.rows:
        for column, value in enumerate(values):
            _write(sheet, row, column, value, formats)
        _fit_height(sheet, row, values, widths, spec.row_height)
        row += 1
    for line in spec.closing:
        row += 1  # a blank line between the table and what is signed under it
        _merged_line(sheet, row, last, line, widths, formats["note"])
    sheet.freeze_panes(last_header + 1, 0)
    _page_setup(sheet, spec, widths, first_header, last_header, moment)


def _fit_height(sheet, row, values, widths, least=None):
    """Make a row as tall as its most wrapped cell (neither Excel nor LibreOffice does so for a file's rows),
    and at least `least` points."""
    lines = max((wrapped_lines(value, width) for value, width in zip(values, widths) if isinstance(value, str)),
                default=1)
    if lines > 1 or least:
        sheet.set_row(row, max(LINE_HEIGHT * lines if lines > 1 else 0, least or 0))


def wrapped_lines(text, width):
    """How many lines text takes in a column of `width`: one when the column was sized to it, else its
    width over the room (a Chinese character prints a little wider than two units, hence 1.1)."""
    room = max(1, width - 1)
    return sum(1 if text_width(line) <= width - PADDING else math.ceil(1.1 * text_width(line) / room)
               for line in str(text).split("\n"))


def _merged_line(sheet, row, last, text, widths, style, line_height=18, scale=1.0):
    """A line of text merged across the table, its row as tall as the lines it wraps onto (scale: font size)."""
    lines = max(1, math.ceil(scale * text_width(text) / max(1, sum(widths) - 2)))
    sheet.set_row(row, line_height * lines)
    sheet.merge_range(row, 0, row, last, text, style)


def _write_headers(sheet, spec, row, style):
    """The header row(s); with groups, a grouped header sits under its group, the others span both rows."""
    if not spec.groups:
        for column, header in enumerate(spec.headers):
            sheet.write_string(row, column, header, style)
        return row + 1
    grouped = set()
    for label, first, last in spec.groups:
        if last > first:
            sheet.merge_range(row, first, row, last, label, style)
        else:
            sheet.write_string(row, first, label, style)
        grouped.update(range(first, last + 1))
    for column, header in enumerate(spec.headers):
        if column in grouped:
            sheet.write_string(row + 1, column, header, style)
        else:
            sheet.merge_range(row, column, row + 1, column, header, style)
    return row + 2


def _page_setup(sheet, spec, widths, first_header, last_header, moment):
    sheet.set_paper(9)  # A4
    if landscape_needed(widths):
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.set_margins(left=SIDE_MARGIN_INCH, right=SIDE_MARGIN_INCH, top=0.6, bottom=0.7)
    sheet.center_horizontally()
    sheet.fit_to_pages(1, 1 if spec.one_page else 0)
    sheet.repeat_rows(first_header, last_header)
    title = _footer_text(spec.title)
    sheet.set_footer(f"&L{title}&C第 &P 页 / 共 &N 页&R导出时间 {moment:%Y-%m-%d %H:%M}", {"margin": 0.3})


def _footer_text(text):
    """Text safe inside a header/footer: & doubled (a lone & starts a code), kept short (Excel's 255 limit)."""
    return str(text)[:40].replace("&", "&&")


def _write(sheet, row, column, value, formats):
    if value is None:
        sheet.write_blank(row, column, None, formats["cell"])
    elif isinstance(value, bool):
        sheet.write_string(row, column, "是" if value else "否", formats["cell"])
    elif isinstance(value, (int, float, Decimal)):
        sheet.write_number(row, column, float(value), formats["number"])
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value, formats["moment"])
    elif isinstance(value, date):
        sheet.write_datetime(row, column, datetime(value.year, value.month, value.day), formats["day"])
    else:
        sheet.write_string(row, column, str(value), formats["cell"])
