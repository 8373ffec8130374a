"""One-time codes of "我的办理" and the wrong codes typed, counted in the database so every
worker process shares one count (and a restart resets nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.community_scope import CommunityOwned
from ..core.extensions import db


class OwnerCode(CommunityOwned, db.Model):
    """A code asked for a room of a community and a mobile; only its keyed hash is kept. It
    opens only that community's room; the limits on asking count across the deployment."""

    __tablename__ = "owner_code"
    __table_args__ = (
        Index("ix_owner_code_community", "community", "mobile", "created_at"),
        Index("ix_owner_code_mobile", "mobile", "created_at"),
        Index("ix_owner_code_address", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    building: Mapped[int] = mapped_column(Integer)
    unit: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(8))
    mobile: Mapped[str] = mapped_column(String(11))
    address: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    # False when the mobile is on no record of the room: no code was sent, none can match.
    sent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WrongCode(db.Model):
    """One wrong code typed for a mobile, from an address. Not a community's: the locks count
    across the deployment, so that trying another community's pages gains nothing."""

    __tablename__ = "owner_code_failure"
    __table_args__ = (
        Index("ix_owner_code_failure_mobile", "mobile", "created_at"),
        Index("ix_owner_code_failure_address", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MyGrant(db.Model):
    """An open 我的办理 for one registered person of one room, held on the server: the cookie
    carries only a random token, whose hash is kept here. 退出 ends it at once, and it lapses
    when the person's standing on the room ends (过户, 迁出, lease end) or its time is up."""

    __tablename__ = "my_grant"
    __table_args__ = (Index("ix_my_grant_person", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("household_person.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("household_room.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    address: Mapped[str] = mapped_column(String(64), default="")
