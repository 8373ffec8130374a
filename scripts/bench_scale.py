"""Benchmark one deployment serving many communities on PostgreSQL (issue 28, "Scale, measured").

    .venv/bin/python scripts/bench_scale.py [--communities 50] [--households 2000]

Set-up (timed and printed; not a target): a throw-away PostgreSQL server
(``tests/support/postgres.py``) whose database the app reaches as its ordinary owner role, as
a deployment's does (``as_app_role``: no superuser, so row-level security holds every statement,
and the company figures go through the wall the audited way), a temporary ``INSTANCE_PATH`` and
a temporary
``COMMUNITIES_DIR`` of ``--communities`` community files made from data/communities/shanshui.yml
(ids c01…c50, hosts c01.localhost…, buildings of 2 units × 25 floors × 4 rooms: 10 buildings
for 2,000 households, the example's material entrances with the seed's routes, the example's
fee file).
Then, as a deployment does it: the migrations, ``households seed`` (every community's rooms),
each community's 房屋台账 imported with ``households import --apply --community cNN`` (the
xlsx of ``bench_households.ledger``: one owner per room, 收费面积, 已入住), the water and
electricity readings of 2026-11 and 2026-12 for every room and the public meters
(``bench_fees_issue.readings``), staff accounts with ``accounts create``, and a year of records
per community of 2,000 households inserted in bulk (Core inserts, spread over 2026): about 600
repairs and complaints in every state with their history and 回访 calls, 60 renovation
applications with their history and the patrols of the sites in works, 100 move-in bookings,
24 notices and 1,500 audit entries (scaled down with ``--households``). Then ``ANALYZE``.

Measured, each against its target:

1. the month's bills of every community: ``flask bills issue --month 2026-12`` run for each
   community in turn as its own (target: all of them under 10 minutes);
2. a community's staff lists (the 7th community, c07), as its 经理 logged in through the Flask
   test client at the community's host: the renovation register, the repairs-and-complaints
   register, the month's bills, the household registry, a day's move-ins, notices and the audit
   log; median of 5 requests after 2 unmeasured ones (target: under 300 ms each);
3. the company figures page: a GET rule of the app whose endpoint names ``company`` (figures
   preferred), as an account of the company role labelled 品质部; median of 3 after one
   unmeasured (target: under 1 s). Without such a rule it says "not present" and does not fail;
   with the rule but no such role it fails.

Exits 1 when a target is missed. ``--communities 5 --households 200`` is a quick check.
Figures of a full run are in the README's Benchmarks section.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

import yaml  # noqa: E402
from bench_fees_issue import readings  # noqa: E402
from bench_households import ledger  # noqa: E402
from flask import url_for  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from forms_app import create_app  # noqa: E402
from forms_app.accounts import roles as role_module  # noqa: E402
from forms_app.accounts.models import AuditLog, StaffUser  # noqa: E402
from forms_app.core.community import (  # noqa: E402
    DEFAULT_COMMUNITY_FILE,
    acting_in,
    load_community,
    served_communities,
)
from forms_app.core.community_scope import every_community  # noqa: E402
from forms_app.core.extensions import db  # noqa: E402
from forms_app.core.fee_standards import fee_standards  # noqa: E402
from forms_app.fees.models import FeeBill  # noqa: E402
from forms_app.households.models import HouseholdPerson, HouseholdRoom  # noqa: E402
from forms_app.move_in.models import BOOKED as MOVE_BOOKED  # noqa: E402
from forms_app.move_in.models import CANCELLED, COMPLETED, MoveInBooking  # noqa: E402
from forms_app.notices.models import Notice  # noqa: E402
from forms_app.renovation import states as renovation_states  # noqa: E402
from forms_app.renovation.models import RenovationApplication, RenovationEvent  # noqa: E402
from forms_app.renovation.patrols import RenovationPatrol  # noqa: E402
from forms_app.service_requests import states as service_states  # noqa: E402
from forms_app.service_requests.models import (  # noqa: E402
    ServiceEvent,
    ServiceFollowUp,
    ServiceRequest,
)
from tests.support.postgres import as_app_role, postgres_server, server_binaries  # noqa: E402
from tests.support.staff import login  # noqa: E402

TODAY = date(2026, 12, 1)
MONTH = "2026-12"
YEAR_START = date(2026, 1, 1)
# Buildings of 2 units × 25 floors × 4 rooms: 200 rooms each, 10 for 2,000 households.
UNITS, FLOORS, ROOMS_PER_FLOOR = 2, 25, 4
PER_BUILDING = UNITS * FLOORS * ROOMS_PER_FLOOR
FEES_FILE = (PROJECT_ROOT / "data" / "fees" / "shanshui.yml").resolve()
# A year's records of a community of 2,000 households (scaled with --households).
PER_2000 = {"service": 600, "renovation": 60, "move_in": 100, "notices": 24, "audit": 1500}
PASSWORD = "bench-password-1"
BILLS_TARGET_S = 600.0
LIST_TARGET_MS = 300.0
COMPANY_TARGET_MS = 1000.0
SETUP_AIM_S = 600.0
LIST_WARM, LIST_ROUNDS = 2, 5
COMPANY_WARM, COMPANY_ROUNDS = 1, 3
QUALITY_LABEL = "品质部"
# The staff lists measured: (label, endpoint, query arguments).
STAFF_LISTS = (
    ("renovation register", "renovation_staff.renovations", {}),
    ("service requests", "service_requests_staff.register", {}),
    ("bills of 2026-12", "fees_bill.index", {"period": MONTH}),
    # The registry's page is a search: 100 people of 2,000 match (业主00100…业主00199).
    ("households, search 业主001", "households_staff.index", {"q": "业主001"}),
    ("move-ins of the day", "move_in_staff.schedule", {"date": TODAY.isoformat()}),
    ("notices", "notices_staff.index", {}),
    ("audit log", "accounts.audit_log", {}),
)


# ---------------------------------------------------------------- communities and accounts


def community_file(folder: Path, number: int, buildings: int) -> Path:
    """Community ``c<number>``: the example's file with its own id, name, host and buildings."""
    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    key = f"c{number:02d}"
    raw["id"] = key
    raw["name"] = f"示例小区{number:02d}"
    raw["hosts"] = [f"{key}.localhost"]
    raw["fees_file"] = str(FEES_FILE)
    raw["building_defaults"] = {
        "units": UNITS,
        "floors": FLOORS,
        "rooms_per_floor": ROOMS_PER_FLOOR,
    }
    raw["buildings"] = [{"number": n} for n in range(1, buildings + 1)]
    # The example's three entrances and the seed's routes (buildings 1–11); the first entrance
    # takes every other building. (One entrance for all is refused at start-up: the training
    # quiz asks which of two entrances a building's materials use.)
    seed_routed = {b for e in raw["material_entrances"] for b in e["buildings"]}
    first = raw["material_entrances"][0]
    first["added_buildings"] = [n for n in range(1, buildings + 1) if n not in seed_routed]
    # The example's 物业服务中心 is in its 9号楼: here in building 1 (small runs have one).
    raw["cleaning"]["public_areas"]["office"] = ["1号楼"]
    path = folder / f"{key}.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    community = load_community(path)  # the file loads and passes the community checks
    assert community.key == key and len(community.buildings) == buildings
    fee_standards(community)  # and its fee file is found and read
    return path


