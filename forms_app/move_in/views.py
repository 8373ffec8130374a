"""Owner pages: book a move (搬家预约), see the booking and its route, cancel it."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from ..core.community import served_communities
from ..core.security_headers import no_store, private
from ..core.tokens import new_nonce
from ..my_records.grants import prefill
from . import bookings
from .forms import SLOT_FULL_MESSAGE, MoveInForm, room_day_taken_message
from .models import CANCELLED
from .slots import check_move_in_data, day_slots, slot_label

bp = Blueprint("move_in", __name__)
bp.record_once(lambda state: [check_move_in_data(c) for c in served_communities(state.app)])

# The handbook section this form follows.
HANDBOOK_URL = "/owner/move-in/"


@bp.route("/", methods=["GET", "POST"])
def book():
    """The booking form; a valid POST stores the booking and redirects to its private page."""
    form = MoveInForm()
    status = 200
    if request.method == "GET":
        form.nonce.data = new_nonce()
        prefill(form)
    elif form.nonce.data and (existing := bookings.find_by_nonce(form.nonce.data)):
        # The same form sent twice (double tap, back button): show the first booking.
        return redirect(url_for(".booking", token=existing.token), code=303)
    elif form.validate_on_submit():
        try:
            booking, _created = bookings.book(form.values(), form.nonce.data)
        except bookings.SlotFull:
            # Another owner took the last place since the form was checked.
            form.slot.errors.append(SLOT_FULL_MESSAGE)
            status = 409
        except bookings.RoomAlreadyBooked as taken:
            form.move_date.errors.append(room_day_taken_message(taken.reference))
            status = 409
        else:
            return redirect(url_for(".booking", token=booking.token), code=303)
    else:
        status = 400
    # Never cached: a shared copy would give two owners one nonce (see renovation's form).
    return no_store(
        current_app.make_response(
            (
                render_template(
                    "move_in/book.html",
                    form=form,
                    availability=form.availability(),
                    handbook_url=HANDBOOK_URL,
                ),
                status,
            )
        )
    )


@bp.get("/slots")
def slots():
    """What is left of each slot on one day, for the form's script (the server checks again)."""
    first, last = bookings.bookable_dates()
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return no_store(jsonify(error="请按 2026-12-01 的格式填写日期。")), 400
    if not first <= day <= last:
        return no_store(jsonify(error=f"可预约 {first:%Y-%m-%d} 至 {last:%Y-%m-%d} 的搬家。")), 400
    return no_store(
        jsonify(
            date=day.isoformat(),
            slots=[
                {
                    "id": a.slot.id,
                    "label": a.slot.label,
                    "capacity": a.slot.capacity,
                    "remaining": a.remaining,
                }
                for a in bookings.availability(day)
            ],
        )
    )


def _booking_or_404(token: str):
    booking = bookings.find_by_token(token)
    if booking is None:
        abort(404)
    return booking


@bp.get("/booking/<token>")
def booking(token: str):
    """The private confirmation: the booking, its state, the route to use, the help booked."""
    found = _booking_or_404(token)
    return private(
        current_app.make_response(
            render_template(
                "move_in/booking.html",
                booking=found,
                slot_label=slot_label(found.slot),
                route=bookings.route_for(found),
                office=bookings.service_office(),
                may_cancel=bookings.owner_may_cancel(found),
                handbook_url=HANDBOOK_URL,
                status_url=url_for(".booking", token=token, _external=True),
            )
        )
    )


