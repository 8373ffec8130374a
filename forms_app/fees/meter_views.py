"""抄表 in the back office, on a phone (工程, 客服): find a room or walk a building's unit room by
room, enter this period's readings with the previous one shown, and the public meters the
shared items are computed from. An implausible reading (below the previous one, or a jump
beyond the past average) is saved only with a note; a correction needs a reason and is refused
once the period's bill is issued."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..accounts.access import current_staff, staff_required
from ..accounts.models import actor_label
from ..accounts.registry import NavLink
from ..core.clock import today
from ..core.extensions import db
from ..core.fee_standards import current_fee_standards
from ..households.models import RESIDENCE, HouseholdRoom
from ..households.registry import (
    community_key,
    residence_directory,
    room_or_404,
    search,
)
from ..web.typed_input import clean_line
from . import meters
from .periods import Period, PeriodRefused, parse_period

bp = Blueprint("fees_meter", __name__)
NAV = (NavLink("抄表", "fees_meter.index", "fees.meters"),)
HOME: tuple = ()
AUDIT = {"fees.meter_correct": "更正抄表读数"}
MAX_QUERY = 30


def _period(raw) -> tuple[Period, str]:
    """The period asked for (default: the cycle running today) and a message when unreadable."""
    standards = current_fee_standards()
    months = standards.cycle_months
    day = today()
    start = day.month - (day.month - 1) % months
    running = Period(day.year, start, months)
    raw = raw if isinstance(raw, str) else ""
    if not raw.strip():
        return running, ""
    try:
        return parse_period(raw, day, months), ""
    except PeriodRefused as refused:
        return running, f"{refused.message} 已显示本期。"


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return int(raw) if re.fullmatch(r"[0-9]{1,3}", raw) else None


@bp.get("/")
@staff_required("fees.meters")
def index():
    """Search a room or pick a building and unit to walk; the public meters."""
    period, error = _period(request.args.get("period"))
    query = clean_line(request.args.get("q", ""))[:MAX_QUERY]
    found = search(query) if query else []
    directory = residence_directory()
    building, unit = _int_arg("building"), _int_arg("unit")
    walk = []
    if building is not None and unit is not None:
        walk = _unit_rooms(building, unit)
    readings = meters.current_readings(
        [meters.room_meter(r.id, item.id) for r in walk for item in _items()], period.key
    )
    return render_template(
        "fees/staff/meters.html",
        period=period,
        error=error,
        query=query,
        found=found,
        directory=directory,
        building=building,
        unit=unit,
        walk=walk,
        readings=readings,
        items=_items(),
        room_meter=meters.room_meter,
    )


def _items():
    return current_fee_standards().metered


def _unit_rooms(building: int, unit: int) -> list[HouseholdRoom]:
    return list(
        db.session.scalars(
            select(HouseholdRoom)
            .where(
                HouseholdRoom.community == community_key(),
                HouseholdRoom.kind == RESIDENCE,
                HouseholdRoom.building == building,
                HouseholdRoom.unit == unit,
            )
            .order_by(HouseholdRoom.id)
        )
    )


def _next_room(room: HouseholdRoom) -> HouseholdRoom | None:
    if room.kind != RESIDENCE:
        return None
    return db.session.scalar(
        select(HouseholdRoom)
        .where(
            HouseholdRoom.community == room.community,
            HouseholdRoom.kind == RESIDENCE,
            HouseholdRoom.building == room.building,
            HouseholdRoom.unit == room.unit,
            HouseholdRoom.id > room.id,
        )
        .order_by(HouseholdRoom.id)
        .limit(1)
    )


def _rows(pairs, period: Period, room_id: int | None):
    """Per meter: its id, name, unit, previous reading, average, this period's reading."""
    current = meters.current_readings([meter for meter, *_ in pairs], period.key)
    rows = []
    for meter, field, name, unit in pairs:
        rows.append(
            {
                "meter": meter,
                "field": field,
                "name": name,
                "unit": unit,
                "past": meters.past(meter, period.key),
                "current": current.get(meter),
            }
        )
    return rows