def cli(app, *args: str, stdin: str | None = None) -> str:
    result = app.test_cli_runner().invoke(args=list(args), input=stdin)
    if result.exit_code != 0:
        raise SystemExit(f"flask {' '.join(args)} failed ({result.exit_code}):\n{result.output}")
    return result.output


def takes_community(app, *names: str) -> bool:
    """Whether the command ``flask <names…>`` has a ``--community`` option."""
    import click

    command = app.cli
    context = click.Context(command)
    for name in names:
        command = command.get_command(context, name)
        if command is None:
            return False
    return any("--community" in param.opts for param in command.params)


def create_account(app, username: str, role: str, community: str | None) -> int:
    """An account made as ``flask accounts create`` makes it (``--community`` where the command
    takes it: a role is then that community's); its id."""
    extra = ["--community", community] if community and takes_community(app, "create-user") else []
    cli(app, "create-user", username, "--role", role, *extra, stdin=PASSWORD + "\n")
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))


def company_role() -> str | None:
    """The code of the role labelled 品质部, from the roles module (None: no such role)."""
    for value in vars(role_module).values():
        if isinstance(value, dict):
            for code, label in value.items():
                if label == QUALITY_LABEL and isinstance(code, str):
                    return code
    return None


def company_rule(app):
    """The GET rule (no URL arguments) whose endpoint names ``company``, figures preferred."""
    rules = [
        r
        for r in app.url_map.iter_rules()
        if "company" in r.endpoint and "GET" in (r.methods or ()) and not r.arguments
    ]
    rules.sort(key=lambda r: ("figures" not in r.endpoint + r.rule, r.rule))
    return rules[0] if rules else None


