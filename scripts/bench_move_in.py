"""Benchmark move-in bookings on gunicorn with 2 workers: the booking POST under concurrent
owners, then the staff's day schedule, the day's .xlsx export and the slots lookup of a
crowded day.

    .venv/bin/python scripts/bench_move_in.py [--clients 32] [--requests 800]

Capacities are raised in a temporary copy of the community file so that every POST books (the
capacity race itself is a test: tests/move_in/test_live.py). Today is fixed in the instance.
Targets: zero errors; booking p99 under 1000 ms at 32 clients; the schedule page of a day with
every booking of the run under 500 ms (median).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

import requests  # noqa: E402
import yaml  # noqa: E402
from bench_renovation import CSRF_INPUT, Load, report, rooms  # noqa: E402

from forms_app.core.community import DEFAULT_COMMUNITY_FILE  # noqa: E402
from tests.support.server import LiveServer  # noqa: E402
from tests.support.staff import create_staff  # noqa: E402

BOOK_PATH = "/forms/move-in/"
SCHEDULE_PATH = "/forms/staff/move-ins/"
TODAY = date(2026, 12, 1)
DAY = TODAY + timedelta(days=3)
PASSWORD = "bench-password-9"
ROUNDS = 4


def roomy_community(directory: Path) -> Path:
    """The shipped community file with slot capacities no run can fill."""
    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    for slot in raw["move_in"]["slots"]:
        slot["capacity"] = 100_000
    path = directory / "community.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def booking(index: int, room: tuple[int, int, str], slot_ids: list[str]) -> dict:
    building, unit, number = room
    return {
        "building": str(building),
        "unit": str(unit),
        "room": number,
        "owner_name": "周建国",
        "owner_mobile": "13800138000",
        "move_date": DAY.isoformat(),
        "slot": slot_ids[index % len(slot_ids)],
        "oversize": "yes" if index % 5 == 0 else "no",
        "large_items": "双开门冰箱、衣柜",
        "wants_trolley": "y",
    }


def prepare_owner(base: str):
    """Per client: one page view for the CSRF token; every POST gets its own form nonce."""

    def prepare(session: requests.Session):
        token = CSRF_INPUT.search(session.get(base + BOOK_PATH, timeout=30).text).group(1)
        return lambda: {"csrf_token": token, "nonce": secrets.token_urlsafe(24)}

    return prepare


def median_ms(session: requests.Session, url: str, times: int = 10) -> tuple[float, int]:
    """Median time of ``times`` GETs after one warm-up, and the size of the last answer."""
    session.get(url, timeout=60).raise_for_status()
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        response = session.get(url, timeout=60)
        spent.append(time.perf_counter() - began)
        response.raise_for_status()
    return 1000 * statistics.median(spent), len(response.content)


def staff_session(base: str) -> requests.Session:
    session = requests.Session()
    html = session.get(base + "/forms/staff/login", timeout=30).text
    session.post(
        base + "/forms/staff/login",
        timeout=30,
        data={
            "csrf_token": CSRF_INPUT.search(html).group(1),
            "username": "bench",
            "password": PASSWORD,
        },
    ).raise_for_status()
    return session


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=800)
    args = parser.parse_args()
    every_room = rooms()
    if args.requests + args.clients > len(every_room):
        parser.error(
            f"at most {len(every_room) - args.clients} requests: one booking per room and day"
        )

    with tempfile.TemporaryDirectory(prefix="bench-move-in-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        (instance / "config.py").write_text(f'TODAY = "{TODAY.isoformat()}"\n', encoding="utf-8")
        community = roomy_community(Path(tmp))
        server = LiveServer(instance, extra_env={"COMMUNITY_FILE": str(community)}).start()
        try:
            create_staff(server, "bench", "service", PASSWORD)
            slot_ids = [
                s["id"] for s in yaml.safe_load(community.read_text("utf-8"))["move_in"]["slots"]
            ]
            bodies = [booking(i, room, slot_ids) for i, room in enumerate(every_room)]
            load = Load(server.url + BOOK_PATH, args.clients, prepare_owner(server.url))
            load.round(bodies[: args.clients], record=False)
            size = args.requests // ROUNDS
            for start in range(args.clients, args.clients + size * ROUNDS, size):
                load.round(bodies[start : start + size])
            booked = load.result()

            staff = staff_session(server.url)
            day = f"?date={DAY.isoformat()}"
            schedule_ms, schedule_bytes = median_ms(staff, server.url + SCHEDULE_PATH + day)
            export_ms, export_bytes = median_ms(
                staff, server.url + SCHEDULE_PATH + "export.xlsx" + day, 3
            )
            slots_ms, _ = median_ms(requests.Session(), server.url + BOOK_PATH + "slots" + day)
        finally:
            server.stop()

    total = args.clients + size * ROUNDS
    print(
        f"gunicorn 2 workers, {args.clients} concurrent owners, {size * ROUNDS} bookings "
        f"in {ROUNDS} rounds after {args.clients} warm-up bookings"
    )
    report("booking POST", booked)
    print(
        f"schedule page of a day with {total} bookings: median {schedule_ms:.1f} ms "
        f"({schedule_bytes // 1024} KB)"
    )
    print(f".xlsx export of that day: median {export_ms:.1f} ms ({export_bytes // 1024} KB)")
    print(f"slots lookup of that day: median {slots_ms:.1f} ms")
    failed = booked["errors"] or booked["p99_ms"] >= 1000 or schedule_ms >= 500
    print(
        "targets: zero errors, booking p99 < 1000 ms, schedule < 500 ms:",
        "FAILED" if failed else "met",
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
