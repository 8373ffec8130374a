"""A notice's life: written (checked), published now or at a set time by who may, corrected in
the open, withdrawn; its messages to the households in scope; the board's queries; read marks.

Who may publish: a 客服主管 or 经理 (``notices.publish``); an urgent notice also whoever is on
duty now (the rota, ``organisation.on_duty``) with the reason recorded. A 客服 writes drafts.

Messages: one per registered household in scope, to its 主要联系人, for the kinds the community
chooses (``kinds.message_kinds``; 社区活动 only to households that asked), through the outbox in
the same transaction as the publication; a message that is not urgent waits for the end of the
quiet hours. A correction sends again only when the time or the scope changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..accounts.access import current_staff
from ..accounts.audit import record_audit
from ..accounts.models import actor_label
from ..accounts.organisation import on_duty
from ..accounts.permissions import allowed
from ..core.clock import utcnow
from ..core.community import cached_data, community_key, current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.refusals import Refused
from ..notifications.models import Notification
from ..notifications.outbox import enqueue_rows, message_row, path_for
from ..web.typed_input import clean_line, clean_text
from . import kinds as notice_kinds
from .models import (
    AUDIENCES,
    DRAFT,
    HOUSEHOLDS,
    PUBLIC,
    PUBLISHED,
    UNITS,
    WITHDRAWN,
    Notice,
    NoticeOptIn,
    NoticeRead,
    NoticeVersion,
)
from .scope import ScopeError, concerns, households_in_scope, read_scope, scope_label

RECORD_TYPE = "notice"
MAX_TITLE = 60
MAX_FIELD = 500
MAX_MULTILINE = 3000
MAX_REASON = 500
MAX_DAYS = 366  # a notice stays on the board at most this long

# What a public notice must not carry: a room (1801室, 3-1-1801), a mobile, an ID card number.
PERSONAL = re.compile(
    r"[0-9]{2,5}\s*(室|房|号房)|[0-9]{1,3}-[0-9]{1,2}-[0-9]{2,5}|(?<![0-9])1[3-9][0-9]{9}(?![0-9])"
    r"|(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|先生|女士"
)


class NoticeRefused(Refused):
    """A notice that cannot be written, published, corrected or withdrawn as asked."""


@dataclass
class Draft:
    """What the form asked for, checked: the columns of a notice."""

    kind: str
    title: str
    fields: dict
    body: str
    scope_kind: str
    scope: list
    starts_at: datetime
    ends_at: datetime
    urgent: bool
    audience: str


def _actor() -> str:
    user = current_staff()
    return actor_label(user) if user else "系统"


def read_draft(form) -> Draft:
    """Check a notice form (a ``MultiDict``); refuse with the field at fault."""
    kind = notice_kinds.kinds().get(str(form.get("kind", "")))
    if kind is None:
        raise NoticeRefused("请选择公告种类。", "kind")
    answers = {}
    for field in kind.fields:
        limit = MAX_MULTILINE if field.multiline else MAX_FIELD
        raw = form.get(f"field_{field.id}", "")
        value = clean_text(raw) if field.multiline else clean_line(raw)
        value = value if isinstance(value, str) else ""
        if field.required and not value:
            raise NoticeRefused(f"请填写“{field.label}”。", f"field_{field.id}")
        if len(value) > limit:
            raise NoticeRefused(f"“{field.label}”不能超过 {limit} 个字。", f"field_{field.id}")
        answers[field.id] = value
    note = clean_text(form.get("note", "")) or ""
    if len(note) > MAX_MULTILINE:
        raise NoticeRefused(f"补充说明不能超过 {MAX_MULTILINE} 个字。", "note")
    title = clean_line(form.get("title", "")) or kind.title
    if not title:
        raise NoticeRefused("请填写公告标题。", "title")
    if len(title) > MAX_TITLE:
        raise NoticeRefused(f"标题不能超过 {MAX_TITLE} 个字。", "title")
    try:
        scope = read_scope(
            str(form.get("scope_kind", "")), form.getlist("buildings"), form.getlist("units")
        )
    except ScopeError as error:
        raise NoticeRefused(str(error), "scope") from None
    scope_kind = str(form.get("scope_kind"))
    starts_at = notice_kinds.from_local(str(form.get("starts_at", "")))
    if starts_at is None:
        raise NoticeRefused("请填写开始时间（如 2026-12-09 09:00）。", "starts_at")
    ends_at = notice_kinds.from_local(str(form.get("ends_at", "")))
    if ends_at is None:
        raise NoticeRefused("请填写结束时间（如 2026-12-09 17:00）。", "ends_at")
    if ends_at <= starts_at:
        raise NoticeRefused("结束时间须晚于开始时间。", "ends_at")
    if ends_at - starts_at > timedelta(days=MAX_DAYS):
        raise NoticeRefused(f"公告的时间不能超过 {MAX_DAYS} 天。", "ends_at")
    if ends_at <= utcnow():
        raise NoticeRefused("结束时间已经过去，公告不会再显示，请检查时间。", "ends_at")
    audience = str(form.get("audience", ""))
    if audience not in AUDIENCES:
        raise NoticeRefused("请选择谁能看到这条公告。", "audience")
    where, when = scope_label(scope_kind, scope), notice_kinds.time_label(starts_at, ends_at)
    body = notice_kinds.compose(kind, answers, where, when, note)
    if audience == PUBLIC and PERSONAL.search(f"{title}\n{body}"):
        raise NoticeRefused(
            "公开的公告不能写房号、姓名称呼或手机号等个人信息（如欠费公示）。"
            "请删去这些内容，或选“仅范围内登记住户”。",
            "audience",
        )
    answers["note"] = note
    return Draft(
        kind.id,
        title,
        answers,
        body,
        scope_kind,
        scope,
        starts_at,
        ends_at,
        form.get("urgent") in ("1", "on", "y", "true"),
        audience,
    )


def _apply(notice: Notice, draft: Draft) -> None:
    for name in (
        "kind",
        "title",
        "fields",
        "body",
        "scope_kind",
        "scope",
        "starts_at",
        "ends_at",
        "urgent",
        "audience",
    ):
        setattr(notice, name, getattr(draft, name))


def save_draft(draft: Draft, notice_id: int | None = None) -> Notice:
    """A new draft, or a draft changed (a published notice is corrected, never edited)."""
    with write_transaction() as session:
        if notice_id is None:
            notice = Notice(community=community_key(), created_by=_actor(), state=DRAFT)
            session.add(notice)
        else:
            notice = _locked(session, notice_id)
            if notice.state != DRAFT:
                raise NoticeRefused("已发布的公告不能直接修改，请用“更正”并写明原因。")
        _apply(notice, draft)
        session.flush()
        record_audit("notices.draft", f"公告 {notice.id}", notice.title)
    return notice


def _locked(session, notice_id: int) -> Notice:
    notice = session.scalar(
        select(Notice)
        .where(Notice.id == notice_id, Notice.community == community_key())
        .with_for_update()
    )
    if notice is None:
        raise NoticeRefused("找不到这条公告。")
    return notice


def may_publish(user, notice: Notice) -> tuple[bool, bool]:
    """(may publish, must give a reason): a 主管/经理 may; someone on duty now may publish an
    urgent notice, giving the reason."""
    if allowed(user.role, "notices.publish"):
        return True, False
    if notice.urgent and allowed(user.role, "notices.urgent") and user.department:
        if any(person.id == user.id for person in on_duty(user.department)):
            return True, True
    return False, False


def publish(notice_id: int, user, at: datetime | None = None, reason: str = "") -> Notice:
    """Publish a draft now (``at`` None) or at ``at`` (naive UTC); write its messages now when
    it goes on the board now (a scheduled one: the worker's scan, when its time comes)."""
    reason = clean_text(reason or "") or ""
    with write_transaction() as session:
        notice = _locked(session, notice_id)
        if notice.state != DRAFT:
            raise NoticeRefused("这条公告已经发布或已撤回。")
        ok, needs_reason = may_publish(user, notice)
        if not ok:
            raise NoticeRefused(
                "发布公告须由客服主管或经理；紧急公告可由当前值班人员发布。"
                "您可以保存草稿，请主管或经理发布。"
            )
        if needs_reason and not reason:
            raise NoticeRefused("当班发布紧急公告，请写明原因（会记录在案）。", "reason")
        if len(reason) > MAX_REASON:
            raise NoticeRefused(f"原因不能超过 {MAX_REASON} 个字。", "reason")
        now = utcnow()
        if notice.ends_at <= now:
            raise NoticeRefused("公告的结束时间已过，请先修改时间。", "ends_at")
        if at is not None:
            if needs_reason:
                raise NoticeRefused("当班发布的紧急公告须立即发布。", "publish_at")
            if at <= now:
                raise NoticeRefused("定时发布的时间须晚于现在。", "publish_at")
            if at >= notice.ends_at:
                raise NoticeRefused("定时发布的时间须早于公告的结束时间。", "publish_at")
        notice.state = PUBLISHED
        notice.publish_at = at or now
        notice.published_by = actor_label(user)
        notice.publish_reason = reason
        sent = 0
        if at is None:
            sent = _send(session, notice, "notice.published")
        record_audit(
            "notices.publish",
            f"公告 {notice.id}",
            f"{notice.title}；{'定时发布' if at else '立即发布'}；短信 {sent} 条"
            + (f"；当班发布原因：{reason}" if reason else ""),
            actor=user,
        )
    return notice


def _opted_in(session, kind: str) -> set[int]:
    return set(
        session.scalars(
            select(NoticeOptIn.room_id).where(
                NoticeOptIn.community == community_key(), NoticeOptIn.kind == kind
            )
        )
    )


def recipients(session, notice: Notice) -> list:
    """The households a message of this notice goes to (one per household, with a mobile)."""
    if notice.kind == notice_kinds.ACTIVITY:
        wanted = _opted_in(session, notice.kind)
        households = [
            h for h in households_in_scope(notice.scope_kind, notice.scope) if h.room_id in wanted
        ]
    elif notice.kind in notice_kinds.message_kinds():
        households = households_in_scope(notice.scope_kind, notice.scope)
    else:
        return []
    seen, found = set(), []
    for household in households:
        if household.contact_mobile and household.room_id not in seen:
            seen.add(household.room_id)
            found.append(household)
    return found


def _send(session, notice: Notice, message_kind: str) -> int:
    """Write this notice's messages to the outbox in ``session``'s transaction."""
    households = recipients(session, notice)
    notice.messaged_version = notice.version
    if not households:
        return 0
    now = utcnow()
    due = now if notice.urgent else notice_kinds.after_quiet_hours(now)
    link = path_for("notices.detail", notice_id=notice.id)
    values = {
        "notice_kind": notice_kinds.kind_name(notice.kind),
        "scope": scope_label(notice.scope_kind, notice.scope),
        "time": notice_kinds.time_label(notice.starts_at, notice.ends_at),
    }
    template = message_row(
        message_kind,
        record_type=RECORD_TYPE,
        record_id=notice.id,
        reference=f"公告{notice.id}",
        link_path=link,
        requested_by=notice.published_by,
        **values,
    )
    rows = []
    for index, household in enumerate(households):
        row = dict(template)
        row["recipient"] = household.contact_mobile
        row["idempotency_key"] = f"{template['idempotency_key'][:24]}{index:016x}"
        row["next_attempt_at"] = due
        rows.append(row)
    enqueue_rows(session, rows)
    return len(rows)


def send_due(day=None) -> int:
    """The worker's scan: notices whose set time has come get their messages."""
    now = utcnow()
    sent = 0
    due_ids = list(
        db.session.scalars(
            select(Notice.id).where(
                Notice.community == community_key(),
                Notice.state == PUBLISHED,
                Notice.messaged_version == 0,
                Notice.publish_at <= now,
                Notice.ends_at > now,
            )
        )
    )
    db.session.rollback()
    for notice_id in due_ids:
        with write_transaction() as session:
            notice = _locked(session, notice_id)
            if notice.state == PUBLISHED and notice.messaged_version == 0:
                sent += _send(session, notice, "notice.published")
    return sent


def _reason(raw, missing: str) -> str:
    """A correction's or withdrawal's reason, shown to households: required, bounded."""
    reason = clean_text(raw or "") or ""
    if not reason:
        raise NoticeRefused(missing, "reason")
    if len(reason) > MAX_REASON:
        raise NoticeRefused(f"原因不能超过 {MAX_REASON} 个字。", "reason")
    return reason


def _published(session, notice_id: int, user, what: str) -> Notice:
    """The published notice, locked, that ``user`` may correct or withdraw (``what``)."""
    notice = _locked(session, notice_id)
    if notice.state != PUBLISHED:
        raise NoticeRefused(f"只有已发布的公告可以{what}。")
    if not allowed(user.role, "notices.publish"):
        raise NoticeRefused(f"{what}公告须由客服主管或经理。")
    return notice


def _keep_version(session, notice: Notice, corrected_by: str, reason: str) -> None:
    """Before a published notice changes: keep the version it had, with who corrects it and
    why, and count the next one (the page shows the correction as such)."""
    session.add(
        NoticeVersion(
            community=notice.community,
            notice_id=notice.id,
            version=notice.version,
            title=notice.title,
            body=notice.body,
            scope_kind=notice.scope_kind,
            scope=list(notice.scope),
            starts_at=notice.starts_at,
            ends_at=notice.ends_at,
            corrected_by=corrected_by,
            reason=reason,
        )
    )
    notice.version += 1
    notice.corrected_at = utcnow()


def correct(notice_id: int, user, draft: Draft, reason: str) -> tuple[Notice, int]:
    """Replace a published notice's content in the open: the old version kept with the reason;
    messages again (to the new scope) only when its time or scope changed."""
    reason = _reason(reason, "请写明更正原因（住户会看到“已更正”及原因）。")
    with write_transaction() as session:
        notice = _published(session, notice_id, user, "更正")
        if draft.kind != notice.kind:
            raise NoticeRefused("更正不能改变公告种类；请撤回后重新发布。", "kind")
        changed_reach = (
            draft.scope_kind != notice.scope_kind
            or list(draft.scope) != list(notice.scope)
            or draft.starts_at != notice.starts_at
            or draft.ends_at != notice.ends_at
        )
        _keep_version(session, notice, actor_label(user), reason)
        _apply(notice, draft)
        sent = 0
        if changed_reach and notice.messaged_version and notice.publish_at <= utcnow():
            sent = _send(session, notice, "notice.corrected")
        elif notice.messaged_version:
            notice.messaged_version = notice.version
        record_audit(
            "notices.correct",
            f"公告 {notice.id}",
            f"{notice.title}；原因：{reason}；短信 {sent} 条",
            actor=user,
        )
    return notice, sent


def withdraw(notice_id: int, user, reason: str) -> tuple[Notice, int]:
    """Take a published notice off the board, the reason shown on its page; the households
    already told get a message that it is withdrawn."""
    reason = _reason(reason, "请写明撤回原因（住户打开公告时会看到）。")
    with write_transaction() as session:
        notice = _published(session, notice_id, user, "撤回")
        told = notice.messaged_version > 0 and bool(
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.record_type == RECORD_TYPE, Notification.record_id == notice.id)
            )
        )
        notice.state = WITHDRAWN
        notice.withdrawn_at = utcnow()
        notice.withdrawn_by = actor_label(user)
        notice.withdraw_reason = reason
        sent = _send(session, notice, "notice.withdrawn") if told else 0
        record_audit(
            "notices.withdraw",
            f"公告 {notice.id}",
            f"{notice.title}；原因：{reason}；短信 {sent} 条",
            actor=user,
        )
    return notice, sent


