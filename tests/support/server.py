"""Start the real app in a gunicorn process for tests that are about serving."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support import launcher

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


THROTTLES_FOR_TESTS = {
    "PUBLIC_POSTS_PER_ADDRESS_PER_HOUR": "100000",
    "PUBLIC_FILINGS_PER_ROOM_PER_DAY": "100000",
}


@dataclass
class LiveServer:
    """A gunicorn process serving the app (and, if given, the built halves of the handbook)
    on loopback.

    Its SQLite database is a copy of ``database_template`` (the session's migrated file) when
    one is given, else ``flask db upgrade`` makes it (on PostgreSQL too, unless ``migrated``)."""

    instance_path: Path
    site_dir: Path | None = None
    staff_site_dir: Path | None = None
    workers: int = 2
    # Threads per worker (gunicorn's gthread worker): a browser's idle spare connection waits
    # in the worker's poll loop instead of holding a sync worker until gunicorn kills it
    # ("WORKER TIMEOUT … no URI read") with whatever it was about to answer. 0: sync workers
    # (the renovation POST benchmark compares sync with sync).
    threads: int = 4
    extra_env: dict = field(default_factory=dict)
    database_template: Path | None = None
    # On PostgreSQL: DATABASE_URL names a database migrated already (a copy of the run's
    # migrated template), so the start runs no ``flask db upgrade``.
    migrated: bool = False
    port: int = 0
    process: subprocess.Popen | launcher.Launched | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict:
        env = {
            **os.environ,
            "INSTANCE_PATH": str(self.instance_path),
            "PASSWORD_HASH_COST": "testing",
            # The suite files many forms from one address and room; the throttles' own tests
            # set their limits (tests/core/test_throttles.py).
            **THROTTLES_FOR_TESTS,
            **self.extra_env,
        }
        if self.site_dir:
            env["SITE_DIR"] = str(self.site_dir)
            # Never the checkout's own site-staff/: a test passes only with what it built.
            env["STAFF_SITE_DIR"] = str(self.staff_site_dir or self.instance_path / "no-staff-site")
        else:
            env["SERVE_SITE"] = "0"
        return env

    def flask(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run a ``flask --app forms_app`` command against this server's instance (through the
        test process's launcher, tests/support/launcher.py)."""
        return launcher.run(
            [str(BIN / "flask"), "--app", "forms_app", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            input=input,
            text=True,
            check=True,
        )

    @contextmanager
    def app(self):
        """An app object in this process on the server's instance and settings, to seed or read
        its database as the server would."""
        from forms_app import create_app
        from forms_app.core.extensions import db

        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            app = create_app({"SITE_DIR": None})
        finally:
            os.environ.clear()
            os.environ.update(saved)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()

    def start(self) -> LiveServer:
        self.instance_path.mkdir(parents=True, exist_ok=True)
        if self.database_template and "DATABASE_URL" not in self.env:
            shutil.copyfile(self.database_template, self.instance_path / "forms.sqlite3")
        elif not self.migrated:
            self.flask("db", "upgrade")
        self.port = free_port()
        # No control socket: its default path ($HOME/.gunicorn) is one for every server, and
        # the tests run several at once. --preload: the app is imported once, then the workers
        # fork from it (create_app opens no database connection, so none is shared).
        # The gunicorn command, started by the test process's launcher (tests/support/launcher.py):
        # the same command line and environment, without a second of imports.
        self.process = launcher.launch(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--no-control-socket",
                "--preload",
                # On a machine starved by other work a worker can miss gunicorn's 30 s heartbeat
                # and be killed mid-request (the client sees "connection reset"); no test is
                # about that timeout.
                "--timeout",
                "120",
                *(
                    ["--worker-class", "gthread", "--threads", str(self.threads)]
                    if self.threads
                    else []
                ),
                "forms_app.wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if requests.get(self.url + "/forms/healthz", timeout=10).status_code == 200:
                    return self
            except requests.RequestException:
                # Not listening yet, or a worker still importing on a busy machine.
                pass
            # A start takes 1–2 s: a short poll answers within 50 ms of the server being up.
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("gunicorn did not become healthy within 120 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
