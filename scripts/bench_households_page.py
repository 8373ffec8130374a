"""Benchmark 一户一档: one household's page with a long timeline.

Seeds a fresh SQLite database with one room (1-1-101) holding ``--records`` items of business
spread over its timeline sources (renovation applications, move-in bookings, repairs and
complaints, registry changes, key handovers and messages to the owner's mobile), beside
background records of other rooms and other mobiles (the outbox is searched by recipient),
then times the household page through the app with the test client, after warm-up requests.

    .venv/bin/python scripts/bench_households_page.py [--records 300] [--rounds 30]

Target, checked at the end (exit status 1 when missed): the page's p50 under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from flask_migrate import upgrade  # noqa: E402

from forms_app import create_app  # noqa: E402
from forms_app.accounts.models import StaffUser  # noqa: E402
from forms_app.accounts.passwords import hash_password  # noqa: E402
from forms_app.core.clock import utcnow  # noqa: E402
from forms_app.core.database import write_transaction  # noqa: E402
from forms_app.core.extensions import db  # noqa: E402
from forms_app.households.models import (  # noqa: E402
    HouseholdChange,
    HouseholdKey,
    HouseholdPerson,
    KeyHandover,
)
from forms_app.households.registry import find_room  # noqa: E402
from forms_app.move_in.models import MoveInBooking  # noqa: E402
from forms_app.notifications.models import Notification  # noqa: E402
from forms_app.renovation import states as renovation_states  # noqa: E402
from forms_app.renovation.models import RenovationApplication  # noqa: E402
from forms_app.service_requests import states as service_states  # noqa: E402
from forms_app.service_requests.models import ServiceRequest  # noqa: E402
from tests.support.staff import login  # noqa: E402

PASSWORD = "bench-password-1"
WARM_UP = 3
TARGET_MS = 100.0
MOBILE = "13800138000"
# The sources the records are spread over, in this order, round robin.
KINDS = ("renovation", "move_in", "service", "change", "message", "key")


def application(index: int, filed: date, building: int, unit: int, room: str, mobile: str):
    now = utcnow()
    return RenovationApplication(
        reference=f"ZX{filed:%Y%m%d}-{index:05d}",
        filed_on=filed,
        sequence=index,
        status_token=secrets.token_urlsafe(24),
        submission_nonce=secrets.token_urlsafe(16),
        building=building,
        unit=unit,
        room=room,
        owner_name="张业主",
        owner_mobile=mobile,
        contractor_company="金陵家装有限公司",
        site_lead_name="陈工",
        site_lead_mobile="13912345678",
        workers=6,
        start_date=filed,
        end_date=filed + timedelta(days=60),
        work_items=["walls_floors"],
        description="客厅铺地砖。",
        acknowledged_at=now,
        state=renovation_states.DEPOSIT_REFUNDED,
        created_at=now,
        updated_at=now,
    )


def message(recipient: str, reference: str, at) -> Notification:
    return Notification(
        kind="service.received",
        audience="owner",
        recipient=recipient,
        reference=reference,
        text="您的报修已受理。",
        params=[],
        idempotency_key=uuid.uuid4().hex,
        state="delivered",
        created_at=at,
    )


def seed(app, records: int, background: int) -> int:
    """The room 1-1-101 with its owner since 2015 and ``records`` timeline items; background
    applications on other rooms and messages to other mobiles. Returns the room's id."""
    today = date.today()
    now = utcnow()
    room = find_room(1, 1, "101")
    with write_transaction() as session:
        session.add(
            StaffUser(username="bench", role="manager", password_hash=hash_password(PASSWORD))
        )
        session.add(
            HouseholdPerson(
                community=room.community,
                room_id=room.id,
                name="张业主",
                mobile=MOBILE,
                role="owner",
                since=date(2015, 1, 1),
                primary_contact=True,
            )
        )
        key = HouseholdKey(
            community=room.community,
            room_id=room.id,
            description="入户门钥匙 2 把",
            left_by="张业主",
            received_by="bench",
            kept_at="监控室钥匙柜 A-01",
        )
        session.add(key)
        session.flush()
        for index in range(records):
            kind = KINDS[index % len(KINDS)]
            filed = today - timedelta(days=index)
            at = now - timedelta(days=index, hours=1)
            if kind == "renovation":
                session.add(application(index, filed, 1, 1, "101", MOBILE))
            elif kind == "move_in":
                session.add(
                    MoveInBooking(
                        reference=f"BJ{filed:%Y%m%d}-{index:05d}",
                        filed_on=filed,
                        sequence=index,
                        submission_nonce=secrets.token_urlsafe(16),
                        move_date=filed + timedelta(days=3),
                        slot="morning",
                        seat=1,
                        oversize=False,
                        building=1,
                        unit=1,
                        room="101",
                        owner_name="张业主",
                        owner_mobile=MOBILE,
                        state="completed",
                    )
                )
            elif kind == "service":
                session.add(
                    ServiceRequest(
                        kind=service_states.REPAIR,
                        reference=f"BX{filed:%Y%m%d}-{index:05d}",
                        filed_on=filed,
                        sequence=index,
                        submission_nonce=secrets.token_urlsafe(16),
                        source=service_states.PHONE,
                        recorded_by="bench",
                        description="厨房水管漏水",
                        building=1,
                        unit=1,
                        room="101",
                        owner_name="张业主",
                        owner_mobile=MOBILE,
                    )
                )
            elif kind == "change":
                session.add(
                    HouseholdChange(
                        community=room.community,
                        room_id=room.id,
                        action="contacts",
                        summary="主要联系人：张业主；紧急联系人：无",
                        reason="业主来电",
                        actor_name="bench",
                        created_at=at,
                    )
                )
            elif kind == "message":
                session.add(message(MOBILE, f"BX{filed:%Y%m%d}-{index:05d}", at))
            else:
                session.add(
                    KeyHandover(
                        community=room.community,
                        key_id=key.id,
                        direction="out" if index % 2 else "back",
                        person="维修师傅",
                        consent="业主电话同意",
                        staff_name="bench",
                        created_at=at,
                    )
                )
        for index in range(background):
            filed = today - timedelta(days=index % 700)
            building, unit = 2 + index % 8, 1 + index % 2
            session.add(
                application(records + index, filed, building, unit, "201", f"137{index:08d}")
            )
            session.add(message(f"137{index:08d}", f"BG{index:06d}", now))
    return room.id