# ---------------------------------------------------------------- a year of records


def keyed(table, rows: list[dict], key: str) -> list[dict]:
    """Rows given the community key where the table has the column (tables keyed later)."""
    if "community" in table.c:
        for row in rows:
            row["community"] = key
    return rows


def insert_returning_ids(connection, table, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row.id for row in connection.execute(statement, rows)]


def moment(rng: random.Random, first: date, last: date) -> datetime:
    """A naive-UTC time between local 08:00 and 20:00 of a day from ``first`` to ``last``."""
    day = first + timedelta(days=rng.randrange((last - first).days + 1))
    return datetime(day.year, day.month, day.day) + timedelta(minutes=rng.randrange(12 * 60))


class References:
    """<prefix><YYYYMMDD>-<sequence of the day>, the day's sequence counted across the
    deployment like the app does (a reference names one record anywhere)."""

    def __init__(self):
        self.last: dict[tuple[str, date], int] = defaultdict(int)

    def next(self, prefix: str, day: date) -> tuple[int, str]:
        self.last[prefix, day] += 1
        sequence = self.last[prefix, day]
        return sequence, f"{prefix}{day:%Y%m%d}-{sequence:03d}"


def service_records(rng, rooms, count, staff, references, now):
    """Repairs (80 %) and complaints over the year: older ones mostly 已办结 after a 回访,
    recent ones in every state; their history and 回访 calls."""
    requests, histories, calls = [], [], []
    S = service_states
    for _ in range(count):
        room_index = rng.randrange(len(rooms))
        building, unit, room = rooms[room_index]
        created = moment(rng, YEAR_START, TODAY - timedelta(days=1))
        kind = S.REPAIR if rng.random() < 0.8 else S.COMPLAINT
        if (now - created).days > 7:
            roll = rng.random()
            final = S.CLOSED if roll < 0.95 else S.AWAITING_VISIT if roll < 0.98 else S.REOPENED
        else:
            final = rng.choice(
                [S.NEW, S.DISPATCHED, S.AWAITING_VISIT, S.CLOSED]
                + ([S.ON_SITE] if kind == S.REPAIR else [])
            )
        if kind == S.REPAIR:
            path = [("dispatch", S.DISPATCHED), ("arrive", S.ON_SITE), ("finish", S.AWAITING_VISIT)]
        else:
            path = [("assign", S.DISPATCHED), ("answer", S.AWAITING_VISIT)]
        if final == S.REOPENED:
            path += [("follow_up", S.REOPENED)]
        elif final == S.CLOSED:
            path += [("follow_up", S.CLOSED)]
        else:
            path = path[: [to for _a, to in path].index(final) + 1] if final != S.NEW else []
        steps, at, state = [("file", None, S.NEW, created)], created, S.NEW
        times: dict[str, datetime] = {}
        for action, to_state in path:
            at = at + timedelta(minutes=rng.randrange(30, 30 * 60))
            steps.append((action, state, to_state, at))
            times.setdefault(to_state, at)
            state = to_state
        dispatched = times.get(S.DISPATCHED)
        answered = times.get(S.AWAITING_VISIT) if kind == S.COMPLAINT else None
        closed = times.get(S.CLOSED)
        worker = staff["engineering"] if kind == S.REPAIR else staff["service"]
        sequence, reference = references.next(S.PREFIXES[kind], created.date())
        urgency = rng.choice(["normal"] * 8 + ["urgent", "planned"]) if kind == S.REPAIR else ""
        hours = {"urgent": 2, "normal": 24, "planned": 72}.get(urgency, 48)
        requests.append(
            {
                "kind": kind,
                "reference": reference,
                "filed_on": created.date(),
                "sequence": sequence,
                "token": secrets.token_urlsafe(24),
                "submission_nonce": secrets.token_urlsafe(24),
                "source": rng.choice(list(S.SOURCE_LABELS)),
                "recorded_by": "业主",
                "building": building,
                "unit": unit,
                "room": room,
                "owner_name": f"业主{room_index:05d}",
                "owner_mobile": rooms.mobile(room_index),
                "location": S.HOME,
                "place": "",
                "available_time": "工作日晚上",
                "description": "卫生间水管漏水，请尽快上门。"
                if kind == S.REPAIR
                else "楼道堆放杂物无人清理。",
                "department": "保洁部" if kind == S.COMPLAINT else "",
                "wish": "",
                "state": state,
                "urgency": urgency,
                "assignee_id": worker[0] if dispatched else None,
                "assignee_name": worker[1] if dispatched else "",
                "dispatched_at": dispatched,
                "due_at": (dispatched or created) + timedelta(hours=hours)
                if dispatched or kind == S.COMPLAINT
                else None,
                "arrived_at": times.get(S.ON_SITE),
                "finished_at": times.get(S.AWAITING_VISIT) if kind == S.REPAIR else None,
                "result": "已更换阀门，试水正常。" if kind == S.REPAIR and closed else "",
                "materials": "",
                "receipt": "confirmed" if kind == S.REPAIR and closed else "",
                "receipt_name": "",
                "answer": "已安排保洁清理。" if answered else "",
                "answered_at": answered,
                "reopen_count": 1 if final == S.REOPENED else 0,
                "owner_view": "满意" if closed else "",
                "closed_at": closed,
                "close_reason": "",
                "created_at": created,
                "updated_at": at,
            }
        )
        histories.append(steps)
        calls.append(
            [(to == S.CLOSED, at) for action, _f, to, at in steps if action == "follow_up"]
        )
    return requests, histories, calls


