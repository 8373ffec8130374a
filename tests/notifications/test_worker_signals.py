"""Stop signals in bursts end the worker cleanly, every time. ``make run`` sends SIGINT (Ctrl-C)
and SIGTERM together; a handler that took a lock (``threading.Event.set``) deadlocked when the
second signal arrived while the first handler held it. Each round here starts a worker, waits
for its ready line, sends 1–6 SIGINT/SIGTERM a random 0–2000 µs apart and expects exit status 0
within the poll interval plus a margin; a message in flight when they arrive is sent once and
recorded.

The workers are the real command (``flask --app forms_app notifications worker``: flask's CLI,
create_app, the signal handlers, the loop, the interpreter's exit), forked from a process that
has made the imports and one app already (as gunicorn's --preload does), so that thirty rounds
take seconds rather than a minute of imports.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from forms_app.notifications.models import DELIVERED, PENDING, SENT
from tests.support.endpoints import FakeRobot
from tests.support.server import PROJECT_ROOT

from .conftest import outbox
from .test_worker_process import alerts

POLL = 0.2  # NOTIFY_POLL_SECONDS of the workers here
# Beyond the poll interval a worker may take to finish the cycle in hand and to exit (the
# interpreter's shutdown: about 0.1 s idle; 3.4–3.6 s seen with thirty exits overlapping on a
# 2-core machine at load 8–11). What the test is for is a deadlocked worker, which never
# exits: the margin only has to tell "never" from "late", and waiting costs nothing when the
# workers end at once.
MARGIN = 10.0
ROUNDS = 30
READY = re.compile(r"通知发送进程 \S+:(\d+) 已启动")

# The process the workers are forked from. It reads "<count> <json env>" lines and forks that
# many workers with the environment updated, answering "started <pid>" for each; it reaps them
# as they end (looking every millisecond) and answers "exited <pid> <status> <monotonic time>"
# (CLOCK_MONOTONIC is the same clock in every process). Its input closed, it kills the workers
# left and ends.
FORK_SERVER = r"""
import gc, json, os, select, signal, sys, time

import flask.cli

import forms_app.notifications.cli
from forms_app import create_app

create_app()  # fills the per-process caches (handbook, training, community) the workers reuse
gc.freeze()  # a worker's exit does not walk the heap it inherited
os.write(1, b"ready\n")
children, pending = set(), b""
while True:
    while children and (ended := os.waitpid(-1, os.WNOHANG))[0]:
        pid, status = ended
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        os.write(1, f"exited {pid} {code} {time.monotonic()}\n".encode())
    if not select.select([0], [], [], 0.001 if children else None)[0]:
        continue
    chunk = os.read(0, 65536)
    if not chunk:
        break
    pending += chunk
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        count, env = line.decode().split(" ", 1)
        for _ in range(int(count)):
            pid = os.fork()
            if pid == 0:
                os.environ.update(json.loads(env))
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 0)
                os.dup2(null, 1)
                sys.argv = ["flask", "--app", "forms_app", "notifications", "worker"]
                flask.cli.main()  # ends the process (SystemExit) with the command's status
            children.add(pid)
            os.write(1, f"started {pid}\n".encode())
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
"""


class Lines:
    """The lines of a pipe, read by a thread as they come; ``wait`` for the ones a test needs."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.closed = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
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


class ForkServer:
    def __init__(self, env: dict):
        self.process = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out = Lines(self.process.stdout)
        self.log = Lines(self.process.stderr)  # the workers' log lines
        if not self.out.wait(lambda lines: "ready\n" in lines, 120):
            raise AssertionError(f"the fork server did not start:\n{self.log.text()[-3000:]}")

    def fork(self, count: int, env: dict) -> list[int]:
        seen = len(self.out.lines)
        self.process.stdin.write(f"{count} {json.dumps(env)}\n")
        self.process.stdin.flush()
        started = self.out.wait(
            lambda lines: (
                len(new := [x for x in lines[seen:] if x.startswith("started ")]) == count and new
            ),
            60,
        )
        assert started, f"the fork server did not start the workers:\n{self.log.text()[-3000:]}"
        return [int(line.split()[1]) for line in started]

    def exits(self, pids, timeout: float) -> dict[int, tuple[int, float]]:
        """{pid: (exit status, when)} of those of ``pids`` that ended within ``timeout``."""
        wanted = set(pids)

        def ended(lines):
            found = {}
            for line in lines:
                if line.startswith("exited "):
                    _, pid, status, at = line.split()
                    if int(pid) in wanted:
                        found[int(pid)] = (int(status), float(at))
            return found

        self.out.wait(lambda lines: len(ended(lines)) == len(wanted), timeout)
        return ended(self.out.lines)

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def fork_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("fork-server") / "instance"
    server = ForkServer({**os.environ, "INSTANCE_PATH": str(instance)})
    yield server
    server.close()


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


def test_bursts_of_stop_signals_end_the_worker_with_status_0_every_time(app, fork_server):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    bursts = {}
    # One worker after the other, each stopped as soon as it is ready; their exits overlap the
    # next ones' start-up.
    for _ in range(ROUNDS):
        [pid] = fork_server.fork(1, worker_env(app))
        wait_ready(fork_server.log, [pid])
        bursts[pid] = send_burst(pid, rng)
    last = max(first for first, _ in bursts.values())
    ended = fork_server.exits(bursts, last + POLL + MARGIN - time.monotonic())
    hung = set(bursts) - set(ended)
    for pid in hung:
        os.kill(pid, signal.SIGKILL)  # so that nothing is left behind
    fork_server.exits(hung, 30)
    problems = []
    for pid, (first, shown) in bursts.items():
        if pid in hung:
            problems.append(f"worker {pid} after {shown}: still running {POLL + MARGIN} s on")
            continue
        status, at = ended[pid]
        if status != 0 or at - first > POLL + MARGIN:
            problems.append(f"worker {pid} after {shown}: status {status} after {at - first:.2f} s")
    assert not problems, (
        f"{len(problems)} of {ROUNDS} workers did not stop cleanly (random seed {seed}):\n"
        + "\n".join(problems)
    )


def test_a_message_in_flight_when_the_signals_arrive_is_sent_and_recorded_once(app, fork_server):
    alerts(app, 2)
    with FakeRobot(mode="hold") as robot:
        env = worker_env(app, STAFF_WEBHOOK_URL=robot.url, NOTIFY_TIMEOUT_SECONDS="10")
        [pid] = fork_server.fork(1, env)
        wait_ready(fork_server.log, [pid])
        assert robot.first_arrived.wait(60), "the worker never called the robot"
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGTERM, signal.SIGINT):
            os.kill(pid, signum)
        time.sleep(0.2)  # the handlers run while the request is held
        robot.release.set()
        ended = fork_server.exits([pid], 60)
    assert pid in ended, "the worker did not stop"
    assert ended[pid][0] == 0
    sent, waiting = outbox(app)
    # The message in hand was finished and recorded; the worker then stopped before the next.
    assert sent.state == DELIVERED and [a.outcome for a in sent.attempt_log] == [SENT]
    assert sent.lease_until is None and sent.leased_by is None
    assert waiting.state == PENDING and waiting.attempt_log == [] and waiting.attempts == 0
    assert robot.keys() == [sent.idempotency_key]
