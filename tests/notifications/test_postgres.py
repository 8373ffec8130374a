"""Workers on PostgreSQL, where claims do not serialise on a database-wide lock: a row held by
one worker is skipped by the next (FOR UPDATE SKIP LOCKED), and two worker processes deliver
every message once. Runs on a throw-away PostgreSQL server (tests/support/postgres.py)."""

from __future__ import annotations

import signal

import pytest
from sqlalchemy import create_engine, text

from forms_app.notifications.channels import LogChannel
from forms_app.notifications.models import DELIVERED
from forms_app.notifications.settings import notification_settings
from forms_app.notifications.worker import claim
from tests.support.endpoints import FakeRobot, wait_until
from tests.support.postgres import app_on_postgres

from .conftest import outbox
from .test_worker_process import alerts, assert_every_call_recorded, start_worker
from .test_worker_signals import Lines, wait_ready


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(postgres_url, tmp_path / "instance", monkeypatch) as app:
        yield app


def test_a_claimed_row_is_skipped_not_waited_for(pg_app):
    alerts(pg_app, 2)
    first, second = outbox(pg_app)
    engine = create_engine(pg_app.config["PG_URL"])
    with engine.connect() as holder:
        holder.execute(text("BEGIN"))
        holder.execute(
            text("SELECT id FROM notification WHERE id = :id FOR UPDATE"), {"id": first.id}
        )
        with pg_app.app_context():
            settings = notification_settings(pg_app.config)
            message, _attempt, _channel = claim("test:1", settings, {"log": LogChannel()})
        assert message.id == second.id
        holder.execute(text("ROLLBACK"))
    engine.dispose()


def test_two_worker_processes_deliver_every_message_once(pg_app, stop_later):
    with FakeRobot() as robot:
        workers = [start_worker(robot.url) for _ in range(2)]
        for worker in workers:
            stop_later(worker)
        # Both are ready (past create_app, their stop handlers in) before anything can stop
        # them, and both run before the messages appear, so they compete for them.
        for worker in workers:
            wait_ready(Lines(worker.stderr), [worker.pid])
        alerts(pg_app, 20)
        rows = wait_until(
            lambda: (r := outbox(pg_app)) and all(m.state == DELIVERED for m in r) and r,
            timeout=120,
        )
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(30) == 0
    keys = robot.keys()
    # No message went to both workers: each call is one worker's attempt on record.
    assert len(rows) == 20 and sorted(set(keys)) == sorted(m.idempotency_key for m in rows)
    assert_every_call_recorded(rows, keys)


def test_of_two_workers_one_killed_mid_delivery_the_other_delivers_everything(pg_app, stop_later):
    """Two app hosts each run a worker; one host dies (kill -9) while a message it took is in
    flight: the other delivers every message, the one in flight again under its key."""
    with FakeRobot(mode="hold") as robot:
        # Each worker calls the robot at a URL of its own, so the one holding the first call is
        # known; both are running before the messages appear, and the one holding is killed at
        # once (before its call could time out, however loaded the machine).
        workers = {name: start_worker(f"{robot.url}/send?key={name}") for name in ("a", "b")}
        for worker in workers.values():
            stop_later(worker)
            wait_ready(Lines(worker.stderr), [worker.pid])
        alerts(pg_app, 6)
        assert robot.first_arrived.wait(60), "no worker called the robot"
        doomed = workers[robot.received[0].path.rsplit("=", 1)[1]]
        doomed.kill()  # kill -9 while the robot holds its first request
        doomed.wait()
        robot.release.set()
        [survivor] = [w for w in workers.values() if w is not doomed]
        rows = wait_until(
            lambda: (r := outbox(pg_app)) and all(m.state == DELIVERED for m in r) and r,
            timeout=120,
        )
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(30) == 0
    keys = robot.keys()
    assert len(rows) == 6 and sorted(set(keys)) == sorted(m.idempotency_key for m in rows)
    # The held one twice under its key (its first attempt interrupted); every other once, or
    # again after an answer slower than the timeout on a loaded machine: every call the robot
    # had is an attempt on record, and each message was sent once.
    assert_every_call_recorded(rows, keys, held=keys[0])
