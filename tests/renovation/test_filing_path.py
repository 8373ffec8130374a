"""The owner's filing path stays one short write (scripts/bench_renovation.py measures it): a
valid form is filed by one transaction that takes the write lock first and holds it only for
the reference look-up and plain INSERTs of the application, its first step and its outbox
messages, with nothing read before it and no sweep of kept files it does not have. A form sent
twice still finds the first application, also when the second copy fails a check the first
one passed. No garbage collection runs while the write lock is held, and the form is freed
by reference counting, not left to the cyclic collector."""

from __future__ import annotations

import gc
import io
import sqlite3
import threading
import weakref

import pytest
from sqlalchemy import event, select

from forms_app.core import database
from forms_app.core.database import write_connection, write_transaction
from forms_app.core.extensions import db
from forms_app.core.throttle import counter_file
from forms_app.notifications.models import Notification
from forms_app.renovation import views
from forms_app.renovation.applications import find_by_nonce, submit_application
from forms_app.renovation.models import RECORD_TYPE
from tests.support.renovation import APPLY_URL, application_fields, application_values

from .test_kept_files import first_try, kept_on, pending_count
from .test_resubmit import file_and_reject, form_fields, open_resubmission
from .test_uploads import PDF

pytestmark = pytest.mark.one_app_per_module


class Statements:
    """The SQL the app's engine runs, each with whether the collector was running."""

    def __init__(self, engine):
        self.engine = engine
        self.seen: list[tuple[str, bool]] = []

    def _statement(self, _conn, _cursor, statement, *_args):
        self.seen.append((" ".join(statement.split()), gc.isenabled()))

    def _commit(self, _conn):
        self.seen.append(("COMMIT", gc.isenabled()))

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


@pytest.fixture
def statements(app):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's")
    return lambda: Statements(engine)


def test_a_valid_form_is_one_write_with_nothing_read_before_it(app, owner, stored, statements):
    hidden = owner.open_form()
    with statements() as sql:
        response = owner.submit(hidden=hidden)
    assert response.status_code == 303
    kinds = [text.split(" (")[0].split(" FROM ")[0] for text, _running in sql.seen]
    # The anonymous post's throttles (issue 26) count in a store of their own (on SQLite a
    # file beside the database with its own write lock), never in front of the filing: the
    # address's hourly budget and the room's daily one. The filing is the database's one write.
    with app.app_context():
        counts = (
            sqlite3.connect(counter_file())
            .execute("SELECT key FROM throttle_hit ORDER BY at, tiebreak")
            .fetchall()
        )
    assert [key.split(":")[0] for (key,) in counts][-2:] == ["post", "room"]
    assert kinds == [
        "BEGIN IMMEDIATE",
        "SELECT max(CAST(substr(renovation_application.reference, ?) AS INTEGER)) AS max_1",
        "INSERT INTO renovation_application",
        "INSERT INTO renovation_event",
        "INSERT INTO notification",
        "COMMIT",
    ]
    # The collector waits until the write lock is released.
    assert [running for _text, running in sql.seen] == [False] * len(sql.seen)
    assert gc.isenabled()
    [application] = stored.applications()
    with app.app_context():
        messages = db.session.scalars(
            select(Notification).where(
                Notification.record_type == RECORD_TYPE,
                Notification.record_id == application.id,
            )
        ).all()
    assert sorted(m.kind for m in messages) == ["renovation.new", "renovation.received"]
    assert all(application.reference in m.text for m in messages)


def test_a_submission_without_kept_files_leaves_the_old_ones_to_the_sweep(
    app, owner, stored, statements
):
    first_try(owner, owner.open_form(), (PDF, "放弃的图纸.pdf"))
    with statements() as sql:
        assert owner.submit(application_fields(room="102")).status_code == 303
    assert not [text for text, _running in sql.seen if "pending_upload" in text]
    assert stored.count() == 1 and pending_count(app) == 1