# The board.


def on_board_clause(now: datetime):
    return (
        Notice.community == community_key(),
        Notice.state == PUBLISHED,
        Notice.publish_at <= now,
        Notice.ends_at > now,
    )


def board(audience: str | None = PUBLIC) -> list[Notice]:
    """The notices on the board now, urgent first, then newest."""
    query = select(Notice).where(*on_board_clause(utcnow()))
    if audience is not None:
        query = query.where(Notice.audience == audience)
    return list(db.session.scalars(query.order_by(Notice.urgent.desc(), Notice.publish_at.desc())))


def for_room(room) -> list[Notice]:
    """The notices on the board that concern this household, either audience."""
    return [
        n for n in board(audience=None) if concerns(n.scope_kind, n.scope, room.building, room.unit)
    ]


def read_ids(room_id: int, notice_ids: list[int]) -> set[int]:
    if not notice_ids:
        return set()
    return set(
        db.session.scalars(
            select(NoticeRead.notice_id).where(
                NoticeRead.room_id == room_id, NoticeRead.notice_id.in_(notice_ids)
            )
        )
    )


def mark_read(notice: Notice, room) -> None:
    """The household opened the notice (once)."""
    if read_ids(room.id, [notice.id]):
        return
    with write_transaction() as session:
        exists = session.scalar(
            select(NoticeRead.id).where(
                NoticeRead.notice_id == notice.id, NoticeRead.room_id == room.id
            )
        )
        if not exists:
            session.add(
                NoticeRead(community=notice.community, notice_id=notice.id, room_id=room.id)
            )