def _room_pairs(room: HouseholdRoom):
    return [(meters.room_meter(room.id, i.id), i.id, i.name, i.unit) for i in _items()]


def _public_pairs():
    return [(m.id, m.id, m.name, m.unit) for m in meters.public_meters(current_fee_standards())]


def _form_page(template, period, rows, errors=None, values=None, **extra):
    billed = meters.billed(extra.get("room").id if extra.get("room") else None, period.key)
    return (
        render_template(
            template,
            period=period,
            rows=rows,
            errors=errors or {},
            values=values or {},
            billed=billed,
            quantize=lambda v: v.quantize(Decimal("0.01")) if v is not None else None,
            number_text=meters.number_text,
            **extra,
        ),
        400 if errors else 200,
    )


@bp.get("/rooms/<int:room_id>")
@staff_required("fees.meters")
def room(room_id: int):
    found = room_or_404(room_id)
    period, error = _period(request.args.get("period"))
    if error:
        flash(error, "error")
    return _form_page(
        "fees/staff/meter_room.html",
        period,
        _rows(_room_pairs(found), period, found.id),
        room=found,
        next_room=_next_room(found),
    )


def _entries(pairs, room_id: int | None) -> tuple[list[meters.Entry], dict]:
    entries, values = [], {}
    for meter, field, _name, _unit in pairs:
        entry = meters.Entry(
            meter=meter,
            item=field if room_id is not None else meter,
            field=field,
            text=clean_line(request.form.get(f"reading_{field}", ""))[:30],
            note=clean_line(request.form.get(f"note_{field}", ""))[:400],
            reason=clean_line(request.form.get(f"reason_{field}", ""))[:400],
            room_id=room_id,
        )
        entries.append(entry)
        values[field] = entry.text
        values[f"note_{field}"] = entry.note
        values[f"reason_{field}"] = entry.reason
    return entries, values


def _save(pairs, room_id, period_text):
    """The readings sent, saved all or none: (saved count, None) or (None, (errors, values))."""
    entries, values = _entries(pairs, room_id)
    try:
        period = parse_period(period_text, today(), current_fee_standards().cycle_months)
    except PeriodRefused as refused:
        return None, ({"form": refused.message}, values)
    try:
        saved = meters.record_readings(period, entries, today(), actor_label(current_staff()))
    except meters.ReadingsRefused as refused:
        return None, (refused.errors, values)
    return (period, saved), None


@bp.post("/rooms/<int:room_id>/readings")
@staff_required("fees.meters")
def save_room(room_id: int):
    found = room_or_404(room_id)
    pairs = _room_pairs(found)
    done, failed = _save(pairs, found.id, request.form.get("period", ""))
    if failed:
        period, _ = _period(request.form.get("period"))
        errors, values = failed
        return _form_page(
            "fees/staff/meter_room.html",
            period,
            _rows(pairs, period, found.id),
            errors,
            values,
            room=found,
            next_room=_next_room(found),
        )
    period, saved = done
    flash(f"{found.label}：已保存 {saved} 个读数。" if saved else "读数没有变化。", "success")
    following = _next_room(found) if request.form.get("then") == "next" else None
    target = following or found
    return redirect(url_for(".room", room_id=target.id, period=period.key), code=303)


@bp.get("/public")
@staff_required("fees.meters")
def public():
    period, error = _period(request.args.get("period"))
    if error:
        flash(error, "error")
    return _form_page("fees/staff/meter_public.html", period, _rows(_public_pairs(), period, None))


@bp.post("/public/readings")
@staff_required("fees.meters")
def save_public():
    pairs = _public_pairs()
    done, failed = _save(pairs, None, request.form.get("period", ""))
    if failed:
        period, _ = _period(request.form.get("period"))
        errors, values = failed
        return _form_page(
            "fees/staff/meter_public.html", period, _rows(pairs, period, None), errors, values
        )
    period, saved = done
    flash(f"公共表：已保存 {saved} 个读数。" if saved else "读数没有变化。", "success")
    return redirect(url_for(".public", period=period.key), code=303)
