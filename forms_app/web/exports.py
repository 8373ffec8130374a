"""Excel (.xlsx) and CSV exports that are safe to open in Excel on Chinese Windows.

- Cells beginning with ``=``, ``+``, ``-``, ``@``, tab or CR are neutralized with a leading
  apostrophe in both formats, so a typed answer can never run as a formula.
- Control characters other than tab, CR and LF are removed (.xlsx cannot hold them).
- Phone numbers and other strings stay text (never turned into numbers).
- CSV starts with a UTF-8 byte-order mark so Excel shows Chinese instead of garbage.
- Both formats stream rows: the workbook is write-only, the CSV a generator.

``xlsx_workbook`` writes a workbook that reads well: one sheet per logical table, each with its
title and the filter that produced it at the top, a bold header row frozen below them,
column widths that fit, and typed cells — real dates and numbers with their formats,
percentages as percentages — described by each table's ``Column`` list. ``table_response`` is the one way an export view
answers (every export of the back office goes through it, or through ``xlsx_tables_response``
and ``table_csv_response``, which it uses).

A wide register offers two column sets (``column_set``): the few columns people read day to
day by default, and the full set on asking (``?columns=full``).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

from flask import Response

from ..core.clock import local_time

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Not allowed in .xlsx (openpyxl raises on them) and never meant in typed text; removed
# before the formula check, so "\x00=..." is neutralized too.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SHEET_TITLE_REFUSED = re.compile(r"[\\/?*:\[\]]")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """A cell value that spreadsheets show as typed and never evaluate."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if not text.isprintable():  # the cheap test first: exports run this on every cell
        text = CONTROL_CHARACTERS.sub("", text)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _content_disposition(filename: str) -> str:
    # RFC 5987 so Chinese file names survive; ASCII fallback for old clients.
    return f"attachment; filename=\"export.{filename.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """Stream a CSV (UTF-8 with BOM) of the header and rows."""

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(generate(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = _content_disposition(filename)
    return response


def _sheet_title(title: str) -> str:
    """A title Excel accepts: none of \\ / ? * : [ ], at most 31 characters, not empty."""
    cleaned = " ".join(SHEET_TITLE_REFUSED.sub(" ", title).split())[:31].strip(" '")
    return cleaned or "导出"


def _spooled_response(filename: str, spool) -> Response:
    """Stream a saved workbook from its spool file."""
    size = spool.tell()
    spool.seek(0)

    def generate() -> Iterator[bytes]:
        try:
            while chunk := spool.read(64 * 1024):
                yield chunk
        finally:
            spool.close()

    response = Response(generate(), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = _content_disposition(filename)
    return response


# --- typed, styled workbooks -------------------------------------------------------------

TEXT, INTEGER, NUMBER, DATE, DATETIME, PERCENT, YES_NO = (
    "text",
    "integer",
    "number",
    "date",
    "datetime",
    "percent",
    "yes_no",
)
NUMBER_FORMATS = {
    INTEGER: "0",
    NUMBER: "0.00",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm",
    PERCENT: "0.0%",
}
# Widths in Excel's units (one Latin character; a Chinese character takes about two).
DEFAULT_WIDTHS = {TEXT: 14, INTEGER: 9, NUMBER: 10, DATE: 12, DATETIME: 17, PERCENT: 10, YES_NO: 8}
MAX_WIDTH = 48


@dataclass(frozen=True)
class Column:
    """One column of an exported table: its Chinese label, the kind of its values, a width."""

    label: str
    kind: str = TEXT
    width: float | None = None

    @property
    def display_width(self) -> float:
        if self.width:
            return self.width
        label = sum(2 if ord(ch) > 0x2E7F else 1 for ch in self.label) + 2
        return min(MAX_WIDTH, max(DEFAULT_WIDTHS[self.kind], label))


@dataclass
class Table:
    """A logical table of an export: one sheet of the workbook (CSV holds the first only)."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence]
    described: str = "全部"  # the filter that produced it, in words

    @property
    def header(self) -> list[str]:
        return [c.label for c in self.columns]


