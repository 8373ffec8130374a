"""Counting requests in the database, so every gunicorn worker and every app host sharing
the database shares one count (a per-process memory store would give each worker its own
budget and forget it on every restart).

``spend(session, budgets)`` runs inside the caller's write transaction: it counts each key's
hits in its window, refuses with the first exhausted budget, or records one hit for every key.
Under the write lock (SQLite) or the row of the key's lock (PostgreSQL: an advisory lock on
the key) two workers cannot both take the last hit.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Index, Integer, String, delete, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from .clock import utcnow
from .extensions import db

# Hits older than this are removed now and then; no window is longer.
KEEP = timedelta(days=1)


class ThrottleHit(db.Model):
    """One counted request under one key (``post:<address>``, ``room:repair:5-2-1202`` …)."""

    __tablename__ = "throttle_hit"
    __table_args__ = (Index("ix_throttle_hit_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True)
class Budget:
    """At most ``limit`` hits under ``key`` within ``window``; ``message`` says so in Chinese."""

    key: str
    limit: int
    window: timedelta
    message: str


def spend(session, budgets: list[Budget]) -> Budget | None:
    """Inside a write transaction: the first budget already used up (nothing recorded), or
    None after recording one hit under every key."""
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        for budget in sorted(budgets, key=lambda b: b.key):
            session.execute(
                text("SELECT pg_advisory_xact_lock(:id)"),
                {"id": zlib.crc32(budget.key.encode())},
            )
    for budget in budgets:
        used = session.scalar(
            select(func.count())
            .select_from(ThrottleHit)
            .where(ThrottleHit.key == budget.key, ThrottleHit.at > now - budget.window)
        )
        if used >= budget.limit:
            return budget
    session.add_all(ThrottleHit(key=budget.key, at=now) for budget in budgets)
    # Now and then (about one hit in fifty) the old hits go.
    if now.microsecond % 50 == 0:
        session.execute(delete(ThrottleHit).where(ThrottleHit.at < now - KEEP))
    return None
