"""公告 in the back office: the list by state, writing a notice from its kind's template, the
notice's page (what was sent and failed, how many households in scope opened it, its versions),
publishing (now or at a set time), correcting, withdrawing, and the A4 poster for the 告示栏."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from ..accounts.access import current_staff, staff_required
from ..accounts.permissions import allowed
from ..core.clock import utcnow
from ..core.community import current_community
from ..core.extensions import db
from ..core.public_urls import public_url
from ..notifications.models import DELIVERED, FAILED, PENDING, SENDING
from ..notifications.outbox import path_for
from ..web.qr import qr_svg
from . import kinds as notice_kinds
from . import publishing
from .models import AUDIENCES, DRAFT, PUBLIC, PUBLISHED, WITHDRAWN, Notice
from .scope import SCOPE_KINDS, building_choices, households_in_scope, scope_label, unit_choices

bp = Blueprint("notices_staff", __name__)

STATES = {
    "current": "在公告栏",
    "scheduled": "定时发布",
    "draft": "草稿",
    "ended": "已结束",
    "withdrawn": "已撤回",
}
PAGE = 50


def state_of(notice: Notice, now: datetime) -> str:
    if notice.state == DRAFT:
        return "draft"
    if notice.state == WITHDRAWN:
        return "withdrawn"
    if notice.ends_at <= now:
        return "ended"
    if notice.publish_at and notice.publish_at > now:
        return "scheduled"
    return "current"


def _filter(query, state: str, now: datetime):
    if state == "draft":
        return query.where(Notice.state == DRAFT)
    if state == "withdrawn":
        return query.where(Notice.state == WITHDRAWN)
    query = query.where(Notice.state == PUBLISHED)
    if state == "ended":
        return query.where(Notice.ends_at <= now)
    if state == "scheduled":
        return query.where(Notice.publish_at > now, Notice.ends_at > now)
    return query.where(Notice.publish_at <= now, Notice.ends_at > now)


def _counts(now: datetime) -> dict[str, int]:
    base = (
        select(func.count())
        .select_from(Notice)
        .where(Notice.community == publishing.community_key())
    )
    return {state: db.session.scalar(_filter(base, state, now)) or 0 for state in STATES}


@bp.get("/")
@staff_required("notices.view")
def index():
    now = utcnow()
    state = request.args.get("state", "current")
    state = state if state in STATES else "current"
    notices = list(
        db.session.scalars(
            _filter(
                select(Notice).where(Notice.community == publishing.community_key()), state, now
            )
            .order_by(Notice.urgent.desc(), Notice.id.desc())
            .limit(PAGE)
        )
    )
    return render_template(
        "notices/staff/index.html",
        notices=notices,
        state=state,
        states=STATES,
        counts=_counts(now),
        messages=publishing.message_counts([n.id for n in notices]),
        scope_label=scope_label,
        time_label=notice_kinds.time_label,
        kinds=notice_kinds.kinds(),
        may_write=_may_write(),
    )


def _may_write() -> bool:
    user = current_staff()
    return bool(user) and (
        allowed(user.role, "notices.draft") or allowed(user.role, "notices.urgent")
    )


def _form_values(notice: Notice | None) -> MultiDict:
    """The form's values: what was posted, else the notice's, else the kind's blanks."""
    if request.method == "POST":
        return request.form
    values = MultiDict()
    if notice is None:
        values["kind"] = request.args.get("kind", "")
        values["scope_kind"] = "community"
        values["audience"] = PUBLIC
        return values
    values["kind"] = notice.kind
    values["title"] = notice.title
    for key, value in (notice.fields or {}).items():
        values["note" if key == "note" else f"field_{key}"] = value
    values["scope_kind"] = notice.scope_kind
    for item in notice.scope:
        values.add("buildings" if notice.scope_kind == "buildings" else "units", str(item))
    values["starts_at"] = notice_kinds.local_input(notice.starts_at)
    values["ends_at"] = notice_kinds.local_input(notice.ends_at)
    values["audience"] = notice.audience
    if notice.urgent:
        values["urgent"] = "1"
    return values


