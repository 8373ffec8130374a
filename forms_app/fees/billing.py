"""Bills (账单): a period's bill for every billable room of the household registry, computed
from the community's fee file, the registry and the meter readings; adjustments; arrears at
过户; the reminder before the due date.

The rules, stated once (the staff bill pages show them):

- A room is billable when the registry has its 收费面积 (住宅, 商铺 and 车位 alike). A room
  without one is listed as not billable with the reason, never billed 0.
- 物业管理费 = 收费面积 × 单价 × the cycle's months. A 空置 room pays ``vacant_rate`` of it. A
  room not yet handed over (未交房, or handed over after the period) is billed to the developer
  (``undelivered_payer``). A room handed over during the period has two bills by days: the
  household's for the days from the 交房 date to the period's end ÷ the period's days, and the
  developer's for the days before 交房 ÷ the period's days. Fixed items follow the same days.
  Metered and shared lines go on the household's bill only (as for a whole period).
- Metered items: this period's reading − the meter's latest earlier reading, × unit price.
- Shared public consumption: the public meter's consumption of the period, split over every
  billable room by 收费面积 (the room's area ÷ the billable area) or equally per household,
  × unit price; each bill line says how its share was computed.
- Each line's amount is rounded once, half up, to the 分 (``to_fen``); money is integer 分.
- Issuing a period twice issues nothing new: the unique (community, room, period, payer)
  decides, also when two runs race. A room added later gets its bills on the next run.
- An issued bill is never edited: it changes only by an adjustment line with a reason (never
  below 0 in total) or, after a 过户, by the 经理 carrying its arrears to the new owner's bill.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ..accounts.audit import record_audit
from ..core.clock import today
from ..core.community import community_key
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.fee_standards import FeeStandards, current_fee_standards, to_fen, yuan_text
from ..core.refusals import Refused
from ..households.models import (
    OWNER,
    UNDELIVERED,
    VACANT,
    HouseholdPerson,
    HouseholdRoom,
)
from ..households.registry import active_clause
from ..notifications.outbox import enqueue, enqueue_rows, message_row, path_for
from . import accounts
from .meters import consumptions, number_text, room_meter
from .models import ADJUSTMENT, CARRIED, CHARGE, DEVELOPER, HOUSEHOLD, FeeBill, FeeBillLine
from .periods import Period, month_key, parse_period, period_of

RECORD_TYPE = "fee_bill"
# Adjustments: one at most this many 元 either way (anything larger is a typing mistake).
MAX_ADJUST_YUAN = Decimal("100000")
MAX_REASON = 200
CHUNK = 5000


class BillingRefused(Refused):
    """A bill action refused; ``message`` says why in Chinese."""


def cycle_period(text, day: date | None = None) -> Period:
    """A period typed by staff or on the command line, in the community's billing cycle."""
    return parse_period(text, day or today(), current_fee_standards().cycle_months)


# ----- computing a period's bills ------------------------------------------------------------


@dataclass
class Line:
    item: str
    label: str
    quantity: str
    unit: str
    unit_price: str
    amount_fen: int
    kind: str = CHARGE


@dataclass
class ComputedBill:
    room: HouseholdRoom
    payer_kind: str
    payer_name: str
    lines: list[Line] = field(default_factory=list)

    @property
    def amount_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


@dataclass(frozen=True)
class NotBillable:
    room: HouseholdRoom
    reason: str