def test_a_form_sent_again_after_its_kept_files_were_claimed_shows_the_first(app, owner, stored):
    hidden = owner.open_form()
    kept = kept_on(first_try(owner, hidden, (PDF, "平面图.pdf")))
    fields = application_fields(kept_upload=[file_id for file_id, _name in kept])
    first = owner.submit(fields, hidden=hidden)
    # The second copy names kept files the first one took: it is not refused, it is the first.
    again = owner.submit(fields, hidden=hidden)
    assert first.status_code == again.status_code == 303
    assert first.location == again.location
    [application] = stored.applications()
    assert [a.original_name for a in application.attachments] == ["平面图.pdf"]
    assert [f.name for f in stored.files()] == [application.attachments[0].stored_name]


def test_a_resubmission_sent_twice_shows_the_first_new_application(app, owner, stored):
    _reference, status_url = file_and_reject(owner)
    fields = form_fields(open_resubmission(owner, status_url))
    fields.update(ack_agreement="y", ack_fire_safety="y", ack_prohibitions="y")
    first = owner.client.post(APPLY_URL, data=fields, content_type="multipart/form-data")
    # Sent again, the original counts as resubmitted already; the nonce finds the first copy.
    again = owner.client.post(APPLY_URL, data=fields, content_type="multipart/form-data")
    assert first.status_code == again.status_code == 303
    assert first.location == again.location
    assert stored.count() == 2


def test_a_new_attachment_sent_with_a_second_copy_is_not_kept(app, owner, stored):
    hidden = owner.open_form()
    first = owner.submit(hidden=hidden)
    fields = application_fields()
    fields["attachments"] = [(io.BytesIO(PDF), "第二次才选的.pdf")]
    again = owner.submit(fields, hidden=hidden)
    assert first.location == again.location
    [application] = stored.applications()
    assert application.attachments == [] and stored.files() == []


def test_what_the_session_reads_after_a_filing_includes_it(app, stored):
    with app.app_context():
        # A read transaction open before the filing (its snapshot predates the write)...
        assert find_by_nonce("a-nonce-of-nobody-0000000") is None
        for room in ("101", "102"):
            nonce = f"filed-in-room-{room}-000000000"
            submit_application(application_values(room=room), [], nonce)
            # ...is ended by the filing's own connection, as by write_transaction.
            assert find_by_nonce(nonce).room == room
    assert stored.count() == 2


def test_the_collector_is_paused_only_while_a_write_transaction_runs(app):
    with app.app_context():
        assert gc.isenabled()
        with write_connection():
            assert not gc.isenabled()
        assert gc.isenabled()
        with write_transaction():
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(RuntimeError), write_connection():
            raise RuntimeError("the block fails")
        assert gc.isenabled()
        gc.disable()
        try:
            with write_connection():
                pass
            # Switched off by someone else before: left off.
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_concurrent_write_transactions_resume_the_collector_once_the_last_ends():
    entered, release_first, first_done = threading.Event(), threading.Event(), threading.Event()

    def first():
        with database._collector_paused():
            entered.set()
            release_first.wait(5)
        first_done.set()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert entered.wait(5)
        with database._collector_paused():
            release_first.set()
            assert first_done.wait(5)
            assert not gc.isenabled()
        assert gc.isenabled()
    finally:
        release_first.set()
        thread.join(5)
    assert gc.isenabled()


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda owner: owner.client.get(APPLY_URL), id="form shown"),
        pytest.param(lambda owner: owner.submit(), id="form filed"),
        pytest.param(
            lambda owner: owner.submit(application_fields(owner_mobile="123")), id="form refused"
        ),
    ],
)
def test_the_form_is_freed_when_the_request_is_done_with_it(owner, monkeypatch, send):
    made = []

    def renovation_form(**kwargs):
        form = make(**kwargs)
        made.append(weakref.ref(form))
        return form

    make = views.renovation_form
    monkeypatch.setattr(views, "renovation_form", renovation_form)
    gc.collect()
    gc.disable()
    try:
        response = send(owner)
        assert response.status_code in (200, 303, 400)
        # Freed by reference counting: the collector is off.
        assert made and all(ref() is None for ref in made)
    finally:
        gc.enable()
