"""The real worker process (``flask notifications-worker``): killed with SIGKILL in the middle
of a delivery it loses nothing and sends nothing twice under different keys; SIGTERM stops it
cleanly; messages written while it was down go out when it starts."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from forms_app.core.database import write_transaction
from forms_app.notifications.models import DELIVERED, ERROR, INTERRUPTED, SENT
from forms_app.notifications.outbox import enqueue
from tests.support import launcher
from tests.support.endpoints import FakeRobot, wait_until
from tests.support.server import BIN, PROJECT_ROOT

from .conftest import outbox

pytestmark = pytest.mark.long_module


def start_worker(robot_url: str) -> launcher.Launched:
    # The lease (how long a message in flight waits for a worker that died) is short so the
    # kill -9 test does not wait long; it stays above the timeout, as the settings require.
    env = {
        **os.environ,
        "STAFF_WEBHOOK_URL": robot_url,
        "NOTIFY_TIMEOUT_SECONDS": "3",
        "NOTIFY_LEASE_SECONDS": "4",
        "NOTIFY_POLL_SECONDS": "0.1",
        "NOTIFY_BACKOFF_SECONDS": "0.2",
        "NOTIFY_MAX_ATTEMPTS": "5",
    }
    return launcher.launch(
        [str(BIN / "flask"), "--app", "forms_app", "notifications-worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def alerts(app, count: int, first: int = 1) -> None:
    with app.app_context():
        with write_transaction() as session:
            for number in range(first, first + count):
                enqueue(
                    session,
                    "renovation.new",
                    reference=f"ZX20261201-{number:03d}",
                    room="1号楼1单元101室",
                    link_path="/forms/staff/renovations/1",
                )


def test_a_worker_killed_mid_delivery_loses_nothing_and_duplicates_under_one_key(app, stop_later):
    alerts(app, 3)
    with FakeRobot(mode="hold") as robot:
        first = start_worker(robot.url)
        stop_later(first)
        assert robot.first_arrived.wait(60), "the worker never called the robot"
        os.kill(first.pid, signal.SIGKILL)  # kill -9 while the robot holds the first request
        first.wait()
        robot.release.set()
        [held] = outbox(app, state="sending")
        second = start_worker(robot.url)
        stop_later(second)
        rows = wait_until(
            lambda: (r := outbox(app)) and all(m.state == DELIVERED for m in r) and r, timeout=90
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    assert len(rows) == 3
    keys = robot.keys()
    # Every message reached the robot; the one in flight when the worker died twice, with
    # the same idempotency key, so the receiver can tell it is the same message.
    assert sorted(set(keys)) == sorted(m.idempotency_key for m in rows)
    assert_every_call_recorded(rows, keys, held=held.idempotency_key)


def assert_every_call_recorded(rows, keys: list[str], held: str | None = None) -> None:
    """Each call the robot had is an attempt on record under the message's key, each message
    was sent once: the held one's first attempt (if a worker was killed holding one) was
    interrupted (the call came again under the same key); any other attempt before the one
    sent is a timeout (on a loaded machine the robot can answer later than
    NOTIFY_TIMEOUT_SECONDS, and the same worker sends again under the same key)."""
    assert held is None or keys.count(held) >= 2
    for message in rows:
        outcomes = [a.outcome for a in message.attempt_log]
        assert keys.count(message.idempotency_key) == len(outcomes), outcomes
        assert outcomes[-1] == SENT and outcomes.count(SENT) == 1, outcomes
        earlier = message.attempt_log[:-1]
        if message.idempotency_key == held:
            assert earlier[0].outcome == INTERRUPTED
            assert "进程在发送途中退出" in earlier[0].detail
            earlier = earlier[1:]
        assert all(a.outcome == ERROR and "秒内没有应答" in a.detail for a in earlier), [
            (a.outcome, a.detail) for a in earlier
        ]


def test_messages_written_while_the_worker_is_down_go_out_when_it_starts(app, stop_later):
    with FakeRobot() as robot:
        worker = start_worker(robot.url)
        stop_later(worker)
        alerts(app, 1)
        wait_until(lambda: len(robot.received) == 1, timeout=60)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        assert "已停止" in worker.stderr.read()
        alerts(app, 2, first=2)
        assert len(robot.received) == 1
        restarted = start_worker(robot.url)
        stop_later(restarted)
        wait_until(lambda: all(m.state == DELIVERED for m in outbox(app)), timeout=60)
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(30) == 0
    assert len(robot.received) == 3 and len(set(robot.keys())) == 3
