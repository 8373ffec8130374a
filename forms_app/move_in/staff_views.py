"""The staff's move-in schedule: one day's bookings per slot, printable for the gate; an export
of the day; 客服 and 经理 mark a booking 已完成 or 已取消."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.models import actor_label
from ..accounts.permissions import allowed
from ..core.clock import local_time, today, utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..notifications.messages import MESSAGES
from ..notifications.outbox import messages_by_record
from ..web.errors import render_error
from ..web.exports import (
    DATE,
    DATETIME,
    YES_NO,
    Column,
    Table,
    table_response,
)
from ..web.template_filters import local_minute
from . import bookings
from .models import CANCELLED, COMPLETED, STATE_LABELS, MoveInBooking
from .notices import RECORD_TYPE, notify_cancelled, resend_booking_link
from .slots import day_slots, slot_label

bp = Blueprint("move_in_staff", __name__)

CLOSING = {"complete": COMPLETED, "cancel": CANCELLED}


def _day_arg() -> tuple[date, str | None]:
    """The day asked for (default today) and a message when it cannot be read."""
    raw = (request.args.get("date") or "").strip()
    if not raw:
        return today(), None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return today(), "日期格式应为 年-月-日，例如 2026-05-01；已显示今天。"
    # The page links the day before and after: both must be dates too.
    if not date.min < day < date.max:
        return today(), "日期超出范围；已显示今天。"
    return day, None


def _bookings_of(day: date):
    """Every booking of the day (cancelled ones last in each slot), in slot order."""
    order = {slot_id: index for index, slot_id in enumerate(day_slots())}
    rows = db.session.scalars(
        select(MoveInBooking)
        .where(MoveInBooking.move_date == day)
        .order_by(MoveInBooking.seat, MoveInBooking.id)
    ).all()
    return sorted(rows, key=lambda b: (order.get(b.slot, len(order)), b.state == CANCELLED))


@bp.get("/")
@staff_required("move_in.schedule")
def schedule():
    """The day's schedule per slot: bookings, help wanted, oversize flags; mobiles masked."""
    day, error = _day_arg()
    rows = _bookings_of(day)
    active = [b for b in rows if b.state != CANCELLED]
    per_slot = [(slot, [b for b in rows if b.slot == slot.id]) for slot in day_slots().values()]
    known = set(day_slots())
    others = [b for b in rows if b.slot not in known]
    totals = {
        "bookings": len(active),
        "oversize": sum(b.oversize for b in active),
        "trolley": sum(b.wants_trolley for b in active),
        "carry": sum(b.wants_carry_help for b in active),
    }
    return render_template(
        "move_in/staff/schedule.html",
        day=day,
        error=error,
        per_slot=per_slot,
        others=others,
        totals=totals,
        may_close=allowed(current_staff().role, "move_in.close"),
        may_call=lambda booking: may_call(current_staff(), booking),
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        today=today(),
        sent_by_booking=messages_by_record(db.session, RECORD_TYPE, [b.id for b in rows]),
        message_labels=MESSAGES,
        may_resend=allowed(current_staff().role, "notifications.resend"),
    )


@bp.post("/<int:booking_id>/resend-link")
@staff_required("notifications.resend")
def resend_link(booking_id: int):
    """Send the owner the booking's link again; audited."""
    user = current_staff()
    with write_transaction() as session:
        booking = db.session.get(MoveInBooking, booking_id, with_for_update=True)
        if booking is None:
            abort(404)
        resend_booking_link(session, booking, actor_label(user))
        record_audit(
            "notifications.resend",
            target=booking.reference,
            detail=f"预约链接发给业主手机 {booking.owner_mobile[:3]}****"
            f"{booking.owner_mobile[-4:]}",
        )
        day = booking.move_date
    flash(f"已安排重新发送预约 {booking.reference} 的链接。", "success")
    return redirect(url_for(".schedule", date=day.isoformat()) + f"#booking-{booking_id}", code=303)


