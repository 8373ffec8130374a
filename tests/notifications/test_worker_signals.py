"""Stop signals in bursts end the worker cleanly, every time. ``make run`` sends SIGINT (Ctrl-C)
and SIGTERM together; a handler that took a lock (``threading.Event.set``) deadlocked when the
second signal arrived while the first handler held it. Each round here starts a worker, waits
for its ready line, sends 1–6 SIGINT/SIGTERM a random 0–2000 µs apart and expects exit status 0
within the poll interval plus a margin; a message in flight when they arrive is sent once and
recorded.

The workers are the real command (``flask --app forms_app notifications worker``: flask's CLI,
create_app, the signal handlers, the loop, the interpreter's exit), started by the test
process's launcher (tests/support/launcher.py), which has made the imports already, so that
thirty rounds take seconds rather than a minute of imports.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import threading
import time

import pytest

from forms_app.notifications.models import DELIVERED, PENDING, SENT
from tests.support import launcher
from tests.support.endpoints import FakeRobot
from tests.support.server import BIN, PROJECT_ROOT

from .conftest import outbox
from .test_worker_process import alerts

POLL = 0.2  # NOTIFY_POLL_SECONDS of the workers here
# Beyond the poll interval a worker may take to finish the cycle in hand and to exit (the
# interpreter's shutdown: about 0.1 s idle; up to 1.4 s seen beside `stress -c 2`, 3.4–3.6 s
# with thirty exits overlapping on a 2-core machine at load 8–11, and twice 10.2 s in a full
# run on a slowed host beside a /proc sampler). What the test is for is a deadlocked worker,
# which never exits: the margin only has to tell "never" from "late", and waiting costs nothing
# when the workers end at once. A late worker's message says whether its loop ("已停止" line)
# or its exit was late.
MARGIN = 30.0
ROUNDS = 30
READY = re.compile(r"通知发送进程 \S+:(\d+) 已启动")


class Lines:
    """The lines of a pipe, read by a thread as they come; ``wait`` for the ones a test needs."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.arrived: list[float] = []  # when each line was read (time.monotonic)
        self.closed = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self.arrived.append(time.monotonic())
                self._changed.notify_all()
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait(self, done, timeout: float):
        """Wait until ``done(lines)`` gives something true and return it; None on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (found := done(self.lines)):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self._changed.wait(left)
            return found

    def first_arrival(self, pattern: str) -> float | None:
        """When the first line containing ``pattern`` was read; None if none was."""
        with self._changed:
            for line, at in zip(self.lines, self.arrived, strict=True):
                if pattern in line:
                    return at
        return None

    def text(self) -> str:
        with self._changed:
            return "".join(self.lines)


def ready_pids(lines: list[str]) -> set[int]:
    return {int(match.group(1)) for line in lines if (match := READY.search(line))}


def wait_ready(log: Lines, pids, timeout: float = 120) -> None:
    """Wait for each worker's ready line: its signal handlers are in, stops end it cleanly."""
    wanted = set(pids)
    if log.wait(lambda lines: wanted <= ready_pids(lines), timeout) is None:
        missing = wanted - ready_pids(log.lines)
        raise AssertionError(f"no ready line from {sorted(missing)}:\n{log.text()[-3000:]}")


