"""Benchmark the import of a company's 房屋台账: 20,000 households from one xlsx.

    .venv/bin/python scripts/bench_households.py [--rows 20000]

The example community has only 948 rooms, so the benchmark writes its own community file (the
example's, with 40 buildings of 2 units × 26 floors × 10 rooms: 20,800 rooms), points
``COMMUNITY_FILE`` at it with a temporary ``INSTANCE_PATH``, and migrates a fresh SQLite
database (the registry's migration seeds the rooms from that file). It then writes an xlsx of
``--rows`` rows (one owner per room: building written 2 / 2号楼 / 2栋, a float or text area, an
入住日期, 交房状态 已入住 on that day) and times, in this process, what ``flask households import`` does:

- reading and checking the cells alone (done before the write lock is taken);
- the dry run (read and check every cell, match every row to the registry; stores nothing);
- the import (``--apply``: read, check, and store in one transaction);
- the same file imported again (nothing to add);
- the export of the registry and the dry run of that export.

Target: the import of 20,000 households (checked and stored) in under 30 s on the shared
2-core machine, and so the dry run. Exits 1 when a target is missed. Measured 2026-12-07 on
the shared 2-core machine (others' tests running): reading and checking the cells 5.5 s, dry
run 5.6–8.2 s, import 7.7–8.5 s (about 3 s of it holding the write lock), the same file again
6.9–7.6 s, export 3.4–4.5 s. Most of the time is openpyxl parsing the sheet; a file written by
openpyxl's write-only mode (this one, and the export) has no ``<dimension>``, so openpyxl reads
the sheet twice: files saved by Excel carry one and read faster.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import yaml  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from forms_app import create_app  # noqa: E402
from forms_app.core.community import DEFAULT_COMMUNITY_FILE  # noqa: E402
from forms_app.core.extensions import db  # noqa: E402
from forms_app.households import importing  # noqa: E402
from forms_app.households.models import HouseholdChange, HouseholdPerson, HouseholdRoom  # noqa: E402

BUILDINGS, UNITS, FLOORS, ROOMS_PER_FLOOR = 40, 2, 26, 10
TARGET_SECONDS = 30.0


def community_file(path: Path) -> Path:
    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    raw["id"] = "bench"
    # The example's fee standards (its file is named after the example's id).
    raw["fees_file"] = str(PROJECT_ROOT / "data" / "fees" / "shanshui.yml")
    raw["building_defaults"] = {
        "units": UNITS,
        "floors": FLOORS,
        "rooms_per_floor": ROOMS_PER_FLOOR,
    }
    raw["buildings"] = [{"number": n} for n in range(1, BUILDINGS + 1)]
    # The example routes buildings 1–12; the new ones use its first entrance.
    entrance = raw["material_entrances"][0]
    entrance["added_buildings"] = [*entrance.get("added_buildings", []), *range(13, BUILDINGS + 1)]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def ledger(
    path: Path,
    rows: int,
    shape: tuple[int, int, int, int] = (BUILDINGS, UNITS, FLOORS, ROOMS_PER_FLOOR),
    first_mobile: int = 0,
) -> Path:
    """An xlsx of ``rows`` owners, one per room, in the spellings companies' files have, for a
    community of ``shape`` (buildings, units, floors, rooms per floor); the owners' mobiles
    count from 139 followed by ``first_mobile`` (other communities' ledgers start elsewhere)."""
    from openpyxl import Workbook

    buildings, units, floors, rooms_per_floor = shape

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("房屋台账")
    sheet.append(
        [
            "楼栋",
            "单元",
            "房号",
            "收费面积",
            "业主姓名",
            "手机号",
            "身份",
            "入住日期",
            "交房状态",
            "交房日期",
        ]
    )
    written = 0
    for building in range(1, buildings + 1):
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for index in range(1, rooms_per_floor + 1):
                    if written == rows:
                        workbook.save(path)
                        return path
                    spelled = (building, f"{building}号楼", f"{building}栋")[written % 3]
                    area = round(60 + (written % 9000) / 100, 2)  # a float cell, two decimals
                    since = date(2015 + written % 10, 1 + written % 12, 1 + written % 28)
                    sheet.append(
                        [
                            spelled,
                            unit if written % 2 else f"{unit}单元",
                            floor * 100 + index,
                            area if written % 4 else f"{area:.2f}",
                            f"业主{written:05d}",
                            f"139{first_mobile + written:08d}",
                            "业主",
                            since,
                            "已入住",
                            since,
                        ]
                    )
                    written += 1
    workbook.save(path)
    return path


def counts() -> tuple[int, int, int]:
    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    return count(HouseholdRoom), count(HouseholdPerson), count(HouseholdChange)


def bench_app(folder: Path, **config):
    """The app on a fresh SQLite database in ``folder`` on this benchmark's 20,800-room
    community file, migrated (the migration seeds the rooms); the other registry and fee
    benchmarks start from it too."""
    os.environ["INSTANCE_PATH"] = str(folder / "instance")
    os.environ["COMMUNITY_FILE"] = str(community_file(folder / "community.yml"))
    app = create_app({"SITE_DIR": None, "PASSWORD_HASH_COST": "testing", **config})
    with app.app_context():
        upgrade()
    return app


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"{label:<34} {seconds:6.2f} s")
    return result, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        app = bench_app(folder)
        with app.app_context():
            rooms, _people, _changes = counts()
        print(f"registry: {rooms} rooms (community file {BUILDINGS} buildings)")
        if rooms < args.rows:
            print(f"only {rooms} rooms for {args.rows} rows")
            return 1
        path, seconds = timed(
            f"write the xlsx ({args.rows} rows)", lambda: ledger(folder / "台账.xlsx", args.rows)
        )
        print(f"{'':<34} {path.stat().st_size / 1024 / 1024:6.2f} MB")
        failed = False
        with app.app_context():
            timed(
                "read and check the cells only",
                lambda: importing.read_file(path, importing.Report("x")),
            )
            report, dry = timed("dry run", lambda: importing.dry_run(path, path.name))
            assert report.clean, [str(p) for p in report.problems[:5]]
            assert report.people_added == args.rows, report.counts_text()
            report, stored = timed(
                "import (checked and stored)", lambda: importing.import_file(path, path.name)
            )
            assert report.applied and report.people_added == args.rows, report.counts_text()
            assert report.handovers_changed == args.rows, report.counts_text()
            print(f"{'':<34} {report.counts_text()}")
            db.session.remove()
            rooms, people, changes = counts()
            print(f"{'':<34} now {rooms} rooms, {people} people, {changes} changes")
            report, again = timed(
                "the same file again", lambda: importing.import_file(path, path.name)
            )
            assert report.applied and report.people_added == 0 and report.areas_changed == 0
            assert report.handovers_changed == 0, report.counts_text()
            db.session.remove()
            assert counts() == (rooms, people, changes)
            exported = folder / "export.xlsx"
            _rows, _ = timed("export", lambda: importing.write_export(exported))
            report, _ = timed(
                "dry run of the export", lambda: importing.dry_run(exported, exported.name)
            )
            assert report.clean and report.people_added == 0 and report.areas_changed == 0
            assert report.handovers_changed == 0, report.counts_text()
        for label, value in (("dry run", dry), ("import", stored), ("second import", again)):
            if value > TARGET_SECONDS:
                print(f"MISSED: {label} took {value:.1f} s (target {TARGET_SECONDS:.0f} s)")
                failed = True
        print("ok" if not failed else "target missed")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
