"""Debian's nginx running ``deploy/nginx.conf`` on loopback, in front of a test's gunicorn.

The production file is used as it is, with only what must differ on a test machine replaced:
the listening ports (no TLS), the folders of the two built halves and the app's address.
nginx runs from a temporary prefix (its pid, logs and temporary files live there), so it needs
no root and touches nothing of the system's own nginx. Without nginx the tests are skipped with
the install hint, except under ``CI=true`` where that is a failure (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.server import PROJECT_ROOT, free_port

DEPLOY_CONFIG = PROJECT_ROOT / "deploy" / "nginx.conf"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
MIME_TYPES = "/etc/nginx/mime.types"
# The production file's server_name, replaced by the name the tests send as Host.
SERVER_NAME = "127.0.0.1"


def nginx_or_skip() -> str:
    path = NGINX if os.path.exists(NGINX) else shutil.which("nginx")
    if path and os.path.exists(MIME_TYPES):
        return path
    message = (
        "nginx not found: install it with `sudo apt-get update && sudo apt-get install nginx` "
        "to run the tests of deploy/nginx.conf"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _replace(text: str, old: str, new: str) -> str:
    """Replace a line of the production file; fail loudly if the file no longer has it."""
    assert old in text, (
        f"deploy/nginx.conf no longer contains {old!r}: update tests/support/nginx.py"
    )
    return text.replace(old, new)


def loopback_config(
    prefix: Path,
    *,
    port: int,
    redirect_port: int,
    app_port: int | list[int],
    site: Path,
    staff_site: Path,
) -> str:
    """deploy/nginx.conf inside a minimal main configuration, on loopback ports, no TLS."""
    servers = DEPLOY_CONFIG.read_text(encoding="utf-8")
    servers = _replace(
        servers, "listen 443 ssl default_server;", f"listen 127.0.0.1:{port} default_server;"
    )
    servers = _replace(
        servers, "listen 80 default_server;", f"listen 127.0.0.1:{redirect_port} default_server;"
    )
    servers = _replace(servers, "    ssl_reject_handshake on;\n", "")
    # The site's name is the loopback address the tests ask for.
    servers = _replace(servers, "server_name wuye.example.cn;", f"server_name {SERVER_NAME};")
    servers = _replace(servers, "listen 443 ssl http2;", f"listen 127.0.0.1:{port};")
    servers = _replace(servers, "    ssl_certificate     /etc/ssl/wuye/fullchain.pem;\n", "")
    servers = _replace(servers, "    ssl_certificate_key /etc/ssl/wuye/privkey.pem;\n", "")
    servers = _replace(servers, "listen 80;", f"listen 127.0.0.1:{redirect_port};")
    servers = _replace(
        servers, "access_log /var/log/nginx/access.log", f"access_log {prefix / 'access.log'}"
    )
    servers = _replace(servers, "root /srv/wuye/site/shanshui;", f"root {site};")
    servers = _replace(servers, "alias /srv/wuye/site-staff/shanshui/;", f"alias {staff_site}/;")
    app_ports = app_port if isinstance(app_port, (list, tuple)) else [app_port]
    servers = _replace(
        servers,
        "    server 127.0.0.1:8000 max_fails=3 fail_timeout=10s;\n",
        "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in app_ports),
    )
    # As root, nginx's workers would switch to "nobody", who cannot read pytest's folders.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 128; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    access_log {prefix / "access.log"};
{temp}
{servers}
}}
"""


@dataclass
class Nginx:
    """A running nginx; ``url`` is the owner site's (the production HTTPS server)."""

    prefix: Path
    port: int
    redirect_port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(prefix: Path, *, app_port: int | list[int], site: Path, staff_site: Path) -> Nginx:
    """Write the loopback configuration, check it with ``nginx -t``, start nginx in the foreground."""
    binary = nginx_or_skip()
    prefix.mkdir(parents=True, exist_ok=True)
    port, redirect_port = free_port(), free_port()
    config = prefix / "nginx.conf"
    config.write_text(
        loopback_config(
            prefix,
            port=port,
            redirect_port=redirect_port,
            app_port=app_port,
            site=site,
            staff_site=staff_site,
        ),
        encoding="utf-8",
    )
    command = [binary, "-p", str(prefix), "-c", str(config)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"])
    nginx = Nginx(prefix, port, redirect_port, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}: {nginx.error_log}")
        try:
            requests.get(nginx.url + "/", timeout=5)
            return nginx
        except requests.ConnectionError:
            time.sleep(0.1)
    nginx.stop()
    raise RuntimeError("nginx did not start within 30 s")
