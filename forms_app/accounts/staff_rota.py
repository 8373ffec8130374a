"""The duty rota (值班表) on the web: everyone sees the week; the 经理 adds and removes people,
copies last week's rota and exports the week to Excel. The logic is in ``rota.py``.

Endpoints (blueprint ``accounts``): ``rota`` (the week, ``?week=`` any day of it),
``rota_add``, ``rota_remove``, ``rota_copy`` (POST) and ``rota_export`` (``fmt`` xlsx or csv).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from ..core.clock import today, utcnow
from ..core.database import write_transaction
from ..core.row_ids import MAX_ROW_ID
from ..web.exports import (
    DATE,
    Column,
    Table,
    table_response,
)
from ..web.template_filters import local_minute, mask_mobile
from .access import current_staff, staff_required
from .audit import record_audit
from .blueprint import bp
from .organisation import members, organisation
from .permissions import allowed
from .rota import (
    DAYS_BACK,
    WEEKDAYS,
    RotaRefused,
    add_shift,
    copy_previous_week,
    day_label,
    remove_shift,
    rota_week,
    week_label,
    week_of,
)

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ROW_ID = re.compile(r"[0-9]{1,10}")
# How far from today a week may be shown: the links to the week before and after stay dates.
WEEK_RANGE = timedelta(days=3660)
SKIPPED_SHOWN = 5  # reasons of skipped entries shown after copying; the rest are counted


def _iso_day(raw) -> date | None:
    if not isinstance(raw, str) or not ISO_DAY.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _row_id(raw) -> int | None:
    if not isinstance(raw, str) or not ROW_ID.fullmatch(raw):
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_ROW_ID else None


def read_week(raw) -> tuple[date, str | None]:
    """The Monday of the week holding the day ``raw`` (年-月-日), and a message when ``raw``
    cannot be read or is out of range: then this week."""
    this_week = week_of(today())
    if raw is None or raw == "":
        return this_week, None
    day = _iso_day(raw)
    if day is None:
        return this_week, "日期格式应为 年-月-日，例如 2026-05-11；已显示本周。"
    if abs(day - today()) > WEEK_RANGE:
        return this_week, "日期超出范围（前后十年以内）；已显示本周。"
    return week_of(day), None


def _may_manage() -> bool:
    user = current_staff()
    return user is not None and allowed(user.role, "organisation.manage")


def _rota_page(
    monday: date,
    *,
    week_error: str | None = None,
    errors: dict | None = None,
    form_department: str | None = None,
    values: dict | None = None,
    status: int = 200,
):
    """The week's page; after a refused change, the message beside its field in the form of
    ``form_department`` (or at the top) and what was chosen kept."""
    now = today()
    days = [monday + timedelta(days=offset) for offset in range(7)]
    may_manage = _may_manage()
    weeks = rota_week(monday)
    org = organisation()
    default_day = now if monday <= now <= days[-1] else monday
    return render_template(
        "accounts/rota.html",
        monday=monday,
        days=days,
        week_label=week_label(monday),
        day_label=day_label,
        previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
        this_week=week_of(now),
        today=now,
        weeks=weeks,
        shifts=list(org.shifts.values()),
        members={w.department.id: members(w.department.id) for w in weeks} if may_manage else {},
        may_manage=may_manage,
        week_error=week_error,
        errors=errors or {},
        form_department=form_department,
        values=values or {"day": default_day.isoformat(), "shift": "", "user": ""},
        days_back=DAYS_BACK,
    ), status


def _refused(monday: date, refusal: RotaRefused, department_id=None, values=None):
    """Re-render the week with status 400 and the refusal beside its field."""
    rota_ids = {d.id for d in organisation().rota_departments}
    field = refusal.field or "form"
    if department_id not in rota_ids:
        department_id, field = None, "form"
    return _rota_page(
        monday,
        errors={field: refusal.message},
        form_department=department_id,
        values=values,
        status=400,
    )


def _back(monday: date, department_id: str | None = None):
    anchor = f"rota-{department_id}" if department_id else None
    return redirect(url_for(".rota", week=monday.isoformat(), _anchor=anchor), code=303)


def _posted_week() -> date:
    monday, _error = read_week(request.form.get("week"))
    return monday


def _shift_label(shift_id: str) -> str:
    shift = organisation().shifts.get(shift_id)
    return shift.label if shift else shift_id


@bp.get("/organisation/rota")
@staff_required("organisation.view")
def rota():
    """The week's rota of every department that has one (``?week=`` any day of the week)."""
    monday, error = read_week(request.args.get("week"))
    return _rota_page(monday, week_error=error)


