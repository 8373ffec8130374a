"""Benchmark the renovation application POST against a bare Flask + sqlite3 insert handler.

Both run on gunicorn with 2 workers in the same run, with the same SQLite settings (WAL,
synchronous=FULL, busy timeout, BEGIN IMMEDIATE), and are driven by the same concurrent
clients. Prints requests/s, p50/p99 latency, errors and the ratio of the two throughputs.

    .venv/bin/python scripts/bench_renovation.py [--clients 32] [--requests 800]

Target: the application reaches at least 0.6 of the bare handler's throughput, zero errors.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import requests  # noqa: E402

from forms_app.core.clock import today  # noqa: E402
from forms_app.core.community import load_community  # noqa: E402
from tests.support.server import BIN, LiveServer, free_port  # noqa: E402

APPLY_PATH = "/forms/renovation/apply"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
BARE_TABLE = """CREATE TABLE IF NOT EXISTS application (
    id INTEGER PRIMARY KEY, building INTEGER, unit INTEGER, room TEXT, owner_name TEXT,
    owner_mobile TEXT, contractor_company TEXT, site_lead_name TEXT, site_lead_mobile TEXT,
    workers INTEGER, start_date TEXT, end_date TEXT, work_items TEXT, description TEXT,
    created_at TEXT)"""


# --- the bare handler, loaded by gunicorn as ``bench_renovation:bare_app()`` --------------
def bare_app():
    """A Flask app whose POST does one sqlite3 insert with our SQLite settings."""
    from flask import Flask, redirect, request

    app = Flask("bare")
    path = os.environ["BENCH_BARE_DB"]
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "db"):
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=15000")
            local.db = db
        return local.db

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/insert")
    def insert():
        form = request.form
        db = connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            cursor = db.execute(
                "INSERT INTO application (building, unit, room, owner_name, owner_mobile,"
                " contractor_company, site_lead_name, site_lead_mobile, workers, start_date,"
                " end_date, work_items, description, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, datetime('now'))",
                (
                    int(form["building"]),
                    int(form["unit"]),
                    form["room"],
                    form["owner_name"],
                    form["owner_mobile"],
                    form["contractor_company"],
                    form["site_lead_name"],
                    form["site_lead_mobile"],
                    int(form["workers"]),
                    form["start_date"],
                    form["end_date"],
                    ",".join(form.getlist("work_items")),
                    form["description"],
                ),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return redirect(f"/done/{cursor.lastrowid}", code=303)

    return app


# --- servers ------------------------------------------------------------------------------
class BareServer:
    def __init__(self, directory: Path, workers: int):
        self.db_path = directory / "bare.sqlite3"
        self.workers = workers
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BareServer:
        with sqlite3.connect(self.db_path) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(BARE_TABLE)
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--pythonpath",
                str(PROJECT_ROOT / "scripts"),
                "bench_renovation:bare_app()",
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, "BENCH_BARE_DB": str(self.db_path)},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).ok:
                    return self
            except requests.RequestException:
                # Not listening yet, or a worker still importing on a busy machine.
                time.sleep(0.2)
        raise RuntimeError("bare server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


# --- load ---------------------------------------------------------------------------------
def rooms() -> list[tuple[int, int, str]]:
    community = load_community()
    return [
        (n, u, r)
        for n, b in sorted(community.buildings.items())
        for u in range(1, b.units + 1)
        for r in b.rooms()
    ]


def application(room: tuple[int, int, str]) -> dict:
    building, unit, number = room
    start = today() + timedelta(days=5)
    return {
        "building": str(building),
        "unit": str(unit),
        "room": number,
        "owner_name": "王美华",
        "owner_mobile": "13800138000",
        "contractor_company": "金陵家装有限公司",
        "site_lead_name": "陈工",
        "site_lead_mobile": "13912345678",
        "workers": "6",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=45)).isoformat(),
        "work_items": ["plumbing_electric", "walls_floors"],
        "description": "客厅铺地砖。",
        "includes_prohibited": "no",
        "ack_agreement": "y",
        "ack_fire_safety": "y",
        "ack_prohibitions": "y",
    }


class Load:
    """Concurrent clients POSTing to one server; rounds add up into one result."""

    def __init__(self, post_url: str, clients: int, prepare):
        self.post_url = post_url
        self.clients = clients
        self.sessions = [requests.Session() for _ in range(clients)]
        self.extras = [prepare(session) for session in self.sessions]
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.wall = 0.0
        self._lock = threading.Lock()

    def round(self, bodies: list[dict], record: bool = True) -> None:
        """POST every body once, spread over the clients; time each POST and the round."""
        latencies, errors = [], []

        def client(index: int) -> None:
            session, extra = self.sessions[index], self.extras[index]
            for body in bodies[index :: self.clients]:
                data = {**body, **extra()}
                began = time.perf_counter()
                try:
                    response = session.post(
                        self.post_url, data=data, allow_redirects=False, timeout=60
                    )
                    problem = (
                        None if response.status_code == 303 else f"HTTP {response.status_code}"
                    )
                except requests.RequestException as error:
                    problem = type(error).__name__
                elapsed = time.perf_counter() - began
                with self._lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

        began = time.perf_counter()
        with ThreadPoolExecutor(self.clients) as pool:
            list(pool.map(client, range(self.clients)))
        if record:
            self.wall += time.perf_counter() - began
            self.latencies += latencies
        self.errors += errors

    def result(self) -> dict:
        latencies = sorted(self.latencies)
        return {
            "requests": len(latencies),
            "rps": len(latencies) / self.wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "errors": len(self.errors),
            "error_kinds": sorted(set(self.errors)),
        }


def app_prepare(base: str):
    """Per client: one page view for the CSRF token; every POST gets its own form nonce."""

    def prepare(session: requests.Session):
        token = CSRF_INPUT.search(session.get(base + APPLY_PATH, timeout=30).text).group(1)
        return lambda: {"csrf_token": token, "nonce": secrets.token_urlsafe(24)}

    return prepare


def report(name: str, result: dict) -> None:
    print(
        f"{name:<14} {result['requests']:>6} POSTs  {result['rps']:8.1f} req/s  "
        f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
        f"errors {result['errors']} {' '.join(result['error_kinds'])}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--requests",
        type=int,
        default=800,
        help="POSTs per server (each application needs its own room)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternating rounds the requests are split into"
    )
    args = parser.parse_args()
    all_rooms = rooms()
    warmup = args.clients
    if args.requests + warmup > len(all_rooms):
        parser.error(f"at most {len(all_rooms) - warmup} requests: one open application per room")
    bodies = [application(room) for room in all_rooms]

    with tempfile.TemporaryDirectory(prefix="bench-renovation-") as tmp:
        # Sync workers, as the bare handler's: the comparison is of the handlers.
        ours = LiveServer(Path(tmp) / "instance", workers=args.workers, threads=0)
        bare = BareServer(Path(tmp), args.workers)
        try:
            ours.start()
            bare.start()
            loads = {
                "bare insert": Load(bare.url + "/insert", args.clients, lambda _session: dict),
                "renovation": Load(ours.url + APPLY_PATH, args.clients, app_prepare(ours.url)),
            }
            for load in loads.values():
                load.round(bodies[:warmup], record=False)
            # Alternate short rounds so that other load on the machine hits both alike.
            size = args.requests // args.rounds
            for start in range(warmup, warmup + size * args.rounds, size):
                for load in loads.values():
                    load.round(bodies[start : start + size])
            results = {name: load.result() for name, load in loads.items()}
        finally:
            ours.stop()
            bare.stop()

    print(
        f"gunicorn {args.workers} workers each, {args.clients} concurrent clients, "
        f"{size * args.rounds} POSTs each in {args.rounds} alternating rounds "
        f"after {warmup} warm-up POSTs"
    )
    for name, result in results.items():
        report(name, result)
    ratio = results["renovation"]["rps"] / results["bare insert"]["rps"]
    print(f"ratio renovation / bare: {ratio:.2f} (target >= 0.60)")
    failed = ratio < 0.6 or any(r["errors"] for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
