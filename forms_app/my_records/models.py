"""One-time codes of "我的办理" and the wrong codes typed, counted in the database so every
worker process shares one count (and a restart resets nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.extensions import db


class OwnerCode(db.Model):
    """A code asked for a room and a mobile; only its keyed hash is kept."""

    __tablename__ = "owner_code"
    __table_args__ = (
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
    """One wrong code typed for a mobile, from an address."""

    __tablename__ = "owner_code_failure"
    __table_args__ = (
        Index("ix_owner_code_failure_mobile", "mobile", "created_at"),
        Index("ix_owner_code_failure_address", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
