"""Benchmark issuing a month's bills for 20,000 households.

    .venv/bin/python scripts/bench_fees_issue.py [--rows 20000]

Uses the community file of ``scripts/bench_households.py`` (40 buildings, 20,800 rooms, the
example's fee standards) on a fresh SQLite database in a temporary ``INSTANCE_PATH``, imports
``--rows`` households from its 房屋台账 (one owner per room, with 收费面积 and 入住日期), stores
two months of water and electricity readings for every room and of the public meters, then
marks the rooms the 台账 does not name handed over too (it sets 已入住 for its own), then
times what
``flask bills issue --month 2026-12`` does:

- the issue (read the registry, the readings and the contacts; compute every line; write the
  bills, lines and messages in one transaction);
- the same period again (nothing new is issued).

Target: under 30 s for 20,000 households on the shared 2-core machine. Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from bench_households import bench_app, ledger, timed  # noqa: E402
from sqlalchemy import func, insert, select, update  # noqa: E402

from forms_app.core.community import community_key  # noqa: E402
from forms_app.core.database import write_connection  # noqa: E402
from forms_app.core.extensions import db  # noqa: E402
from forms_app.fees import billing  # noqa: E402
from forms_app.fees.meters import room_meter  # noqa: E402
from forms_app.fees.models import FeeBill, FeeBillLine, MeterReading  # noqa: E402
from forms_app.households import importing  # noqa: E402
from forms_app.households.models import HouseholdRoom  # noqa: E402
from forms_app.notifications.models import Notification  # noqa: E402

TARGET_SECONDS = 30.0
TODAY = date(2026, 12, 1)


def readings(rows: int) -> int:
    """Water and electricity of every billed room and the public meters, for 2026-11 and -12,
    in the community this runs as (``acting_in``; scripts/bench_scale.py reads 50)."""
    key = community_key()
    rooms = db.session.scalars(
        select(HouseholdRoom.id)
        .where(HouseholdRoom.community == key, HouseholdRoom.charge_area_centi.is_not(None))
        .order_by(HouseholdRoom.id)
        .limit(rows)
    ).all()
    batch = []
    for index, room_id in enumerate(rooms):
        for item, base, used in (("water", 300, 8 + index % 7), ("electricity", 5000, 150)):
            for period, value in (("2026-11", base), ("2026-12", base + used)):
                batch.append(
                    {
                        "community": key,
                        "meter": room_meter(room_id, item),
                        "room_id": room_id,
                        "item": item,
                        "period": period,
                        "reading": str(value),
                        "flagged": False,
                        "note": "",
                        "read_on": TODAY,
                        "entered_by": "bench",
                    }
                )
    for meter, base, used in (("public-water", 10000, 1234), ("public-electricity", 90000, 8765)):
        for period, value in (("2026-11", base), ("2026-12", base + used)):
            batch.append(
                {
                    "community": key,
                    "meter": meter,
                    "room_id": None,
                    "item": meter,
                    "period": period,
                    "reading": str(value),
                    "flagged": False,
                    "note": "",
                    "read_on": TODAY,
                    "entered_by": "bench",
                }
            )
    with write_connection() as connection:
        connection.execute(insert(MeterReading), batch)
    return len(batch)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        app = bench_app(folder, TODAY=TODAY.isoformat())
        with app.test_request_context():
            path = ledger(folder / "台账.xlsx", args.rows)
            report, _ = timed("import the households", lambda: importing.import_file(path, "x"))
            assert report.applied, report.counts_text()
            # The 台账 sets 已入住 for its rooms; those it does not name are handed over too,
            # so every room is billed to a household (and messages its 主要联系人).
            with write_connection() as connection:
                connection.execute(
                    update(HouseholdRoom).values(handover="occupied", handover_on=date(2020, 1, 1))
                )
            stored, _ = timed("store the meter readings", lambda: readings(args.rows))
            print(f"{'':<34} {stored} readings")
            db.session.remove()
            result, issued = timed("issue 2026-12", lambda: billing.issue_bills("2026-12", "bench"))
            print(f"{'':<34} {result.summary}")
            db.session.remove()
            print(
                f"{'':<34} {count(FeeBill)} bills, {count(FeeBillLine)} lines, "
                f"{count(Notification)} messages"
            )
            again, repeated = timed(
                "the same period again", lambda: billing.issue_bills("2026-12", "bench")
            )
            assert again.issued == 0 and again.already == result.issued
        failed = False
        for label, value in (("issue", issued), ("second issue", repeated)):
            if value > TARGET_SECONDS:
                print(f"MISSED: {label} took {value:.1f} s (target {TARGET_SECONDS:.0f} s)")
                failed = True
        print("ok" if not failed else "target missed")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
