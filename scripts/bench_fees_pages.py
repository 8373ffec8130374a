"""Benchmark the fee pages at 20,000 households × 24 months of bills.

    .venv/bin/python scripts/bench_fees_pages.py [--households 20000] [--months 24] [--repeat 10]

Builds the 20,800-room community of ``bench_households.py``, registers one owner per room,
and writes ``--months`` monthly bills per household (one 物业管理费 line each) with their
payments — most paid on time, one household in ten a month or more behind, one in fifty
behind for over six months — straight into the tables (bulk inserts: this measures the pages,
not the issuing). Then times each page with Flask's test client, after a warm-up, printing
median and max:

- 欠费账龄 (the arrears list, worst first) as a 客服;
- 收缴率 of the last month by building, as the 经理;
- the weekly 物管费收缴情况, as the 客服主管;
- the ledger pages when they exist (``/forms/staff/fees/ledger/``).

Target: each under 300 ms (median); exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from bench_households import bench_app  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from forms_app.core.clock import utcnow  # noqa: E402
from forms_app.core.database import write_connection  # noqa: E402
from forms_app.core.extensions import db  # noqa: E402
from forms_app.fees.models import FeeBill, FeeBillLine, FeeEntry  # noqa: E402
from forms_app.households.models import HouseholdPerson, HouseholdRoom  # noqa: E402
from tests.support.staff import PASSWORD, create_staff, login  # noqa: E402

TARGET_MS = 300.0
TODAY = date(2026, 12, 7)


def periods(months: int) -> list[str]:
    last = TODAY.year * 12 + TODAY.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(last - months + 1, last + 1)]


def seed(app, households: int, months: int) -> None:
    now = utcnow()
    with app.app_context():
        rooms = (
            db.session.execute(
                select(HouseholdRoom.id).order_by(HouseholdRoom.id).limit(households)
            )
            .scalars()
            .all()
        )
    months_list = periods(months)
    with app.app_context(), write_connection() as connection:
        connection.execute(
            insert(HouseholdPerson),
            [
                {
                    "community": "bench",
                    "room_id": room,
                    "name": f"业主{i:05d}",
                    "mobile": f"139{i:08d}",
                    "role": "owner",
                    "since": date(2015, 1, 1),
                    "primary_contact": True,
                    "emergency_contact": False,
                    "created_at": now,
                    "created_by": "bench",
                }
                for i, room in enumerate(rooms)
            ],
        )
        bill_id = 0
        for m, period in enumerate(months_list):
            due = date(int(period[:4]), int(period[5:]), 15)
            bills, lines, entries = [], [], []
            for i, room in enumerate(rooms):
                bill_id += 1
                behind = (i % 50 == 0 and m >= months - 8) or (i % 10 == 1 and m >= months - 2)
                paid = not behind and period != months_list[-1]
                bills.append(
                    {
                        "id": bill_id,
                        "community": "bench",
                        "room_id": room,
                        "period": period,
                        "months": 1,
                        "payer_kind": "household",
                        "payer_name": "",
                        "due_on": due,
                        "issued_at": now,
                        "issued_by": "bench",
                        # The kept totals, as accounts.refresh_bills keeps them.
                        "amount_fen": 16200,
                        "settled_fen": 16200 if paid else 0,
                        "settled_on": due if paid else None,
                    }
                )
                lines.append(
                    {
                        "community": "bench",
                        "bill_id": bill_id,
                        "kind": "charge",
                        "item": "management",
                        "label": "物业管理费",
                        "quantity": "90.00",
                        "unit": "㎡·月",
                        "unit_price": "1.80",
                        "amount_fen": 16200,
                        "reason": "",
                        "created_at": now,
                        "created_by": "bench",
                    }
                )
                if paid:
                    entries.append(
                        {
                            "community": "bench",
                            "room_id": room,
                            "bill_id": bill_id,
                            "kind": "payment",
                            "amount_fen": 16200,
                            "method": ("cash", "transfer", "scan")[i % 3],
                            "payer": f"业主{i:05d}",
                            "reason": "",
                            "day": due,
                            "actor": "bench",
                            "created_at": now,
                        }
                    )
            connection.execute(insert(FeeBill), bills)
            connection.execute(insert(FeeBillLine), lines)
            if entries:
                connection.execute(insert(FeeEntry), entries)


def measure(client, url: str, repeat: int) -> list[float]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = bench_app(folder, TODAY=TODAY.isoformat())
        start = time.perf_counter()
        seed(app, args.households, args.months)
        print(
            f"seeded {args.households} households × {args.months} months of bills in "
            f"{time.perf_counter() - start:.1f} s"
        )
        clients = {}
        for role in ("service", "service_lead", "manager"):
            create_staff(app, role, role, PASSWORD)
            clients[role] = app.test_client()
            assert login(clients[role], role, PASSWORD).status_code == 302
        last = periods(1)[0]
        pages = [
            ("欠费账龄 (arrears)", "service", "/forms/staff/fees/reports/arrears"),
            ("收缴率 of the month", "manager", f"/forms/staff/fees/reports/rates?month={last}"),
            ("每周收缴情况", "service_lead", "/forms/staff/fees/reports/weekly"),
        ]
        if any(r.rule.startswith("/forms/staff/fees/ledger/") for r in app.url_map.iter_rules()):
            pages.append(("收费台帐 (ledger)", "manager", "/forms/staff/fees/ledger/"))
        ok = True
        for label, role, url in pages:
            times = measure(clients[role], url, args.repeat)
            median = statistics.median(times)
            passed = median < TARGET_MS
            ok = ok and passed
            print(
                f"{label:<24} median {median:7.1f} ms  max {max(times):7.1f} ms  "
                f"{'ok' if passed else 'MISSED'} (< {TARGET_MS:.0f} ms)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
