"""导入房屋台账 in the back office: upload an xlsx, see every problem by row and column (a dry
run), then import the very same file with one button; and the registry's export (经理 only).

An uploaded file is kept under the instance folder as a pending import named by its sha256,
beside the dry run's report (``<sha256>.xlsx``, ``<sha256>.json``, both 0600); only a clean
file is kept, and it is deleted once imported or after ``PENDING_HOURS``. The import button
re-checks the file against the registry inside the import's transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.datastructures import FileStorage

from ..accounts.access import staff_required
from ..accounts.audit import record_audit
from ..core.clock import today
from ..core.private_files import private_dir
from ..files.uploads import display_name
from ..web.exports import XLSX_MIMETYPE, csv_response
from . import importing
from .importing import MAX_FILE_BYTES, MAX_ROWS, MB, Report

bp = Blueprint("households_import", __name__)

PENDING_FOLDER = "household_imports"
PENDING_HOURS = 24
SHOWN_PROBLEMS = 1000
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _folder() -> Path:
    return private_dir(Path(current_app.instance_path) / PENDING_FOLDER)


def _paths(digest: str) -> tuple[Path, Path]:
    if not _DIGEST.fullmatch(digest):
        abort(404)
    folder = _folder()
    return folder / f"{digest}.xlsx", folder / f"{digest}.json"


def _sweep() -> None:
    """Delete pending imports and reports older than ``PENDING_HOURS``."""
    limit = time.time() - PENDING_HOURS * 3600
    for path in _folder().iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def _save_report(path: Path, report: Report) -> None:
    data = json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-")
    with os.fdopen(descriptor, "wb") as handle:  # mkstemp creates it 0600
        handle.write(data)
    os.replace(temporary, path)


def _load_report(path: Path) -> Report:
    try:
        return Report.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        abort(404)


def _page(status: int = 200, error: str = ""):
    return render_template(
        "households/staff/import.html",
        error=error,
        max_mb=MAX_FILE_BYTES // MB,
        max_rows=MAX_ROWS,
        headers=importing.REQUIRED_HEADERS,
        optional=importing.OPTIONAL_HEADERS,
        handover_note=importing.HANDOVER_NOTE,
    ), status


@bp.get("/")
@staff_required("households.import")
def index():
    """The upload form, the columns the file needs and what an import does."""
    return _page()


@bp.post("/")
@staff_required("households.import")
def check():
    """Check an uploaded 台账 (a dry run: nothing is stored in the registry) and show the
    result; a clean file is kept for the import button."""
    upload = request.files.get("file")
    if not isinstance(upload, FileStorage) or not upload.filename:
        return _page(400, "请选择要导入的 Excel（.xlsx）文件。")
    name = display_name(upload.filename, ".xlsx")
    stream = upload.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > MAX_FILE_BYTES:
        return _page(
            400, f"“{name}”超过 {MAX_FILE_BYTES // MB} MB：请删去无关的工作表、图片后再导入。"
        )
    _sweep()
    folder = _folder()
    digest = hashlib.sha256()
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".xlsx")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
                handle.write(chunk)
        report = importing.dry_run(Path(temporary), name)
        report.sha256 = digest.hexdigest()
        pending, report_path = _paths(report.sha256)
        if report.clean:
            os.replace(temporary, pending)
        _save_report(report_path, report)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return redirect(url_for(".result", digest=report.sha256), code=303)


@bp.get("/<digest>")
@staff_required("households.import")
def result(digest: str):
    """The dry run's (or the import's) result: every problem by row and column."""
    pending, report_path = _paths(digest)
    report = _load_report(report_path)
    return render_template(
        "households/staff/import_result.html",
        report=report,
        digest=digest,
        shown=report.problems[:SHOWN_PROBLEMS],
        kept=len(report.problems),
        ready=report.clean and not report.applied and pending.exists(),
    )


@bp.get("/<digest>/problems.<fmt>")
@staff_required("households.import")
def problems(digest: str, fmt: str):
    """The dry run's problems as CSV (UTF-8 with BOM), one per line."""
    if fmt != "csv":
        abort(404)
    _pending, report_path = _paths(digest)
    report = _load_report(report_path)
    rows = ([p.row or "", p.column, p.header, p.message] for p in report.problems)
    return csv_response(
        f"导入问题-{report.file_name.rsplit('.', 1)[0]}.csv", ["行", "列", "表头", "问题"], rows
    )


@bp.post("/<digest>/apply")
@staff_required("households.import")
def apply(digest: str):
    """Import the checked file in one transaction (re-checked against the registry first)."""
    pending, report_path = _paths(digest)
    checked = _load_report(report_path)
    if checked.applied:
        flash("这个文件已经导入过了，没有重复导入。", "info")
        return redirect(url_for(".result", digest=digest), code=303)
    if not pending.exists():
        flash("待导入的文件已过期或不存在，请重新上传检查。", "error")
        return redirect(url_for(".index"), code=303)
    report = importing.import_file(pending, checked.file_name)
    report.sha256 = digest
    _save_report(report_path, report)
    if report.applied:
        pending.unlink(missing_ok=True)
        flash(f"已导入：{report.counts_text()}。", "success")
    else:
        flash("房屋台账在检查后有变化，文件现在有问题，未导入任何内容：请查看下面的问题。", "error")
    return redirect(url_for(".result", digest=digest), code=303)


@bp.get("/export.<fmt>")
@staff_required("households.export")
def export(fmt: str):
    """The registry in the import's columns (.xlsx re-imports as it is), audited."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    filename = f"房屋台账-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        record_audit("households.export", target="房屋台账", detail="csv")
        return csv_response(
            filename,
            importing.EXPORT_HEADERS,
            stream_with_context(importing.csv_rows()),
        )
    spool = tempfile.SpooledTemporaryFile(max_size=8 * MB)
    count = importing.write_export(spool)
    record_audit("households.export", target="房屋台账", detail=f"xlsx；{count} 行")
    size = spool.tell()
    spool.seek(0)

    def generate():
        try:
            while chunk := spool.read(64 * 1024):
                yield chunk
        finally:
            spool.close()

    response = Response(generate(), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"
    )
    return response