def set_opt_in(room, kind: str, wanted: bool, mobile: str) -> None:
    with write_transaction() as session:
        found = session.scalar(
            select(NoticeOptIn).where(
                NoticeOptIn.community == room.community,
                NoticeOptIn.room_id == room.id,
                NoticeOptIn.kind == kind,
            )
        )
        if wanted and found is None:
            session.add(
                NoticeOptIn(community=room.community, room_id=room.id, kind=kind, asked_by=mobile)
            )
        elif not wanted and found is not None:
            session.delete(found)


def opted_in(room, kind: str) -> bool:
    return (
        db.session.scalar(
            select(NoticeOptIn.id).where(
                NoticeOptIn.community == room.community,
                NoticeOptIn.room_id == room.id,
                NoticeOptIn.kind == kind,
            )
        )
        is not None
    )


# The renovation 温馨提示, through the domain-event hook.


def renovation_reminder_body(data, community) -> str:
    hours = community.renovation["working_hours"]
    rules = cached_data("renovation_rules.yml") or {}
    prohibited = "、".join(p["title"] for p in rules.get("prohibited_changes", ()))
    entrance = community.material_entrance_for(int(data["building"]))
    gate = community.get("worker_gate") or {}
    lines = [
        f"本单元{data['room']}室将于{data['start_date']}至{data['end_date']}装修"
        f"（装修申请 {data['reference']}），施工期间给您带来的不便，敬请谅解。",
        f"施工时间：工作日 {'、'.join(hours['weekdays'])}；"
        f"节假日 {'、'.join(hours['weekends_holidays'])}。",
        f"{community.renovation['clear_out_time']} 后，秩序维护部清理未离开的装修人员。",
    ]
    if gate:
        lines.append(f"装修人员从{gate['name']}（{gate['beside']}旁）出入。")
    if entrance:
        lines.append(
            f"装修材料从{entrance['name']}进出，经{community.get('material_lifts', '')}上楼。"
        )
    if prohibited:
        lines.append(f"禁止{prohibited}。")
    lines.append(
        f"发现违章装修或噪声扰民，请告知{community['service_center']}"
        f"（电话 {community['service_phone']}）。"
    )
    return "\n".join(lines)


