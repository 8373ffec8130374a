"""Writers to one SQLite file queue for its write lock on a lock file beside it.

SQLite's busy handler polls: a writer that finds the write lock taken sleeps 1, 2, 5, 10 …
milliseconds and tries again. Under load the lock then lies free while the next writer
sleeps: with two workers filing renovation applications, each worker slept about a hundred
times in four seconds, and the lock is held for a few milliseconds per filing. Waiting in
``flock`` on ``<database>-turn`` instead wakes the next writer the moment the one before it
is done.

SQLite's own lock and busy timeout still decide who writes: a writer that takes no turn
(the sqlite3 shell, a backup, another program) is waited for as before, and a turn is only
an order among this app's processes. ``flock`` belongs to an open file, so each process and
thread opens the lock file itself (a worker forked from gunicorn's master does not use the
master's), and the kernel gives a turn back when its process ends.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import contextmanager

from .private_files import FILE_MODE, sqlite_on_disk

SUFFIX = "-turn"

_local = threading.local()
_unopened: set[str] = set()
logger = logging.getLogger(__name__)


def turn_file(database: str | None) -> str | None:
    """The lock file of a SQLite database file, or None for an in-memory database."""
    return database + SUFFIX if sqlite_on_disk(database) else None


# Counts forks: a thread's state from before this process was forked is its parent's.
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


def _this_process() -> threading.local:
    """This thread's lock files and turns; a forked process starts afresh (its copies of the
    parent's open files share the parent's turns; closing them gives the parent nothing
    back)."""
    if getattr(_local, "forks", None) != _forks:
        for fd in getattr(_local, "fds", {}).values():
            os.close(fd)
        _local.forks, _local.fds, _local.depths = _forks, {}, {}
    return _local


def _descriptor(state: threading.local, path: str) -> int | None:
    """This thread's open lock file ``path``; None when it cannot be opened."""
    fd = state.fds.get(path)
    if fd is None:
        if len(state.fds) >= 8 and not any(state.depths.values()):
            # Earlier apps' databases (tests make many): let them go.
            for old in state.fds.values():
                os.close(old)
            state.fds.clear()
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        except OSError:
            # A turn is an order, not a guarantee (SQLite's lock is): write without one.
            if path not in _unopened:
                _unopened.add(path)
                logger.warning("无法打开写入排队文件 %s，本进程写入时不排队", path, exc_info=True)
            return None
        if os.geteuid() == 0 and os.path.exists(database := path.removesuffix(SUFFIX)):
            # A command run as root makes the file as the database's owner, as SQLite does for
            # its -wal and -shm files, so that the app's own user can still open it.
            owner = os.stat(database)
            os.fchown(fd, owner.st_uid, owner.st_gid)
        state.fds[path] = fd
    return fd


@contextmanager
def writer_turn(database: str | None):
    """Hold this app's turn to write ``database`` for the block (nothing for PostgreSQL or
    an in-memory database: pass None). A turn this thread holds already is kept: the block
    runs inside it."""
    path = turn_file(database)
    if path is None:
        yield
        return
    state = _this_process()
    if state.depths.get(path):
        state.depths[path] += 1
        try:
            yield
        finally:
            state.depths[path] -= 1
        return
    fd = _descriptor(state, path)
    if fd is None:
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    state.depths[path] = 1
    try:
        yield
    finally:
        state.depths[path] = 0
        fcntl.flock(fd, fcntl.LOCK_UN)
