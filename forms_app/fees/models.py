"""收费: bills and their lines, the append-only 收费台帐 (ledger entries), receipts with their
gap-free numbers, meter readings, banking, reconciliations and the chase of arrears.

Money is integer 分 everywhere (``amount_fen``); quantities and unit prices are kept as the
Decimal text they were computed from. Every table carries the community key. Nothing is ever
updated but what is stated below (a receipt's void and print count, an entry's banking batch):
a mistake is reversed by an opposite entry with a reason.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.extensions import db

# Who a bill is for: the household, or the developer for a room not yet handed over (未交房).
HOUSEHOLD, DEVELOPER = "household", "developer"

# Bill lines: a charge computed when the bill was issued, or an adjustment added later with a
# reason (past bills change only this way).
CHARGE, ADJUSTMENT, CARRIED = "charge", "adjustment", "carried"
LINE_KINDS = {CHARGE: "费用", ADJUSTMENT: "调整", CARRIED: "过户结转"}

# Ledger entries. ``amount_fen`` is always positive; the kind says which way it goes.
PAYMENT = "payment"  # money received against bills (and any prepaid remainder)
PREPAYMENT_APPLIED = "prepay_applied"  # prepaid balance applied to a bill
WAIVER = "waiver"  # 减免, approved by the 经理
REFUND = "refund"  # money paid back (an overpayment, a balance)
DEPOSIT_IN = "deposit_in"  # a deposit received (装修押金, 彩条布押金): held, not earned
DEPOSIT_OUT = "deposit_out"  # a deposit refunded
SERVICE = "service"  # a 特约服务 sold at the counter and paid at once
REVERSAL = "reversal"  # the opposite of an earlier entry, with a reason
ENTRY_KINDS = {
    PAYMENT: "收款",
    PREPAYMENT_APPLIED: "预存抵扣",
    WAIVER: "减免",
    REFUND: "退款",
    DEPOSIT_IN: "收取押金",
    DEPOSIT_OUT: "退还押金",
    SERVICE: "特约服务收费",
    REVERSAL: "冲正",
}

# How money was paid. ``online`` is kept for a payment provider added later: its entries carry
# the provider's name and reference, and the ledger does not change.
METHODS = {
    "cash": "现金",
    "cheque": "支票",
    "transfer": "银行转账",
    "scan": "扫码支付（柜台）",
    "online": "线上支付",
}
# What is banked from the counter: cash and cheques.
BANKED_METHODS = ("cash", "cheque")
UNBANKED_WHERE = "banking_id IS NULL AND method IN ('cash', 'cheque')"


class FeeBill(db.Model):
    """One room's bill for one billing period (``period`` = its first month, YYYY-MM) and one
    payer: a room handed over inside the period has the developer's bill for the days before
    交房 and the household's for the rest."""

    __tablename__ = "fee_bill"
    __table_args__ = (
        UniqueConstraint(
            "community", "room_id", "period", "payer_kind", name="uq_fee_bill_room_period_payer"
        ),
        Index("ix_fee_bill_period", "community", "period"),
        # The open bills (settled_on IS NULL), by period: arrears and the month's opening.
        Index("ix_fee_bill_settled", "community", "settled_on", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[int] = mapped_column(ForeignKey("household_room.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    months: Mapped[int] = mapped_column(Integer, default=1)
    payer_kind: Mapped[str] = mapped_column(String(16), default=HOUSEHOLD)
    payer_name: Mapped[str] = mapped_column(String(60), default="")
    due_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(64))
    # Kept in step with the lines and the live ledger entries, in the same transaction as any
    # write to them (``accounts.refresh_bills``), so the arrears and the figures read open
    # bills without summing every line and entry: the amount (sum of the lines), what settled
    # it (live payments, applied prepayments and waivers), and the day it was fully settled
    # (None while something is due).
    amount_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    settled_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    settled_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class FeeBillLine(db.Model):
    """One line of a bill: quantity × unit price = amount (分), or an adjustment with a reason."""

    __tablename__ = "fee_bill_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    bill_id: Mapped[int] = mapped_column(ForeignKey("fee_bill.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=CHARGE)
    item: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[str] = mapped_column(String(24), default="")
    unit: Mapped[str] = mapped_column(String(12), default="")
    unit_price: Mapped[str] = mapped_column(String(24), default="")
    amount_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class FeeReceipt(db.Model):
    """A 收据: its number is gap-free per community, taken under a row lock; a void keeps the
    number; each print after the first says 补打."""

    __tablename__ = "fee_receipt"
    __table_args__ = (UniqueConstraint("community", "number", name="uq_fee_receipt_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("household_room.id"), nullable=True)
    payer: Mapped[str] = mapped_column(String(60))
    method: Mapped[str] = mapped_column(String(16))
    total_fen: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(64))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    voided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    void_reason: Mapped[str] = mapped_column(Text, default="")
    prints: Mapped[int] = mapped_column(Integer, default=0)


class FeeReceiptCounter(db.Model):
    """The next receipt number of a community; its row is locked while a number is taken."""

    __tablename__ = "fee_receipt_counter"

    community: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)


class FeeEntry(db.Model):
    """One entry of the 收费台帐. Append-only: a mistake is reversed by a ``reversal`` entry
    naming it (``reverses_id``, once) with a reason."""

    __tablename__ = "fee_entry"
    __table_args__ = (
        Index("ix_fee_entry_room", "room_id", "created_at"),
        Index("ix_fee_entry_day", "community", "day"),
        # The counter's cash and cheques not banked yet (a few days' worth, however long the
        # ledger grows).
        Index(
            "ix_fee_entry_unbanked",
            "community",
            "day",
            sqlite_where=text(UNBANKED_WHERE),
            postgresql_where=text(UNBANKED_WHERE),
        ),
        # A deposit is refunded once: one deposit_out per deposit reference.
        UniqueConstraint("community", "kind", "deposit_ref", name="uq_fee_entry_deposit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("household_room.id"), nullable=True)
    bill_id: Mapped[int | None] = mapped_column(
        ForeignKey("fee_bill.id"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    payer: Mapped[str] = mapped_column(String(60), default="")
    receipt_id: Mapped[int | None] = mapped_column(
        ForeignKey("fee_receipt.id"), nullable=True, index=True
    )
    # 装修押金 of application 12: "renovation:12"; 彩条布: "tarpaulin:12".
    deposit_ref: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("fee_entry.id"), nullable=True, unique=True
    )
    # Waivers and refunds: the 经理 who approved them.
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A payment provider added later (线上支付): its name and its own reference.
    provider: Mapped[str | None] = mapped_column(String(32), nullable=True)
    provider_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # One form's nonce: the same payment sent twice is recorded once.
    submission_nonce: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    day: Mapped[date] = mapped_column(Date)  # the local business day (the daily close)
    banking_id: Mapped[int | None] = mapped_column(
        ForeignKey("fee_banking.id"), nullable=True, index=True
    )
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FeeBanking(db.Model):
    """The counter's cash and cheques banked, with the bank's deposit slip number (财务)."""

    __tablename__ = "fee_banking"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32), index=True)
    cash_fen: Mapped[int] = mapped_column(Integer)
    cheque_fen: Mapped[int] = mapped_column(Integer)
    slip_number: Mapped[str] = mapped_column(String(40))
    banked_on: Mapped[date] = mapped_column(Date)
    banked_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FeeReconciliation(db.Model):
    """The 收费台帐 reconciled with the accountant (seed: every three days): the period, both
    totals, the difference and its explanation."""

    __tablename__ = "fee_reconciliation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32), index=True)
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    ledger_fen: Mapped[int] = mapped_column(Integer)
    accounts_fen: Mapped[int] = mapped_column(Integer)
    difference_fen: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(Text, default="")
    service_name: Mapped[str] = mapped_column(String(64))
    finance_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MeterReading(db.Model):
    """One meter read for one period: a room's (``room:<id>:<item>``) or a public meter."""

    __tablename__ = "fee_meter_reading"
    __table_args__ = (
        UniqueConstraint("community", "meter", "period", name="uq_fee_meter_reading_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    meter: Mapped[str] = mapped_column(String(60))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("household_room.id"), nullable=True)
    item: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    reading: Mapped[str] = mapped_column(String(24))
    previous: Mapped[str | None] = mapped_column(String(24), nullable=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    read_on: Mapped[date] = mapped_column(Date)
    entered_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# The seed's chase of arrears: 电话催交 → 书面通知 → 上门收款, and those who refuse.
CHASE_STEPS = {
    "phone": "电话催交",
    "letter": "书面通知",
    "visit": "上门收款",
    "refused": "拒不交纳",
}


class FeeChase(db.Model):
    """One step of chasing a household's arrears, with its outcome."""

    __tablename__ = "fee_chase"
    __table_args__ = (Index("ix_fee_chase_room", "room_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[int] = mapped_column(ForeignKey("household_room.id"))
    step: Mapped[str] = mapped_column(String(16))
    arrears_fen: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def step_label(self) -> str:
        return CHASE_STEPS.get(self.step, self.step)


# A 减免 asked for at the counter waits for the 经理: only an approved request writes the
# ledger's ``waiver`` entry (named here); a refused one writes nothing.
WAIVER_PENDING, WAIVER_APPROVED, WAIVER_REFUSED = "pending", "approved", "refused"
WAIVER_STATES = {WAIVER_PENDING: "待经理审批", WAIVER_APPROVED: "已批准", WAIVER_REFUSED: "未批准"}


class FeeWaiverRequest(db.Model):
    """A 减免 of one bill asked for by the desk with its reason, decided once by the 经理."""

    __tablename__ = "fee_waiver_request"
    __table_args__ = (Index("ix_fee_waiver_request_state", "community", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[int] = mapped_column(ForeignKey("household_room.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("fee_bill.id"))
    amount_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=WAIVER_PENDING)
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("fee_entry.id"), nullable=True)
    submission_nonce: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)

    @property
    def state_label(self) -> str:
        return WAIVER_STATES.get(self.state, self.state)
