"""Excel (.xlsx) and CSV exports that are safe to open in Excel on Chinese Windows.

- Cells beginning with ``=``, ``+``, ``-``, ``@``, tab or CR are neutralized with a leading
  apostrophe in both formats, so a typed answer can never run as a formula.
- Control characters other than tab, CR and LF are removed (.xlsx cannot hold them).
- Phone numbers and other strings stay text (never turned into numbers).
- CSV starts with a UTF-8 byte-order mark so Excel shows Chinese instead of garbage.
- Both formats stream rows: the workbook is write-only, the CSV a generator.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from urllib.parse import quote

from flask import Response

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


def xlsx_response(filename: str, sheet_title: str, header: Sequence[str],
                  rows: Iterable[Sequence]) -> Response:
    """A write-only workbook of the header and rows, spooled to a temporary file."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(sheet_title))
    sheet.append([safe_cell(h) for h in header])
    # openpyxl stores a str as text unless it starts with "=", which safe_cell never lets
    # through, so plain values are safe (and much cheaper than a WriteOnlyCell each).
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(spool)
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