@bp.route("/booking/<token>/move", methods=["GET", "POST"])
def move(token: str):
    """Move the booking to another day or slot (改约), in one form that carries the day and the
    slot together: the day's slots with what is left (``step=slots``, or the script as the
    date changes), then the chosen day and slot to check (``step=review``), then the move
    (``confirm=yes``), checked again against capacity in one write transaction. The day and
    slot moved to, the page after it and the message all come from what the owner confirmed."""
    found = _booking_or_404(token)
    first, last = bookings.bookable_dates()
    posted = request.method == "POST"
    source = request.form if posted else request.args
    step = source.get("step", "") if posted else "slots"
    confirmed = posted and source.get("confirm") == "yes"
    if posted and not confirmed and step != "slots":
        step = "review"
    raw_day = (source.get("move_date") or "").strip()[:20]
    chosen = (source.get("slot") or "").strip()[:20]
    errors: dict[str, str] = {}
    day = found.move_date if not raw_day and not posted else None
    if raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            errors["move_date"] = "请按 2026-12-01 的格式填写日期。"
    elif posted:
        errors["move_date"] = "请选择新的搬家日期。"
    if day is not None and not first <= day <= last:
        errors["move_date"] = f"只能改到 {first:%Y-%m-%d} 至 {last:%Y-%m-%d} 之间的日期。"
    status = 200
    review = None
    if not bookings.owner_may_cancel(found):
        errors["form"] = (
            "这个预约已经完成、取消或已过搬家日期，不能再改约。如有疑问请联系物业服务中心。"
        )
        status = 409
    elif posted and step != "slots":
        if chosen not in day_slots():
            errors["slot"] = "请从列表中选择搬家时段。"
        elif day is not None and (found.move_date, found.slot) == (day, chosen):
            errors["slot"] = "新的时间和原预约相同，请选择其他日期或时段。"
        if errors:
            status = 400
        elif confirmed:
            try:
                moved = bookings.move_by_owner(token, day, chosen)
            except bookings.BookingClosed:
                errors["form"] = "这个预约已经完成、取消或已过搬家日期，不能再改约。"
                status = 409
            except bookings.MoveRefused as refused:
                errors[refused.field] = refused.message
                status = 400
            except bookings.SlotFull:
                errors["slot"] = SLOT_FULL_MESSAGE
                status = 409
            except bookings.RoomAlreadyBooked as taken:
                errors["move_date"] = room_day_taken_message(taken.reference)
                status = 409
            else:
                flash(
                    f"已改约到 {moved.move_date:%Y-%m-%d} {slot_label(moved.slot)}，"
                    "原时段的名额已释放。",
                    "success",
                )
                return redirect(url_for(".booking", token=token), code=303)
        else:
            left = next(a for a in bookings.availability(day) if a.slot.id == chosen)
            if left.full:
                errors["slot"] = SLOT_FULL_MESSAGE
                status = 409
            else:
                review = {"day": day, "slot": chosen, "label": slot_label(chosen)}
    elif posted and errors:
        status = 400
    availability = (
        {a.slot.id: a for a in bookings.availability(day)}
        if day and "move_date" not in errors
        else {}
    )
    return private(
        current_app.make_response(
            (
                render_template(
                    "move_in/move.html",
                    slots=list(day_slots().values()),
                    booking=found,
                    day=day,
                    raw_day=raw_day,
                    first=first,
                    last=last,
                    availability=availability,
                    errors=errors,
                    chosen=chosen,
                    review=review,
                    slot_label=slot_label(found.slot),
                ),
                status,
            )
        )
    )


@bp.post("/booking/<token>/cancel")
def cancel(token: str):
    """Cancel through the private link, once the owner confirmed (the box, or the dialog
    that ticks it); the place in the slot becomes free again."""
    found = _booking_or_404(token)
    if found.state == CANCELLED:
        return redirect(url_for(".booking", token=token), code=303)  # a second tap
    if bookings.owner_may_cancel(found) and request.form.get("confirm") != "yes":
        flash("取消预约不能撤销：请勾选“确认取消这个预约”后再点取消。预约没有变化。", "error")
        return redirect(url_for(".booking", token=token), code=303)
    try:
        bookings.cancel_by_owner(token)
    except bookings.BookingClosed:
        flash(
            "这个预约已经完成、取消或已过搬家日期，不能再取消。如有疑问请联系物业服务中心。",
            "error",
        )
    else:
        flash("预约已取消，该时段的名额已释放。如需改期，请重新预约。", "success")
    return redirect(url_for(".booking", token=token), code=303)