def timed(client, url: str, rounds: int) -> tuple[float, float, float, int]:
    """p50, p90 and max in ms over ``rounds`` requests, after WARM_UP unmeasured ones."""
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
    return (
        statistics.median(samples),
        samples[max(0, int(len(samples) * 0.9) - 1)],
        samples[-1],
        len(body),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--background", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INSTANCE_PATH"] = tmp
        app = create_app({"SITE_DIR": None})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            room_id = seed(app, args.records, args.background)
            print(
                f"seeded {args.records} records on one room and {args.background} background "
                f"applications and messages in {time.perf_counter() - started:.1f} s"
            )
            db.session.remove()
        client = app.test_client()
        assert login(client, "bench", PASSWORD).status_code == 302
        url = f"/forms/staff/households/{room_id}"
        html = client.get(url).get_data(as_text=True)
        shown = html.split('id="timeline"')[1].count('<tr class="entry-')
        p50, p90, worst, size = timed(client, url, args.rounds)
        print(
            f"household page ({shown} timeline rows, {size // 1024} KiB), {args.rounds} requests:"
        )
        print(
            f"  p50 {p50:.1f} ms   p90 {p90:.1f} ms   max {worst:.1f} ms   target p50 < {TARGET_MS:.0f} ms"
        )
    if p50 >= TARGET_MS:
        print("MISSED: household page p50")
        sys.exit(1)


if __name__ == "__main__":
    main()
