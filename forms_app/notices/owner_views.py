"""公告 for owners: the public board as JSON for the owner guide's home page (same origin, cached
a minute) and as a page of its own (the home page's fallback), one notice's page (a notice for
households only opens for a signed-in household it concerns, and marks it read), and a
household's notices in 我的办理 with the 社区活动 messages it may ask for."""

from __future__ import annotations

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

from ..core.clock import local_time, utcnow
from ..core.community import current_community
from ..core.extensions import db
from ..core.security_headers import private
from ..my_records.codes import allowed_roles
from ..my_records.grants import current_grant
from . import kinds as notice_kinds
from . import publishing
from .models import HOUSEHOLDS, PUBLIC, PUBLISHED, WITHDRAWN, Notice
from .scope import building_choices, concerns, scope_buildings, scope_label

bp = Blueprint("notices", __name__)

BOARD_MAX_AGE = 60  # seconds the home page's list may be cached


def _item(notice: Notice, read: bool | None = None) -> dict:
    return {
        "id": notice.id,
        "title": notice.title,
        "kind": notice_kinds.kind_name(notice.kind),
        "urgent": notice.urgent,
        "scope": scope_label(notice.scope_kind, notice.scope),
        "buildings": scope_buildings(notice.scope_kind, notice.scope),
        "time": notice_kinds.time_label(notice.starts_at, notice.ends_at),
        "published": local_time(notice.publish_at).strftime("%Y-%m-%d %H:%M"),
        "corrected": notice.corrected_at is not None,
        "url": url_for("notices.detail", notice_id=notice.id),
        **({"read": read} if read is not None else {}),
    }


def _building_arg() -> int | None:
    raw = request.args.get("building", "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 3:
        number = int(raw)
        if number in current_community().buildings:
            return number
    return None


@bp.get("/board.json")
def board_json():
    """The public notices on the board now, urgent first then newest, each with its scope."""
    notices = [_item(n) for n in publishing.board(PUBLIC)]
    response = jsonify({"notices": notices, "community": current_community().name})
    response.headers["Cache-Control"] = f"public, max-age={BOARD_MAX_AGE}"
    return response


@bp.get("/")
def board():
    """The public board as a page: the home page's list without JavaScript, and its 全部."""
    building = _building_arg()
    notices = [n for n in publishing.board(PUBLIC) if _in_building(n, building)]
    response = current_app.make_response(
        render_template(
            "notices/board.html",
            items=[_item(n) for n in notices],
            buildings=building_choices(),
            building=building,
        )
    )
    response.headers["Cache-Control"] = f"public, max-age={BOARD_MAX_AGE}"
    return response


def _in_building(notice: Notice, building: int | None) -> bool:
    """The building filter: a notice for the whole community concerns every building."""
    if building is None:
        return True
    buildings = scope_buildings(notice.scope_kind, notice.scope)
    return buildings is None or building in buildings


@bp.get("/<int:notice_id>")
def detail(notice_id: int):
    """One notice. Drafts and notices of other communities do not exist here; a notice for
    households opens only for a signed-in household in its scope."""
    notice = db.session.get(Notice, notice_id)
    if (
        notice is None
        or notice.community != current_community().key
        or notice.state not in (PUBLISHED, WITHDRAWN)
        or notice.publish_at is None
        or notice.publish_at > utcnow()
    ):
        abort(404)
    grant = current_grant(allowed_roles())
    in_scope = grant is not None and concerns(
        notice.scope_kind, notice.scope, grant.room.building, grant.room.unit
    )
    if notice.audience == HOUSEHOLDS and not in_scope:
        if grant is None:
            flash("这条公告只有所涉及楼栋的登记住户可以查看，请先登录我的办理。", "error")
            return redirect(url_for("my_records.start", next=request.path), code=303)
        abort(404)
    if in_scope and notice.state == PUBLISHED:
        publishing.mark_read(notice, grant.room)
    response = current_app.make_response(
        render_template(
            "notices/detail.html",
            notice=notice,
            item=_item(notice),
            versions=list(notice.versions),
            scope_label=scope_label,
            time_label=notice_kinds.time_label,
            local_time=local_time,
            ended=notice.ends_at <= utcnow(),
        )
    )
    return private(response) if notice.audience == HOUSEHOLDS else response


@bp.route("/mine", methods=["GET", "POST"])
def mine():
    """The notices that concern the signed-in household, unread ones marked; the 社区活动
    messages it may ask for."""
    grant = current_grant(allowed_roles())
    if grant is None:
        return redirect(url_for("my_records.start"))
    room = grant.room
    if request.method == "POST":
        wanted = request.form.get("activity") == "1"
        publishing.set_opt_in(room, notice_kinds.ACTIVITY, wanted, grant.person.mobile or "")
        flash(
            "已开通社区活动短信通知。" if wanted else "已关闭社区活动短信通知。",
            "success",
        )
        return redirect(url_for(".mine"), code=303)
    notices = publishing.for_room(room)
    read = publishing.read_ids(room.id, [n.id for n in notices])
    return private(
        current_app.make_response(
            render_template(
                "notices/mine.html",
                room=room,
                items=[_item(n, n.id in read) for n in notices],
                activity=publishing.opted_in(room, notice_kinds.ACTIVITY),
            )
        )
    )


def my_panel(grant) -> dict | None:
    """我的办理's panel: how many notices concern the household, how many unread."""
    notices = publishing.for_room(grant.room)
    read = publishing.read_ids(grant.room.id, [n.id for n in notices])
    return {
        "total": len(notices),
        "unread": sum(1 for n in notices if n.id not in read),
        "urgent": sum(1 for n in notices if n.urgent and n.id not in read),
    }
