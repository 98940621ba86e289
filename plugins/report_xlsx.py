"""The report (:class:`zhubaodai.report.Report`) as an XLSX workbook a bureau can print and file.

Each sheet starts with a title block (the report and sheet title; the programs; the period,
the unit 元 and the day it was prepared), then its table: a header row the printer repeats
on every page, the rows (filterable: autofilter), then the totals rows; a sheet with no rows
says 本期无. 概览 is a form (a label column, one column per program). Print set-up: A4,
portrait when the table fits a portrait page at a readable scale, else landscape, fitted to
one page wide, centred, with the sheet name and page numbers in the footer. Column widths
follow each column's display width (a CJK character counts two, as on screen).

Every text cell goes through :func:`zhubaodai.outputs.inert`; the file is written by
:func:`zhubaodai.outputs.write_new` (never replaces a file that appeared meanwhile unless
``force``; leaves no temporary file).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Border
from openpyxl.styles import Font
from openpyxl.styles import NamedStyle
from openpyxl.styles import PatternFill
from openpyxl.styles import Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.outputs import inert
from zhubaodai.outputs import write_new
from zhubaodai.report import COUNT
from zhubaodai.report import DATE
from zhubaodai.report import MONEY
from zhubaodai.report import MULTIPLE
from zhubaodai.report import NUMBER
from zhubaodai.report import RATIO
from zhubaodai.report import TEXT
from zhubaodai.report import Column
from zhubaodai.report import Form
from zhubaodai.report import Report
from zhubaodai.report import Sheet

#: What an empty table says, in its first data row.
NOTHING = "本期无"
#: The title block's rows; the table's header row follows a blank row.
TITLE_ROWS = 3
HEADER_ROW = TITLE_ROWS + 2
#: Column widths, in characters of the default font (a CJK character is two).
MIN_WIDTH = 6
MAX_WIDTH = 48
#: A table at most this wide (in characters) is printed portrait, wider ones landscape.
PORTRAIT_WIDTH = 110
#: One typeface for every cell: 等线 (DengXian), Office's own Chinese default; where it is
#: missing (LibreOffice on Debian) the same substitute serves every cell, bold or not.
FONT = "等线"
#: Points per printed line of text (11 pt type and its leading; CJK glyphs are taller).
LINE_HEIGHT = 16

_BODY = Font(name=FONT, size=11)
_BOLD = Font(name=FONT, size=11, bold=True)
_THIN = Side(style="thin", color="808080")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
_SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")

#: Cell kinds as the named styles call them.
_KIND_NAMES = {TEXT: "文字", MONEY: "金额", DATE: "日期", COUNT: "计数", RATIO: "比例", MULTIPLE: "倍数", NUMBER: "数值"}

_FORMATS = {
    MONEY: "#,##0.00",
    DATE: "yyyy-mm-dd",
    COUNT: "0",
    RATIO: "0.00%",
    MULTIPLE: '0.00"倍"',
    NUMBER: "#,##0.00",
}


def display_width(text: str) -> int:
    """Width on screen or paper: CJK (wide and full-width) characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def shown(value: Any, kind: str) -> str:
    """A cell as the spreadsheet shows it with its number format (for widths)."""
    if value is None:
        return ""
    if kind in (MONEY, NUMBER) and isinstance(value, Decimal):
        return yuan(value)
    if kind == RATIO and isinstance(value, Decimal):
        return percent(value)
    if kind == MULTIPLE and isinstance(value, Decimal):
        return f"{value:.2f}倍"
    return str(value)


def _lines(text: str, width: float) -> int:
    """Printed lines of ``text`` wrapped in a column ``width`` characters wide."""
    room = max(width - 1, 1)
    return sum(max(1, math.ceil(display_width(part) / room)) for part in text.split("\n"))


def write_report(report: Report, path: str, *, force: bool = False) -> None:
    """Write the workbook to ``path``; raises FileExistsError if ``path`` exists (unless ``force``)."""

    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = report.title
    workbook.properties.subject = f"{report.start} 至 {report.end}"
    _add_styles(workbook)
    for sheet in report.sheets:
        ws = workbook.create_sheet(sheet.title)
        if isinstance(sheet, Form):
            _form(ws, report, sheet)
        else:
            _table(ws, report, sheet)
    write_new(path, workbook.save, force=force)


def _title_block(ws: Any, report: Report, title: str, width: int, total_width: float) -> None:
    """Rows 1..TITLE_ROWS, each merged across the table's ``width`` columns."""

    programs = "；".join(f"{code} {name}" for code, name in report.programs)
    period = f"{report.start} 至 {report.end}"
    texts = (
        (f"{report.title}——{title}", Font(name=FONT, bold=True, size=14), 22),
        (f"项目：{programs}", Font(name=FONT, size=11), LINE_HEIGHT),
        (f"报告期：{report.period}（{period}）　金额单位：元　编制日期：{report.prepared}"
         + (f"　账本：{report.ledger}" if report.ledger else ""), Font(name=FONT, size=11), LINE_HEIGHT),
    )
    for row, (text, font, height) in enumerate(texts, start=1):
        cell = ws.cell(row=row, column=1, value=inert(text))
        cell.font = font
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if width > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        scale = 14 / 11 if row == 1 else 1
        ws.row_dimensions[row].height = height * _lines(text, total_width / scale)


