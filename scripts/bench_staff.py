"""Benchmark the staff back office on a large register.

Seeds a fresh SQLite database with many applications (every room of the community has one open
application, the rest closed; a third of the open ones on site with patrol records), then times
through the app, after warm-up requests: the filtered list, a search, the detail page, 今日待巡查,
and the CSV and .xlsx exports, each export in a process of its own whose whole memory (VmHWM,
which also counts lxml, openpyxl and SQLite, unlike tracemalloc) is measured against the same
process before the export.

    .venv/bin/python scripts/bench_staff.py [--applications 10000] [--rounds 20]

Targets, checked at the end (exit status 1 when one is missed): list, search and detail p50
under 100 ms; 今日待巡查 under 500 ms; each export adds less than EXPORT_MEMORY_MB to its
process (the exports stream: the 10,000-row CSV alone is larger than that when held whole).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from flask_migrate import upgrade  # noqa: E402
from process_memory import peak_rss_kib, rss_kib  # noqa: E402  (scripts/ is on the path)

from forms_app import create_app  # noqa: E402
from forms_app.accounts.models import StaffUser  # noqa: E402
from forms_app.accounts.passwords import hash_password  # noqa: E402
from forms_app.core.clock import utcnow  # noqa: E402
from forms_app.core.community import cached_community  # noqa: E402
from forms_app.core.database import write_transaction  # noqa: E402
from forms_app.core.extensions import db  # noqa: E402
from forms_app.renovation import states  # noqa: E402
from forms_app.renovation.models import RenovationApplication, RenovationEvent  # noqa: E402
from forms_app.renovation.patrols import RenovationPatrol  # noqa: E402
from tests.support.staff import login  # noqa: E402

PASSWORD = "bench-password-1"
WARM_UP = 3
PAGE_TARGET_MS = {"今日待巡查": 500.0}
DEFAULT_PAGE_TARGET_MS = 100.0
EXPORT_MEMORY_MB = 40.0


def seed(app, total: int) -> None:
    """``total`` applications: one open per room, the rest closed; patrols for those on site."""
    community = cached_community(app.config["COMMUNITY_FILE"])
    rooms = [
        (b.number, unit, room)
        for b in community.buildings.values()
        for unit in range(1, b.units + 1)
        for room in b.rooms()
    ]
    today = date.today()
    now = utcnow()
    with write_transaction() as session:
        inspector = StaffUser(
            username="bench", role="manager", password_hash=hash_password(PASSWORD)
        )
        session.add(inspector)
        session.flush()
        for index in range(total):
            building, unit, room = rooms[index % len(rooms)]
            open_one = index < len(rooms)
            state = (
                (states.IN_PROGRESS if index % 3 == 0 else states.PENDING)
                if open_one
                else states.DEPOSIT_REFUNDED
            )
            filed = today - timedelta(days=index % 365)
            application = RenovationApplication(
                reference=f"ZX{filed:%Y%m%d}-{index:05d}",
                filed_on=filed,
                sequence=index,
                status_token=secrets.token_urlsafe(24),
                submission_nonce=secrets.token_urlsafe(16),
                building=building,
                unit=unit,
                room=room,
                owner_name=f"业主{index}",
                owner_mobile=f"138{index:08d}",
                contractor_company="金陵家装有限公司",
                site_lead_name="陈工",
                site_lead_mobile="13912345678",
                workers=6,
                start_date=filed,
                end_date=filed + timedelta(days=60),
                work_items=["walls_floors"],
                description="客厅铺地砖，卫生间重做防水。",
                acknowledged_at=now,
                state=state,
                created_at=now,
                updated_at=now,
            )
            application.events.append(
                RenovationEvent(
                    from_state=None, to_state=states.PENDING, actor_name="业主", created_at=now
                )
            )
            if state == states.IN_PROGRESS:
                application.events.append(
                    RenovationEvent(
                        from_state=states.APPROVED,
                        to_state=states.IN_PROGRESS,
                        actor_name="bench",
                        created_at=now - timedelta(days=20),
                    )
                )
            session.add(application)
            if state == states.IN_PROGRESS:
                session.flush()
                for back in range(0, 20, 2):
                    session.add(
                        RenovationPatrol(
                            application_id=application.id,
                            kind="office" if back % 4 else "guard",
                            patrol_date=today - timedelta(days=back + index % 3),
                            inspector_id=inspector.id,
                            inspector_name="bench",
                            findings="正常",
                            violation=False,
                            violation_description="",
                        )
                    )


def timed(client, url: str, rounds: int) -> tuple[float, float, int]:
    """p50 and p90 in ms over ``rounds`` requests, after WARM_UP unmeasured ones (templates
    compiled, statements cached, pages of the database file read)."""
    for _ in range(WARM_UP):
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1], len(body)


def logged_in(app):
    client = app.test_client()
    assert login(client, "bench", PASSWORD).status_code == 302
    return client


def export_child(instance: str, fmt: str) -> None:
    """In a process of its own: one export; prints seconds, bytes and the memory it added."""
    os.environ["INSTANCE_PATH"] = instance
    app = create_app({"SITE_DIR": None})
    client = logged_in(app)
    url = f"/forms/staff/renovations/export.{fmt}"
    client.get("/forms/staff/renovations")  # the app's own start-up memory is not the export's
    before = rss_kib()
    start = time.perf_counter()
    response = client.get(url)
    size = sum(len(chunk) for chunk in response.response)
    seconds = time.perf_counter() - start
    assert response.status_code == 200
    print(f"{seconds:.3f} {size} {before} {peak_rss_kib()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--export-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INSTANCE_PATH"] = tmp
        app = create_app({"SITE_DIR": None, "WTF_CSRF_ENABLED": True})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            seed(app, args.applications)
            print(
                f"seeded {args.applications} applications in {time.perf_counter() - started:.1f} s"
            )
            detail_id = (
                db.session.query(RenovationApplication.id)
                .filter_by(state=states.IN_PROGRESS)
                .first()[0]
            )
            db.session.remove()
        client = logged_in(app)
        pages = {
            "list (page 1)": "/forms/staff/renovations",
            "list filtered": "/forms/staff/renovations?state=in_progress&building=8",
            "search by name": "/forms/staff/renovations?q=业主4321",
            "search by room": "/forms/staff/renovations?q=8-2-2601",
            "detail": f"/forms/staff/renovations/{detail_id}",
            "今日待巡查": "/forms/staff/patrols/due",
        }
        print(f"{'page':<16} {'p50 ms':>8} {'p90 ms':>8} {'bytes':>9} {'target':>10}")
        for name, url in pages.items():
            p50, p90, size = timed(client, url, args.rounds)
            target = PAGE_TARGET_MS.get(name, DEFAULT_PAGE_TARGET_MS)
            verdict = "ok" if p50 < target else "MISSED"
            if p50 >= target:
                missed.append(f"{name} p50 {p50:.1f} ms >= {target:.0f} ms")
            print(
                f"{name:<16} {p50:8.1f} {p90:8.1f} {size:9d} {'<' + str(int(target)) + ' ' + verdict:>10}"
            )
        for fmt in ("csv", "xlsx"):
            child = subprocess.run(
                [sys.executable, __file__, "--export-child", tmp, fmt],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds, size, before, peak = child.stdout.split()[-4:]
            added = (int(peak) - int(before)) / 1024
            verdict = "ok" if added < EXPORT_MEMORY_MB else "MISSED"
            if added >= EXPORT_MEMORY_MB:
                missed.append(f"export {fmt} added {added:.1f} MB >= {EXPORT_MEMORY_MB:.0f} MB")
            print(
                f"export {fmt}: {int(size) / 1e6:.1f} MB in {float(seconds):.2f} s; process "
                f"memory {int(before) / 1024:.0f} MB before, peak {int(peak) / 1024:.0f} MB "
                f"(+{added:.1f} MB, target <{EXPORT_MEMORY_MB:.0f}) {verdict}"
            )
    if missed:
        print("targets missed: " + "; ".join(missed))
        sys.exit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
