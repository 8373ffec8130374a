"""What a household owes and holds, computed from the bills' lines and the ledger's entries —
the one place every page, letter, figure and export reads amounts from.

- A bill's amount is the sum of its lines (charges, later adjustments, carried arrears).
- A bill is settled by ``payment``, ``prepay_applied`` and ``waiver`` entries naming it.
- A household's prepaid balance: payments naming no bill, less what was applied to bills and
  refunded.
- Deposits held: ``deposit_in`` less ``deposit_out`` per deposit reference.
- An entry reversed by a ``reversal`` counts for nothing; the reversal itself moves no money
  (both stay in the ledger).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from ..core.extensions import db
from .models import (
    DEPOSIT_IN,
    DEPOSIT_OUT,
    PAYMENT,
    PREPAYMENT_APPLIED,
    REFUND,
    REVERSAL,
    WAIVER,
    FeeBill,
    FeeBillLine,
    FeeEntry,
)

SETTLING = (PAYMENT, PREPAYMENT_APPLIED, WAIVER)


def _reversed_ids():
    """Ids of entries a reversal cancelled (a subquery)."""
    return select(FeeEntry.reverses_id).where(FeeEntry.reverses_id.is_not(None))


def live_entries():
    """A condition: the entry counts (neither a reversal nor reversed)."""
    return (FeeEntry.kind != REVERSAL) & FeeEntry.id.not_in(_reversed_ids())


def bill_amounts(bill_ids: list[int]) -> dict[int, int]:
    """Each bill's amount in 分: the sum of its lines."""
    if not bill_ids:
        return {}
    rows = db.session.execute(
        select(FeeBillLine.bill_id, func.sum(FeeBillLine.amount_fen))
        .where(FeeBillLine.bill_id.in_(bill_ids))
        .group_by(FeeBillLine.bill_id)
    )
    found = dict.fromkeys(bill_ids, 0)
    found.update({bill_id: int(total or 0) for bill_id, total in rows})
    return found


