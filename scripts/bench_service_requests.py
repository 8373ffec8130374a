"""Benchmark repairs and complaints on a large register.

Seeds a fresh SQLite database with many requests (both kinds, every source, a year of filing
dates; most closed after one or two 回访 calls, some open and overdue), then times, in the
same run:

- the week's and the month's figures (客户满意率, 工程报修维修合格率, 客户投诉回访率, counts,
  time to close), as the figures page computes them;
- the register list through the app as a logged-in 客服: first page, page 1,000, the overdue
  filter, a search;
- a bare baseline: the same register page and the week's follow-up counts as plain sqlite3
  queries, to show what the app adds on top of the database.

    .venv/bin/python scripts/bench_service_requests.py [--requests 50000] [--rounds 15]

Target: the weekly figures and the register list stay under 300 ms (p50) at 50,000 requests.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from flask_migrate import upgrade  # noqa: E402

from forms_app import create_app  # noqa: E402
from forms_app.accounts.models import StaffUser  # noqa: E402
from forms_app.accounts.passwords import hash_password  # noqa: E402
from forms_app.core.clock import today, utcnow  # noqa: E402
from forms_app.core.community import cached_community  # noqa: E402
from forms_app.core.database import write_transaction  # noqa: E402
from forms_app.core.extensions import db  # noqa: E402
from forms_app.service_requests import states  # noqa: E402
from forms_app.service_requests.figures import compute, month_of, week_of  # noqa: E402
from forms_app.service_requests.models import (  # noqa: E402
    ServiceEvent,
    ServiceFollowUp,
    ServiceRequest,
)
from tests.support.staff import login  # noqa: E402

PASSWORD = "bench-password-1"
TARGET_MS = 300
BATCH = 2000


def seed(app, total: int) -> None:
    """``total`` requests over the last year; their first history step and 回访 calls."""
    rng = random.Random(12)
    community = cached_community(app.config["COMMUNITY_FILE"])
    rooms = [
        (b.number, unit, room)
        for b in community.buildings.values()
        for unit in range(1, b.units + 1)
        for room in b.rooms()
    ]
    now = utcnow()
    with write_transaction() as session:
        worker = StaffUser(
            username="bench-worker", role="engineering", password_hash=hash_password(PASSWORD)
        )
        desk = StaffUser(username="bench", role="service", password_hash=hash_password(PASSWORD))
        session.add_all([worker, desk])
        session.flush()
        worker_id = worker.id
    requests, events, calls = [], [], []
    for index in range(1, total + 1):
        created = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
        kind = states.REPAIR if rng.random() < 0.8 else states.COMPLAINT
        building, unit, room = rng.choice(rooms)
        roll = rng.random()
        state = (
            states.CLOSED
            if roll < 0.85
            else states.NEW
            if roll < 0.9
            else states.DISPATCHED
            if roll < 0.95
            else states.AWAITING_VISIT
        )
        closed = created + timedelta(hours=rng.randrange(2, 96)) if state == states.CLOSED else None
        dispatched = created + timedelta(hours=1) if state != states.NEW else None
        requests.append(
            {
                "id": index,
                "kind": kind,
                "reference": f"{states.PREFIXES[kind]}{created:%Y%m%d}-{index:05d}",
                "filed_on": created.date(),
                "sequence": index,
                "token": secrets.token_urlsafe(24),
                "submission_nonce": secrets.token_urlsafe(24),
                "source": rng.choice(list(states.SOURCE_LABELS)),
                "recorded_by": "业主",
                "building": building,
                "unit": unit,
                "room": room,
                "owner_name": f"业主{index}",
                "owner_mobile": f"138{index:08d}",
                "location": states.HOME,
                "place": "",
                "available_time": "工作日晚上",
                "description": "卫生间水管漏水，请尽快上门。",
                "department": "工程部" if kind == states.COMPLAINT else "",
                "wish": "",
                "state": state,
                "urgency": "normal" if kind == states.REPAIR else "",
                "assignee_id": worker_id if dispatched else None,
                "assignee_name": "bench-worker（工程）" if dispatched else "",
                "dispatched_at": dispatched,
                # A repair is due once dispatched; a complaint from its filing.
                "due_at": None
                if kind == states.REPAIR and not dispatched
                else (dispatched or created) + timedelta(hours=24),
                "arrived_at": None,
                "finished_at": closed,
                "result": "",
                "materials": "",
                "receipt": "",
                "receipt_name": "",
                "answer": "",
                "answered_at": closed - timedelta(hours=1)
                if closed and kind == states.COMPLAINT
                else None,
                "reopen_count": 0,
                "owner_view": "",
                "closed_at": closed,
                "close_reason": "",
                "created_at": created,
                "updated_at": closed or created,
            }
        )
        events.append(
            {
                "request_id": index,
                "action": "file",
                "from_state": None,
                "to_state": states.NEW,
                "comment": "",
                "actor_id": None,
                "actor_name": "业主",
                "created_at": created,
            }
        )
        if closed:
            second = rng.random() < 0.1
            if second:
                calls.append(
                    {
                        "request_id": index,
                        "kind": kind,
                        "first": True,
                        "satisfied": False,
                        "owner_view": "还有问题",
                        "caller_id": None,
                        "caller_name": "bench",
                        "called_at": closed - timedelta(hours=1),
                    }
                )
            calls.append(
                {
                    "request_id": index,
                    "kind": kind,
                    "first": not second,
                    "satisfied": rng.random() < 0.93,
                    "owner_view": "满意",
                    "caller_id": None,
                    "caller_name": "bench",
                    "called_at": closed,
                }
            )
    with db.engine.begin() as connection:
        for table, rows in (
            (ServiceRequest.__table__, requests),
            (ServiceEvent.__table__, events),
            (ServiceFollowUp.__table__, calls),
        ):
            for start in range(0, len(rows), BATCH):
                connection.execute(table.insert(), rows[start : start + BATCH])
        connection.exec_driver_sql("ANALYZE")


def timed(label: str, run, rounds: int) -> float:
    run()  # warm up (templates compiled, pages cached)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    p50 = statistics.median(samples)
    print(f"  {label:<44} p50 {p50:7.1f} ms   max {max(samples):7.1f} ms")
    return p50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["INSTANCE_PATH"] = folder
        app = create_app({"SITE_DIR": None})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            seed(app, args.requests)
            print(
                f"seeded {args.requests:,} requests in {time.perf_counter() - started:.1f} s "
                f"(SQLite, {os.cpu_count()} CPUs)"
            )
        client = app.test_client()
        assert login(client, "bench", PASSWORD).status_code == 302
        results = {}
        print("through the app:")
        with app.app_context():
            week, month = week_of(today()), month_of(today())
            results["weekly figures"] = timed(
                "weekly figures (compute)", lambda: compute(week), args.rounds
            )
            results["monthly figures"] = timed(
                "monthly figures (compute)", lambda: compute(month), args.rounds
            )
        pages = {
            "figures page (this week)": "/forms/staff/service/figures",
            "register, first page": "/forms/staff/service/",
            "register, page 1000": "/forms/staff/service/?page=1000",
            "register, overdue only": "/forms/staff/service/?overdue=1",
            "register, search by name": "/forms/staff/service/?q=业主4242",
        }
        for label, url in pages.items():

            def get(url=url):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            results[label] = timed(label + " (GET)", get, args.rounds)

        print("bare sqlite3 baseline (same database):")
        connection = sqlite3.connect(Path(folder) / "forms.sqlite3")
        start, end = week.utc_range()

        def bare_page():
            connection.execute("SELECT count(*) FROM service_request").fetchone()
            connection.execute("SELECT * FROM service_request ORDER BY id DESC LIMIT 20").fetchall()

        def bare_week():
            connection.execute(
                "SELECT kind, first, satisfied, count(*) FROM service_follow_up "
                "WHERE called_at >= ? AND called_at < ? GROUP BY kind, first, satisfied",
                (start.isoformat(" "), end.isoformat(" ")),
            ).fetchall()

        timed("register page: count + 20 rows", bare_page, args.rounds)
        timed("week's 回访 counts", bare_week, args.rounds)
        connection.close()
        with app.app_context():
            db.engine.dispose()
    slow = {label: ms for label, ms in results.items() if ms >= TARGET_MS}
    print(
        f"target: every p50 under {TARGET_MS} ms at {args.requests:,} requests -> "
        + ("met" if not slow else f"MISSED: {slow}")
    )
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