def _day_start(day) -> datetime:
    """Midnight (China) starting ``day`` (the event's ISO date), as naive UTC."""
    day = day if isinstance(day, date) else date.fromisoformat(str(day))
    return notice_kinds.from_local(f"{day.isoformat()}T00:00")


def on_renovation_approved(event) -> None:
    """The approved application's unit board gets the 装修温馨提示 (for that unit's households,
    naming the room, so never public)."""
    data = event.data
    if not all(data.get(k) for k in ("building", "unit", "room", "start_date", "end_date")):
        return
    community = current_community()
    session = db.session()
    source = f"renovation:{event.record_id}"
    if session.scalar(
        select(Notice.id).where(Notice.community == community.key, Notice.source == source)
    ):
        return
    now = utcnow()
    ends_at = _day_start(data["end_date"]) + timedelta(days=1)
    if ends_at <= now:
        return
    notice = Notice(
        community=community.key,
        kind=notice_kinds.WORKS,
        title="装修温馨提示",
        fields={"reference": data["reference"]},
        body=renovation_reminder_body(data, community),
        scope_kind=UNITS,
        scope=[f"{int(data['building'])}-{int(data['unit'])}"],
        starts_at=_day_start(data["start_date"]),
        ends_at=ends_at,
        urgent=False,
        audience=HOUSEHOLDS,
        state=PUBLISHED,
        source=source,
        created_by=f"系统（装修申请 {data['reference']} 批准）",
        publish_at=now,
        published_by=f"系统（装修申请 {data['reference']} 批准）",
    )
    session.add(notice)
    session.flush()
    _send(session, notice, "notice.published")


