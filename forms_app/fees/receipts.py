"""收据: gap-free numbers per community, the amount in Chinese capitals (大写), voids and prints.

A receipt's number is taken inside the write transaction of the payment it belongs to, from the
community's ``FeeReceiptCounter`` row locked with ``SELECT … FOR UPDATE`` (PostgreSQL: two
counters wait on the row, never collide; SQLite's ``BEGIN IMMEDIATE`` serializes anyway). A
payment that fails rolls its number back with it, so the series has no gap; the unique
(community, number) constraint refuses a number used twice whatever happens. A void (作废)
keeps the number; each print after the first says 补打.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..core.clock import utcnow
from ..core.extensions import db
from .models import FeeEntry, FeeReceipt, FeeReceiptCounter

NUMBER_DIGITS = 7
DIGITS = "零壹贰叁肆伍陆柒捌玖"
# Within a group of four digits: 仟佰拾 and the units place.
PLACES = ("仟", "佰", "拾", "")
# The groups of four digits: units, 万, 亿.
GROUPS = ("", "万", "亿")
MAX_FEN = 10**14 - 1  # below 一万亿元, far beyond any receipt


def number_text(number: int) -> str:
    """The printed receipt number: 123 → "0000123"."""
    return f"{number:0{NUMBER_DIGITS}d}"


def _group_words(group: int) -> str:
    """A number 1–9999 in capitals, with 零 for the places skipped inside it."""
    text, zero = "", False
    for index, place in enumerate(PLACES):
        digit = group // 10 ** (3 - index) % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += DIGITS[digit] + place
    return text


def yuan_words(yuan: int) -> str:
    """Whole 元 in capitals: 1002 → 壹仟零贰, 100000 → 壹拾万, 0 → ""."""
    if yuan == 0:
        return ""
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    text = ""
    pending_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            pending_zero = bool(text)
            continue
        # A gap before this group (a zero group, or fewer than four digits in it) reads 零.
        if text and (pending_zero or group < 1000):
            text += "零"
        pending_zero = False
        text += _group_words(group) + GROUPS[index]
    return text


def amount_in_words(fen: int) -> str:
    """An amount of 分 in Chinese capitals as receipts and cheques write it:
    1002.50 → 壹仟零贰元伍角整, 0.05 → 伍分, 100000 → 壹拾万元整, 0 → 零元整,
    10.05 → 壹拾元零伍分."""
    if not isinstance(fen, int) or isinstance(fen, bool) or fen < 0 or fen > MAX_FEN:
        raise ValueError(f"not an amount of 分: {fen!r}")
    if fen == 0:
        return "零元整"
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    text = yuan_words(yuan)
    if text:
        text += "元"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif cents and text:
        text += "零"
    if cents:
        text += DIGITS[cents] + "分"
    else:
        text += "整"
    return text


def take_number(session, community: str) -> int:
    """The community's next receipt number, taken under the counter row's lock (call inside the
    payment's write transaction: the number is used or rolled back with it)."""
    locked = select(FeeReceiptCounter).where(FeeReceiptCounter.community == community)
    counter = session.scalar(locked.with_for_update())
    if counter is None:
        # The community's first receipt: create the row; a counter doing the same at once
        # loses the insert and waits on the row like any other.
        try:
            with session.begin_nested():
                session.add(FeeReceiptCounter(community=community, next_number=1))
                session.flush()
        except IntegrityError:
            pass
        counter = session.scalar(locked.with_for_update().execution_options(populate_existing=True))
    number = counter.next_number
    counter.next_number = number + 1
    session.flush()
    return number


def issue_receipt(
    session,
    *,
    community: str,
    room_id: int | None,
    payer: str,
    method: str,
    total_fen: int,
    actor: str,
) -> FeeReceipt:
    """A new receipt with the next number (inside the payment's write transaction)."""
    receipt = FeeReceipt(
        community=community,
        number=take_number(session, community),
        room_id=room_id,
        payer=payer,
        method=method,
        total_fen=total_fen,
        issued_at=utcnow(),
        issued_by=actor,
        prints=0,
    )
    session.add(receipt)
    session.flush()
    return receipt


def receipt_entries(receipt_id: int) -> list[FeeEntry]:
    """The ledger entries the receipt was issued for (its lines), in order."""
    return list(
        db.session.scalars(
            select(FeeEntry)
            .where(FeeEntry.receipt_id == receipt_id, FeeEntry.reverses_id.is_(None))
            .order_by(FeeEntry.id)
        )
    )


def count_print(session, receipt_id: int) -> int:
    """One more print of the receipt; returns how many there have been (2 and on: 补打)."""
    session.execute(
        update(FeeReceipt).where(FeeReceipt.id == receipt_id).values(prints=FeeReceipt.prints + 1)
    )
    return session.scalar(select(FeeReceipt.prints).where(FeeReceipt.id == receipt_id))