def renovation_records(rng, rooms, count, staff, references, now):
    """Applications over the year, each for another room: old ones finished (押金已退还) or
    驳回, recent ones pending, approved or in works; their history."""
    R = renovation_states
    applications, histories = [], []
    chosen = rng.sample(range(len(rooms)), min(count, len(rooms)))
    full = [R.PENDING, R.APPROVED, R.IN_PROGRESS, R.AWAITING_ACCEPTANCE, R.ACCEPTED]
    full += [R.DEPOSIT_REFUNDED]
    for room_index in chosen:
        building, unit, room = rooms[room_index]
        created = moment(rng, YEAR_START, TODAY - timedelta(days=1))
        age = (now - created).days
        if rng.random() < 0.08:
            path = [R.PENDING, R.REJECTED]
        elif age > 150:
            path = full
        elif age > 60:
            path = full[: rng.choice([4, 5, 6])]
        else:
            path = full[: rng.choice([1, 2, 3, 3])]
        steps, at = [], created
        for position, state in enumerate(path):
            if position:
                at = at + timedelta(
                    days=rng.randrange(1, 20 if state != R.AWAITING_ACCEPTANCE else 60)
                )
                at = min(at, now - timedelta(hours=1))
            steps.append((path[position - 1] if position else None, state, at))
        start = created.date() + timedelta(days=rng.randrange(3, 10))
        sequence, reference = references.next("ZX", created.date())
        applications.append(
            {
                "reference": reference,
                "filed_on": created.date(),
                "sequence": sequence,
                "status_token": secrets.token_urlsafe(24),
                "submission_nonce": secrets.token_urlsafe(24),
                "building": building,
                "unit": unit,
                "room": room,
                "owner_name": f"业主{room_index:05d}",
                "owner_mobile": rooms.mobile(room_index),
                "contractor_company": "金陵家装有限公司",
                "site_lead_name": "陈工",
                "site_lead_mobile": "13912345678",
                "workers": rng.randrange(2, 12),
                "start_date": start,
                "end_date": start + timedelta(days=rng.randrange(30, 100)),
                "work_items": rng.sample(["plumbing_electric", "walls_floors", "ceiling"], 2),
                "description": "客厅铺地砖，卫生间重做防水。",
                "wants_tarpaulin": rng.random() < 0.5,
                "wants_extinguisher": rng.random() < 0.3,
                "acknowledged_at": created,
                "owner_verified": "registry",
                "previous_id": None,
                "state": path[-1],
                "rejection_reason": "图纸不全，请补充水电改造图。"
                if path[-1] == R.REJECTED
                else None,
                "created_at": created,
                "updated_at": at,
            }
        )
        histories.append(steps)
    return applications, histories


