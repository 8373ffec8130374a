"""我的办理: room + mobile → one-time code → the room's applications, bookings and requests.

The list stays open for ``MY_SESSION_MINUTES`` and for that room only; the session holds
the room and the time it ends.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..accounts.audit import request_address
from ..core.security_headers import private
from ..households.records import records_for
from .codes import CodeRefused, Room, check_code, request_code, setting
from .forms import CodeForm, RoomMobileForm

bp = Blueprint("my_records", __name__)

PENDING = "my_pending"  # {"room": [b, u, r], "mobile": "…"} between the two forms
GRANT = "my_grant"  # {"room": [b, u, r], "until": epoch seconds}


def _granted_room() -> Room | None:
    grant = session.get(GRANT)
    if not isinstance(grant, dict) or not isinstance(grant.get("until"), (int, float)):
        return None
    if grant["until"] < time.time():
        session.pop(GRANT, None)
        return None
    building, unit, room = grant["room"]
    return Room(int(building), int(unit), str(room))


def _pending() -> tuple[Room, str] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    building, unit, room = pending["room"]
    return Room(int(building), int(unit), str(room)), str(pending["mobile"])


def _page(template: str, status: int = 200, **values):
    return private(current_app.make_response((render_template(template, **values), status)))


@bp.get("/")
def records():
    """The room's business, each item linking to its status page."""
    room = _granted_room()
    if room is None:
        return redirect(url_for(".start"))
    minutes_left = max(1, int((session[GRANT]["until"] - time.time()) // 60))
    return _page(
        "my_records/records.html",
        room=room,
        minutes_left=minutes_left,
        items=records_for(room.building, room.unit, room.room),
    )


@bp.route("/start", methods=["GET", "POST"])
def start():
    """Room and mobile; a valid POST sends a code (if the mobile is on record) and asks for it."""
    form = RoomMobileForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            building, unit, room = form.room_key()
            try:
                request_code(Room(building, unit, room), form.owner_mobile.data, request_address())
            except CodeRefused as refused:
                field = getattr(form, refused.field, None)
                if field is not None:
                    field.errors.append(refused.message)
                else:
                    form.form_errors.append(refused.message)
                status = 429
            else:
                session[PENDING] = {
                    "room": [building, unit, room],
                    "mobile": form.owner_mobile.data,
                }
                session.pop(GRANT, None)
                return redirect(url_for(".code"), code=303)
        else:
            status = 400
    return _page("my_records/start.html", status, form=form, minutes=setting("MY_CODE_MINUTES"))


@bp.route("/code", methods=["GET", "POST"])
def code():
    """The code from the SMS; right once and in time, it opens the room's list."""
    pending = _pending()
    if pending is None:
        flash("请先填写房号和手机号获取验证码。", "error")
        return redirect(url_for(".start"), code=303)
    room, mobile = pending
    form = CodeForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                check_code(room, mobile, form.code.data, request_address())
            except CodeRefused as refused:
                form.code.errors.append(refused.message)
                status = 429 if refused.locked else 400
            else:
                session.pop(PENDING, None)
                session[GRANT] = {
                    "room": [room.building, room.unit, room.room],
                    "until": time.time() + 60 * setting("MY_SESSION_MINUTES"),
                }
                return redirect(url_for(".records"), code=303)
        else:
            status = 400
    return _page(
        "my_records/code.html",
        status,
        form=form,
        room=room,
        masked=f"{mobile[:3]}****{mobile[-4:]}",
        minutes=setting("MY_CODE_MINUTES"),
    )


@bp.post("/logout")
def logout():
    session.pop(GRANT, None)
    session.pop(PENDING, None)
    flash("已退出我的办理。", "success")
    return redirect(url_for(".start"), code=303)
