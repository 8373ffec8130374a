"""The one place that knows about SQLite: connection pragmas and write-lock transactions.

Everything else uses SQLAlchemy so that the same code runs on PostgreSQL (``DATABASE_URL``).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db
from .private_files import FILE_MODE, make_private

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


@contextmanager
def write_transaction():
    """Run the block as one write transaction that holds the write lock from its start.

    Any read transaction the request has open is committed first (it holds no changes we
    want to keep apart), so the block sees fresh data. Commits on success, rolls back on
    any exception. On PostgreSQL this is an ordinary transaction.
    """
    session = db.session()  # the request's Session itself; the scoped proxy lacks in_transaction
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={IMMEDIATE: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def private_sqlite_files(path: str | None) -> None:
    """Create the database file 0600 before SQLite does (it would use the umask, 0644), and
    make existing ones private. SQLite gives its -wal and -shm files the database's mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for suffix in ("", "-wal", "-shm", "-journal"):
        make_private(path + suffix)


def init_app(app) -> None:
    """Bind the database to the app and configure SQLite engines."""
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            private_sqlite_files(engine.url.database)
            configure_sqlite(engine)