def move_in_records(rng, community, rooms, count, references, now):
    """Bookings over the year and the month ahead (a few on the day measured): past ones
    完成 or 取消, coming ones 已预约; one seat of the slot's capacity each."""
    slots = community.move_in["slots"]
    ahead = community.move_in["booking_days_ahead"]
    seats: dict[tuple[date, str], int] = defaultdict(int)
    taken: set[tuple[int, date]] = set()
    bookings = []
    for index in range(count):
        room_index = rng.randrange(len(rooms))
        if index < 4:
            day = TODAY
        else:
            day = YEAR_START + timedelta(days=rng.randrange((TODAY - YEAR_START).days + ahead))
        free = [s for s in slots if seats[day, s["id"]] < s["capacity"]]
        if not free or (room_index, day) in taken:
            continue
        slot = rng.choice(free)
        seats[day, slot["id"]] += 1
        taken.add((room_index, day))
        filed_on = min(day - timedelta(days=rng.randrange(1, 15)), TODAY)
        sequence, reference = references.next("BJ", filed_on)
        past = day < TODAY
        state = (COMPLETED if rng.random() < 0.9 else CANCELLED) if past else MOVE_BOOKED
        created = datetime(filed_on.year, filed_on.month, filed_on.day, 2)
        building, unit, room = rooms[room_index]
        bookings.append(
            {
                "reference": reference,
                "filed_on": filed_on,
                "sequence": sequence,
                "token": secrets.token_urlsafe(24),
                "submission_nonce": secrets.token_urlsafe(24),
                "building": building,
                "unit": unit,
                "room": room,
                "owner_name": f"业主{room_index:05d}",
                "owner_mobile": rooms.mobile(room_index),
                "move_date": day,
                "slot": slot["id"],
                "seat": seats[day, slot["id"]],
                "oversize": rng.random() < 0.2,
                "large_items": "双开门冰箱、衣柜",
                "wants_trolley": rng.random() < 0.5,
                "wants_carry_help": rng.random() < 0.2,
                "state": state,
                "created_at": created,
                "closed_at": datetime(day.year, day.month, day.day, 10) if past else None,
                "closed_by": "业主" if state == CANCELLED else ("bench" if past else None),
                "closed_by_id": None,
            }
        )
    return bookings


NOTICE_KINDS = (
    ("water", "停水通知", "二次供水水箱清洗", "请提前储水"),
    ("power", "停电通知", "供电线路检修", "请提前关闭电器"),
    ("lift", "电梯停运通知", "电梯年检", "请走楼梯或使用另一部电梯"),
)


def notice_records(rng, count, now):
    """Notices about twice a month over the year, each on the board for a day; the last two
    still on it."""
    notices = []
    for index in range(count):
        if index >= count - 2:
            starts = now + timedelta(days=index - count + 3)
        else:
            starts = moment(rng, YEAR_START, TODAY - timedelta(days=3))
        kind, title, reason, prepare = NOTICE_KINDS[index % len(NOTICE_KINDS)]
        notices.append(
            {
                "kind": kind,
                "title": title,
                "fields": {"reason": reason, "prepare": prepare},
                "body": f"因{reason}，全小区将于{starts:%m月%d日}停运。{prepare}。给您带来的不便，敬请谅解。",
                "scope_kind": "community",
                "scope": [],
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=8),
                "urgent": False,
                "audience": "public",
                "state": "published",
                "source": None,
                "created_at": starts - timedelta(days=2),
                "created_by": "bench",
                "publish_at": starts - timedelta(days=2),
                "published_by": "bench",
                "publish_reason": "",
                "messaged_version": 1,
                "version": 1,
                "corrected_at": None,
                "withdrawn_at": None,
                "withdrawn_by": "",
                "withdraw_reason": "",
            }
        )
    return notices


AUDIT_ACTIONS = (
    "login",
    "renovation.approve",
    "service.dispatch",
    "move_in.complete",
    "fees.receipt",
)


def audit_records(rng, count, staff):
    people = list(staff.values())
    return [
        {
            "at": moment(rng, YEAR_START, TODAY - timedelta(days=1)),
            "actor_id": actor[0],
            "actor_name": actor[1],
            "action": rng.choice(AUDIT_ACTIONS),
            "target": f"ZX2026{rng.randrange(1, 13):02d}01-001",
            "detail": "",
            "address": "10.0.0.8",
        }
        for actor in (rng.choice(people) for _ in range(count))
    ]


class Rooms(list):
    """The community's rooms with a household, in the 台账's order, and their owners' mobiles."""

    def __init__(self, rooms, first_mobile: int):
        super().__init__(rooms)
        self.first_mobile = first_mobile

    def mobile(self, index: int) -> str:
        return f"139{self.first_mobile + index:08d}"


