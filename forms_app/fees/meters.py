"""Meter readings (抄表), read with 工程 on the suppliers' cycle (seed: 按水、电、气、油供应部门收费期
定时与工程部门抄录计量表, 分摊公共水、电、气、油).

- A room's meter of a metered item is ``room:<room id>:<item>``; a public meter is the
  ``meter`` named by a shared item of the fee file (``public-water``).
- One reading per meter and period. The consumption of a period is its reading less the
  meter's latest reading of an earlier period (a period not read is included in the next).
- A reading is flagged when it is below the previous one (a meter changed, a mistake) or its
  consumption is more than ``JUMP_FACTOR`` times the meter's average of its past
  consumptions; a flagged reading is saved only with a note saying why.
- A reading is corrected (replaced) only with a reason, and only while no bill of its period
  that uses it has been issued; the correction is kept in the note and the audit log.
- Several readings sent together (a room's water and electricity) are saved all or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from ..accounts.audit import record_audit
from ..core.community import community_key
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.fee_standards import FeeStandards
from ..core.refusals import Refused
from .models import FeeBill, MeterReading
from .periods import Period

# A consumption above this many times the meter's past average is flagged (needs a note).
JUMP_FACTOR = 3
# How many past consumptions the average is taken over.
HISTORY = 6
# Meter registers have at most 9 digits before the point; 2 decimals are the finest read.
MAX_READING = Decimal("999999999.99")
MAX_NOTE = 200


def room_meter(room_id: int, item: str) -> str:
    return f"room:{room_id}:{item}"


@dataclass(frozen=True)
class PublicMeter:
    id: str
    name: str
    unit: str


def public_meters(standards: FeeStandards) -> list[PublicMeter]:
    """The public meters the fee file's shared items are computed from (each once)."""
    found: dict[str, PublicMeter] = {}
    for item in standards.shared:
        name = item.name.removesuffix("分摊")
        found.setdefault(item.meter, PublicMeter(item.meter, f"{name}总表", item.unit))
    return list(found.values())


def number_text(value: Decimal) -> str:
    """A reading or a quantity as typed back: no exponent, no trailing zeros after the point."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def parse_reading(text) -> Decimal:
    raw = (text or "").strip().replace(",", "") if isinstance(text, str) else ""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Refused("读数须是数字，例如 1234.5。") from None
    if not value.is_finite():
        raise Refused("读数须是数字，例如 1234.5。")
    if value < 0:
        raise Refused("读数不能是负数。")
    if value > MAX_READING:
        raise Refused("读数过大：表上最多 9 位整数，请核对。")
    if value != value.quantize(Decimal("0.01")):
        raise Refused("读数最多保留 2 位小数。")
    return value


@dataclass(frozen=True)
class ReadingCheck:
    """What a reading means against the meter's history."""

    previous: Decimal | None
    previous_period: str | None
    average: Decimal | None  # of the past consumptions
    consumption: Decimal | None = None
    flag: str = ""  # why it needs a note; empty when plausible
    current: Decimal | None = None


def history(meter: str, before: str, limit: int = HISTORY + 1) -> list[MeterReading]:
    """The meter's readings of periods before ``before``, newest first."""
    return list(
        db.session.scalars(
            select(MeterReading)
            .where(
                MeterReading.community == community_key(),
                MeterReading.meter == meter,
                MeterReading.period < before,
            )
            .order_by(MeterReading.period.desc())
            .limit(limit)
        )
    )


def past(meter: str, before: str) -> ReadingCheck:
    """The previous reading and the average past consumption of a meter before a period."""
    rows = history(meter, before)
    if not rows:
        return ReadingCheck(None, None, None)
    values = [Decimal(r.reading) for r in rows]
    steps = [a - b for a, b in zip(values, values[1:], strict=False) if a >= b]
    average = sum(steps) / len(steps) if steps else None
    return ReadingCheck(values[0], rows[0].period, average)


def check(meter: str, period: str, value: Decimal) -> ReadingCheck:
    before = past(meter, period)
    if before.previous is None:
        return before
    consumption = value - before.previous
    flag = ""
    if consumption < 0:
        flag = (
            f"本期读数 {number_text(value)} 小于上期读数 {number_text(before.previous)}"
            "（换表或抄错？）"
        )
    elif before.average and consumption > JUMP_FACTOR * before.average:
        flag = (
            f"本期用量 {number_text(consumption)} 超过以往平均用量 "
            f"{number_text(before.average.quantize(Decimal('0.01')))} 的 {JUMP_FACTOR} 倍"
        )
    return ReadingCheck(
        before.previous, before.previous_period, before.average, consumption, flag, value
    )


class ReadingsRefused(Refused):
    """Readings not saved; ``errors`` maps each form field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()), next(iter(errors)))
        self.errors = errors


@dataclass
class Entry:
    """One reading as sent: the meter, what was typed, the note, a correction's reason.
    ``field`` names the form's input (errors are shown beside it)."""

    meter: str
    item: str
    field: str
    text: str
    note: str = ""
    reason: str = ""
    room_id: int | None = None
    value: Decimal | None = field(default=None, init=False)
    flag: str = field(default="", init=False)
    previous: Decimal | None = field(default=None, init=False)


def billed(room_id: int | None, period: str) -> bool:
    """A bill using the reading was issued: the room's bill of the period, or (a public
    meter) any bill of the period."""
    query = select(FeeBill.id).where(FeeBill.community == community_key(), FeeBill.period == period)
    if room_id is not None:
        query = query.where(FeeBill.room_id == room_id)
    return db.session.scalar(query.limit(1)) is not None


