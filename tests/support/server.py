"""Start the real app in a gunicorn process for tests that are about serving."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A gunicorn process serving the app (and, if given, the built halves of the handbook)
    on loopback."""

    instance_path: Path
    site_dir: Path | None = None
    staff_site_dir: Path | None = None
    workers: int = 2
    extra_env: dict = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict:
        env = {**os.environ, "INSTANCE_PATH": str(self.instance_path),
               "PASSWORD_HASH_COST": "testing", **self.extra_env}
        if self.site_dir:
            env["SITE_DIR"] = str(self.site_dir)
            # Never the checkout's own site-staff/: a test passes only with what it built.
            env["STAFF_SITE_DIR"] = str(self.staff_site_dir or self.instance_path / "no-staff-site")
        else:
            env["SERVE_SITE"] = "0"
        return env

    def flask(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run a ``flask --app forms_app`` command against this server's instance."""
        return subprocess.run(
            [str(BIN / "flask"), "--app", "forms_app", *args],
            cwd=PROJECT_ROOT, env=self.env, input=input, text=True,
            capture_output=True, check=True,
        )

    def start(self) -> "LiveServer":
        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.flask("db", "upgrade")
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(self.workers),
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "forms_app.wsgi:app"],
            cwd=PROJECT_ROOT, env=self.env,
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
            time.sleep(0.2)
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
