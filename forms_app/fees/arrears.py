"""Arrears and collection figures, from the bills' lines and the live ledger entries only
(through the totals each bill keeps in step with them, ``accounts.refresh_bills``).

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select

from ..core.clock import today
from ..core.community import current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.refusals import Refused
from ..households.models import HouseholdPerson, HouseholdRoom, room_label
from ..households.registry import active_clause, room_by_id
from .accounts import live_entries
from .models import (
    CHASE_STEPS,
    PAYMENT,
    PREPAYMENT_APPLIED,
    WAIVER,
    FeeBill,
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


def _open_bills_query(
    building: int | None = None, overdue_before: date | None = None, room_id: int | None = None
):
    """The bills with something due, from their kept totals (``accounts.refresh_bills``):
    (bill id, room id, due date, period, still due 分); ``overdue_before``: only those due
    before that day; ``room_id``: one room's only."""
    due = FeeBill.amount_fen - FeeBill.settled_fen
    query = select(
        FeeBill.id, FeeBill.room_id, FeeBill.due_on, FeeBill.period, due.label("due")
    ).where(
        FeeBill.community == current_community().key,
        FeeBill.settled_on.is_(None),
        FeeBill.amount_fen > FeeBill.settled_fen,
    )
    if overdue_before is not None:
        query = query.where(FeeBill.due_on < overdue_before)
    if room_id is not None:
        query = query.where(FeeBill.room_id == room_id)
    if building is not None:
        query = query.join(HouseholdRoom, HouseholdRoom.id == FeeBill.room_id).where(
            HouseholdRoom.building == building
        )
    return query


@dataclass(frozen=True)
class RoomRef:
    """The few facts of a room a list of thousands shows (no ORM object per row)."""

    id: int
    code: str
    kind: str
    building: int | None
    unit: int | None
    number: str

    @property
    def label(self) -> str:
        return room_label(self.kind, self.building, self.unit, self.number)


@dataclass
class Arrears:
    room: RoomRef
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


def aging(
    day: date | None = None,
    building: int | None = None,
    overdue_only=False,
    room_id: int | None = None,
):
    """Every household with something due (or only overdue; or one room's), worst first,
    with its contact and its last chase. Three queries, however many households."""
    day = day or today()
    bills = _open_bills_query(building, day if overdue_only else None, room_id).subquery()
    rows = db.session.execute(
        select(
            bills,
            HouseholdRoom.code,
            HouseholdRoom.kind,
            HouseholdRoom.building,
            HouseholdRoom.unit,
            HouseholdRoom.number,
        ).join(HouseholdRoom, HouseholdRoom.id == bills.c.room_id)
    ).all()
    found: dict[int, Arrears] = {}
    for row in rows:
        entry = found.get(row.room_id)
        if entry is None:
            room = RoomRef(row.room_id, row.code, row.kind, row.building, row.unit, row.number)
            entry = found[row.room_id] = Arrears(room)
        entry.buckets[bucket_of(months_overdue(row.due_on, day))] += int(row.due)
        entry.bills += 1
        if not entry.oldest_period or row.period < entry.oldest_period:
            entry.oldest_period = row.period
    if found:
        rooms = select(bills.c.room_id)
        for room_id, name, mobile in db.session.execute(
            select(HouseholdPerson.room_id, HouseholdPerson.name, HouseholdPerson.mobile).where(
                HouseholdPerson.room_id.in_(rooms),
                HouseholdPerson.primary_contact.is_(True),
                active_clause(day),
            )
        ):
            found[room_id].contact_name = name
            found[room_id].contact_mobile = mobile
        latest = (
            select(func.max(FeeChase.id))
            .where(FeeChase.room_id.in_(rooms))
            .group_by(FeeChase.room_id)
        )
        for chase in db.session.scalars(select(FeeChase).where(FeeChase.id.in_(latest))):
            found[chase.room_id].last_chase = chase
    result = list(found.values())
    result.sort(key=lambda a: (-a.buckets["m7"], -a.buckets["m4_6"], -a.overdue, a.room.code))
    return result


def room_arrears(room_id: int, day: date | None = None) -> Arrears | None:
    """One room's arrears (empty when it owes nothing); None for no room of the community."""
    room = room_by_id(room_id)
    if room is None:
        return None
    found = aging(day, room_id=room_id)
    if found:
        return found[0]
    return Arrears(RoomRef(room.id, room.code, room.kind, room.building, room.unit, room.number))


def room_open_bills(room_id: int) -> list:
    """The room's bills with something due (for the letter), oldest first."""
    query = _open_bills_query(room_id=room_id).order_by(FeeBill.period)
    return db.session.execute(query).all()


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
            community=current_community().key,
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


