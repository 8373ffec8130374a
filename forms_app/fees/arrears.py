"""Arrears and collection figures, from the bills' lines and the live ledger entries only.

- Aging (账龄) per household: what is still due on each bill, by how long it has been overdue —
  当期 (not yet overdue), 1–3, 4–6 and over 6 months (a month started counts).
- The chase the seed sets (每周统计物管费收缴情况 … 电话催交、书面通知、上门收款 … 拒不交纳的及时向
  有关领导汇报): each step logged with its outcome; those who refuse listed for the 经理.
- 收缴率, stated on the page with its definition:
  · 当月账单收缴率 = collected on the month's bills ÷ (billed for the month − waived on them);
  · 本月实收率 = collected during the month (on any bill) ÷ (due at the month's start + billed
    for the month − waived during the month).
  Prepayments count when they are applied to a bill; waivers leave the denominator.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select

from ..core.clock import today
from ..core.community import current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.refusals import Refused
from ..households.models import HouseholdPerson, HouseholdRoom
from ..households.registry import active_clause
from .accounts import live_entries
from .models import (
    CHASE_STEPS,
    PAYMENT,
    PREPAYMENT_APPLIED,
    WAIVER,
    FeeBill,
    FeeBillLine,
    FeeChase,
    FeeEntry,
)

BUCKETS = {
    "current": "当期（未逾期）",
    "m1_3": "逾期1–3个月",
    "m4_6": "逾期4–6个月",
    "m7": "逾期6个月以上",
}
COLLECTED = (PAYMENT, PREPAYMENT_APPLIED)
MAX_OUTCOME = 500


class ChaseRefused(Refused):
    default_field = "outcome"


def months_overdue(due_on: date, day: date) -> int:
    """0 when not yet overdue (overdue the day after the due date); else the months started."""
    if day <= due_on:
        return 0
    months = (day.year - due_on.year) * 12 + day.month - due_on.month
    if day.day > due_on.day:
        months += 1
    return max(1, months)


def bucket_of(months: int) -> str:
    if months == 0:
        return "current"
    if months <= 3:
        return "m1_3"
    if months <= 6:
        return "m4_6"
    return "m7"


def _line_totals():
    return (
        select(FeeBillLine.bill_id, func.sum(FeeBillLine.amount_fen).label("amount"))
        .group_by(FeeBillLine.bill_id)
        .subquery()
    )


def _settled_totals(kinds=(PAYMENT, PREPAYMENT_APPLIED, WAIVER), *conditions):
    return (
        select(FeeEntry.bill_id, func.sum(FeeEntry.amount_fen).label("settled"))
        .where(FeeEntry.bill_id.is_not(None), FeeEntry.kind.in_(kinds), live_entries(), *conditions)
        .group_by(FeeEntry.bill_id)
        .subquery()
    )


def open_bills(building: int | None = None):
    """(bill id, room id, due date, period, still due 分) of every bill with something due."""
    lines, settled = _line_totals(), _settled_totals()
    due = func.coalesce(lines.c.amount, 0) - func.coalesce(settled.c.settled, 0)
    query = (
        select(FeeBill.id, FeeBill.room_id, FeeBill.due_on, FeeBill.period, due.label("due"))
        .join(lines, lines.c.bill_id == FeeBill.id)
        .outerjoin(settled, settled.c.bill_id == FeeBill.id)
        .where(FeeBill.community == current_community().key, due > 0)
    )
    if building is not None:
        query = query.join(HouseholdRoom, HouseholdRoom.id == FeeBill.room_id).where(
            HouseholdRoom.building == building
        )
    return db.session.execute(query).all()


@dataclass
class Arrears:
    room: HouseholdRoom
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    bills: int = 0
    oldest_period: str = ""
    contact_name: str = ""
    contact_mobile: str | None = None
    last_chase: FeeChase | None = None

    @property
    def total(self) -> int:
        return sum(self.buckets.values())

    @property
    def overdue(self) -> int:
        return self.total - self.buckets["current"]


def aging(day: date | None = None, building: int | None = None, overdue_only=False):
    """Every household with something due, worst first, with its contact and last chase."""
    day = day or today()
    found: dict[int, Arrears] = {}
    rows = open_bills(building)
    room_ids = {row.room_id for row in rows}
    rooms = (
        {
            room.id: room
            for room in db.session.scalars(
                select(HouseholdRoom).where(HouseholdRoom.id.in_(room_ids))
            )
        }
        if room_ids
        else {}
    )
    for row in rows:
        entry = found.setdefault(row.room_id, Arrears(rooms[row.room_id]))
        entry.buckets[bucket_of(months_overdue(row.due_on, day))] += int(row.due)
        entry.bills += 1
        if not entry.oldest_period or row.period < entry.oldest_period:
            entry.oldest_period = row.period
    if room_ids:
        for person in db.session.scalars(
            select(HouseholdPerson).where(
                HouseholdPerson.room_id.in_(room_ids),
                HouseholdPerson.primary_contact.is_(True),
                active_clause(day),
            )
        ):
            found[person.room_id].contact_name = person.name
            found[person.room_id].contact_mobile = person.mobile
        latest = (
            select(FeeChase.room_id, func.max(FeeChase.id).label("id"))
            .where(FeeChase.room_id.in_(room_ids))
            .group_by(FeeChase.room_id)
            .subquery()
        )
        for chase in db.session.scalars(select(FeeChase).join(latest, latest.c.id == FeeChase.id)):
            found[chase.room_id].last_chase = chase
    result = [a for a in found.values() if a.overdue > 0 or not overdue_only]
    result.sort(key=lambda a: (-a.buckets["m7"], -a.buckets["m4_6"], -a.overdue, a.room.code))
    return result


def room_arrears(room_id: int, day: date | None = None) -> Arrears | None:
    room = db.session.get(HouseholdRoom, room_id)
    if room is None or room.community != current_community().key:
        return None
    for entry in aging(day, room.building):
        if entry.room.id == room_id:
            return entry
    return Arrears(room)


def room_open_bills(room_id: int) -> list:
    """The room's bills with something due (for the letter), oldest first."""
    return sorted((r for r in open_bills() if r.room_id == room_id), key=lambda r: r.period)