def _form_page(notice: Notice | None, error=None, status: int = 200, mode: str = "new"):
    values = _form_values(notice)
    kind = notice_kinds.kinds().get(values.get("kind", ""))
    user = current_staff()
    return (
        render_template(
            "notices/staff/form.html",
            notice=notice,
            values=values,
            kind=kind,
            kinds=notice_kinds.kinds(),
            error=error,
            mode=mode,
            scope_kinds=SCOPE_KINDS,
            buildings=building_choices(),
            units=unit_choices(),
            audiences=AUDIENCES,
            may_draft=allowed(user.role, "notices.draft"),
            may_publish=allowed(user.role, "notices.publish"),
        ),
        status,
    )


def _check_writer(draft) -> None:
    user = current_staff()
    if not allowed(user.role, "notices.draft") and not draft.urgent:
        raise publishing.NoticeRefused(
            "您可以写紧急公告并在当班时发布；其他公告请由客服起草。", "urgent"
        )


@bp.route("/new", methods=["GET", "POST"])
@staff_required("notices.view")
def new():
    if not _may_write():
        abort(403)
    if request.method == "GET":
        return _form_page(None)
    try:
        draft = publishing.read_draft(request.form)
        _check_writer(draft)
    except publishing.NoticeRefused as refused:
        return _form_page(None, refused, 400)
    notice = publishing.save_draft(draft)
    return _after_save(notice)


def _publish_time(form) -> tuple[str, datetime | None]:
    """("now" | "at" | "", the set time): what the pressed button asked for."""
    action = form.get("action", "")
    if action == "publish":
        return "now", None
    if action == "schedule":
        at = notice_kinds.from_local(str(form.get("publish_at", "")))
        if at is None:
            raise publishing.NoticeRefused(
                "请填写定时发布的时间（如 2026-12-08 08:00）。", "publish_at"
            )
        return "at", at
    return "", None


def _after_save(notice: Notice):
    """A draft was saved; publish it when a publish button was pressed."""
    try:
        action, at = _publish_time(request.form)
        if action:
            publishing.publish(notice.id, current_staff(), at, request.form.get("reason", ""))
    except publishing.NoticeRefused as refused:
        flash(f"草稿已保存，但未发布：{refused.message}", "error")
        return redirect(url_for(".detail", notice_id=notice.id), code=303)
    if action == "now":
        flash("公告已发布。", "success")
    elif action == "at":
        flash("公告已定时发布，到时自动上公告栏并发送通知。", "success")
    else:
        flash("草稿已保存。", "success")
    return redirect(url_for(".detail", notice_id=notice.id), code=303)


def _notice_or_404(notice_id: int) -> Notice:
    notice = db.session.scalar(
        select(Notice).where(Notice.id == notice_id, Notice.community == publishing.community_key())
    )
    if notice is None:
        abort(404)
    return notice


@bp.get("/<int:notice_id>")
@staff_required("notices.view")
def detail(notice_id: int):
    notice = _notice_or_404(notice_id)
    now = utcnow()
    user = current_staff()
    may, needs_reason = publishing.may_publish(user, notice)
    counts = publishing.message_counts([notice.id]).get(notice.id, {})
    households = households_in_scope(notice.scope_kind, notice.scope)
    return render_template(
        "notices/staff/detail.html",
        notice=notice,
        state=state_of(notice, now),
        states=STATES,
        kind_name=notice_kinds.kind_name(notice.kind),
        scope=scope_label(notice.scope_kind, notice.scope),
        when=notice_kinds.time_label(notice.starts_at, notice.ends_at),
        audiences=AUDIENCES,
        may_publish=may,
        needs_reason=needs_reason,
        may_manage=allowed(user.role, "notices.publish"),
        may_edit=notice.state == DRAFT and _may_write(),
        sent={
            "pending": counts.get(PENDING, 0) + counts.get(SENDING, 0),
            "delivered": counts.get(DELIVERED, 0),
            "failed": counts.get(FAILED, 0),
        },
        messaged=notice.kind in notice_kinds.message_kinds()
        or notice.kind == notice_kinds.ACTIVITY,
        in_scope=len(households),
        reads=publishing.read_count(notice.id),
        local_input=notice_kinds.local_input,
        time_label=notice_kinds.time_label,
        scope_label=scope_label,
    )


