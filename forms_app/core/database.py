"""The one place that knows about SQLite: connection pragmas and write-lock transactions.

Everything else uses SQLAlchemy so that the same code runs on PostgreSQL (``DATABASE_URL``).
"""

from __future__ import annotations

import gc
import os
import threading
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .community_scope import install_community_scope
from .extensions import db
from .private_files import FILE_MODE, make_private, sqlite_on_disk
from .row_security import install_row_security
from .write_turn import writer_turn

# Execution option that asks the begin listener for BEGIN IMMEDIATE.
IMMEDIATE = "sqlite_begin_immediate"


def configure_sqlite(engine: Engine) -> None:
    """Set up a SQLite engine: WAL, foreign keys, busy timeout, explicit BEGIN.

    pysqlite's own implicit BEGIN is switched off so that we emit BEGIN ourselves: a plain
    (deferred) BEGIN for reads and BEGIN IMMEDIATE for writes. A deferred transaction that
    later writes fails at once with "database is locked" when another process holds the write
    lock, ignoring the busy timeout; taking the lock up front makes it wait instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged commit survives power loss, not only a crash of the app.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(IMMEDIATE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _sqlite_file(engine: Engine) -> str | None:
    """The database file of a SQLite engine (its writers take turns: ``write_turn``)."""
    return engine.url.database if engine.dialect.name == "sqlite" else None


@contextmanager
def write_transaction():
    """Run the block as one write transaction that holds the write lock from its start.

    Any read transaction the request has open is committed first (it holds no changes we
    want to keep apart), so the block sees fresh data. Commits on success, rolls back on
    any exception. On PostgreSQL this is an ordinary transaction.

    Python's cyclic garbage collector does not run while the lock is held (see
    ``_collector_paused``): keep the block to the writes, prepare everything before it.
    """
    session = db.session()  # the request's Session itself; the scoped proxy lacks in_transaction
    if session.in_transaction():
        session.commit()
    with writer_turn(_sqlite_file(db.engine)), _collector_paused():
        session.connection(execution_options={IMMEDIATE: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_connection():
    """``write_transaction`` for a write path of plain Core statements: a connection of its
    own in one write transaction that holds the write lock from its start, without the ORM
    session (no unit of work, no session bookkeeping before and after the lock).

    Yields the ``Connection``; commits on success, rolls back on any exception. As in
    ``write_transaction``, a read transaction the request's session has open is committed
    first, so that what the session reads afterwards includes this write. The collector is
    paused as in ``write_transaction``.
    """
    if db.session.registry.has():  # without creating a session the request never used
        session = db.session()
        if session.in_transaction():
            session.commit()
    engine = db.engine
    with writer_turn(_sqlite_file(engine)), _collector_paused(), engine.connect() as connection:
        connection.execution_options(**{IMMEDIATE: True})
        with connection.begin():
            yield connection


# Write transactions of this process running with the collector paused, and whether it was
# running before the first of them.
_collector_lock = threading.Lock()
_collector_pauses = 0
_collector_was_enabled = False


@contextmanager
def _collector_paused():
    """Hold off Python's cyclic garbage collector for the block (a write transaction).

    SQLite has one write lock for every process: a full collection of a worker's heap takes
    tens of milliseconds, and the other workers wait for the lock all that time (and longer:
    SQLite's busy wait sleeps in growing steps). Paused here, the collection that falls due
    runs right after the commit instead, with the lock released. Reference counting still
    frees memory meanwhile; only cycles wait. Counted, so concurrent transactions in threads
    resume it once, when the last one ends.
    """
    global _collector_pauses, _collector_was_enabled
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _collector_pauses += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_was_enabled:
                gc.enable()


def private_sqlite_files(path: str | None) -> None:
    """Create the database file 0600 before SQLite does (it would use the umask, 0644), and
    make existing ones private. SQLite gives its -wal and -shm files the database's mode."""
    if not sqlite_on_disk(path):
        return
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for suffix in ("", "-wal", "-shm", "-journal"):
        make_private(path + suffix)


def init_app(app) -> None:
    """Bind the database to the app, scope community-owned tables, configure SQLite engines
    and PostgreSQL's row-level security settings."""
    db.init_app(app)
    install_community_scope()
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            private_sqlite_files(engine.url.database)
            configure_sqlite(engine)
        install_row_security(engine)
