"""一户一档: a household's whole business in one timeline, newest first.

The timeline is made of sources, each a function ``source(room, people) -> list[Entry]``:
the domains' records (renovation, move-in, repairs and complaints, through ``records``), the
registry's changes, key custody and the messages sent to the household's mobiles. More sources
(survey invitations, 走访) are added to ``SOURCES`` here or, from a higher layer, with
``register_timeline_source(app, source)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Flask, current_app
from sqlalchemy import select

from ..core.clock import local_time
from ..core.extensions import db
from ..notifications.messages import MESSAGES
from ..notifications.models import Notification
from ..web.template_filters import mask_mobile
from .keys import handovers_of, keys_of
from .models import HouseholdChange, HouseholdPerson, HouseholdRoom
from .records import records_for

EXTENSION_KEY = "household_timeline_sources"
# The most messages one household's timeline shows (the newest).
MESSAGE_LIMIT = 300

HANDOVER_LABELS = {"out": "借出钥匙", "back": "钥匙归还管理处", "returned": "钥匙退还业主"}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline. ``at`` is local time (naive); ``timed`` says whether it holds
    a time of day or only a date (a record filed on a day)."""

    at: datetime
    kind: str  # 装修申请, 登记变更, 钥匙托管, 短信 …
    title: str
    detail: str = ""
    url: str = ""
    actor: str = ""
    timed: bool = True
    # A CSS hook: record, change, key, message.
    category: str = "record"

    @property
    def when(self) -> str:
        return self.at.strftime("%Y-%m-%d %H:%M") if self.timed else self.at.date().isoformat()


Source = Callable[[HouseholdRoom, list[HouseholdPerson]], Iterable[Entry]]


def _local(moment: datetime) -> datetime:
    return local_time(moment).replace(tzinfo=None)


def record_entries(room: HouseholdRoom, people: list[HouseholdPerson]) -> list[Entry]:
    """Renovation applications, move-in bookings, repairs and complaints of the room."""
    if room.building is None or room.unit is None:
        return []
    return [
        Entry(
            at=datetime.combine(record.filed_on, time.min),
            kind=record.kind,
            title=f"{record.kind} {record.reference}",
            detail=record.state,
            url=record.staff_url,
            timed=False,
        )
        for record in records_for(room.building, room.unit, room.number)
    ]


def change_entries(room: HouseholdRoom, people: list[HouseholdPerson]) -> list[Entry]:
    """The registry's changes of the room, with who made them and why (key custody, which
    ``keys.py`` also records as changes, comes from ``key_entries``)."""
    return [
        Entry(
            at=_local(change.created_at),
            kind="登记变更",
            title=change.summary,
            detail=f"原因：{change.reason}" if change.reason else "",
            actor=change.actor_name,
            category="change",
        )
        for change in changes_of(room.id)
        if not change.action.startswith("key.")
    ]


def changes_of(room_id: int) -> list[HouseholdChange]:
    return list(
        db.session.scalars(
            select(HouseholdChange)
            .where(HouseholdChange.room_id == room_id)
            .order_by(HouseholdChange.created_at.desc(), HouseholdChange.id.desc())
        )
    )


def key_entries(room: HouseholdRoom, people: list[HouseholdPerson]) -> list[Entry]:
    """钥匙托管: keys left with the property and every handover."""
    keys = keys_of(room.id)
    entries = [
        Entry(
            at=_local(key.received_at),
            kind="钥匙托管",
            title=f"收存钥匙：{key.description}（{key.left_by} 交来）",
            detail=f"存放：{key.kept_at}；{'已封存' if key.sealed else '未封存'}",
            actor=key.received_by,
            category="key",
        )
        for key in keys
    ]
    described = {key.id: key.description for key in keys}
    for key_id, handovers in handovers_of(list(described)).items():
        entries.extend(
            Entry(
                at=_local(handover.created_at),
                kind="钥匙托管",
                title=f"{HANDOVER_LABELS.get(handover.direction, handover.direction)}："
                f"{described[key_id]}（{handover.person}）",
                detail=f"业主同意：{handover.consent}" if handover.consent else "",
                actor=handover.staff_name,
                category="key",
            )
            for handover in handovers
        )
    return entries


def _periods(people: list[HouseholdPerson]) -> dict[str, list[tuple[date, date | None]]]:
    """Each mobile's periods on the room: from ``since`` to ``until`` (exclusive) or the day
    after the lease's end; None while it lasts."""
    periods: dict[str, list[tuple[date, date | None]]] = {}
    for person in people:
        if not person.mobile:
            continue
        ends = [
            d for d in (person.until, person.lease_end and person.lease_end + timedelta(1)) if d
        ]
        periods.setdefault(person.mobile, []).append((person.since, min(ends) if ends else None))
    return periods


def message_entries(room: HouseholdRoom, people: list[HouseholdPerson]) -> list[Entry]:
    """Messages sent to the mobiles of the room's people, each only from the period the
    person stood on the room (a former owner's later messages are not this household's)."""
    periods = _periods(people)
    if not periods:
        return []
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.recipient.in_(list(periods)))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(MESSAGE_LIMIT)
    )
    entries = []
    for message in rows:
        at = _local(message.created_at)
        day = at.date()
        if not any(
            since <= day and (until is None or day < until)
            for since, until in periods[message.recipient]
        ):
            continue
        label = MESSAGES[message.kind].label if message.kind in MESSAGES else message.kind
        entries.append(
            Entry(
                at=at,
                kind="短信",
                title=f"{label}{f'（{message.reference}）' if message.reference else ''}",
                detail=f"发给 {mask_mobile(message.recipient)}：{message.state_label}",
                category="message",
            )
        )
    return entries


# The timeline's sources in this layer; a higher layer adds its own with
# ``register_timeline_source``.
SOURCES: list[Source] = [record_entries, change_entries, key_entries, message_entries]


def register_timeline_source(app: Flask, source: Source) -> None:
    """Add a source of timeline entries (survey invitations, 走访 …) from a domain's init_app."""
    app.extensions.setdefault(EXTENSION_KEY, []).append(source)


def timeline(room: HouseholdRoom, people: list[HouseholdPerson]) -> list[Entry]:
    """Every source's entries for the room, newest first."""
    sources = [*SOURCES, *current_app.extensions.get(EXTENSION_KEY, [])]
    entries = [entry for source in sources for entry in source(room, people)]
    entries.sort(key=lambda e: (e.at, e.timed), reverse=True)
    return entries
