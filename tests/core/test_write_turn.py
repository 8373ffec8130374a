"""Writers to one SQLite file take turns on ``<database>-turn`` (``core/write_turn.py``)
before they ask SQLite for its write lock: a waiting writer is woken when the turn is given
back instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import os
import select
import stat
import threading
from contextlib import contextmanager

import pytest

from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.core.write_turn import turn_file, writer_turn

# Generous: the waits below end as soon as the other side moves; this only bounds a hang.
LONG = 30


def _waits(event: threading.Event) -> bool:
    """The other side did not get through within half a second (it waits for the turn)."""
    return not event.wait(0.5)


def _writer(turn) -> tuple[threading.Thread, threading.Event]:
    """A thread that enters ``turn()`` (a context manager) and says so."""
    entered = threading.Event()

    def write():
        with turn():
            entered.set()

    thread = threading.Thread(target=write)
    thread.start()
    return thread, entered


def _gets_through(thread: threading.Thread, entered: threading.Event) -> bool:
    through = entered.wait(LONG)
    thread.join(LONG)
    return through


def test_a_second_thread_waits_for_the_turn_and_gets_it_when_given_back(tmp_path):
    database = str(tmp_path / "forms.sqlite3")
    with writer_turn(database):
        other, entered = _writer(lambda: writer_turn(database))
        assert _waits(entered)
    assert _gets_through(other, entered)


def test_a_forked_child_waits_for_the_turn_its_parent_holds(tmp_path):
    # gunicorn forks its workers from the master: a worker must not share the master's open
    # lock file, or both would hold the turn at once.
    database = str(tmp_path / "forms.sqlite3")
    with writer_turn(database):
        pass  # this thread's lock file is open now, as the master's would be
    read, write = os.pipe()
    with writer_turn(database):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                with writer_turn(database):
                    os.write(write, b"t")
            finally:
                os._exit(0)
        assert not select.select([read], [], [], 0.5)[0]
    assert select.select([read], [], [], LONG)[0]
    os.waitpid(pid, 0)
    os.close(read)
    os.close(write)


def test_a_turn_taken_again_inside_itself_is_kept_until_the_outer_block_ends(tmp_path):
    database = str(tmp_path / "forms.sqlite3")
    with writer_turn(database):
        with writer_turn(database):
            pass
        other, entered = _writer(lambda: writer_turn(database))
        assert _waits(entered)
    assert _gets_through(other, entered)


def test_no_turn_file_for_postgresql_or_memory_and_a_private_one_for_a_file(tmp_path):
    assert turn_file(None) is None
    assert turn_file(":memory:") is None
    database = str(tmp_path / "forms.sqlite3")
    with writer_turn(None):
        pass
    with writer_turn(database):
        pass
    assert turn_file(database) == database + "-turn"
    assert stat.S_IMODE(os.stat(database + "-turn").st_mode) == 0o600


def test_the_app_s_write_transactions_wait_for_the_turn(app):
    with app.app_context():
        database = db.engine.url.database
    with writer_turn(database):
        other, entered = _writer(lambda: _in_app_write(app))
        assert _waits(entered)
    assert _gets_through(other, entered)


@contextmanager
def _in_app_write(app):
    with app.app_context(), write_transaction() as session:
        yield session


def test_a_turn_file_that_cannot_be_opened_leaves_the_writes_to_sqlite_s_lock(tmp_path, caplog):
    database = str(tmp_path / "forms.sqlite3")
    os.mkdir(database + "-turn")  # nothing can open it as a file
    written = False
    with writer_turn(database):
        written = True
    assert written
    assert "写入排队文件" in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file another owner")
def test_a_turn_file_made_by_root_belongs_to_the_database_s_owner(tmp_path):
    database = tmp_path / "forms.sqlite3"
    database.touch()
    os.chown(database, 4321, 4321)
    with writer_turn(str(database)):
        pass
    made = os.stat(f"{database}-turn")
    assert (made.st_uid, made.st_gid) == (4321, 4321)