@dataclass
class IssueResult:
    period: Period
    issued: int = 0
    already: int = 0
    total_fen: int = 0
    not_billable: list[NotBillable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (
            f"{self.period.label}：新开具 {self.issued} 张账单，合计 {yuan_text(self.total_fen)} 元；"
            f"此前已开具 {self.already} 张；不计费房屋 {len(self.not_billable)} 间。"
        )


def rooms_of_community() -> list[HouseholdRoom]:
    return list(
        db.session.scalars(
            select(HouseholdRoom)
            .where(HouseholdRoom.community == community_key())
            .order_by(
                HouseholdRoom.kind.desc(),
                HouseholdRoom.building,
                HouseholdRoom.unit,
                HouseholdRoom.id,
            )
        )
    )


def split_billable(rooms) -> tuple[list[HouseholdRoom], list[NotBillable]]:
    billable, not_billable = [], []
    for room in rooms:
        if not room.charge_area_centi or room.charge_area_centi <= 0:
            not_billable.append(NotBillable(room, "未登记收费面积（请在住户档案中补登后再开具）"))
        else:
            billable.append(room)
    return billable, not_billable


def _days_share(room: HouseholdRoom, period: Period) -> tuple[Decimal, str]:
    """The share of the period billed to the household (1 for a whole period) and its words."""
    handed = room.handover_on
    if handed is None or handed <= period.first_day:
        return Decimal(1), ""
    days = (period.last_day - handed).days + 1
    return Decimal(days) / Decimal(
        period.days
    ), f"{handed.isoformat()}交房，按天 {days}/{period.days}"


def _before_share(room: HouseholdRoom, period: Period) -> tuple[Decimal, str] | None:
    """For a room handed over inside the period: the share of the days before 交房 (billed to
    the developer) and its words; None otherwise."""
    handed = room.handover_on
    if handed is None or not period.first_day < handed <= period.last_day:
        return None
    days = (handed - period.first_day).days
    return Decimal(days) / Decimal(
        period.days
    ), f"{handed.isoformat()}交房，交房前按天 {days}/{period.days}"


def _payer(room: HouseholdRoom, period: Period, standards, names: dict) -> tuple[str, str]:
    if room.handover == UNDELIVERED or room.handover_on is None:
        return DEVELOPER, standards.undelivered_payer
    if room.handover_on > period.last_day:
        return DEVELOPER, standards.undelivered_payer
    return HOUSEHOLD, names.get(room.id, "")[:60]


def _payer_names(day: date) -> dict[int, str]:
    """Per room, the names of its current owners (else its 主要联系人)."""
    owners: dict[int, list[str]] = defaultdict(list)
    contacts: dict[int, str] = {}
    for room_id, name, role, primary in db.session.execute(
        select(
            HouseholdPerson.room_id,
            HouseholdPerson.name,
            HouseholdPerson.role,
            HouseholdPerson.primary_contact,
        )
        .where(HouseholdPerson.community == community_key(), active_clause(day))
        .order_by(HouseholdPerson.since, HouseholdPerson.id)
    ):
        if role == OWNER:
            owners[room_id].append(name)
        if primary:
            contacts[room_id] = name
    names = {room_id: "、".join(found) for room_id, found in owners.items()}
    for room_id, name in contacts.items():
        names.setdefault(room_id, name)
    return names


def _contacts(day: date) -> dict[int, str]:
    """Per room, the mobile of its current 主要联系人 (bills are sent there)."""
    return {
        room_id: mobile
        for room_id, mobile in db.session.execute(
            select(HouseholdPerson.room_id, HouseholdPerson.mobile).where(
                HouseholdPerson.community == community_key(),
                HouseholdPerson.primary_contact.is_(True),
                HouseholdPerson.mobile.is_not(None),
                active_clause(day),
            )
        )
    }


def _management_line(room, period, standards, payer_kind, share, share_words) -> Line:
    item = standards.management
    quantity = room.charge_area * period.months
    amount = quantity * item.unit_price
    notes = []
    if period.months > 1:
        notes.append(f"{room.area_text}㎡ × {period.months} 个月")
    if payer_kind == HOUSEHOLD:
        if room.handover == VACANT:
            amount *= standards.vacant_rate
            notes.append(f"空置按 {number_text(standards.vacant_rate)} 计")
        if share_words:
            amount *= share
            notes.append(share_words)
    else:
        notes.append(f"未交房，由{standards.undelivered_payer}承担")
        if share_words:  # the days before a 交房 inside the period
            amount *= share
            notes.append(share_words)
    label = item.name + (f"（{'；'.join(notes)}）" if notes else "")
    return Line(
        item.id,
        label,
        number_text(quantity),
        item.unit,
        number_text(item.unit_price),
        to_fen(amount),
    )


def _fixed_lines(period, standards, payer_kind, share, share_words) -> list[Line]:
    lines = []
    for item in standards.fixed_monthly:
        amount = item.unit_price * period.months
        label = item.name
        if share_words:  # the household's days from 交房, or the developer's before it
            amount *= share
            label += f"（{share_words}）"
        lines.append(
            Line(
                item.id,
                label,
                str(period.months),
                item.unit,
                number_text(item.unit_price),
                to_fen(amount),
            )
        )
    return lines


@dataclass
class SharedBasis:
    """One shared item's public consumption of the period and the billable base it splits
    over."""

    item: object
    consumption: Decimal
    total_area_centi: int
    households: int


def _shared_line(basis: SharedBasis, room: HouseholdRoom) -> Line:
    item = basis.item
    consumption = basis.consumption
    if item.split == "area":
        share = Decimal(room.charge_area_centi) / Decimal(basis.total_area_centi)
        total_area = yuan_text(basis.total_area_centi)
        label = (
            f"{item.name}（{number_text(consumption)} {item.unit} × 本户面积 {room.area_text}㎡"
            f" ÷ 总收费面积 {total_area}㎡，占 {share * 100:.2f}%）"
        )
    else:
        share = Decimal(1) / Decimal(basis.households)
        label = f"{item.name}（{number_text(consumption)} {item.unit} ÷ {basis.households} 户）"
    quantity = consumption * share
    return Line(
        item.id,
        label[:120],
        number_text(quantity.quantize(Decimal("0.0001"))),
        item.unit,
        number_text(item.unit_price),
        to_fen(quantity * item.unit_price),
    )


def compute_bills(
    period: Period, rooms: list[HouseholdRoom], standards: FeeStandards, day: date
) -> tuple[list[ComputedBill], list[NotBillable], list[str]]:
    """The bills of ``rooms`` for ``period`` (not stored), the rooms not billable, warnings."""
    billable, not_billable = split_billable(rooms)
    warnings: list[str] = []
    names = _payer_names(day)
    readings = consumptions(period.key)
    shared = []
    for item in standards.shared:
        read = readings.get(item.meter)
        if read is None or read.consumption is None:
            warnings.append(
                f"{item.name}：公共表 {item.meter} 本期{'未抄表' if read is None else '是首次抄表'}，"
                "本期不分摊。"
            )
        elif read.consumption < 0:
            warnings.append(
                f"{item.name}：公共表 {item.meter} 本期读数小于上期，请核对，本期不分摊。"
            )
        elif billable:
            shared.append(
                SharedBasis(
                    item,
                    read.consumption,
                    sum(r.charge_area_centi for r in billable),
                    len(billable),
                )
            )
    unread: dict[str, int] = defaultdict(int)
    bills = []
    for room in billable:
        payer_kind, payer_name = _payer(room, period, standards, names)
        # By days only for the household of a room handed over inside the period.
        share, words = _days_share(room, period) if payer_kind == HOUSEHOLD else (Decimal(1), "")
        before = _before_share(room, period) if payer_kind == HOUSEHOLD else None
        if before is not None:
            # 交房 inside the period: the developer pays the days before it (管理费 and fixed
            # items by days, each line rounded once, so the two bills' 管理费 add up to the
            # whole period's within one 分); metered and shared lines go on the household's
            # bill below, as for a whole period.
            early = ComputedBill(room, DEVELOPER, standards.undelivered_payer)
            early.lines.append(_management_line(room, period, standards, DEVELOPER, *before))
            early.lines.extend(_fixed_lines(period, standards, DEVELOPER, *before))
            bills.append(early)
        bill = ComputedBill(room, payer_kind, payer_name)
        bill.lines.append(_management_line(room, period, standards, payer_kind, share, words))
        bill.lines.extend(_fixed_lines(period, standards, payer_kind, share, words))
        for item in standards.metered:
            read = readings.get(room_meter(room.id, item.id))
            if read is None:
                unread[item.name] += 1
                continue
            if read.consumption is None:
                continue  # the first reading of the meter: the base of the next period
            if read.consumption < 0:
                warnings.append(f"{room.label} {item.name}：本期读数小于上期，未计费，请核对。")
                continue
            bill.lines.append(
                Line(
                    item.id,
                    f"{item.name}（上期 {number_text(read.previous)} → 本期 "
                    f"{number_text(read.current)}）",
                    number_text(read.consumption),
                    item.unit,
                    number_text(item.unit_price),
                    to_fen(read.consumption * item.unit_price),
                )
            )
        for basis in shared:
            bill.lines.append(_shared_line(basis, room))
        bills.append(bill)
    for name, count in unread.items():
        if count and readings:
            warnings.append(f"{name}：{count} 户本期未抄表，本期账单不含该项（下期按两期用量计）。")
    return bills, not_billable, warnings


def _bill_row(bill: ComputedBill, period: Period, due_on: date, actor: str, now) -> dict:
    return {
        "community": bill.room.community,
        "room_id": bill.room.id,
        "period": period.key,
        "months": period.months,
        "payer_kind": bill.payer_kind,
        "payer_name": bill.payer_name,
        "due_on": due_on,
        "issued_at": now,
        "issued_by": actor,
        # The kept totals (``accounts.refresh_bills``): nothing settled yet; a bill of 0
        # is settled on its due date.
        "amount_fen": bill.amount_fen,
        "settled_fen": 0,
        "settled_on": due_on if bill.amount_fen <= 0 else None,
    }


def issue_bills(text, actor: str, day: date | None = None) -> IssueResult:
    """Issue the period's bills of every billable room not yet billed for it; each
    household's 主要联系人 gets one message. Everything computed before the write lock; the
    bills, lines, messages and audit entry are written in one transaction."""
    day = day or today()
    standards = current_fee_standards()
    period = parse_period(text, day, standards.cycle_months)
    for attempt in (1, 2):
        try:
            return _issue(period, standards, actor, day)
        except IntegrityError:
            # Another run issued some of these bills meanwhile (PostgreSQL: the unique
            # constraint refused ours): compute again; it finds them issued.
            db.session.rollback()
            if attempt == 2:
                raise BillingRefused("另一次开具正在进行，请稍后再试。") from None
    raise AssertionError("unreachable")


def _issue(period: Period, standards: FeeStandards, actor: str, day: date) -> IssueResult:
    from ..core.clock import utcnow

    key = community_key()
    rooms = rooms_of_community()
    issued_before = {
        (room_id, payer_kind)
        for room_id, payer_kind in db.session.execute(
            select(FeeBill.room_id, FeeBill.payer_kind).where(
                FeeBill.community == key, FeeBill.period == period.key
            )
        )
    }
    bills, not_billable, warnings = compute_bills(period, rooms, standards, day)
    result = IssueResult(period, not_billable=not_billable, warnings=warnings)
    todo = [b for b in bills if (b.room.id, b.payer_kind) not in issued_before]
    due_on = period.due_on(standards.due_day)
    contacts = _contacts(day)
    now = utcnow()
    with write_transaction() as session:
        connection = session.connection()
        # One bill per room, period and payer (a room handed over inside the period has the
        # developer's and the household's).
        again = {
            (room_id, payer_kind)
            for room_id, payer_kind in connection.execute(
                select(FeeBill.room_id, FeeBill.payer_kind).where(
                    FeeBill.community == key, FeeBill.period == period.key
                )
            )
        }
        todo = [b for b in todo if (b.room.id, b.payer_kind) not in again]
        result.already = len(again)
        if not todo:
            return result
        table = FeeBill.__table__
        ids = {
            (room_id, payer_kind): bill_id
            for bill_id, room_id, payer_kind in connection.execute(
                insert(table).returning(table.c.id, table.c.room_id, table.c.payer_kind),
                [_bill_row(b, period, due_on, actor, now) for b in todo],
            )
        }
        connection.execute(
            insert(FeeBillLine.__table__),
            [
                {
                    "community": key,
                    "bill_id": ids[bill.room.id, bill.payer_kind],
                    "kind": line.kind,
                    "item": line.item,
                    "label": line.label,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "unit_price": line.unit_price,
                    "amount_fen": line.amount_fen,
                    "reason": "",
                    "created_at": now,
                    "created_by": actor,
                }
                for bill in todo
                for line in bill.lines
            ],
        )
        link = path_for("fees.index")
        enqueue_rows(
            connection,
            [
                message_row(
                    "fees.bill_issued",
                    record_type=RECORD_TYPE,
                    record_id=ids[bill.room.id, bill.payer_kind],
                    recipient=contacts[bill.room.id],
                    link_path=link,
                    dedupe_key=f"fees.issued:{key}:{bill.room.id}:{period.key}",
                    room=bill.room.label,
                    period=period.label,
                    amount=yuan_text(bill.amount_fen),
                    due_on=due_on.isoformat(),
                )
                for bill in todo
                if bill.payer_kind == HOUSEHOLD and bill.room.id in contacts
            ],
        )
        result.issued = len(todo)
        result.total_fen = sum(b.amount_fen for b in todo)
        record_audit(
            "fees.issue",
            target=period.key,
            detail=f"{result.issued} 张，合计 {yuan_text(result.total_fen)} 元",
            actor_name=actor,
        )
    return result


# ----- reading bills -------------------------------------------------------------------------


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def amounts_and_dues(bill_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Each bill's amount and what is still due (through ``accounts``), in chunks."""
    amounts: dict[int, int] = {}
    dues: dict[int, int] = {}
    for chunk in _chunks(bill_ids):
        amounts.update(accounts.bill_amounts(chunk))
        dues.update(accounts.bills_due(chunk))
    return amounts, dues


def bill_of_community(bill_id: int) -> FeeBill | None:
    bill = db.session.get(FeeBill, bill_id)
    if bill is None or bill.community != community_key():
        return None
    return bill


def lines_of(bill_id: int) -> list[FeeBillLine]:
    return list(
        db.session.scalars(
            select(FeeBillLine).where(FeeBillLine.bill_id == bill_id).order_by(FeeBillLine.id)
        )
    )


def lines_by_bill(bill_ids: list[int]) -> dict[int, list[FeeBillLine]]:
    found: dict[int, list[FeeBillLine]] = {bill_id: [] for bill_id in bill_ids}
    for chunk in _chunks(bill_ids):
        for line in db.session.scalars(
            select(FeeBillLine)
            .where(FeeBillLine.bill_id.in_(chunk))
            .order_by(FeeBillLine.bill_id, FeeBillLine.id)
        ):
            found[line.bill_id].append(line)
    return found


def last_transfers(room_ids: list[int] | None = None) -> dict[int, date]:
    """Per room, the date of its last 过户."""
    query = (
        select(HouseholdPerson.room_id, func.max(HouseholdPerson.until))
        .where(
            HouseholdPerson.community == community_key(),
            HouseholdPerson.end_reason == "transfer",
        )
        .group_by(HouseholdPerson.room_id)
    )
    if room_ids is not None:
        query = query.where(HouseholdPerson.room_id.in_(room_ids))
    return {room_id: until for room_id, until in db.session.execute(query) if until}


def before_transfer(bill: FeeBill, transfers: dict[int, date]) -> bool:
    """True for a household bill of a period before the room's last 过户 (the former owners';
    a developer's bill is never theirs)."""
    on = transfers.get(bill.room_id)
    return on is not None and bill.payer_kind == HOUSEHOLD and bill.period < month_key(on)


def issued_periods() -> list[tuple[str, int]]:
    """Periods with bills, newest first, and how many bills each has."""
    return list(
        db.session.execute(
            select(FeeBill.period, func.count())
            .where(FeeBill.community == community_key())
            .group_by(FeeBill.period)
            .order_by(FeeBill.period.desc())
        )
    )


# ----- adjustments and carried arrears -------------------------------------------------------


def parse_amount(text) -> int:
    """An adjustment typed in 元 ("-12.50", "30") as signed 分; refused when not one."""
    raw = (text or "").strip().replace(",", "").replace("元", "") if isinstance(text, str) else ""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BillingRefused(
            "调整金额须是数字（元），减少写负数，例如 -12.50。", "amount"
        ) from None
    if not value.is_finite():
        raise BillingRefused("调整金额须是数字（元），例如 -12.50。", "amount")
    if value != value.quantize(Decimal("0.01")):
        raise BillingRefused("调整金额最多到分（2 位小数）。", "amount")
    if value == 0:
        raise BillingRefused("调整金额不能为 0。", "amount")
    if abs(value) > MAX_ADJUST_YUAN:
        raise BillingRefused(
            f"单次调整不能超过 {number_text(MAX_ADJUST_YUAN)} 元，请核对金额。", "amount"
        )
    return to_fen(value)


def _reason(text) -> str:
    reason = " ".join((text or "").split()) if isinstance(text, str) else ""
    if not reason:
        raise BillingRefused("请填写原因（调整依据）。", "reason")
    if len(reason) > MAX_REASON:
        raise BillingRefused(f"原因不超过 {MAX_REASON} 字。", "reason")
    return reason


def _locked_bill(session, bill_id: int) -> FeeBill:
    bill = session.scalar(
        select(FeeBill)
        .where(FeeBill.id == bill_id, FeeBill.community == community_key())
        .with_for_update()
    )
    if bill is None:
        raise BillingRefused("没有找到这张账单。")
    return bill


def add_adjustment(bill_id: int, amount_text, reason_text, actor: str) -> FeeBillLine:
    """A new adjustment line on an issued bill (the bill itself is never edited); the bill's
    amount never goes below 0."""
    amount = parse_amount(amount_text)
    reason = _reason(reason_text)
    with write_transaction() as session:
        bill = _locked_bill(session, bill_id)
        total = accounts.bill_amounts([bill.id])[bill.id]
        if total + amount < 0:
            raise BillingRefused(
                f"调整后账单金额不能低于 0：本账单现为 {yuan_text(total)} 元，"
                f"最多减少 {yuan_text(total)} 元。",
                "amount",
            )
        line = FeeBillLine(
            community=bill.community,
            bill_id=bill.id,
            kind=ADJUSTMENT,
            item="adjustment",
            label="调整" + ("（增加）" if amount > 0 else "（减少）"),
            amount_fen=amount,
            reason=reason,
            created_by=actor,
        )
        session.add(line)  # the bill's kept totals follow in the flush (accounts)
        record_audit(
            "fees.adjust",
            target=f"账单 {bill.id}",
            detail=f"{bill.period} {yuan_text(amount)} 元：{reason}",
        )
    return line


def carry_targets(bill: FeeBill, transfers: dict[int, date]) -> list[FeeBill]:
    """The room's bills of periods from its last 过户 on: where arrears may be carried."""
    on = transfers.get(bill.room_id)
    if on is None or bill.period >= month_key(on):
        return []
    return list(
        db.session.scalars(
            select(FeeBill)
            .where(
                FeeBill.room_id == bill.room_id,
                FeeBill.payer_kind == HOUSEHOLD,
                FeeBill.period >= month_key(on),
            )
            .order_by(FeeBill.period)
        )
    )


def carry_arrears(bill_id: int, target_id, note_text, actor: str) -> int:
    """过户: the 经理 carries what is still due on a former owner's bill to a bill of the new
    owner (a ``carried`` line on each: less on the old, more on the new; the 经理's note is
    the reason of both). Returns the amount carried (分)."""
    note = _reason(note_text)
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        raise BillingRefused("请选择结转到的账单。", "target") from None
    with write_transaction() as session:
        bill = _locked_bill(session, bill_id)
        transfers = last_transfers([bill.room_id])
        targets = {t.id: t for t in carry_targets(bill, transfers)}
        if not before_transfer(bill, transfers):
            raise BillingRefused("只有过户前的账单可以结转给新业主。")
        target = targets.get(target_id)
        if target is None:
            raise BillingRefused("只能结转到本户过户当月及以后的账单。", "target")
        _locked_bill(session, target.id)
        due = accounts.bills_due([bill.id])[bill.id]
        if due <= 0:
            raise BillingRefused("这张账单已无欠费，无需结转。")
        session.add_all(
            [
                FeeBillLine(
                    community=bill.community,
                    bill_id=bill.id,
                    kind=CARRIED,
                    item="carried",
                    label=f"过户前欠费结转至 {target.period} 账单",
                    amount_fen=-due,
                    reason=note,
                    created_by=actor,
                ),
                FeeBillLine(
                    community=bill.community,
                    bill_id=target.id,
                    kind=CARRIED,
                    item="carried",
                    label=f"{bill.period} 账单过户前欠费结转",
                    amount_fen=due,
                    reason=note,
                    created_by=actor,
                ),
            ]
        )
        record_audit(
            "fees.carry",
            target=f"账单 {bill.id}",
            detail=f"{bill.period} → {target.period} {yuan_text(due)} 元：{note}",
        )
    return due


# ----- 过户 and reminders ----------------------------------------------------------------------


def on_transfer(event) -> None:
    """``households.transfer``: the former owners' unpaid bills stay on the room (nothing is
    moved); the staff group hears of them so they are settled or carried by the 经理."""
    room_id = event.data["room_id"]
    on = event.data["date"]
    bills = list(
        db.session.scalars(
            select(FeeBill).where(
                FeeBill.room_id == room_id,
                FeeBill.payer_kind == HOUSEHOLD,
                FeeBill.period < month_key(on),
            )
        )
    )
    if not bills:
        return
    dues = accounts.bills_due([b.id for b in bills])
    unpaid = [b for b in bills if dues[b.id] > 0]
    if not unpaid:
        return
    room = db.session.get(HouseholdRoom, room_id)
    enqueue(
        db.session,
        "fees.transfer_arrears",
        record_type=RECORD_TYPE,
        record_id=unpaid[0].id,
        link_path=path_for("fees_bill.index", period=unpaid[0].period, q=room.code),
        dedupe_key=f"fees.transfer:{room.community}:{room_id}:{on.isoformat()}",
        room=room.label,
        amount=yuan_text(sum(dues[b.id] for b in unpaid)),
        count=len(unpaid),
    )


def remind_days(standards: FeeStandards) -> int:
    """Days before the due date the reminder goes (the fee file's remind_days_before)."""
    return standards.remind_days_before


def due_reminders(day: date) -> int:
    """One reminder per unpaid household bill, sent in the days before its due date to the
    room's 主要联系人 (a periodic scan of the notification worker)."""
    from ..notifications.models import Notification

    standards = current_fee_standards()
    key = community_key()
    rows = db.session.execute(
        select(FeeBill, HouseholdRoom)
        .join(HouseholdRoom, HouseholdRoom.id == FeeBill.room_id)
        .where(
            FeeBill.community == key,
            FeeBill.payer_kind == HOUSEHOLD,
            FeeBill.due_on >= day,
            FeeBill.due_on <= day + timedelta(days=remind_days(standards)),
        )
    ).all()
    if not rows:
        return 0
    keys = {bill.id: f"fees.due:{key}:{bill.id}" for bill, _room in rows}
    sent = set()
    for chunk in _chunks(list(keys.values())):
        sent.update(
            db.session.scalars(
                select(Notification.dedupe_key).where(Notification.dedupe_key.in_(chunk))
            )
        )
    waiting = [(bill, room) for bill, room in rows if keys[bill.id] not in sent]
    if not waiting:
        return 0
    _amounts, dues = amounts_and_dues([bill.id for bill, _room in waiting])
    contacts = _contacts(day)
    link = path_for("fees.index")
    messages = [
        message_row(
            "fees.bill_due",
            record_type=RECORD_TYPE,
            record_id=bill.id,
            recipient=contacts[room.id],
            link_path=link,
            dedupe_key=keys[bill.id],
            room=room.label,
            period=period_of(bill.period).label,
            amount=yuan_text(dues[bill.id]),
            due_on=bill.due_on.isoformat(),
        )
        for bill, room in waiting
        if dues[bill.id] > 0 and room.id in contacts
    ]
    with write_transaction() as session:
        enqueue_rows(session.connection(), messages)
    return len(messages)