SHORT, FULL = "short", "full"
COLUMN_SETS = {SHORT: "常用列", FULL: "全部列"}
COLUMN_SET_ERROR = "请选择导出常用列或全部列。"


def column_set(args) -> str | None:
    """The column set a wide register's export asks for (``columns``: short by default,
    ``full``); None when the value names neither."""
    value = args.get("columns") or SHORT
    return value if value in COLUMN_SETS else None


def local_moment(moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) moment as the community's local time for a ``DATETIME`` cell:
    naive again, as Excel has no time zones; None stays None."""
    if moment is None:
        return None
    return local_time(moment).replace(tzinfo=None)


def _yes_no(value):
    return "" if value is None else ("是" if value else "否")


def _csv_value(kind: str):
    """How a typed value reads in CSV (no formats there: ISO dates, 90.5% as text)."""
    if kind == PERCENT:
        return lambda v: "" if v is None else f"{v * 100:.1f}%"
    if kind == DATETIME:
        return lambda v: "" if v is None else v.strftime("%Y-%m-%d %H:%M")
    if kind == YES_NO:
        return _yes_no
    return safe_cell


def table_csv_response(filename: str, table: Table) -> Response:
    """A table as streamed CSV (UTF-8 with BOM): header, then rows typed per column."""
    converters = [_csv_value(c.kind) for c in table.columns]
    return csv_response(
        filename,
        table.header,
        ([convert(v) for convert, v in zip(converters, row, strict=True)] for row in table.rows),
    )


def _xlsx_converters(sheet, columns: Sequence[Column]):
    """Per column, a function from a value to what the write-only sheet appends.

    Formatted kinds reuse one styled cell per column: openpyxl writes each appended row
    before the next, so the cell can carry the next row's value (no object per cell)."""
    from openpyxl.cell import WriteOnlyCell

    converters = []
    for column in columns:
        if column.kind in (DATE, DATETIME, PERCENT, NUMBER):
            cell = WriteOnlyCell(sheet)
            cell.number_format = NUMBER_FORMATS[column.kind]

            def convert(value, cell=cell):
                if value is None or value == "":
                    return None
                cell.value = value
                return cell
        elif column.kind == INTEGER:

            def convert(value):
                return value
        elif column.kind == YES_NO:
            convert = _yes_no
        else:
            convert = safe_cell
        converters.append(convert)
    return converters


def _write_table(workbook, table: Table, generated: str) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title=_sheet_title(table.title))
    for index, column in enumerate(table.columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.display_width
    sheet.freeze_panes = "A4"  # below the title, the filter and the header

    def styled(value, font, wrap=False):
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        cell.font = font
        if wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell

    sheet.append([styled(f"{table.title}（导出于 {generated}）", Font(bold=True, size=13))])
    sheet.append([styled(f"筛选条件：{table.described}", Font(italic=True))])
    bold = Font(bold=True)
    sheet.append([styled(label, bold, wrap=True) for label in table.header])
    converters = _xlsx_converters(sheet, table.columns)
    for row in table.rows:
        sheet.append([convert(value) for convert, value in zip(converters, row, strict=True)])


def xlsx_workbook(tables: Sequence[Table], generated: str, target) -> None:
    """Write the tables as one workbook, one sheet each, to ``target`` (a file object)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for table in tables:
        _write_table(workbook, table, generated)
    workbook.save(target)


def xlsx_tables_response(filename: str, tables: Sequence[Table], generated: str) -> Response:
    """The tables as a styled workbook, spooled to a temporary file and streamed."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    xlsx_workbook(tables, generated, spool)
    return _spooled_response(filename, spool)


def table_response(fmt: str, filename: str, tables: Sequence[Table], generated: str) -> Response:
    """An export as asked: ``csv`` the first table as streamed CSV (its rows read inside the
    request's context, so a generator of database rows may be lazy), anything else the
    tables as a styled workbook."""
    if fmt == "csv":
        from flask import stream_with_context

        first = tables[0]
        first.rows = stream_with_context(first.rows)
        return table_csv_response(filename, first)
    return xlsx_tables_response(filename, tables, generated)