def year_of_records(app, community, households: int, first_mobile: int, staff, references):
    """A year of one community's records, inserted in bulk in one transaction."""
    scale = households / 2000
    count = {name: max(1, round(n * scale)) for name, n in PER_2000.items()}
    rng = random.Random(community.key)
    rooms = Rooms(
        [
            (b.number, unit, room)
            for b in community.buildings.values()
            for unit in range(1, b.units + 1)
            for room in b.rooms()
        ][:households],
        first_mobile,
    )
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 2)  # 10:00 in China
    key = community.key
    requests, histories, calls = service_records(
        rng, rooms, count["service"], staff, references, now
    )
    applications, renovation_histories = renovation_records(
        rng, rooms, count["renovation"], staff, references, now
    )
    bookings = move_in_records(rng, community, rooms, count["move_in"], references, now)
    notices = notice_records(rng, count["notices"], now)
    audit = audit_records(rng, count["audit"], staff)
    with app.app_context(), db.engine.begin() as connection:
        table = ServiceRequest.__table__
        ids = insert_returning_ids(connection, table, keyed(table, requests, key))
        events, follow_ups = [], []
        for request_id, request, steps, request_calls in zip(
            ids, requests, histories, calls, strict=True
        ):
            for action, from_state, to_state, at in steps:
                actor = None if action == "file" else staff["service"]
                events.append(
                    {
                        "request_id": request_id,
                        "action": action,
                        "from_state": from_state,
                        "to_state": to_state,
                        "comment": "",
                        "actor_id": actor[0] if actor else None,
                        "actor_name": actor[1] if actor else "业主",
                        "created_at": at,
                    }
                )
            for position, (satisfied, at) in enumerate(request_calls):
                follow_ups.append(
                    {
                        "request_id": request_id,
                        "kind": request["kind"],
                        "first": position == 0,
                        "satisfied": satisfied,
                        "owner_view": "满意" if satisfied else "还是漏水",
                        "caller_id": staff["service"][0],
                        "caller_name": staff["service"][1],
                        "called_at": at,
                    }
                )
        for model, rows in ((ServiceEvent, events), (ServiceFollowUp, follow_ups)):
            if rows:
                connection.execute(insert(model.__table__), keyed(model.__table__, rows, key))

        table = RenovationApplication.__table__
        ids = insert_returning_ids(connection, table, keyed(table, applications, key))
        events, patrols = [], []
        for application_id, steps in zip(ids, renovation_histories, strict=True):
            for from_state, to_state, at in steps:
                actor = staff["manager"] if from_state else None
                events.append(
                    {
                        "application_id": application_id,
                        "from_state": from_state,
                        "to_state": to_state,
                        "comment": "",
                        "internal_note": "",
                        "actor_id": actor[0] if actor else None,
                        "actor_name": actor[1] if actor else "业主",
                        "created_at": at,
                        "submission_nonce": None,
                    }
                )
            if steps[-1][1] == renovation_states.IN_PROGRESS:
                began = steps[-1][2].date()
                for back in range(0, min(20, (TODAY - began).days)):
                    for kind, every, who in (
                        ("office", 1, staff["manager"]),
                        ("guard", 2, staff["security"]),
                    ):
                        if back % every == 0:
                            patrols.append(
                                {
                                    "application_id": application_id,
                                    "kind": kind,
                                    "patrol_date": TODAY - timedelta(days=back + 1),
                                    "inspector_id": who[0],
                                    "inspector_name": who[1],
                                    "findings": "正常",
                                    "violation": False,
                                    "violation_description": "",
                                    "created_at": now - timedelta(days=back + 1),
                                    "submission_nonce": None,
                                }
                            )
        for model, rows in ((RenovationEvent, events), (RenovationPatrol, patrols)):
            if rows:
                connection.execute(insert(model.__table__), keyed(model.__table__, rows, key))
        for model, rows in ((MoveInBooking, bookings), (Notice, notices), (AuditLog, audit)):
            if rows:
                connection.execute(insert(model.__table__), keyed(model.__table__, rows, key))
    return {
        "service requests": len(requests),
        "renovation applications": len(applications),
        "move-in bookings": len(bookings),
        "notices": len(notices),
        "audit entries": len(audit),
    }


# ---------------------------------------------------------------- measuring