@bp.post("/<int:booking_id>/<action>")
@staff_required("move_in.close")
def close(booking_id: int, action: str):
    """Mark a booking 已完成 or 已取消 with who and when, and audit it."""
    state = CLOSING.get(action)
    if state is None:
        abort(404)
    user = current_staff()
    if state == CANCELLED and request.form.get("confirm") != "yes":
        booking = db.session.get(MoveInBooking, booking_id)
        if booking is None:
            abort(404)
        flash(
            f"取消预约不能撤销：请勾选“确认取消”后再提交。预约 {booking.reference} 没有变化。",
            "error",
        )
        return redirect(url_for(".schedule", date=booking.move_date.isoformat()), code=303)
    try:
        with write_transaction():
            # close() locks the row until the commit: a second click waits, then finds the
            # booking closed (PostgreSQL; SQLite's write lock already makes it wait).
            booking = bookings.close(booking_id, state, actor_label(user), user.id)
            if state == CANCELLED:
                notify_cancelled(db.session(), booking)
            record_audit(
                "move_in.close",
                target=booking.reference,
                detail=f"{booking.room_label} {booking.move_date.isoformat()} "
                f"标记为{STATE_LABELS[state]}",
            )
            day = booking.move_date
    except LookupError:
        abort(404)
    except bookings.BookingClosed:
        booking = db.session.get(MoveInBooking, booking_id)
        flash(f"预约 {booking.reference} 已是「{booking.state_label}」，不能再更改。", "error")
        return redirect(url_for(".schedule", date=booking.move_date.isoformat()), code=303)
    flash(f"已将预约 {booking.reference} 标记为{STATE_LABELS[state]}。", "success")
    return redirect(url_for(".schedule", date=day.isoformat()), code=303)


def may_call(user, booking: MoveInBooking) -> bool:
    """The desk may call an owner on any day; the gate on the day of the move."""
    return allowed(user.role, "move_in.call_owner") and (
        booking.move_date == today() or allowed(user.role, "move_in.call_owner.any_day")
    )


@bp.post("/<int:booking_id>/call")
@staff_required("move_in.call_owner")
def call_owner(booking_id: int):
    """The owner's whole mobile as a tap-to-call link; the reveal goes into the audit log."""
    user = current_staff()
    booking = db.session.get(MoveInBooking, booking_id)
    if booking is None:
        abort(404)
    if not may_call(user, booking):
        return render_error(403, "秩序维护员只能在搬家当天查看业主电话；其他日期请联系客服。")
    record_audit(
        "move_in.call_owner",
        target=booking.reference,
        detail=f"{booking.room_label} {booking.move_date.isoformat()}",
    )
    return render_template(
        "move_in/staff/call.html", booking=booking, slot_label=slot_label(booking.slot)
    )


EXPORT_COLUMNS = (
    Column("预约编号", width=18),
    Column("搬家日期", DATE),
    Column("时段", width=13),
    Column("房屋", width=18),
    Column("业主", width=10),
    Column("业主手机", width=14),
    Column("超高大件", YES_NO),
    Column("进场位置", width=16),
    Column("大件物品", width=30),
    Column("平推车", YES_NO),
    Column("搬运协助", YES_NO),
    Column("状态", width=9),
    Column("办理人", width=12),
    Column("办理时间", DATETIME),
)
EXPORT_HEADER = tuple(column.label for column in EXPORT_COLUMNS)


def _export_rows(day: date):
    for booking in _bookings_of(day):
        yield (
            booking.reference,
            booking.move_date,
            slot_label(booking.slot),
            booking.room_label,
            booking.owner_name,
            booking.owner_mobile,
            booking.oversize,
            bookings.route_for(booking).entrance,
            booking.large_items,
            booking.wants_trolley,
            booking.wants_carry_help,
            booking.state_label,
            booking.closed_by or "",
            booking.closed_at and local_time(booking.closed_at).replace(tzinfo=None),
        )


@bp.get("/export.<fmt>")
@staff_required("move_in.export")
def export(fmt: str):
    """One day's bookings as .xlsx or CSV (UTF-8 with BOM), the day written at the top."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    day, error = _day_arg()
    if error:
        flash("日期格式有误，请修改后再导出。", "error")
        return redirect(url_for(".schedule"), code=303)
    record_audit("export", target="搬家预约", detail=f"{fmt}；{day.isoformat()}")
    filename = f"搬家预约-{day.isoformat()}.{fmt}"
    table = Table("搬家预约", EXPORT_COLUMNS, _export_rows(day), f"搬家日期：{day.isoformat()}")
    return table_response(fmt, filename, [table], local_minute(utcnow()))