def bill_settlements(bill_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per bill, what settled it by kind: {bill id: {"payment": 分, "prepay_applied": 分,
    "waiver": 分}} (live entries only)."""
    found: dict[int, dict[str, int]] = {bill_id: dict.fromkeys(SETTLING, 0) for bill_id in bill_ids}
    if not bill_ids:
        return found
    rows = db.session.execute(
        select(FeeEntry.bill_id, FeeEntry.kind, func.sum(FeeEntry.amount_fen))
        .where(FeeEntry.bill_id.in_(bill_ids), FeeEntry.kind.in_(SETTLING), live_entries())
        .group_by(FeeEntry.bill_id, FeeEntry.kind)
    )
    for bill_id, kind, total in rows:
        found[bill_id][kind] = int(total or 0)
    return found


def bills_due(bill_ids: list[int]) -> dict[int, int]:
    """What is still due on each bill (amount less what settled it; never below zero)."""
    amounts = bill_amounts(bill_ids)
    settled = bill_settlements(bill_ids)
    return {
        bill_id: max(0, amounts[bill_id] - sum(settled[bill_id].values())) for bill_id in bill_ids
    }


def rooms_due(room_ids: list[int]) -> dict[int, int]:
    """What each room still owes over all its bills (分), for a list of households at once."""
    due = dict.fromkeys(room_ids, 0)
    if not room_ids:
        return due
    bills = db.session.execute(
        select(FeeBill.id, FeeBill.room_id).where(FeeBill.room_id.in_(room_ids))
    ).all()
    dues = bills_due([bill_id for bill_id, _ in bills])
    for bill_id, room_id in bills:
        due[room_id] += dues[bill_id]
    return due


def room_bills(room_id: int) -> list[FeeBill]:
    """The room's bills, newest period first."""
    return list(
        db.session.scalars(
            select(FeeBill).where(FeeBill.room_id == room_id).order_by(FeeBill.period.desc())
        )
    )


def prepaid_balance(room_id: int) -> int:
    """The household's prepaid balance in 分 (预存余额)."""
    rows = dict(
        db.session.execute(
            select(FeeEntry.kind, func.sum(FeeEntry.amount_fen))
            .where(
                FeeEntry.room_id == room_id,
                FeeEntry.kind.in_((PAYMENT, PREPAYMENT_APPLIED, REFUND)),
                live_entries(),
                (FeeEntry.bill_id.is_(None)) | (FeeEntry.kind != PAYMENT),
            )
            .group_by(FeeEntry.kind)
        ).all()
    )
    return (
        int(rows.get(PAYMENT) or 0)
        - int(rows.get(PREPAYMENT_APPLIED) or 0)
        - int(rows.get(REFUND) or 0)
    )


def deposits_held(room_id: int) -> dict[str, int]:
    """Deposits the property holds for the household: {deposit reference: 分} (> 0 only)."""
    held: dict[str, int] = defaultdict(int)
    for ref, kind, total in db.session.execute(
        select(FeeEntry.deposit_ref, FeeEntry.kind, func.sum(FeeEntry.amount_fen))
        .where(
            FeeEntry.room_id == room_id,
            FeeEntry.kind.in_((DEPOSIT_IN, DEPOSIT_OUT)),
            live_entries(),
        )
        .group_by(FeeEntry.deposit_ref, FeeEntry.kind)
    ):
        held[ref] += int(total or 0) if kind == DEPOSIT_IN else -int(total or 0)
    return {ref: amount for ref, amount in held.items() if amount > 0}


def room_receipts(room_id: int, since=None) -> list:
    """The household's receipts (收据), newest first; ``since`` (a local date): only those
    issued on or after it (a new owner sees their own). The owner's receipt page is
    ``fees_receipt.receipt`` (``receipt_views.py``)."""
    from ..core.clock import local_date
    from .models import FeeReceipt

    found = db.session.scalars(
        select(FeeReceipt).where(FeeReceipt.room_id == room_id).order_by(FeeReceipt.id.desc())
    )
    return [r for r in found if since is None or local_date(r.issued_at) >= since]


def refresh_bills(connection, bill_ids) -> None:
    """Bring the bills' kept totals in step with their lines and live entries: call it in the
    same transaction as any write to a bill's lines or to an entry naming a bill (an
    adjustment, a payment, a waiver, an applied prepayment, a reversal). ``connection`` is
    the transaction's Session or Connection. Recomputed from the source rows, never
    incremented, so a bill's kept amount is always what its lines and entries say."""
    from sqlalchemy import update

    ids = sorted(set(bill_ids))
    if not ids:
        return
    amounts = dict.fromkeys(ids, 0)
    amounts.update(
        connection.execute(
            select(FeeBillLine.bill_id, func.sum(FeeBillLine.amount_fen))
            .where(FeeBillLine.bill_id.in_(ids))
            .group_by(FeeBillLine.bill_id)
        ).all()
    )
    settled = {bill_id: (0, None) for bill_id in ids}
    for bill_id, total, last_day in connection.execute(
        select(FeeEntry.bill_id, func.sum(FeeEntry.amount_fen), func.max(FeeEntry.day))
        .where(FeeEntry.bill_id.in_(ids), FeeEntry.kind.in_(SETTLING), live_entries())
        .group_by(FeeEntry.bill_id)
    ):
        settled[bill_id] = (int(total or 0), last_day)
    kept = {
        row.id: row
        for row in connection.execute(
            select(
                FeeBill.id,
                FeeBill.amount_fen,
                FeeBill.settled_fen,
                FeeBill.settled_on,
                FeeBill.due_on,
            ).where(FeeBill.id.in_(ids))
        )
    }
    for bill_id in ids:
        amount = int(amounts[bill_id] or 0)
        paid, last_day = settled[bill_id]
        if paid >= amount:
            on = last_day or kept[bill_id].due_on
        else:
            on = None
        row = kept[bill_id]
        if (row.amount_fen, row.settled_fen, row.settled_on) != (amount, paid, on):
            connection.execute(
                update(FeeBill)
                .where(FeeBill.id == bill_id)
                .values(amount_fen=amount, settled_fen=paid, settled_on=on)
            )


def kept_totals_problems(community: str) -> list[int]:
    """Bills whose kept totals disagree with their lines and live entries (none, ever: the
    tests check it after every kind of write)."""
    bills = db.session.execute(
        select(FeeBill.id, FeeBill.amount_fen, FeeBill.settled_fen).where(
            FeeBill.community == community
        )
    ).all()
    ids = [b.id for b in bills]
    amounts = bill_amounts(ids)
    settled = bill_settlements(ids)
    return [
        b.id
        for b in bills
        if b.amount_fen != amounts[b.id] or b.settled_fen != sum(settled[b.id].values())
    ]


def _note_bills(session, _context, _instances) -> None:
    """Before a flush: the bills whose lines or settling entries this flush writes."""
    touched = session.info.setdefault("fee_bills_touched", set())
    reversed_ids = session.info.setdefault("fee_entries_reversed", set())
    for obj in session.new:
        if isinstance(obj, (FeeBillLine, FeeEntry)) and obj.bill_id is not None:
            touched.add(obj.bill_id)
        if isinstance(obj, FeeEntry) and obj.reverses_id is not None:
            reversed_ids.add(obj.reverses_id)


def _refresh_noted(session, _context) -> None:
    """After the flush, in its transaction: refresh those bills' kept totals, so no writer of
    lines or entries through the session can leave them behind."""
    touched = session.info.pop("fee_bills_touched", set())
    reversed_ids = session.info.pop("fee_entries_reversed", set())
    if not touched and not reversed_ids:
        return
    connection = session.connection()
    if reversed_ids:
        touched |= {
            bill_id
            for bill_id in connection.execute(
                select(FeeEntry.bill_id).where(FeeEntry.id.in_(sorted(reversed_ids)))
            ).scalars()
            if bill_id is not None
        }
    refresh_bills(connection, touched)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, FeeBill) and obj.id in touched:
            session.expire(obj, ["amount_fen", "settled_fen", "settled_on"])


def keep_bill_totals() -> None:
    """Listen on every ORM session once (fees' init_app): bill lines and ledger entries added
    through a session refresh their bills' kept totals in the same transaction. Core inserts
    on a connection (the bulk issuing of bills) set the totals themselves or call
    ``refresh_bills``."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", _note_bills):
        event.listen(Session, "before_flush", _note_bills)
        event.listen(Session, "after_flush_postexec", _refresh_noted)
