"""我的办理: room + mobile → one-time code → that household's business, from the person's own
registration on.

Only a mobile registered on the room today (一户一档) gets a code; the answer is the same for
any other. The list stays open for ``MY_SESSION_MINUTES`` through a grant held on the server
(``grants.py``): 退出 ends it, and so does the end of the person's standing on the room.
"""

from __future__ import annotations

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

from ..accounts.access import safe_next
from ..accounts.audit import request_address
from ..core.security_headers import private
from ..households.records import records_for
from ..households.registry import room_by_id
from .codes import (
    CodeRefused,
    Room,
    allowed_roles,
    check_code,
    registered_on,
    request_code,
    setting,
)
from .forms import CodeForm, RoomMobileForm
from .grants import current_grant, end_grant, open_grant
from .panels import panels_for

bp = Blueprint("my_records", __name__)

PENDING = "my_pending"  # {"room": [b, u, r], "mobile": "…"} between the two forms
# A page of the app that sent the person here to sign in (a notice for households only, from
# its SMS link): opened once the code is right, instead of the list.
RETURN_TO = "my_return_to"


def _pending() -> tuple[Room, str] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    try:
        building, unit, room = pending["room"]
        return Room(int(building), int(unit), str(room)), str(pending["mobile"])
    except (KeyError, TypeError, ValueError):
        return None


def _page(template: str, status: int = 200, **values):
    return private(current_app.make_response((render_template(template, **values), status)))


@bp.get("/")
def records():
    """The household's business since the person's registration, each item linking to its
    status page."""
    grant = current_grant(allowed_roles())
    if grant is None:
        return redirect(url_for(".start"))
    room = grant.room
    items = [
        item
        for item in records_for(room.building, room.unit, room.number)
        if item.filed_on >= grant.since
    ]
    return _page(
        "my_records/records.html",
        room=room,
        person=grant.person,
        minutes_left=grant.minutes_left,
        items=items,
        panels=panels_for(grant),
    )


@bp.route("/start", methods=["GET", "POST"])
def start():
    """Room and mobile; a valid POST sends a code (if the mobile is on record) and asks for it."""
    form = RoomMobileForm()
    status = 200
    back = safe_next(request.args.get("next"))
    if back and back.startswith(url_for("home.index")):
        session[RETURN_TO] = back
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
                end_grant()
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
                person = registered_on(room, mobile)
                if person is None:
                    # The person's standing ended between the code and now (过户, 迁出).
                    form.code.errors.append("该手机号已不在本房屋的登记名单中，无法查看。")
                    status = 403
                else:
                    open_grant(
                        person,
                        room_by_id(person.room_id),
                        setting("MY_SESSION_MINUTES"),
                        request_address(),
                    )
                    back = safe_next(session.pop(RETURN_TO, None))
                    return redirect(back or url_for(".records"), code=303)
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
    end_grant()
    session.pop(PENDING, None)
    flash("已退出我的办理。", "success")
    return redirect(url_for(".start"), code=303)