class Workers:
    """Notification workers started by the test process's launcher (tests/support/launcher.py:
    the real command, forked from a process that has made the imports already), their log
    lines on one pipe."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        self.log = Lines(open(read, encoding="utf-8"))  # noqa: SIM115
        self.started: dict[int, launcher.Launched] = {}

    def fork(self, count: int, env: dict) -> list[int]:
        pids = []
        for _ in range(count):
            worker = launcher.launch(
                [str(BIN / "flask"), "--app", "forms_app", "notifications", "worker"],
                cwd=PROJECT_ROOT,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._write,
            )
            self.started[worker.pid] = worker
            pids.append(worker.pid)
        return pids

    def exits(self, pids, timeout: float) -> dict[int, tuple[int, float]]:
        """{pid: (exit status, when)} of those of ``pids`` that ended within ``timeout``."""
        deadline = time.monotonic() + timeout
        found = {}
        for pid in pids:
            worker = self.started[pid]
            try:
                status = worker.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                continue
            found[pid] = (status, worker.ended_at)
        return found

    def close(self) -> None:
        for worker in self.started.values():
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        os.close(self._write)


@pytest.fixture(scope="module")
def workers():
    started = Workers()
    yield started
    started.close()


def worker_env(app, **settings) -> dict:
    return {
        "INSTANCE_PATH": app.instance_path,
        "NOTIFY_POLL_SECONDS": str(POLL),
        "STAFF_WEBHOOK_URL": "",
        **settings,
    }


def spin(seconds: float) -> None:
    """Wait without sleeping: a sleep of a few microseconds lasts far longer."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def send_burst(pid: int, rng: random.Random) -> tuple[float, str]:
    """1–6 SIGINT/SIGTERM, 0–2000 µs apart: (when the first went, what was sent)."""
    signals = [rng.choice((signal.SIGINT, signal.SIGTERM)) for _ in range(rng.randint(1, 6))]
    gaps = [rng.uniform(0, 0.002) for _ in signals[1:]]
    first = time.monotonic()
    try:
        for number, signum in enumerate(signals):
            if number:
                spin(gaps[number - 1])
            os.kill(pid, signum)
    except ProcessLookupError:
        pass  # ended and reaped already: the rest of the burst has nobody to reach
    shown = " ".join(
        signal.Signals(signum).name + (f" +{gap * 1e6:.0f}µs" if number else "")
        for number, (signum, gap) in enumerate(zip(signals, [0.0, *gaps], strict=True))
    )
    return first, shown


def test_bursts_of_stop_signals_end_the_worker_with_status_0_every_time(app, workers):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    bursts = {}
    # One worker after the other, each stopped as soon as it is ready; their exits overlap the
    # next ones' start-up.
    for _ in range(ROUNDS):
        [pid] = workers.fork(1, worker_env(app))
        wait_ready(workers.log, [pid])
        bursts[pid] = send_burst(pid, rng)
    last = max(first for first, _ in bursts.values())
    ended = workers.exits(bursts, last + POLL + MARGIN - time.monotonic())
    hung = set(bursts) - set(ended)
    for pid in hung:
        os.kill(pid, signal.SIGKILL)  # so that nothing is left behind
    workers.exits(hung, 30)
    problems, seconds = [], []
    for pid, (first, shown) in bursts.items():
        # Where a late worker spent its time: in the loop (its stopped line came late) or in
        # the interpreter's exit (the line came at once, the exit late).
        stopped = workers.log.first_arrival(f":{pid} 已停止")
        stopped_after = (
            "no stopped line" if stopped is None else f"stopped line at {stopped - first:.2f} s"
        )
        if pid in hung:
            problems.append(
                f"worker {pid} after {shown}: still running {POLL + MARGIN} s on ({stopped_after})"
            )
            continue
        status, at = ended[pid]
        seconds.append(at - first)
        if status != 0 or at - first > POLL + MARGIN:
            problems.append(
                f"worker {pid} after {shown}: status {status} after {at - first:.2f} s ({stopped_after})"
            )
    assert not problems, (
        f"{len(problems)} of {ROUNDS} workers did not stop cleanly (random seed {seed}; the others'"
        f" exits took {', '.join(f'{s:.2f}' for s in sorted(seconds))} s):\n" + "\n".join(problems)
    )


def test_a_message_in_flight_when_the_signals_arrive_is_sent_and_recorded_once(app, workers):
    alerts(app, 2)
    with FakeRobot(mode="hold") as robot:
        env = worker_env(app, STAFF_WEBHOOK_URL=robot.url, NOTIFY_TIMEOUT_SECONDS="10")
        [pid] = workers.fork(1, env)
        wait_ready(workers.log, [pid])
        assert robot.first_arrived.wait(60), "the worker never called the robot"
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGTERM, signal.SIGINT):
            os.kill(pid, signum)
        time.sleep(0.2)  # the handlers run while the request is held
        robot.release.set()
        ended = workers.exits([pid], 60)
    assert pid in ended, "the worker did not stop"
    assert ended[pid][0] == 0
    sent, waiting = outbox(app)
    # The message in hand was finished and recorded; the worker then stopped before the next.
    assert sent.state == DELIVERED and [a.outcome for a in sent.attempt_log] == [SENT]
    assert sent.lease_until is None and sent.leased_by is None
    assert waiting.state == PENDING and waiting.attempt_log == [] and waiting.attempts == 0
    assert robot.keys() == [sent.idempotency_key]