def _table(ws: Any, report: Report, sheet: Sheet) -> None:

    columns = sheet.columns
    widths = []
    for i, column in enumerate(columns):
        data = [display_width(shown(r[i], column.kind)) for r in (*sheet.rows[:500], *sheet.totals)]
        head = display_width(report.names.say(column.name))
        # A header may wrap onto two lines (unless the table is empty); a data cell keeps
        # to one (long text wraps at MAX_WIDTH). Printed glyphs run a little wider than
        # the default font's character: a tenth more, and a margin.
        widest = max([math.ceil(head * 0.6) if sheet.rows else head, min(head, 8), *data])
        widths.append(min(max(MIN_WIDTH, math.ceil(widest * 1.1) + 2), MAX_WIDTH))
    total_width = sum(widths)
    _title_block(ws, report, sheet.title, len(columns), total_width)

    bold, grid, shade = _BOLD, _GRID, _HEAD_FILL
    for i, (column, width) in enumerate(zip(columns, widths), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        cell = ws.cell(row=HEADER_ROW, column=i, value=inert(report.names.say(column.name)))
        cell.font, cell.border, cell.fill = bold, grid, shade
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    ws.row_dimensions[HEADER_ROW].height = LINE_HEIGHT * max(_lines(report.names.say(c.name), w) for c, w in zip(columns, widths))

    row_number = HEADER_ROW
    for row in sheet.rows:
        row_number += 1
        _write_row(ws, row_number, row, columns, widths)
    last_data = row_number
    if not sheet.rows:
        row_number += 1
        cell = ws.cell(row=row_number, column=1, value=NOTHING)
        cell.font = _BODY
        cell.alignment = Alignment(horizontal="center")
        if len(columns) > 1:
            ws.merge_cells(start_row=row_number, start_column=1, end_row=row_number, end_column=len(columns))
    for row in sheet.totals:
        row_number += 1
        _write_row(ws, row_number, row, columns, widths, bold=True)
    if sheet.rows:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(columns))}{last_data}"
    ws.freeze_panes = f"B{HEADER_ROW + 1}"
    _print_setup(ws, total_width, f"{HEADER_ROW}:{HEADER_ROW}")


def _write_row(
    ws: Any, number: int, row: tuple[Any, ...], columns: Sequence[Column], widths: Sequence[int], *, bold: bool = False
) -> None:
    lines = 1
    for i, (value, column, width) in enumerate(zip(row, columns, widths), start=1):
        cell = ws.cell(row=number, column=i, value=_cell(value, column.kind))
        cell.style = _style_name(column.kind, bold)  # one named style: much faster than four setters
        if column.kind == TEXT and isinstance(value, str):
            lines = max(lines, _lines(value, width))
    if lines > 1:
        ws.row_dimensions[number].height = LINE_HEIGHT * lines


def _style_name(kind: str, bold: bool) -> str:
    return f"报表{'合计' if bold else ''}{_KIND_NAMES[kind]}"


def _add_styles(workbook: Any) -> None:
    """A named style per cell kind (and its bold totals form): font, grid, alignment, format."""
    for kind in _KIND_NAMES:
        for bold in (False, True):
            style = NamedStyle(name=_style_name(kind, bold))
            style.font = _BOLD if bold else _BODY
            style.border = _GRID
            style.alignment = Alignment(wrap_text=kind == TEXT, vertical="top")
            style.number_format = _FORMATS.get(kind, "General")
            workbook.add_named_style(style)


def _form(ws: Any, report: Report, form: Form) -> None:

    label_width = min(max(display_width(report.names.say(line.label)) for line in form.lines) + 4, MAX_WIDTH)
    value_widths = []
    for p, code in enumerate(form.programs):
        cells = [display_width(shown(line.values[p], line.kind)) for line in form.lines if line.kind is not None]
        value_widths.append(min(max(16, display_width(code), *cells) + 2, MAX_WIDTH))
    widths = [label_width, *value_widths]
    total_width = sum(widths)
    _title_block(ws, report, form.title, len(widths), total_width)

    bold, grid, shade, section_fill = _BOLD, _GRID, _HEAD_FILL, _SECTION_FILL
    for i, (head, width) in enumerate(zip(["项目", *form.programs], widths), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        cell = ws.cell(row=HEADER_ROW, column=i, value=inert(head))
        cell.font, cell.border, cell.fill = bold, grid, shade
        cell.alignment = Alignment(horizontal="center", vertical="center")
    number = HEADER_ROW
    for line in form.lines:
        number += 1
        label = ws.cell(row=number, column=1, value=inert(report.names.say(line.label)))
        label.border, label.font = grid, _BODY
        if line.kind is None:
            label.font, label.fill = bold, section_fill
            for i in range(2, len(widths) + 1):
                ws.cell(row=number, column=i).fill = section_fill
                ws.cell(row=number, column=i).border = grid
            continue
        label.alignment = Alignment(indent=1, vertical="top")
        lines = 1
        for p, value in enumerate(line.values):
            cell = ws.cell(row=number, column=p + 2, value=_cell(value, line.kind))
            cell.border, cell.font = grid, _BODY
            if line.kind in _FORMATS:
                cell.number_format = _FORMATS[line.kind]
            if line.kind == TEXT:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                lines = max(lines, _lines(str(value or ""), value_widths[p]))
            elif value is None:
                cell.value = "—"
                cell.alignment = Alignment(horizontal="right")
        if lines > 1:
            ws.row_dimensions[number].height = LINE_HEIGHT * lines
    ws.freeze_panes = f"B{HEADER_ROW + 1}"
    _print_setup(ws, total_width, f"{HEADER_ROW}:{HEADER_ROW}")


def _print_setup(ws: Any, total_width: float, title_rows: str) -> None:

    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait" if total_width <= PORTRAIT_WIDTH else "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.6, right=0.6, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    ws.print_title_rows = title_rows
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "第 &P 页，共 &N 页"




def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value if kind != TEXT else str(value)
    return inert(value)  # the ledger's text never becomes a live formula (zhubaodai.outputs)