def record_chase(room_id: int, step: str, outcome: str, actor: str) -> FeeChase:
    """Log one step of the chase (电话催交, 书面通知, 上门收款, 拒不交纳) with its outcome."""
    if step not in CHASE_STEPS:
        raise ChaseRefused("请选择催交方式。", "step")
    outcome = (outcome or "").strip()
    if step in ("phone", "visit", "refused") and not outcome:
        raise ChaseRefused("请填写结果（如：答应本周内交纳、无人接听、拒绝交纳及理由）。")
    if len(outcome) > MAX_OUTCOME:
        raise ChaseRefused(f"结果不超过 {MAX_OUTCOME} 字。")
    arrears = room_arrears(room_id)
    if arrears is None:
        raise ChaseRefused("没有找到这户房屋。", "form")
    if arrears.total <= 0:
        raise ChaseRefused("这户没有欠费，无需催交。", "form")
    with write_transaction() as session:
        chase = FeeChase(
            community=arrears.room.community,
            room_id=room_id,
            step=step,
            arrears_fen=arrears.total,
            outcome=outcome,
            actor=actor,
        )
        session.add(chase)
    return chase


def chases_of(room_id: int) -> list[FeeChase]:
    return list(
        db.session.scalars(
            select(FeeChase).where(FeeChase.room_id == room_id).order_by(FeeChase.id.desc())
        )
    )


def refusing(day: date | None = None) -> list[Arrears]:
    """Households whose last chase step was 拒不交纳 and who still owe: the 经理's list."""
    return [a for a in aging(day) if a.last_chase is not None and a.last_chase.step == "refused"]


# ----- 收缴率 ---------------------------------------------------------------------------------


def month_bounds(period: str) -> tuple[date, date]:
    year, month = int(period[:4]), int(period[5:7])
    first = date(year, month, 1)
    return first, first.replace(day=calendar.monthrange(year, month)[1])


@dataclass
class Rate:
    label: str
    billed: int = 0  # 分
    waived: int = 0
    collected: int = 0

    @property
    def base(self) -> int:
        return self.billed - self.waived

    @property
    def rate(self) -> Decimal | None:
        if self.base <= 0:
            return None
        return Decimal(self.collected) / Decimal(self.base)