def on_renovation_extended(event) -> None:
    """延期: the unit's 温馨提示 is corrected to the new end date, in the open."""
    data = event.data
    if not data.get("end_date"):
        return
    session = db.session()
    notice = session.scalar(
        select(Notice).where(
            Notice.community == community_key(),
            Notice.source == f"renovation:{event.record_id}",
            Notice.state == PUBLISHED,
        )
    )
    if notice is None:
        return
    ends_at = _day_start(data["end_date"]) + timedelta(days=1)
    if ends_at == notice.ends_at:
        return
    _keep_version(
        session,
        notice,
        f"系统（装修申请 {data['reference']} 延期）",
        f"装修延期至 {data['end_date']}",
    )
    notice.body = renovation_reminder_body(data, current_community())
    notice.ends_at = ends_at
    if notice.messaged_version:
        notice.messaged_version = notice.version


def message_counts(notice_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per notice: messages by state (pending, sending, delivered, failed)."""
    counts: dict[int, dict[str, int]] = {}
    if not notice_ids:
        return counts
    for record_id, state, count in db.session.execute(
        select(Notification.record_id, Notification.state, func.count())
        .where(Notification.record_type == RECORD_TYPE, Notification.record_id.in_(notice_ids))
        .group_by(Notification.record_id, Notification.state)
    ):
        counts.setdefault(record_id, {})[state] = count
    return counts


def read_count(notice_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(NoticeRead).where(NoticeRead.notice_id == notice_id)
        )
        or 0
    )