@bp.post("/organisation/rota/add")
@staff_required("organisation.manage")
def rota_add():
    """Put a member of a department on one shift of one day."""
    form = request.form
    department_id = form.get("department") or ""
    day, shift_id, user_id = _iso_day(form.get("day")), form.get("shift"), _row_id(form.get("user"))
    # What was chosen, to choose again on a refusal (only compared with the options).
    values = {
        "day": day.isoformat() if day else "",
        "shift": (shift_id or "")[:32],
        "user": str(user_id or ""),
    }
    monday = week_of(day) if day and abs(day - today()) <= WEEK_RANGE else _posted_week()
    try:
        with write_transaction() as session:
            entry = add_shift(session, department_id, day, shift_id, user_id, current_staff())
            done = f"已安排{entry.user.name}在{day_label(entry.day)}值{_shift_label(entry.shift)}。"
    except RotaRefused as refusal:
        return _refused(monday, refusal, department_id, values)
    except IntegrityError:  # the same entry, added a moment ago from another page
        refusal = RotaRefused("这条值班刚刚已被添加，请查看值班表。", "user")
        return _refused(monday, refusal, department_id, values)
    flash(done, "success")
    return _back(monday, department_id)


@bp.post("/organisation/rota/remove")
@staff_required("organisation.manage")
def rota_remove():
    """Take one entry off the rota."""
    monday = _posted_week()
    department_id = request.form.get("department")
    if department_id not in {d.id for d in organisation().rota_departments}:
        department_id = None
    try:
        with write_transaction() as session:
            removed = remove_shift(session, _row_id(request.form.get("entry")), current_staff())
    except RotaRefused as refusal:
        return _refused(monday, refusal, department_id)
    flash(f"已从值班表移除：{removed}。", "success")
    return _back(monday, department_id)


@bp.post("/organisation/rota/copy")
@staff_required("organisation.manage")
def rota_copy():
    """Copy last week's rota into the week shown (entries that would be refused skipped)."""
    monday, error = read_week(request.form.get("week"))
    if error or not request.form.get("week"):
        refusal = RotaRefused("请从值班表页面上的按钮复制上周值班。")
        return _refused(monday, refusal)
    with write_transaction() as session:
        result = copy_previous_week(session, monday, current_staff())
    if not result.copied and not result.skipped:
        flash("上周没有值班记录，没有可复制的内容。", "info")
        return _back(monday)
    message = f"已从上周复制 {result.copied} 条值班"
    if result.skipped:
        reasons = "；".join(result.skipped[:SKIPPED_SHOWN])
        more = f"等 {len(result.skipped)} 条" if len(result.skipped) > SKIPPED_SHOWN else ""
        message += f"，跳过 {len(result.skipped)} 条：{reasons}{more}"
    flash(message + "。", "success" if result.copied else "error")
    return _back(monday)


EXPORT_COLUMNS = (
    Column("日期", DATE),
    Column("星期", width=6),
    Column("部门", width=14),
    Column("班次", width=8),
    Column("时间", width=16),
    Column("值班人员", width=14),
    Column("角色", width=12),
    Column("手机", width=14),
)


def _export_rows(monday: date):
    for week in rota_week(monday):
        for row in week.days:
            for cell in row.cells:
                base = (
                    row.day,
                    f"周{WEEKDAYS[row.day.weekday()]}",
                    week.department.name,
                    cell.shift.label,
                    cell.shift.hours,
                )
                for entry in cell.entries:
                    user = entry.user
                    name = user.name if user.active else f"{user.name}（已停用）"
                    yield (*base, name, user.role_label, mask_mobile(user.mobile or ""))
                if cell.gap:
                    yield (*base, "无人值班", "", "")


@bp.get("/organisation/rota.<fmt>")
@staff_required("organisation.manage")
def rota_export(fmt: str):
    """The week's rota as an Excel table (or CSV, UTF-8 with BOM): one row per person on
    duty, 无人值班 for a shift nobody is on."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    monday, error = read_week(request.args.get("week"))
    if error:
        flash("日期格式有误，请修改后再导出。", "error")
        return redirect(url_for(".rota"), code=303)
    described = f"值班周：{week_label(monday)}"
    record_audit("export", target="值班表", detail=f"{fmt}；{week_label(monday)}")
    filename = f"值班表-{monday.isoformat()}.{fmt}"
    table = Table("值班表", EXPORT_COLUMNS, list(_export_rows(monday)), described)
    return table_response(fmt, filename, [table], local_minute(utcnow()))
