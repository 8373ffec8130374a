"""Counting requests in the database, so every gunicorn worker and every app host sharing
the database shares one count (a per-process memory store would give each worker its own
budget and forget it on every restart).

``spend(session, budgets)`` runs inside the caller's write transaction: it counts each key's
hits in its window, refuses with the first exhausted budget, or records one hit for every key.
Under the write lock (SQLite) or the row of the key's lock (PostgreSQL: an advisory lock on
the key) two workers cannot both take the last hit.

``spend_counted(budgets)`` does the same in a transaction of its own on the counter store: on
PostgreSQL the app's database (every host shares it); on SQLite a file of its own beside the
database (``throttle.sqlite3`` in the instance folder), with its own write lock and without
waiting for the disk on each commit. The counts of every request an anonymous visitor sends
would otherwise queue for the one write lock of the records and wait for a flush each time,
in front of the filings they guard (three waits for the disk per filing instead of one: the
renovation POST fell to half its throughput against a bare insert). A counter is not a record: a hit lost to a power cut only gives one request back.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import (
    DateTime,
    Index,
    Integer,
    String,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .clock import utcnow
from .extensions import db
from .write_turn import writer_turn

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


COUNTER_FILE = "throttle.sqlite3"
_EXTENSION_KEY = "throttle_counter_store"
_lock = threading.Lock()
_local = threading.local()
# One B-tree per counter file: the hits in (key, time) order, which is what a count reads
# (a rowid table with an index on (key, at) wrote and read two). ``tiebreak`` keeps two hits
# of one key in one microsecond apart: this process's id and a count of its hits.
SCHEMA_VERSION = 2
_SCHEMA = (
    "DROP TABLE IF EXISTS throttle_hit",
    "CREATE TABLE throttle_hit (key VARCHAR(120) NOT NULL, at DATETIME NOT NULL,"
    " tiebreak INTEGER NOT NULL, PRIMARY KEY (key, at, tiebreak)) WITHOUT ROWID",
    f"PRAGMA user_version={SCHEMA_VERSION}",
)
_hits = itertools.count()


def _tiebreak() -> int:
    return (os.getpid() << 32) | (next(_hits) & 0xFFFFFFFF)


def counter_file() -> str | None:
    """The counter store's SQLite file, or None when counts go to the app's database."""
    app = current_app._get_current_object()
    store = app.extensions.get(_EXTENSION_KEY)
    if store is None:
        with _lock:
            main = db.engine
            database = main.url.database or ""
            if main.dialect.name != "sqlite" or database in ("", ":memory:"):
                store = ""
            else:
                from .database import private_sqlite_files

                store = os.path.join(app.instance_path, COUNTER_FILE)
                private_sqlite_files(store)
            app.extensions[_EXTENSION_KEY] = store
    return store or None


def _connection(path: str) -> sqlite3.Connection:
    """This thread's connection to the counter file (Python's sqlite3: a count is three short
    statements, not worth an ORM round)."""
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    connection = connections.get(path)
    if connection is None:
        connection = sqlite3.connect(path, timeout=15, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        # Counters, not records: a commit need not wait for the disk.
        connection.execute("PRAGMA synchronous=OFF")
        try:
            with _counter_write(connection, path):
                (version,) = connection.execute("PRAGMA user_version").fetchone()
                if version < SCHEMA_VERSION:
                    # Counters are not kept across a change of their table: budgets start anew.
                    for statement in _SCHEMA:
                        connection.execute(statement)
        except BaseException:
            connection.close()
            raise
        connections[path] = connection
    return connection


@contextmanager
def _counter_write(connection: sqlite3.Connection, path: str):
    """One write transaction on the counter file, in this app's turn to write it: committed
    when the block ends, rolled back when it raises."""
    with writer_turn(path):
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _stamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="microseconds")


def spend_counted(budgets: list[Budget]) -> Budget | None:
    """``spend`` in a transaction of its own on the counter store."""
    path = counter_file()
    if path is None:
        from .database import write_transaction

        with write_transaction() as session:
            return spend(session, budgets)
    now = utcnow()
    connection = _connection(path)
    with _counter_write(connection, path):
        for budget in budgets:
            (used,) = connection.execute(
                "SELECT count(*) FROM throttle_hit WHERE key = ? AND at > ?",
                (budget.key, _stamp(now - budget.window)),
            ).fetchone()
            if used >= budget.limit:
                return budget  # nothing written: the commit records nothing
        connection.executemany(
            "INSERT INTO throttle_hit (key, at, tiebreak) VALUES (?, ?, ?)",
            [(budget.key, _stamp(now), _tiebreak()) for budget in budgets],
        )
        if now.microsecond % 50 == 0:
            connection.execute("DELETE FROM throttle_hit WHERE at < ?", (_stamp(now - KEEP),))
    return None