@bp.route("/<int:notice_id>/edit", methods=["GET", "POST"])
@staff_required("notices.view")
def edit(notice_id: int):
    notice = _notice_or_404(notice_id)
    if notice.state != DRAFT:
        flash("已发布的公告不能直接修改，请用“更正”并写明原因。", "error")
        return redirect(url_for(".detail", notice_id=notice.id), code=303)
    if not _may_write():
        abort(403)
    if request.method == "GET":
        return _form_page(notice, mode="edit")
    try:
        draft = publishing.read_draft(request.form)
        _check_writer(draft)
        notice = publishing.save_draft(draft, notice.id)
    except publishing.NoticeRefused as refused:
        return _form_page(notice, refused, 400, mode="edit")
    return _after_save(notice)


@bp.post("/<int:notice_id>/publish")
@staff_required("notices.view")
def publish(notice_id: int):
    notice = _notice_or_404(notice_id)
    try:
        action, at = _publish_time(request.form)
        publishing.publish(
            notice.id,
            current_staff(),
            at if action == "at" else None,
            request.form.get("reason", ""),
        )
    except publishing.NoticeRefused as refused:
        flash(refused.message, "error")
        return redirect(url_for(".detail", notice_id=notice.id), code=303)
    flash("公告已定时发布。" if action == "at" else "公告已发布。", "success")
    return redirect(url_for(".detail", notice_id=notice.id), code=303)


@bp.route("/<int:notice_id>/correct", methods=["GET", "POST"])
@staff_required("notices.publish")
def correct(notice_id: int):
    notice = _notice_or_404(notice_id)
    if notice.state != PUBLISHED:
        flash("只有已发布的公告可以更正。", "error")
        return redirect(url_for(".detail", notice_id=notice.id), code=303)
    if request.method == "GET":
        return _form_page(notice, mode="correct")
    try:
        draft = publishing.read_draft(request.form)
        _, sent = publishing.correct(notice.id, current_staff(), draft, request.form.get("reason"))
    except publishing.NoticeRefused as refused:
        return _form_page(notice, refused, 400, mode="correct")
    flash(
        f"公告已更正，时间或范围有变，已重新通知 {sent} 户。" if sent else "公告已更正。",
        "success",
    )
    return redirect(url_for(".detail", notice_id=notice.id), code=303)


@bp.post("/<int:notice_id>/withdraw")
@staff_required("notices.publish")
def withdraw(notice_id: int):
    notice = _notice_or_404(notice_id)
    try:
        _, sent = publishing.withdraw(notice.id, current_staff(), request.form.get("reason"))
    except publishing.NoticeRefused as refused:
        flash(refused.message, "error")
        return redirect(url_for(".detail", notice_id=notice.id), code=303)
    flash(f"公告已撤回{f'，已通知 {sent} 户' if sent else ''}。", "success")
    return redirect(url_for(".detail", notice_id=notice.id), code=303)


@bp.get("/<int:notice_id>/poster")
@staff_required("notices.view")
def poster(notice_id: int):
    """The A4 poster for the 告示栏: the community, the notice, its date and a QR code to the
    notice online."""
    notice = _notice_or_404(notice_id)
    if notice.state == DRAFT:
        flash("草稿不能打印张贴，请先发布。", "error")
        return redirect(url_for(".detail", notice_id=notice.id), code=303)
    link = public_url(path_for("notices.detail", notice_id=notice.id))
    return render_template(
        "notices/staff/poster.html",
        notice=notice,
        community=current_community(),
        kind_name=notice_kinds.kind_name(notice.kind),
        scope=scope_label(notice.scope_kind, notice.scope),
        when=notice_kinds.time_label(notice.starts_at, notice.ends_at),
        link=link,
        qr=qr_svg(link, "公告二维码"),
        published_on=notice_kinds.local_input(notice.publish_at)[:10],
    )


def home_figures(user, day) -> dict | None:
    """Drafts waiting for a 主管/经理 and what is on the board."""
    now = utcnow()
    counts = _counts(now)
    if not (counts["draft"] or counts["current"] or counts["scheduled"]):
        return None
    return {
        "counts": counts,
        "publisher": allowed(user.role, "notices.publish"),
    }
