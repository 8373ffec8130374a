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

from ..community import cached_community
from ..security_headers import no_store, private
from ..tokens import new_nonce
from . import bookings
from .forms import SLOT_FULL_MESSAGE, MoveInForm, room_day_taken_message
from .models import CANCELLED

bp = Blueprint("move_in", __name__)
bp.record_once(lambda state: bookings.check_move_in_data(
    cached_community(state.app.config["COMMUNITY_FILE"])))

# The handbook section this form follows.
HANDBOOK_URL = "/owner/move-in/"


@bp.route("/", methods=["GET", "POST"])
def book():
    """The booking form; a valid POST stores the booking and redirects to its private page."""
    form = MoveInForm()
    status = 200
    if request.method == "GET":
        form.nonce.data = new_nonce()
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
    return no_store(current_app.make_response((render_template(
        "move_in/book.html", form=form, availability=form.availability(),
        handbook_url=HANDBOOK_URL), status)))


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
    return no_store(jsonify(date=day.isoformat(), slots=[
        {"id": a.slot.id, "label": a.slot.label, "capacity": a.slot.capacity,
         "remaining": a.remaining} for a in bookings.availability(day)]))


def _booking_or_404(token: str):
    booking = bookings.find_by_token(token)
    if booking is None:
        abort(404)
    return booking


@bp.get("/booking/<token>")
def booking(token: str):
    """The private confirmation: the booking, its state, the route to use, the help booked."""
    found = _booking_or_404(token)
    return private(current_app.make_response(render_template(
        "move_in/booking.html", booking=found, slot_label=bookings.slot_label(found.slot),
        route=bookings.route_for(found), office=bookings.service_office(),
        may_cancel=bookings.owner_may_cancel(found), handbook_url=HANDBOOK_URL)))


@bp.post("/booking/<token>/cancel")
def cancel(token: str):
    """Cancel through the private link; the place in the slot becomes free again."""
    if _booking_or_404(token).state == CANCELLED:
        return redirect(url_for(".booking", token=token), code=303)  # a second tap
    try:
        bookings.cancel_by_owner(token)
    except bookings.BookingClosed:
        flash("这个预约已经完成、取消或已过搬家日期，不能再取消。如有疑问请联系物业服务中心。", "error")
    else:
        flash("预约已取消，该时段的名额已释放。如需改期，请重新预约。", "success")
    return redirect(url_for(".booking", token=token), code=303)
