"""钥匙托管 in the back office: a room's keys with their handovers (秩序维护, 客服, 经理 record
them), and the 经理's register of every key with its state filter and exports."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from ..accounts.access import staff_required
from ..accounts.audit import record_audit
from ..core.clock import today, utcnow
from ..web.exports import Table, table_response
from ..web.paging import paginate
from ..web.template_filters import local_minute
from . import keys
from .models import KEY_STATES
from .registry import room_or_404

bp = Blueprint("households_keys", __name__)
# The ways an owner agrees to a handover, for _keys.html wherever it is included.
bp.add_app_template_global(keys.CONSENT_WAYS, "key_consent_ways")

# Where a handover posted from another registry page (the household page) may send the
# browser back to: a plain path of the registry's back office.
SAFE_NEXT = re.compile(r"/[A-Za-z0-9/_-]{0,200}")


def _room_page(room, status: int = 200, **context):
    found = keys.keys_of(room.id)
    context.setdefault("new_values", {"sealed": "yes"})
    context.setdefault("new_errors", {})
    return render_template(
        "households/staff/keys_room.html",
        room=room,
        keys=found,
        handovers=keys.handovers_of([key.id for key in found]),
        consent_ways=keys.CONSENT_WAYS,
        **context,
    ), status


def _back_to(room_id: int) -> str:
    """The page the form came from when it is a registry page, else the room's key page."""
    target = request.form.get("next", "")
    prefix = url_for("households_staff.index")
    if (
        isinstance(target, str)
        and SAFE_NEXT.fullmatch(target)
        and target.startswith(prefix)
        and "//" not in target
    ):
        return target + "#keys"
    return url_for(".room", room_id=room_id) + "#keys"


@bp.get("/rooms/<int:room_id>")
@staff_required("households.keys")
def room(room_id: int):
    """One room's keys: each with its handovers and the forms to record the next one."""
    return _room_page(room_or_404(room_id))


@bp.post("/rooms/<int:room_id>/keys")
@staff_required("households.keys")
def record(room_id: int):
    """Record keys left with the property."""
    found = room_or_404(room_id)
    new, values, errors = keys.check_new_key(request.form)
    if new is None:
        return _room_page(found, 400, new_values=values, new_errors=errors)
    try:
        keys.record_key(found.id, new)
    except keys.KeyRefused as refused:
        return _room_page(found, 400, new_values=values, page_error=refused.message)
    flash(f"已登记托管钥匙：{new.description}。", "success")
    return redirect(_back_to(found.id), code=303)


@bp.post("/rooms/<int:room_id>/<int:key_id>/<direction>")
@staff_required("households.keys")
def handover(room_id: int, key_id: int, direction: str):
    """A key taken out (with the owner's consent), brought back, or returned to the owner."""
    if direction not in keys.DIRECTIONS:
        abort(404)
    found = room_or_404(room_id)
    key = keys.key_of_room(found.id, key_id)
    if key is None:
        abort(404)
    checked, values, errors = keys.check_handover(direction, request.form)

    def again(message: str | None = None):
        form = {"key_id": key.id, "direction": direction, "values": values, "errors": errors}
        return _room_page(found, 400, key_form=form, page_error=message)

    if checked is None:
        return again("钥匙交接没有登记，请查看标红的项目。")
    try:
        keys.record_handover(found.id, key.id, checked)
    except keys.KeyRefused as refused:
        return again(refused.message)
    flash(
        f"已登记：{key.description} {keys.DIRECTIONS[direction]}（{checked.person}）。", "success"
    )
    return redirect(_back_to(found.id), code=303)


@bp.get("/")
@staff_required("households.keys.register")
def index():
    """Every key of the community, filtered by state, with its room and last handover."""
    filters = keys.read_filters(request.args)
    page = paginate(keys.register_query(filters), request.args.get("page"))
    return render_template(
        "households/staff/keys.html",
        page=page,
        filters=filters,
        states=KEY_STATES,
        rooms=keys.rooms_of(page.items),
        last=keys.last_handovers([key.id for key in page.items]),
        describe_handover=keys.describe_handover,
    )


@bp.get("/export.<fmt>")
@staff_required("households.keys.register")
def export(fmt: str):
    """The register as .xlsx or CSV (UTF-8 with BOM), the filters written at the top."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    filters = keys.read_filters(request.args)
    if filters.errors:
        flash("筛选条件有误，请修改后再导出。", "error")
        return redirect(url_for(".index", **filters.values), code=303)
    described = keys.describe_filters(filters)
    record_audit("export", target="钥匙托管登记", detail=f"{fmt}；{described}")
    filename = f"钥匙托管登记-{today().isoformat()}.{fmt}"
    table = Table("钥匙托管登记", keys.REGISTER_COLUMNS, keys.register_rows(filters), described)
    return table_response(fmt, filename, [table], local_minute(utcnow()))
