"""Benchmark the staff back office on a large register.

Seeds a fresh SQLite database with many applications (every room of the community has one open
application, the rest closed; a third of the open ones on site with patrol records), then times
through the app: the filtered list, a search, the detail page, 今日待巡查, and the CSV and .xlsx
exports, with the peak Python memory of each export.

    .venv/bin/python scripts/bench_staff.py [--applications 10000] [--rounds 20]

Targets: list, search and detail p50 under 100 ms; 今日待巡查 under 500 ms; the CSV export
streams (peak memory far below the size of the file).
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from flask_migrate import upgrade  # noqa: E402

from forms_app import create_app  # noqa: E402
from forms_app.community import cached_community  # noqa: E402
from forms_app.database import write_transaction  # noqa: E402
from forms_app.extensions import db  # noqa: E402
from forms_app.renovation import states  # noqa: E402
from forms_app.clock import utcnow  # noqa: E402
from forms_app.renovation.models import RenovationApplication, RenovationEvent  # noqa: E402
from forms_app.renovation.patrols import RenovationPatrol  # noqa: E402
from forms_app.staff.models import StaffUser  # noqa: E402
from forms_app.staff.passwords import hash_password  # noqa: E402
from tests.support.staff import login  # noqa: E402

PASSWORD = "bench-password-1"


def seed(app, total: int) -> None:
    """``total`` applications: one open per room, the rest closed; patrols for those on site."""
    community = cached_community(app.config["COMMUNITY_FILE"])
    rooms = [(b.number, unit, room) for b in community.buildings.values()
             for unit in range(1, b.units + 1) for room in b.rooms()]
    today = date.today()
    now = utcnow()
    with write_transaction() as session:
        inspector = StaffUser(username="bench", role="manager", password_hash=hash_password(PASSWORD))
        session.add(inspector)
        session.flush()
        for index in range(total):
            building, unit, room = rooms[index % len(rooms)]
            open_one = index < len(rooms)
            state = ((states.IN_PROGRESS if index % 3 == 0 else states.PENDING) if open_one
                     else states.DEPOSIT_REFUNDED)
            filed = today - timedelta(days=index % 365)
            application = RenovationApplication(
                reference=f"ZX{filed:%Y%m%d}-{index:05d}", filed_on=filed, sequence=index,
                status_token=secrets.token_urlsafe(24), submission_nonce=secrets.token_urlsafe(16),
                building=building, unit=unit, room=room, owner_name=f"业主{index}",
                owner_mobile=f"138{index:08d}", contractor_company="金陵家装有限公司",
                site_lead_name="陈工", site_lead_mobile="13912345678", workers=6,
                start_date=filed, end_date=filed + timedelta(days=60),
                work_items=["walls_floors"], description="客厅铺地砖，卫生间重做防水。",
                acknowledged_at=now, state=state, created_at=now, updated_at=now)
            application.events.append(RenovationEvent(
                from_state=None, to_state=states.PENDING, actor_name="业主", created_at=now))
            if state == states.IN_PROGRESS:
                application.events.append(RenovationEvent(
                    from_state=states.APPROVED, to_state=states.IN_PROGRESS, actor_name="bench",
                    created_at=now - timedelta(days=20)))
            session.add(application)
            if state == states.IN_PROGRESS:
                session.flush()
                for back in range(0, 20, 2):
                    session.add(RenovationPatrol(
                        application_id=application.id, kind="office" if back % 4 else "guard",
                        patrol_date=today - timedelta(days=back + index % 3),
                        inspector_id=inspector.id, inspector_name="bench", findings="正常",
                        violation=False, violation_description=""))


def timed(client, url: str, rounds: int) -> tuple[float, float, int]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1], len(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INSTANCE_PATH"] = tmp
        app = create_app({"SITE_DIR": None, "WTF_CSRF_ENABLED": True})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            seed(app, args.applications)
            print(f"seeded {args.applications} applications in {time.perf_counter() - started:.1f} s")
            detail_id = db.session.query(RenovationApplication.id).filter_by(
                state=states.IN_PROGRESS).first()[0]
        client = app.test_client()
        assert login(client, "bench", PASSWORD).status_code == 302
        pages = {
            "list (page 1)": "/forms/staff/renovations",
            "list filtered": "/forms/staff/renovations?state=in_progress&building=8",
            "search by name": "/forms/staff/renovations?q=业主4321",
            "search by room": "/forms/staff/renovations?q=8-2-2601",
            "detail": f"/forms/staff/renovations/{detail_id}",
            "今日待巡查": "/forms/staff/patrols/due",
        }
        print(f"{'page':<16} {'p50 ms':>8} {'p90 ms':>8} {'bytes':>9}")
        for name, url in pages.items():
            p50, p90, size = timed(client, url, args.rounds)
            print(f"{name:<16} {p50:8.1f} {p90:8.1f} {size:9d}")
        for fmt in ("csv", "xlsx"):
            url = f"/forms/staff/renovations/export.{fmt}"
            start = time.perf_counter()
            size = sum(len(chunk) for chunk in client.get(url).response)
            seconds = time.perf_counter() - start
            # A second run under tracemalloc (which slows Python down) for the peak memory.
            tracemalloc.start()
            for _chunk in client.get(url).response:
                pass
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"export {fmt}: {size / 1e6:.1f} MB in {seconds:.2f} s, "
                  f"peak Python memory {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