def median_ms(client, url: str, base_url: str, warm: int, rounds: int) -> tuple[float, int]:
    for _ in range(warm):
        response = client.get(url, base_url=base_url)
        assert response.status_code == 200, (url, response.status_code, response.location)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url, base_url=base_url)
        body = response.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples), len(body)


def url(app, base_url: str, endpoint: str, **values) -> str:
    with app.test_request_context(base_url=base_url):
        return url_for(endpoint, **values)


class Clock:
    def __init__(self):
        self.parts: list[tuple[str, float]] = []

    def step(self, label: str, action):
        started = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - started
        self.parts.append((label, seconds))
        print(f"  {label:<52} {seconds:7.1f} s", flush=True)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--households", type=int, default=2000, help="per community")
    args = parser.parse_args()
    if not 1 <= args.communities <= 99 or args.households < 1:
        parser.error("--communities 1–99, --households at least 1")
    if server_binaries() is None:
        print("PostgreSQL is not installed (sudo apt-get install postgresql)")
        return 1
    buildings = math.ceil(args.households / PER_BUILDING)
    load = os.getloadavg()
    print(
        f"{args.communities} communities × {args.households:,} households "
        f"({buildings} buildings of {PER_BUILDING} rooms each) on PostgreSQL; "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    failed: list[str] = []
    clock = Clock()
    started = time.perf_counter()
    print("set-up:")
    with tempfile.TemporaryDirectory() as directory, postgres_server() as postgres_url:
        folder = Path(directory)
        (folder / "communities").mkdir()
        (folder / "instance").mkdir()
        files = clock.step(
            f"write and check {args.communities} community files",
            lambda: [
                community_file(folder / "communities", n, buildings)
                for n in range(1, args.communities + 1)
            ],
        )
        os.environ.pop("COMMUNITY_FILE", None)
        os.environ["COMMUNITIES_DIR"] = str(folder / "communities")
        os.environ["INSTANCE_PATH"] = str(folder / "instance")
        # The app's own role (it owns the database, is no superuser): row-level security holds.
        os.environ["DATABASE_URL"] = as_app_role(postgres_url)
        app = create_app(
            {"SITE_DIR": None, "PASSWORD_HASH_COST": "testing", "TODAY": TODAY.isoformat()}
        )
        communities = served_communities(app)
        assert [c.key for c in communities] == [p.stem for p in files], "communities not served"

        def migrate():
            # Alembic's INFO lines go to standard error: shown only when the migration fails.
            with app.app_context(), contextlib.redirect_stderr(io.StringIO()) as said:
                try:
                    upgrade()
                except Exception:
                    print(said.getvalue(), file=sys.stderr)
                    raise

        clock.step("migrate", migrate)
        clock.step(
            "households seed (every community's rooms)", lambda: cli(app, "households", "seed")
        )

        def ledgers():
            for number, community in enumerate(communities, start=1):
                path = folder / f"{community.key}.xlsx"
                ledger(
                    path,
                    args.households,
                    (buildings, UNITS, FLOORS, ROOMS_PER_FLOOR),
                    first_mobile=number * 100_000,
                )
                cli(app, "households", "import", str(path), "--apply", "--community", community.key)

        clock.step("房屋台账 written and imported, one per community", ledgers)

        def meter_readings():
            total = 0
            for community in communities:
                with app.app_context(), acting_in(community):
                    total += readings(args.households)
                    db.session.remove()
            return total

        count = clock.step("water and electricity readings (2 months)", meter_readings)
        print(f"  {'':<52} {count:,} readings")

        staff: dict[str, dict[str, tuple[int, str]]] = {}

        def accounts():
            for community in communities:
                mine = {}
                for role, suffix in (
                    ("manager", "jingli"),
                    ("service", "kefu"),
                    ("engineering", "gongcheng"),
                    ("security", "zhixu"),
                ):
                    username = f"{community.key}-{suffix}"
                    mine[role] = (create_account(app, username, role, community.key), username)
                staff[community.key] = mine

        clock.step("staff accounts (4 per community)", accounts)
        references = References()
        totals: dict[str, int] = defaultdict(int)

        def records():
            for number, community in enumerate(communities, start=1):
                with acting_in(community):
                    made = year_of_records(
                        app,
                        community,
                        args.households,
                        number * 100_000,
                        staff[community.key],
                        references,
                    )
                for name, value in made.items():
                    totals[name] += value

        clock.step("a year of records per community (bulk inserts)", records)
        print(f"  {'':<52} " + ", ".join(f"{v:,} {k}" for k, v in totals.items()))

        def analyze():
            with app.app_context():
                with db.engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
                with every_community("基准测试：统计全部小区的房屋和住户"):
                    rooms = db.session.scalar(select(func.count()).select_from(HouseholdRoom))
                    people = db.session.scalar(select(func.count()).select_from(HouseholdPerson))
                db.session.remove()
            return rooms, people

        rooms, people = clock.step("ANALYZE", analyze)
        setup = time.perf_counter() - started
        print(f"  {'':<52} {rooms:,} rooms, {people:,} people")
        print(
            f"  set-up in all: {setup:.0f} s (aim: under {SETUP_AIM_S / 60:.0f} minutes; not a target)"
        )

        # 1. The month's bills of every community, each as its own.
        print(f"bills issue --month {MONTH}, every community in turn:")
        per_community = []
        bills_started = time.perf_counter()
        for community in communities:
            one = time.perf_counter()
            with acting_in(community):
                output = cli(app, "bills", "issue", "--month", MONTH)
            per_community.append(time.perf_counter() - one)
            with app.app_context(), acting_in(community):
                issued = db.session.scalar(
                    select(func.count())
                    .select_from(FeeBill)
                    .where(FeeBill.community == community.key, FeeBill.period == MONTH)
                )
                db.session.remove()
            if issued < args.households:
                failed.append(f"{community.key}: {issued} bills for {args.households} households")
                print(output)
        total = time.perf_counter() - bills_started
        print(
            f"  {len(communities)} communities: total {total:.1f} s, per community "
            f"average {statistics.mean(per_community):.2f} s "
            f"(min {min(per_community):.2f}, max {max(per_community):.2f}); "
            f"target total < {BILLS_TARGET_S / 60:.0f} min"
        )
        fifth = max(1, len(per_community) // 5)
        print(
            f"  the first {fifth} communities average {statistics.mean(per_community[:fifth]):.2f} s, "
            f"the last {fifth} {statistics.mean(per_community[-fifth:]):.2f} s"
        )
        if total > BILLS_TARGET_S:
            failed.append(f"bills of every community took {total:.0f} s")

        # 2. One community's staff lists, as its 经理 at its host.
        measured = communities[min(6, len(communities) - 1)]
        base = f"http://{measured.hosts[0]}"
        client = app.test_client()
        manager = staff[measured.key]["manager"][1]
        response = login(client, manager, PASSWORD, base_url=base)
        assert response.status_code == 302, ("login", response.status_code)
        print(
            f"{measured.name} ({measured.key}) staff lists as its 经理, median of {LIST_ROUNDS} "
            f"after {LIST_WARM} (target < {LIST_TARGET_MS:.0f} ms each):"
        )
        for label, endpoint, values in STAFF_LISTS:
            path = url(app, base, endpoint, **values)
            value, size = median_ms(client, path, base, LIST_WARM, LIST_ROUNDS)
            mark = "" if value < LIST_TARGET_MS else "  MISSED"
            print(f"  {label:<26} {unquote(path):<46} {value:7.1f} ms  {size / 1024:6.0f} KB{mark}")
            if value >= LIST_TARGET_MS:
                failed.append(f"{label}: {value:.0f} ms")

        # 3. The company's figures, if the app has the page.
        rule = company_rule(app)
        if rule is None:
            print("company figures page: not present")
        else:
            role = company_role()
            if role is None:
                failed.append(f"{rule.rule} exists but no role is labelled {QUALITY_LABEL}")
            else:
                create_account(app, "bench-quality", role, None)
                client = app.test_client()
                first = f"http://{communities[0].hosts[0]}"
                response = login(client, "bench-quality", PASSWORD, base_url=first)
                assert response.status_code == 302, ("login", response.status_code)
                path = url(app, first, rule.endpoint)
                value, size = median_ms(client, path, first, COMPANY_WARM, COMPANY_ROUNDS)
                print(
                    f"company figures ({rule.endpoint}, {path}) as {QUALITY_LABEL}, median of "
                    f"{COMPANY_ROUNDS}: {value:.0f} ms, {size / 1024:.0f} KB "
                    f"(target < {COMPANY_TARGET_MS:.0f} ms)"
                )
                if value >= COMPANY_TARGET_MS:
                    failed.append(f"company figures: {value:.0f} ms")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    for problem in failed:
        print(f"MISSED: {problem}")
    print("ok" if not failed else "target missed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