def _by_building(rows) -> dict[int | None, int]:
    found: dict[int | None, int] = defaultdict(int)
    for building, total in rows:
        found[building] += int(total or 0)
    return found


def month_rates(period: str) -> dict[str, dict]:
    """Both 收缴率 of one month (YYYY-MM), for the community and each building."""
    key = current_community().key
    first, last = month_bounds(period)
    of_room = select(HouseholdRoom.building).where(HouseholdRoom.id == FeeBill.room_id)
    building = of_room.scalar_subquery()

    def billed_where(*conditions):
        return db.session.execute(
            select(building, func.sum(FeeBillLine.amount_fen))
            .join(FeeBill, FeeBill.id == FeeBillLine.bill_id)
            .where(FeeBill.community == key, *conditions)
            .group_by(building)
        ).all()

    def entries_where(kinds, *conditions):
        return db.session.execute(
            select(building, func.sum(FeeEntry.amount_fen))
            .join(FeeBill, FeeBill.id == FeeEntry.bill_id)
            .where(FeeBill.community == key, FeeEntry.kind.in_(kinds), live_entries(), *conditions)
            .group_by(building)
        ).all()

    # 当月账单收缴率: the month's bills.
    month_billed = _by_building(billed_where(FeeBill.period == period))
    month_waived = _by_building(entries_where((WAIVER,), FeeBill.period == period))
    month_collected = _by_building(entries_where(COLLECTED, FeeBill.period == period))
    # 本月实收率: during the month, on any bill issued up to its end.
    before = _by_building(billed_where(FeeBill.period < period))
    settled_before = _by_building(
        entries_where((PAYMENT, PREPAYMENT_APPLIED, WAIVER), FeeEntry.day < first)
    )
    waived_in = _by_building(
        entries_where((WAIVER,), and_(FeeEntry.day >= first, FeeEntry.day <= last))
    )
    collected_in = _by_building(
        entries_where(COLLECTED, and_(FeeEntry.day >= first, FeeEntry.day <= last))
    )
    buildings = sorted({b for b in (*month_billed, *before, *collected_in) if b is not None})

    def rates_for(pick) -> tuple[Rate, Rate]:
        bill_rate = Rate(
            "当月账单收缴率", pick(month_billed), pick(month_waived), pick(month_collected)
        )
        opening = pick(before) - pick(settled_before)
        cash_rate = Rate(
            "本月实收率",
            max(0, opening) + pick(month_billed),
            pick(waived_in),
            pick(collected_in),
        )
        return bill_rate, cash_rate

    result = {"community": rates_for(lambda d: sum(d.values()))}
    for number in buildings:
        result[number] = rates_for(lambda d, n=number: d.get(n, 0))
    return result


def week_figures(monday: date) -> dict:
    """The week's 物管费收缴情况 (seed: 每周统计一次物管费收缴情况) for the 客服主管: collected in the
    week by method, households paying, the current month's bill rate so far, households in
    arrears by age."""
    key = current_community().key
    sunday = monday + timedelta(days=6)
    by_method = dict(
        db.session.execute(
            select(FeeEntry.method, func.sum(FeeEntry.amount_fen))
            .where(
                FeeEntry.community == key,
                FeeEntry.kind == PAYMENT,
                live_entries(),
                FeeEntry.day >= monday,
                FeeEntry.day <= sunday,
            )
            .group_by(FeeEntry.method)
        ).all()
    )
    payers = db.session.scalar(
        select(func.count(func.distinct(FeeEntry.room_id))).where(
            FeeEntry.community == key,
            FeeEntry.kind.in_(COLLECTED),
            live_entries(),
            FeeEntry.day >= monday,
            FeeEntry.day <= sunday,
        )
    )
    households = aging(sunday)
    counts = dict.fromkeys(BUCKETS, 0)
    for entry in households:
        for bucket, amount in entry.buckets.items():
            if amount:
                counts[bucket] += 1
    period = f"{sunday.year:04d}-{sunday.month:02d}"
    return {
        "monday": monday,
        "sunday": sunday,
        "by_method": {k: int(v or 0) for k, v in by_method.items()},
        "collected": sum(int(v or 0) for v in by_method.values()),
        "payers": int(payers or 0),
        "households": counts,
        "arrears_total": sum(e.total for e in households),
        "period": period,
        "rate": month_rates(period)["community"][0],
    }
