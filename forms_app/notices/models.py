"""公告: a notice, where it applies, its published versions, the households that opened it and
the households that asked for 社区活动 messages. Every table carries the community key;
timestamps are naive UTC (``clock.utcnow``), the notice's own times (``starts_at``,
``ends_at``, ``publish_at``) too.

A notice is written as a draft, then published (now, or at ``publish_at``); once published it
is never edited in place: a correction keeps the version it replaces as a ``NoticeVersion``
and says so on the page, and a withdrawal keeps the notice with its reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.extensions import db

DRAFT, PUBLISHED, WITHDRAWN = "draft", "published", "withdrawn"

# Who may read it: anyone (the owner guide's home page), or the signed-in households in scope.
PUBLIC, HOUSEHOLDS = "public", "households"
AUDIENCES = {PUBLIC: "公开（业主指南首页可见）", HOUSEHOLDS: "仅范围内登记住户（我的办理）"}

# Where it applies.
COMMUNITY, BUILDINGS, UNITS = "community", "buildings", "units"


class Notice(db.Model):
    __tablename__ = "notice"
    __table_args__ = (
        Index("ix_notice_board", "community", "state", "ends_at"),
        UniqueConstraint("community", "source", name="uq_notice_source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(60))
    # The template's answers (停水: reason, prepare …) and the body written from them.
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text)
    # COMMUNITY, BUILDINGS ([3, 5]) or UNITS (["3-1", "5-2"]).
    scope_kind: Mapped[str] = mapped_column(String(12))
    scope: Mapped[list] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[str] = mapped_column(String(12), default=PUBLIC)
    state: Mapped[str] = mapped_column(String(12), default=DRAFT)
    # A notice made by the app itself (renovation's 温馨提示: "renovation:12"); unique.
    source: Mapped[str | None] = mapped_column(String(40), nullable=True)

    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    # Published: from publish_at on (a set time, or the moment of publication).
    publish_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    published_by: Mapped[str] = mapped_column(String(64), default="")
    # Why someone on duty published an urgent notice without a 主管 or 经理.
    publish_reason: Mapped[str] = mapped_column(Text, default="")
    # Messages to the households are written once the notice is on the board (version sent).
    messaged_version: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    corrected_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    withdrawn_by: Mapped[str] = mapped_column(String(64), default="")
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")

    versions: Mapped[list[NoticeVersion]] = relationship(
        back_populates="notice", order_by="NoticeVersion.version", cascade="all, delete-orphan"
    )


class NoticeVersion(db.Model):
    """A published version replaced by a correction, with why and by whom it was corrected."""

    __tablename__ = "notice_version"
    __table_args__ = (UniqueConstraint("notice_id", "version", name="uq_notice_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    scope_kind: Mapped[str] = mapped_column(String(12))
    scope: Mapped[list] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    # The correction that replaced this version.
    corrected_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    corrected_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)

    notice: Mapped[Notice] = relationship(back_populates="versions")


class NoticeRead(db.Model):
    """A household in scope opened the notice (signed in to 我的办理): first time only."""

    __tablename__ = "notice_read"
    __table_args__ = (UniqueConstraint("notice_id", "room_id", name="uq_notice_read"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("household_room.id"))
    read_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class NoticeOptIn(db.Model):
    """A household asked for messages of a kind sent only on request (社区活动)."""

    __tablename__ = "notice_opt_in"
    __table_args__ = (UniqueConstraint("community", "room_id", "kind", name="uq_notice_opt_in"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[int] = mapped_column(ForeignKey("household_room.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # Who asked (the signed-in person's mobile, masked when shown) and when.
    asked_by: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