def _by_building(rows) -> dict[str, dict[int | None, int]]:
    """(community, building, total) rows - or (community, total): building None - as
    community → building → total."""
    found: dict[str, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
    for community, *building, total in rows:
        found[community][building[0] if building else None] += int(total or 0)
    return found


def month_rates(period: str, by_building: bool = True) -> dict[str, dict]:
    """Both 收缴率 of one month (YYYY-MM), for the community and (``by_building``) each
    building."""
    key = current_community().key
    return month_rates_of(period, [key], by_building)[key]


def month_rates_of(
    period: str, communities: Sequence[str], by_building: bool = True
) -> dict[str, dict[str, dict]]:
    """Both 收缴率 of one month (YYYY-MM) for each of ``communities`` (keys): {key: {"community":
    (bill rate, cash rate), building: (bill rate, cash rate), …}}, every key given (one
    without bills has its zero rates). Each sum is one query grouped by community and
    building, however many communities: a community's pages ask for their own
    (``month_rates``), the company's figures for every community at once (inside
    ``every_community``), without ``by_building`` (then only "community": the sums are
    grouped by community alone, with no join to the rooms). The fees tables are not
    ``CommunityOwned``: every query names the communities itself."""
    keys = list(communities)
    first, last = month_bounds(period)

    # By building: each sum joined to its bill's room and grouped by its building too.
    place = (HouseholdRoom.building,) if by_building else ()

    def summed(community, total, *conditions, bills_joined=True):
        """sum(``total``) of the rows ``conditions`` pick, by ``community`` (and building):
        from the bills, or from the entries (joined to their bills when ``bills_joined``)."""
        statement = select(community, *place, func.sum(total))
        if total.class_ is FeeEntry and (bills_joined or by_building):
            statement = statement.select_from(FeeEntry).join(
                FeeBill, FeeBill.id == FeeEntry.bill_id
            )
        if by_building:
            statement = statement.join(HouseholdRoom, HouseholdRoom.id == FeeBill.room_id)
        return _by_building(
            db.session.execute(statement.where(*conditions).group_by(community, *place)).all()
        )

    def bills_sum(*conditions):
        return summed(
            FeeBill.community, FeeBill.amount_fen, FeeBill.community.in_(keys), *conditions
        )

    def entries_sum(kinds, bills_where=(), *conditions):
        """Live entries of ``kinds`` on the communities' bills (those matching
        ``bills_where``), by community (and building). The bills are picked first, by their
        own indexes, then their entries."""
        bills = select(FeeBill.id).where(FeeBill.community.in_(keys), *bills_where)
        return summed(
            FeeBill.community,
            FeeEntry.amount_fen,
            FeeEntry.bill_id.in_(bills),
            FeeEntry.kind.in_(kinds),
            live_entries(),
            *conditions,
        )

    def entries_on_days(kinds, *conditions):
        """Live entries of ``kinds`` on bills, made on the days ``conditions`` pick."""
        return summed(
            FeeEntry.community,
            FeeEntry.amount_fen,
            FeeEntry.community.in_(keys),
            FeeEntry.bill_id.is_not(None),
            FeeEntry.kind.in_(kinds),
            live_entries(),
            *conditions,
            bills_joined=False,
        )

    in_month = and_(FeeEntry.day >= first, FeeEntry.day <= last)
    # 当月账单收缴率: the month's bills.
    month_billed = bills_sum(FeeBill.period == period)
    month_waived = entries_sum((WAIVER,), (FeeBill.period == period,))
    month_collected = entries_sum(COLLECTED, (FeeBill.period == period,))
    # 本月实收率: during the month, on any bill. What was due at the month's start: the bills
    # of earlier periods still open then (settled on or after the first, or not yet), less
    # what settled them before the first.
    opening: dict[str, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
    settled_before: dict[str, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
    # Two conditions the settled_on index serves (one OR would scan every bill).
    for still_open in (FeeBill.settled_on.is_(None), FeeBill.settled_on >= first):
        open_then = and_(FeeBill.period < period, still_open)
        for key, totals in bills_sum(open_then).items():
            for number, total in totals.items():
                opening[key][number] += total
        for key, totals in entries_sum(
            (PAYMENT, PREPAYMENT_APPLIED, WAIVER), (open_then,), FeeEntry.day < first
        ).items():
            for number, total in totals.items():
                settled_before[key][number] += total
    waived_in = entries_on_days((WAIVER,), in_month)
    collected_in = entries_on_days(COLLECTED, in_month)

    def rates_of(key: str) -> dict[str, dict]:
        billed, opened = month_billed.get(key, {}), opening.get(key, {})
        collected = collected_in.get(key, {})
        buildings = sorted({b for b in (*billed, *opened, *collected) if b is not None})

        def rates_for(pick) -> tuple[Rate, Rate]:
            bill_rate = Rate(
                "当月账单收缴率",
                pick(billed),
                pick(month_waived.get(key, {})),
                pick(month_collected.get(key, {})),
            )
            cash_rate = Rate(
                "本月实收率",
                max(0, pick(opened) - pick(settled_before.get(key, {}))) + pick(billed),
                pick(waived_in.get(key, {})),
                pick(collected),
            )
            return bill_rate, cash_rate

        result = {"community": rates_for(lambda d: sum(d.values()))}
        for number in buildings:
            result[number] = rates_for(lambda d, n=number: d.get(n, 0))
        return result

    return {key: rates_of(key) for key in keys}


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
    households = aging(sunday, overdue_only=True)
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