def current_readings(meters: list[str], period: str) -> dict[str, MeterReading]:
    if not meters:
        return {}
    return {
        r.meter: r
        for r in db.session.scalars(
            select(MeterReading).where(
                MeterReading.community == community_key(),
                MeterReading.period == period,
                MeterReading.meter.in_(meters),
            )
        )
    }


def record_readings(period: Period, entries: list[Entry], read_on: date, actor: str) -> int:
    """Check every entry, then save them all in one transaction (or none: ``ReadingsRefused``
    lists every problem). Returns how many readings were saved or corrected."""
    errors: dict[str, str] = {}
    entries = [e for e in entries if (e.text or "").strip()]
    if not entries:
        raise ReadingsRefused({"form": "请至少填写一个读数。"})
    existing = current_readings([e.meter for e in entries], period.key)
    for entry in entries:
        if len(entry.note) > MAX_NOTE or len(entry.reason) > MAX_NOTE:
            errors[f"note_{entry.field}"] = f"说明和原因各不超过 {MAX_NOTE} 字。"
            continue
        try:
            entry.value = parse_reading(entry.text)
        except Refused as refused:
            errors[entry.field] = refused.message
            continue
        found = existing.get(entry.meter)
        if found is not None:
            if Decimal(found.reading) == entry.value:
                entry.value = None  # the same reading again: nothing to change
                continue
            if billed(entry.room_id, period.key):
                errors[entry.field] = (
                    f"本期已抄录 {found.reading}，且本期账单已开具，不能再更正；"
                    "如有误，请在账单上做调整（写明原因）。"
                )
                continue
            if not entry.reason.strip():
                errors[f"reason_{entry.field}"] = (
                    f"本期已抄录 {found.reading}：更正读数须填写更正原因。"
                )
                continue
        checked = check(entry.meter, period.key, entry.value)
        entry.previous = checked.previous
        entry.flag = checked.flag
        if checked.flag and not entry.note.strip():
            errors[f"note_{entry.field}"] = f"{checked.flag}：请核实，并填写说明后保存。"
    if errors:
        raise ReadingsRefused(errors)
    saved = 0
    try:
        with write_transaction() as session:
            for entry in entries:
                if entry.value is None:
                    continue
                found = session.scalar(
                    select(MeterReading).where(
                        MeterReading.community == community_key(),
                        MeterReading.meter == entry.meter,
                        MeterReading.period == period.key,
                    )
                )
                previous = number_text(entry.previous) if entry.previous is not None else None
                if found is None:
                    session.add(
                        MeterReading(
                            community=community_key(),
                            meter=entry.meter,
                            room_id=entry.room_id,
                            item=entry.item,
                            period=period.key,
                            reading=number_text(entry.value),
                            previous=previous,
                            flagged=bool(entry.flag),
                            note=_note(entry),
                            read_on=read_on,
                            entered_by=actor,
                        )
                    )
                else:
                    if billed(entry.room_id, period.key):
                        raise ReadingsRefused({entry.field: "本期账单刚刚开具，读数不能再更正。"})
                    old = found.reading
                    found.reading = number_text(entry.value)
                    found.previous = previous
                    found.flagged = bool(entry.flag)
                    found.note = (
                        f"{_note(entry)}（更正：原读数 {old}，原因：{entry.reason.strip()}；"
                        f"{actor}）"
                    ).lstrip()
                    found.read_on = read_on
                    found.entered_by = actor
                    record_audit(
                        "fees.meter_correct",
                        target=f"{entry.meter} {period.key}",
                        detail=f"{old} → {found.reading}；{entry.reason.strip()}",
                    )
                saved += 1
            session.flush()
    except IntegrityError:
        raise ReadingsRefused(
            {"form": "该表本期的读数刚由他人录入：请刷新页面，核对后再保存。"}
        ) from None
    return saved


def _note(entry: Entry) -> str:
    note = entry.note.strip()
    return f"{entry.flag}。{note}" if entry.flag and note else note


def consumptions(period: str, meters: list[str] | None = None) -> dict[str, ReadingCheck]:
    """Every meter read in ``period`` (or those of ``meters``) with its previous reading and
    consumption, in two queries (the issue of a month's bills reads them all)."""
    community = community_key()
    current = select(MeterReading.meter, MeterReading.reading, MeterReading.period).where(
        MeterReading.community == community, MeterReading.period == period
    )
    if meters is not None:
        current = current.where(MeterReading.meter.in_(meters))
    found = {meter: Decimal(reading) for meter, reading, _ in db.session.execute(current)}
    if not found:
        return {}
    latest = (
        select(MeterReading.meter, func.max(MeterReading.period).label("period"))
        .where(MeterReading.community == community, MeterReading.period < period)
        .group_by(MeterReading.meter)
    )
    if meters is not None:
        latest = latest.where(MeterReading.meter.in_(meters))
    latest = latest.subquery()
    previous = {
        meter: (Decimal(reading), earlier)
        for meter, reading, earlier in db.session.execute(
            select(MeterReading.meter, MeterReading.reading, MeterReading.period).join(
                latest,
                and_(
                    MeterReading.meter == latest.c.meter,
                    MeterReading.period == latest.c.period,
                    MeterReading.community == community,
                ),
            )
        )
    }
    result = {}
    for meter, value in found.items():
        before, earlier = previous.get(meter, (None, None))
        consumption = value - before if before is not None else None
        result[meter] = ReadingCheck(before, earlier, None, consumption, current=value)
    return result
