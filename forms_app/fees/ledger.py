"""The 收费台帐's write paths: every money event at the counter is one or more ledger entries
written in one transaction, with its receipt when money came in; nothing is ever updated or
deleted but a receipt's void mark and an entry's banking batch.

- **Payments** against one or more bills (oldest period first; partial payment allowed). What
  is left after the chosen bills is kept as a prepayment only when 预存 is chosen, else the
  payment is refused. One ``payment`` entry per bill, one naming no bill for the prepayment,
  one receipt for them all.
- **Prepaid balance applied** to bills: ``prepay_applied`` entries (no receipt: no money moves).
- **特约服务** sold at the counter: a ``service`` entry at the fee file's price × quantity.
- **Deposits** (装修押金, 彩条布押金) of a renovation application: ``deposit_in`` with
  ``deposit_ref`` ``renovation:<id>`` / ``tarpaulin:<id>`` at the fee file's amount;
  ``deposit_out`` once (a unique constraint). The 装修押金 is refunded by renovation's
  退还押金 step through the event hook (``on_renovation_refund``), never at the counter, so the
  workflow and the ledger always agree.
- **减免** asked for by the desk with a reason waits for the 经理 (``FeeWaiverRequest``); only
  an approval writes the ``waiver`` entry (``approved_by``). A 经理's own request is approved at
  once.
- **Refunds** of a prepaid balance: the 经理 only (``approved_by``).
- **Mistakes** are reversed by a ``reversal`` entry naming the entry (``reverses_id``, unique:
  once) with a reason; a reversal is never reversed. An entry on a receipt is reversed by
  voiding the receipt (作废: it keeps its number, every entry on it is reversed).

Each form carries a nonce stored on the first entry (``submission_nonce``, unique): the same
form sent twice, or by two desks at once, is recorded once and the second is told 已记录.
Writes lock the household's room row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serializes anyway), so two desks never settle the same bill twice.

**Online payment later.** A provider (WeChat Pay, Alipay …) adds a module that, on its
verified notification, calls ``record_payment`` with ``method="online"``, ``provider`` and the
provider's own transaction id as ``provider_ref`` and nonce: the entries, the receipt, the
daily ledger, the reconciliation and every amount read through ``accounts.py`` stay as they
are. Online money is never in the counter's cash to bank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app, has_request_context, request
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from ..accounts.access import current_staff
from ..accounts.audit import record_audit
from ..accounts.models import StaffUser, actor_label
from ..core.clock import today
from ..core.community import community_key
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.fee_standards import current_fee_standards, to_fen, yuan_text
from ..core.refusals import Refused
from ..core.tokens import is_nonce
from ..households.models import HouseholdRoom
from ..web.typed_input import clean_line, clean_text, is_unreadable
from . import accounts
from .models import (
    BANKED_METHODS,
    DEPOSIT_IN,
    DEPOSIT_OUT,
    ENTRY_KINDS,
    METHODS,
    PAYMENT,
    PREPAYMENT_APPLIED,
    REFUND,
    REVERSAL,
    SERVICE,
    WAIVER,
    WAIVER_APPROVED,
    WAIVER_PENDING,
    WAIVER_REFUSED,
    FeeBanking,
    FeeBill,
    FeeEntry,
    FeeReceipt,
    FeeReconciliation,
    FeeWaiverRequest,
)
from .receipts import issue_receipt, number_text

COMMAND_LINE = "命令行"
# The ways money is taken at the counter (``online`` is a provider's, see the docstring).
COUNTER_METHODS = ("cash", "cheque", "transfer", "scan")
MAX_YUAN = Decimal("10000000")  # a typed amount above this is a slip of the keyboard
MAX_REASON = 500
MAX_PAYER = 60
MAX_QUANTITY = 10000
# Deposits the counter takes, by the fee file's key, each against a renovation application.
DEPOSIT_KEYS = ("renovation", "tarpaulin")
# The seed: 每三天与财务会计核对收费台帐.
RECONCILE_EVERY_DAYS = 3
# Which way an entry moves money at the counter: in (+1), out (-1), none (0).
DIRECTION = {PAYMENT: 1, SERVICE: 1, DEPOSIT_IN: 1, REFUND: -1, DEPOSIT_OUT: -1}


class LedgerRefused(Refused):
    """A money event refused: nothing was written; ``message`` says why."""


class AlreadyRecorded(LedgerRefused):
    """The same form was recorded before (its nonce): nothing was added."""

    def __init__(self, receipt_id: int | None = None):
        super().__init__("这笔已记录（同一张表单只记一次），没有重复记账。")
        self.receipt_id = receipt_id


# ----- what people type ---------------------------------------------------------------------


_AMOUNT = re.compile(r"([0-9]{1,12})(?:\.([0-9]+))?")
# Full-width digits and signs typed with a Chinese input method read as their ASCII forms
# (only those: "²" or "٣" are no digits here).
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _ascii(text) -> str:
    return (text if isinstance(text, str) else "").translate(_FULL_WIDTH)


def parse_yuan(text, label: str = "金额", field: str = "amount", allow_zero: bool = False) -> int:
    """A typed amount of 元 as integer 分, read with Decimal: at most two decimals, positive
    (or zero when allowed), at most 10,000,000 元. Refused with a Chinese message."""
    raw = _ascii(text)
    raw = raw.strip().removeprefix("¥").removesuffix("元").replace(",", "").strip()
    if not raw:
        raise LedgerRefused(f"请填写{label}。", field)
    if raw.startswith("-"):
        raise LedgerRefused(f"{label}不能是负数。", field)
    matched = _AMOUNT.fullmatch(raw.removeprefix("+"))
    if matched is None:
        raise LedgerRefused(f"{label}须是以元为单位的数字，如 1280.50。", field)
    if matched[2] is not None and len(matched[2].rstrip("0")) > 2:
        raise LedgerRefused(f"{label}最多两位小数（到分）。", field)
    try:
        amount = Decimal(matched.group(0))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise LedgerRefused(f"{label}须是数字。", field) from None
    if amount > MAX_YUAN:
        raise LedgerRefused(f"{label}超过 10,000,000 元，请核对。", field)
    if amount == 0 and not allow_zero:
        raise LedgerRefused(f"{label}须大于 0。", field)
    return to_fen(amount)


def clean_reason(text, label: str = "原因", field: str = "reason", required: bool = True) -> str:
    reason = clean_text(text if isinstance(text, str) else "") or ""
    if is_unreadable(reason):
        raise LedgerRefused("含有无法识别的字符，请删除后重新填写。", field)
    if required and not reason:
        raise LedgerRefused(f"请填写{label}。", field)
    if len(reason) > MAX_REASON:
        raise LedgerRefused(f"{label}不超过 {MAX_REASON} 字。", field)
    return reason


def clean_payer(text) -> str:
    payer = clean_line(text if isinstance(text, str) else "") or ""
    if is_unreadable(payer):
        raise LedgerRefused("交款人含有无法识别的字符，请重新填写。", "payer")
    if not payer:
        raise LedgerRefused("请填写交款人姓名。", "payer")
    if len(payer) > MAX_PAYER:
        raise LedgerRefused(f"交款人不超过 {MAX_PAYER} 字。", "payer")
    return payer


def check_method(method, allowed=COUNTER_METHODS) -> str:
    if method not in allowed:
        raise LedgerRefused("请选择付款方式。", "method")
    return method


def check_nonce(nonce) -> str:
    if not is_nonce(nonce):
        raise LedgerRefused("表单已失效，请刷新页面后重新填写。")
    return nonce


# ----- shared parts of every write ----------------------------------------------------------


def actor_name() -> str:
    staff = current_staff() if has_request_context() else None
    return actor_label(staff) if staff else COMMAND_LINE


def _locked_room(session, room_id: int) -> HouseholdRoom:
    """The household's room, its row locked until the transaction ends (PostgreSQL)."""
    room = session.scalar(
        select(HouseholdRoom)
        .where(HouseholdRoom.id == room_id, HouseholdRoom.community == community_key())
        .with_for_update()
    )
    if room is None:
        raise LedgerRefused("没有这个房屋。")
    return room


def _entry(session, **values) -> FeeEntry:
    values.setdefault("community", community_key())
    values.setdefault("day", today())
    values.setdefault("actor", actor_name())
    entry = FeeEntry(**values)
    session.add(entry)
    return entry


def _recorded(nonce: str | None) -> AlreadyRecorded | None:
    """The refusal for a nonce recorded before (an entry or a waiver request), else None."""
    if not nonce:
        return None
    found = db.session.execute(
        select(FeeEntry.id, FeeEntry.receipt_id).where(FeeEntry.submission_nonce == nonce)
    ).first()
    if found is not None:
        return AlreadyRecorded(found.receipt_id)
    request_id = db.session.scalar(
        select(FeeWaiverRequest.id).where(FeeWaiverRequest.submission_nonce == nonce)
    )
    return AlreadyRecorded() if request_id is not None else None


class _Write:
    """``write_transaction`` for one form: refuses a nonce seen before, and turns the
    IntegrityError of a racing second send into ``AlreadyRecorded`` (or ``conflict``, the
    refusal for another unique rule the write may meet, such as a deposit taken twice)."""

    def __init__(self, nonce: str | None, conflict: str | None = None):
        self.nonce = nonce
        self.conflict = conflict
        self._context = None

    def __enter__(self):
        self._context = write_transaction()
        session = self._context.__enter__()
        already = _recorded(self.nonce)
        if already is not None:
            self._context.__exit__(type(already), already, None)
            raise already
        return session

    def __exit__(self, kind, error, trace):
        try:
            handled = self._context.__exit__(kind, error, trace)
        except IntegrityError:  # the commit itself failed (rolled back)
            kind = IntegrityError
            handled = False
            if not self._translate():
                raise
        if kind is not None and issubclass(kind, IntegrityError):
            self._translate()
        return handled

    def _translate(self) -> bool:
        """Raise the refusal a unique rule stands for; False when it is none of ours."""
        db.session.rollback()
        already = _recorded(self.nonce)
        if already is not None:
            raise already from None
        if self.conflict:
            raise LedgerRefused(self.conflict) from None
        return False


def _bills_of_room(session, room_id: int, bill_ids) -> list[FeeBill]:
    ids = sorted({int(b) for b in bill_ids})
    if not ids:
        return []
    bills = session.scalars(
        select(FeeBill).where(
            FeeBill.id.in_(ids),
            FeeBill.room_id == room_id,
            FeeBill.community == community_key(),
        )
    ).all()
    if len(bills) != len(ids):
        raise LedgerRefused("所选账单不属于这个房屋，请刷新页面后重新选择。", "bills")
    return sorted(bills, key=lambda b: (b.period, b.id))


def _allocate(amount_fen: int, bills: list[FeeBill]) -> list[tuple[FeeBill, int]]:
    """The amount spread over the bills, oldest period first, up to each bill's due."""
    due = accounts.bills_due([b.id for b in bills])
    plan, left = [], amount_fen
    for bill in bills:
        share = min(left, due[bill.id])
        if share > 0:
            plan.append((bill, share))
            left -= share
    return plan


# ----- payments, prepayment, services, deposits -----------------------------------------------


def record_payment(
    room_id: int,
    *,
    payer: str,
    method: str,
    amount_fen: int,
    bill_ids=(),
    prepay: bool = False,
    nonce: str | None = None,
    provider: str | None = None,
    provider_ref: str | None = None,
) -> FeeReceipt:
    """Money received against the room's chosen bills (oldest first; partial allowed), the
    remainder kept as a prepayment only when ``prepay``; one receipt. Returns the receipt."""
    payer = clean_payer(payer)
    check_method(method, (*COUNTER_METHODS, "online") if provider else COUNTER_METHODS)
    if not isinstance(amount_fen, int) or not 0 < amount_fen <= to_fen(MAX_YUAN):
        raise LedgerRefused("金额须大于 0 且不超过 10,000,000 元。", "amount")
    with _Write(nonce) as session:
        room = _locked_room(session, room_id)
        bills = _bills_of_room(session, room.id, bill_ids)
        if not bills and not prepay:
            raise LedgerRefused("请选择要缴的账单，或勾选“预存”。", "bills")
        plan = _allocate(amount_fen, bills)
        settled = sum(share for _, share in plan)
        remainder = amount_fen - settled
        if remainder and not prepay:
            if not plan:
                raise LedgerRefused("所选账单已经缴清；如要预存请勾选“预存”。", "bills")
            raise LedgerRefused(
                f"收款 {yuan_text(amount_fen)} 元超过所选账单应缴的 {yuan_text(settled)} 元；"
                "多出的部分如要作为预存，请勾选“预存”，否则请改正金额。",
                "amount",
            )
        receipt = issue_receipt(
            session,
            community=room.community,
            room_id=room.id,
            payer=payer,
            method=method,
            total_fen=amount_fen,
            actor=actor_name(),
        )
        common = dict(
            room_id=room.id,
            kind=PAYMENT,
            method=method,
            payer=payer,
            receipt_id=receipt.id,
            provider=provider,
            provider_ref=provider_ref,
        )
        first = None
        for bill, share in plan:
            entry = _entry(session, bill_id=bill.id, amount_fen=share, **common)
            first = first or entry
        if remainder:
            entry = _entry(session, bill_id=None, amount_fen=remainder, reason="预存", **common)
            first = first or entry
        first.submission_nonce = nonce
        record_audit(
            "fees.payment",
            target=room.label,
            detail=f"收据 {number_text(receipt.number)}：{yuan_text(amount_fen)} 元，"
            f"{METHODS[method]}，交款人 {payer}",
        )
    return receipt


def apply_prepaid(room_id: int, bill_ids, nonce: str | None = None) -> int:
    """The prepaid balance applied to the chosen bills (oldest first); returns 分 applied."""
    with _Write(nonce) as session:
        room = _locked_room(session, room_id)
        bills = _bills_of_room(session, room.id, bill_ids)
        if not bills:
            raise LedgerRefused("请选择要用预存余额抵扣的账单。", "bills")
        balance = accounts.prepaid_balance(room.id)
        if balance <= 0:
            raise LedgerRefused("这户没有预存余额。", "bills")
        plan = _allocate(balance, bills)
        if not plan:
            raise LedgerRefused("所选账单已经缴清。", "bills")
        first = None
        for bill, share in plan:
            entry = _entry(
                session,
                room_id=room.id,
                bill_id=bill.id,
                kind=PREPAYMENT_APPLIED,
                amount_fen=share,
                reason="预存余额抵扣",
            )
            first = first or entry
        first.submission_nonce = nonce
        applied = sum(share for _, share in plan)
        record_audit("fees.prepay_apply", target=room.label, detail=f"{yuan_text(applied)} 元")
    return applied


def parse_quantity(text) -> int:
    raw = _ascii(text).strip()
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 0 < int(raw) <= MAX_QUANTITY:
        raise LedgerRefused(f"数量须是 1–{MAX_QUANTITY} 的整数。", "quantity")
    return int(raw)


def sell_service(
    room_id: int, *, service_id: str, quantity: int, payer: str, method: str, nonce=None
) -> FeeReceipt:
    """A 特约服务 paid at the counter: the fee file's price × quantity, with its receipt."""
    service = current_fee_standards().service(service_id) if isinstance(service_id, str) else None
    if service is None:
        raise LedgerRefused("请选择特约服务项目。", "service")
    payer = clean_payer(payer)
    check_method(method)
    amount = to_fen(service.unit_price * quantity)
    if amount <= 0:
        raise LedgerRefused("这项服务的价格为 0，不需要收款。", "service")
    with _Write(nonce) as session:
        room = _locked_room(session, room_id)
        receipt = issue_receipt(
            session,
            community=room.community,
            room_id=room.id,
            payer=payer,
            method=method,
            total_fen=amount,
            actor=actor_name(),
        )
        _entry(
            session,
            room_id=room.id,
            kind=SERVICE,
            amount_fen=amount,
            method=method,
            payer=payer,
            receipt_id=receipt.id,
            reason=f"{service.name} {quantity}{service.unit} × {service.unit_price}元",
            submission_nonce=nonce,
        )
        record_audit(
            "fees.service",
            target=room.label,
            detail=f"收据 {number_text(receipt.number)}：{service.name} {quantity}{service.unit}，"
            f"{yuan_text(amount)} 元",
        )
    return receipt


def deposit_label(deposit_ref: str | None) -> str:
    """装修押金（申请 #12）: what a deposit reference means to people."""
    if not deposit_ref or ":" not in deposit_ref:
        return deposit_ref or ""
    key, _, record = deposit_ref.partition(":")
    deposit = current_fee_standards().deposit(key)
    name = deposit.name if deposit else key
    return f"{name}（装修申请 #{record}）"


def renovation_applications(room: HouseholdRoom) -> list[tuple[int, str, str]]:
    """The room's renovation applications as (id, ZX… reference, state label), newest first,
    read through the household records renovation registers (fees never imports renovation):
    each record's back-office page names its application id."""
    from ..households.records import records_for

    if room.unit is None:
        return []
    adapter = current_app.url_map.bind("localhost")
    root = request.script_root if has_request_context() else ""
    found = []
    for record in records_for(room.building, room.unit, room.number):
        if record.kind != "装修申请" or not record.staff_url:
            continue
        path = record.staff_url.removeprefix(root) if root else record.staff_url
        try:
            _, args = adapter.match(path, method="GET")
        except Exception:  # noqa: BLE001 - a page that moved names no application
            continue
        if isinstance(args.get("application_id"), int):
            found.append((args["application_id"], record.reference, record.state))
    return found


def receive_deposit(
    room_id: int, *, key: str, application_id: int, payer: str, method: str, nonce=None
) -> FeeReceipt:
    """A deposit of a renovation application received at the fee file's amount, receipted."""
    deposit = current_fee_standards().deposit(key) if key in DEPOSIT_KEYS else None
    if deposit is None:
        raise LedgerRefused("请选择押金项目（本小区收取的押金）。", "deposit")
    payer = clean_payer(payer)
    check_method(method)
    ref = f"{key}:{application_id}"
    with _Write(nonce, f"{deposit_label(ref)}已经收取过，不能再收一次。") as session:
        room = _locked_room(session, room_id)
        if application_id not in {a[0] for a in renovation_applications(room)}:
            raise LedgerRefused("请选择这户的装修申请。", "application")
        taken = session.scalar(
            select(FeeEntry.id).where(
                FeeEntry.community == room.community,
                FeeEntry.kind == DEPOSIT_IN,
                FeeEntry.deposit_ref == ref,
            )
        )
        if taken is not None:
            raise LedgerRefused(
                f"{deposit_label(ref)}已经收取过（台帐 #{taken}），不能再收一次。", "deposit"
            )
        receipt = issue_receipt(
            session,
            community=room.community,
            room_id=room.id,
            payer=payer,
            method=method,
            total_fen=deposit.amount_fen,
            actor=actor_name(),
        )
        _entry(
            session,
            room_id=room.id,
            kind=DEPOSIT_IN,
            amount_fen=deposit.amount_fen,
            method=method,
            payer=payer,
            receipt_id=receipt.id,
            deposit_ref=ref,
            reason=deposit.name,
            submission_nonce=nonce,
        )
        record_audit(
            "fees.deposit",
            target=room.label,
            detail=f"收据 {number_text(receipt.number)}：收取{deposit_label(ref)} "
            f"{yuan_text(deposit.amount_fen)} 元",
        )
    return receipt


def _deposit_in(session, community: str, ref: str) -> FeeEntry | None:
    """The live deposit_in of a reference (None when none was received, or it was reversed)."""
    return session.scalar(
        select(FeeEntry).where(
            FeeEntry.community == community,
            FeeEntry.kind == DEPOSIT_IN,
            FeeEntry.deposit_ref == ref,
            accounts.live_entries(),
        )
    )


def _deposit_out(session, community: str, ref: str) -> FeeEntry | None:
    return session.scalar(
        select(FeeEntry).where(
            FeeEntry.community == community,
            FeeEntry.kind == DEPOSIT_OUT,
            FeeEntry.deposit_ref == ref,
        )
    )


def refund_deposit(room_id: int, *, deposit_ref: str, method: str, reason: str, nonce=None):
    """A deposit other than the 装修押金 refunded at the counter (彩条布 returned)."""
    check_method(method)
    reason = clean_reason(reason, "退还说明")
    if not isinstance(deposit_ref, str) or deposit_ref.startswith("renovation:"):
        raise LedgerRefused(
            "装修押金在装修申请验收通过后的「退还押金」步骤退还，台帐随之记录。", "deposit"
        )
    with _Write(nonce, f"{deposit_label(deposit_ref)}已经退还过，不能再退。") as session:
        room = _locked_room(session, room_id)
        received = _deposit_in(session, room.community, deposit_ref)
        if received is None or received.room_id != room.id:
            raise LedgerRefused("这户没有这笔押金。", "deposit")
        if _deposit_out(session, room.community, deposit_ref) is not None:
            raise LedgerRefused(f"{deposit_label(deposit_ref)}已经退还过，不能再退。", "deposit")
        entry = _entry(
            session,
            room_id=room.id,
            kind=DEPOSIT_OUT,
            amount_fen=received.amount_fen,
            method=method,
            payer=received.payer,
            deposit_ref=deposit_ref,
            reason=reason,
            submission_nonce=nonce,
        )
        record_audit(
            "fees.deposit_refund",
            target=room.label,
            detail=f"退还{deposit_label(deposit_ref)} {yuan_text(received.amount_fen)} 元：{reason}",
        )
    return entry


def on_renovation_refund(event) -> None:
    """Renovation's 退还押金 step (in the step's transaction): the 装修押金 received for the
    application is refunded in the ledger — the same amount, the way it was paid.

    When no deposit was recorded for it (taken before the ledger existed, or a community
    without the deposit), the step goes on and the ledger records nothing: the audit log says
    so ("未登记收取押金，台帐无退款记录"). When it was already refunded nothing is added (the
    unique deposit reference would refuse a second refund anyway)."""
    session = db.session()
    community = community_key()
    ref = f"renovation:{event.record_id}"
    reference = event.data.get("reference", f"#{event.record_id}")
    actor = session.get(StaffUser, event.data.get("actor_id") or 0)
    name = actor_label(actor) if actor else actor_name()
    received = _deposit_in(session, community, ref)
    if received is None:
        record_audit(
            "fees.deposit_refund",
            target=f"装修申请 {reference}",
            detail="未登记收取押金，台帐无退款记录。",
            actor=actor,
        )
        return
    if _deposit_out(session, community, ref) is not None:
        record_audit(
            "fees.deposit_refund",
            target=f"装修申请 {reference}",
            detail="押金已在台帐退还过，没有再记一次。",
            actor=actor,
        )
        return
    _entry(
        session,
        room_id=received.room_id,
        kind=DEPOSIT_OUT,
        amount_fen=received.amount_fen,
        method=received.method,
        payer=received.payer,
        deposit_ref=ref,
        reason=f"装修申请 {reference} 验收通过，退还装修押金",
        actor=name,
    )
    session.flush()
    record_audit(
        "fees.deposit_refund",
        target=f"装修申请 {reference}",
        detail=f"退还装修押金 {yuan_text(received.amount_fen)} 元（{METHODS.get(received.method, '')}）",
        actor=actor,
    )


# ----- waivers and refunds (the 经理) --------------------------------------------------------


def request_waiver(
    room_id: int, *, bill_id: int, amount_fen: int, reason: str, approve_now: bool, nonce=None
) -> FeeWaiverRequest:
    """A 减免 of one bill asked for with a reason; approved at once when the 经理 asks
    (``approve_now``), else waiting for the 经理."""
    reason = clean_reason(reason, "减免原因")
    with _Write(nonce) as session:
        room = _locked_room(session, room_id)
        [bill] = _bills_of_room(session, room.id, [bill_id])
        due = accounts.bills_due([bill.id])[bill.id]
        if amount_fen > due:
            raise LedgerRefused(
                f"减免金额超过这张账单尚欠的 {yuan_text(due)} 元。", "waiver_amount"
            )
        waiting = session.scalar(
            select(func.coalesce(func.sum(FeeWaiverRequest.amount_fen), 0)).where(
                FeeWaiverRequest.bill_id == bill.id, FeeWaiverRequest.state == WAIVER_PENDING
            )
        )
        if amount_fen + waiting > due:
            raise LedgerRefused(
                f"这张账单已有待审批的减免 {yuan_text(waiting)} 元，合计会超过尚欠金额。",
                "waiver_amount",
            )
        found = FeeWaiverRequest(
            community=room.community,
            room_id=room.id,
            bill_id=bill.id,
            amount_fen=amount_fen,
            reason=reason,
            state=WAIVER_PENDING,
            requested_by=actor_name(),
            submission_nonce=nonce,
        )
        session.add(found)
        session.flush()
        if approve_now:
            _approve(session, found, "")
        record_audit(
            "fees.waiver_request",
            target=room.label,
            detail=f"{bill.period} 账单减免 {yuan_text(amount_fen)} 元：{reason}"
            + ("（经理直接批准）" if approve_now else ""),
        )
    return found


def _approve(session, found: FeeWaiverRequest, note: str) -> None:
    due = accounts.bills_due([found.bill_id])[found.bill_id]
    if found.amount_fen > due:
        raise LedgerRefused(
            f"这张账单现在只欠 {yuan_text(due)} 元，不能按 {yuan_text(found.amount_fen)} 元减免；"
            "请不批准，由客服按实际金额重新申请。"
        )
    entry = _entry(
        session,
        room_id=found.room_id,
        bill_id=found.bill_id,
        kind=WAIVER,
        amount_fen=found.amount_fen,
        reason=found.reason,
        approved_by=actor_name(),
        actor=found.requested_by,
    )
    session.flush()
    _decide(session, found, WAIVER_APPROVED, note, entry.id)


def _decide(session, found: FeeWaiverRequest, state: str, note: str, entry_id=None) -> None:
    from ..core.clock import utcnow

    taken = session.execute(
        update(FeeWaiverRequest)
        .where(FeeWaiverRequest.id == found.id, FeeWaiverRequest.state == WAIVER_PENDING)
        .values(
            state=state,
            decided_by=actor_name(),
            decided_at=utcnow(),
            decision_note=note,
            entry_id=entry_id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise LedgerRefused("这份减免申请已经处理过了。")


def decide_waiver(request_id: int, *, approve: bool, note: str = "") -> FeeWaiverRequest:
    """The 经理's decision on a pending 减免, taken once."""
    note = clean_reason(note, "审批意见", "note", required=not approve)
    with write_transaction() as session:
        found = session.get(FeeWaiverRequest, request_id)
        if found is None or found.community != community_key():
            raise LedgerRefused("没有这份减免申请。")
        _locked_room(session, found.room_id)
        if found.state != WAIVER_PENDING:
            raise LedgerRefused("这份减免申请已经处理过了。")
        if approve:
            _approve(session, found, note)
        else:
            _decide(session, found, WAIVER_REFUSED, note)
        record_audit(
            "fees.waiver_decide",
            target=f"减免申请 #{found.id}",
            detail=("批准" if approve else "不批准") + (f"：{note}" if note else ""),
        )
    db.session.expire_all()
    return db.session.get(FeeWaiverRequest, request_id)


def pending_waivers(room_id: int | None = None) -> list[FeeWaiverRequest]:
    query = select(FeeWaiverRequest).where(
        FeeWaiverRequest.community == community_key(),
        FeeWaiverRequest.state == WAIVER_PENDING,
    )
    if room_id is not None:
        query = query.where(FeeWaiverRequest.room_id == room_id)
    return list(db.session.scalars(query.order_by(FeeWaiverRequest.id)))


def refund_prepaid(
    room_id: int, *, amount_fen: int, method: str, reason: str, nonce=None
) -> FeeEntry:
    """The 经理 pays back (part of) a household's prepaid balance."""
    check_method(method)
    reason = clean_reason(reason, "退款原因")
    with _Write(nonce) as session:
        room = _locked_room(session, room_id)
        balance = accounts.prepaid_balance(room.id)
        if amount_fen > balance:
            raise LedgerRefused(
                f"退款金额超过这户的预存余额 {yuan_text(balance)} 元。", "refund_amount"
            )
        entry = _entry(
            session,
            room_id=room.id,
            kind=REFUND,
            amount_fen=amount_fen,
            method=method,
            reason=reason,
            approved_by=actor_name(),
            submission_nonce=nonce,
        )
        record_audit(
            "fees.refund",
            target=room.label,
            detail=f"退还预存 {yuan_text(amount_fen)} 元（{METHODS[method]}）：{reason}",
        )
    return entry


# ----- reversals and voids --------------------------------------------------------------------


def _reversible(session, entry: FeeEntry) -> None:
    """Refuse what cannot be reversed (nothing written yet)."""
    if entry.kind == REVERSAL:
        raise LedgerRefused("冲正记录不能再冲正。")
    if session.scalar(select(FeeEntry.id).where(FeeEntry.reverses_id == entry.id)) is not None:
        raise LedgerRefused(f"台帐 #{entry.id} 已经冲正过，不能重复冲正。")
    if entry.kind == DEPOSIT_OUT:
        raise LedgerRefused("押金退还不能冲正（押金只退一次）。")
    if entry.kind == DEPOSIT_IN and _deposit_out(session, entry.community, entry.deposit_ref):
        raise LedgerRefused("这笔押金已经退还，不能冲正收取记录。")


def _reverse(session, entry: FeeEntry, reason: str) -> FeeEntry:
    return _entry(
        session,
        room_id=entry.room_id,
        bill_id=entry.bill_id,
        kind=REVERSAL,
        amount_fen=entry.amount_fen,
        method=entry.method,
        payer=entry.payer,
        receipt_id=entry.receipt_id,
        reason=reason,
        reverses_id=entry.id,
    )


def _balance_after(session, room_id: int, entries: list[FeeEntry]) -> int:
    """The prepaid balance once these entries no longer count."""
    change = 0
    for entry in entries:
        if entry.kind == PAYMENT and entry.bill_id is None:
            change -= entry.amount_fen
        elif entry.kind == PREPAYMENT_APPLIED or entry.kind == REFUND:
            change += entry.amount_fen
    return accounts.prepaid_balance(room_id) + change


def reverse_entry(entry_id: int, reason: str) -> FeeEntry | FeeReceipt:
    """A mistaken entry reversed with a reason (once). An entry on a receipt is reversed by
    voiding the receipt, which reverses all its entries."""
    reason = clean_reason(reason, "冲正原因")
    entry = db.session.get(FeeEntry, entry_id)
    if entry is None or entry.community != community_key():
        raise LedgerRefused("没有这条台帐记录。")
    if entry.receipt_id is not None and entry.kind != REVERSAL:
        return void_receipt(entry.receipt_id, reason)
    with write_transaction() as session:
        entry = session.get(FeeEntry, entry_id)
        if entry.room_id is not None:
            _locked_room(session, entry.room_id)
        _reversible(session, entry)
        if entry.room_id is not None and _balance_after(session, entry.room_id, [entry]) < 0:
            raise LedgerRefused("冲正后预存余额会小于 0：请先冲正用这笔预存抵扣的记录。")
        reversal = _reverse(session, entry, reason)
        record_audit(
            "fees.reverse",
            target=f"台帐 #{entry.id}",
            detail=f"冲正{ENTRY_KINDS[entry.kind]} {yuan_text(entry.amount_fen)} 元：{reason}",
        )
    return reversal


def void_receipt(receipt_id: int, reason: str) -> FeeReceipt:
    """作废: the receipt keeps its number, is marked void, and every entry on it is reversed."""
    from ..core.clock import utcnow

    reason = clean_reason(reason, "作废原因")
    with write_transaction() as session:
        receipt = session.get(FeeReceipt, receipt_id)
        if receipt is None or receipt.community != community_key():
            raise LedgerRefused("没有这张收据。")
        if receipt.room_id is not None:
            _locked_room(session, receipt.room_id)
        if receipt.voided_at is not None:
            raise LedgerRefused(f"收据 {number_text(receipt.number)} 已经作废。")
        entries = list(
            session.scalars(
                select(FeeEntry)
                .where(FeeEntry.receipt_id == receipt.id, FeeEntry.kind != REVERSAL)
                .order_by(FeeEntry.id)
            )
        )
        for entry in entries:
            _reversible(session, entry)
        if receipt.room_id is not None and _balance_after(session, receipt.room_id, entries) < 0:
            raise LedgerRefused(
                "作废后预存余额会小于 0：这张收据的预存已被抵扣，请先冲正抵扣记录。"
            )
        marked = session.execute(
            update(FeeReceipt)
            .where(FeeReceipt.id == receipt.id, FeeReceipt.voided_at.is_(None))
            .values(voided_at=utcnow(), voided_by=actor_name(), void_reason=reason)
            .execution_options(synchronize_session=False)
        ).rowcount
        if marked != 1:
            raise LedgerRefused(f"收据 {number_text(receipt.number)} 已经作废。")
        for entry in entries:
            _reverse(session, entry, f"收据 {number_text(receipt.number)} 作废：{reason}")
        record_audit(
            "fees.void",
            target=f"收据 {number_text(receipt.number)}",
            detail=f"{yuan_text(receipt.total_fen)} 元：{reason}",
        )
    db.session.expire_all()
    return db.session.get(FeeReceipt, receipt_id)


# ----- the day's ledger, banking, reconciliation ----------------------------------------------


@dataclass
class Line:
    """One ledger entry as the pages and exports show it: ``signed`` 分 in (+) or out (−) of
    the counter (0 for a waiver or a prepayment applied)."""

    entry: FeeEntry
    signed: int
    original: FeeEntry | None
    receipt: FeeReceipt | None
    room_label: str
    bill_period: str

    @property
    def kind_label(self) -> str:
        label = ENTRY_KINDS.get(self.entry.kind, self.entry.kind)
        if self.original is not None:
            label += f"（{ENTRY_KINDS.get(self.original.kind, '')} #{self.original.id}）"
        return label

    @property
    def method_label(self) -> str:
        return METHODS.get(self.entry.method or "", "")


def signed_amount(entry: FeeEntry, original: FeeEntry | None) -> int:
    if entry.kind == REVERSAL:
        return -DIRECTION.get(original.kind, 0) * entry.amount_fen if original else 0
    return DIRECTION.get(entry.kind, 0) * entry.amount_fen


def describe(entries: list[FeeEntry]) -> list[Line]:
    """Entries with their sign, the entry a reversal names, receipt, room and bill period."""
    originals = {
        e.id: e
        for e in db.session.scalars(
            select(FeeEntry).where(
                FeeEntry.id.in_({e.reverses_id for e in entries if e.reverses_id})
            )
        )
    }
    receipts = {
        r.id: r
        for r in db.session.scalars(
            select(FeeReceipt).where(
                FeeReceipt.id.in_({e.receipt_id for e in entries if e.receipt_id})
            )
        )
    }
    rooms = {
        r.id: r.label
        for r in db.session.scalars(
            select(HouseholdRoom).where(
                HouseholdRoom.id.in_({e.room_id for e in entries if e.room_id})
            )
        )
    }
    periods = dict(
        db.session.execute(
            select(FeeBill.id, FeeBill.period).where(
                FeeBill.id.in_({e.bill_id for e in entries if e.bill_id})
            )
        ).all()
    )
    lines = []
    for entry in entries:
        original = originals.get(entry.reverses_id)
        lines.append(
            Line(
                entry,
                signed_amount(entry, original),
                original,
                receipts.get(entry.receipt_id),
                rooms.get(entry.room_id, ""),
                periods.get(entry.bill_id, ""),
            )
        )
    return lines


def entries_between(date_from: date, date_to: date, actor: str | None = None) -> list[FeeEntry]:
    query = select(FeeEntry).where(
        FeeEntry.community == community_key(),
        FeeEntry.day >= date_from,
        FeeEntry.day <= date_to,
    )
    if actor:
        query = query.where(FeeEntry.actor == actor)
    return list(db.session.scalars(query.order_by(FeeEntry.id)))


@dataclass
class DaySummary:
    """Who took what, by method: {actor: {method: signed 分}}, with the totals."""

    by_actor: dict[str, dict[str, int]]
    by_method: dict[str, int]
    total: int


def summarize(lines: list[Line]) -> DaySummary:
    by_actor: dict[str, dict[str, int]] = {}
    by_method: dict[str, int] = {}
    for line in lines:
        if not line.signed:
            continue
        method = line.entry.method or ""
        row = by_actor.setdefault(line.entry.actor, {})
        row[method] = row.get(method, 0) + line.signed
        by_method[method] = by_method.get(method, 0) + line.signed
    return DaySummary(by_actor, by_method, sum(by_method.values()))


def ledger_total(date_from: date, date_to: date) -> int:
    """The money the ledger says came in (less what went out) over the days, every method."""
    return summarize(describe(entries_between(date_from, date_to))).total


def unbanked(up_to: date) -> list[Line]:
    """Cash and cheques of the counter not banked yet, up to a day (a reversal nets its
    original out whether or not that was banked)."""
    entries = list(
        db.session.scalars(
            select(FeeEntry)
            .where(
                FeeEntry.community == community_key(),
                FeeEntry.method.in_(BANKED_METHODS),
                FeeEntry.banking_id.is_(None),
                FeeEntry.day <= up_to,
            )
            .order_by(FeeEntry.id)
        )
    )
    return [line for line in describe(entries) if line.signed]


# The partial index ix_fee_entry_unbanked's condition (models.UNBANKED_WHERE), its columns
# named with their table: the query below also joins a reversal's original entry.
UNBANKED = text("fee_entry.banking_id IS NULL AND fee_entry.method IN ('cash', 'cheque')")


def unbanked_totals(up_to: date) -> dict[str, int]:
    """The counter's cash and cheques not banked yet, up to a day, summed by the database
    ({"cash": 分, "cheque": 分}): the day's page shows them without loading every entry.
    Signed as ``signed_amount`` signs them; a reversal by its original's kind."""
    from sqlalchemy import case
    from sqlalchemy.orm import aliased

    original = aliased(FeeEntry)

    def direction(kind_column):
        return case(*((kind_column == kind, sign) for kind, sign in DIRECTION.items()), else_=0)

    signed = case(
        (FeeEntry.kind == REVERSAL, -direction(original.kind) * FeeEntry.amount_fen),
        else_=direction(FeeEntry.kind) * FeeEntry.amount_fen,
    )
    rows = db.session.execute(
        select(FeeEntry.method, func.sum(signed))
        .outerjoin(original, original.id == FeeEntry.reverses_id)
        .where(FeeEntry.community == community_key(), UNBANKED, FeeEntry.day <= up_to)
        .group_by(FeeEntry.method)
    ).all()
    found = {"cash": 0, "cheque": 0}
    found.update({method: int(total or 0) for method, total in rows})
    return found


def unbanked_fingerprint(lines: list[Line]) -> str:
    """What the banking form was shown: the entries' ids, so a banking sent for a list that
    changed meanwhile (another 财务 banked it, a new payment came) is refused."""
    return ",".join(str(line.entry.id) for line in lines)


def bank(*, up_to: date, fingerprint: str, slip_number: str, banked_on: date) -> FeeBanking:
    """财务 marks the counter's cash and cheques banked with the deposit slip number."""
    slip = clean_line(slip_number if isinstance(slip_number, str) else "") or ""
    if not slip or len(slip) > 40 or is_unreadable(slip):
        raise LedgerRefused("请填写银行进账单（交存单）号，不超过 40 字。", "slip_number")
    if banked_on > today():
        raise LedgerRefused("交存日期不能晚于今天。", "banked_on")
    with write_transaction() as session:
        lines = unbanked(up_to)
        if not lines:
            raise LedgerRefused("没有待交存的现金或支票（可能已由他人登记交存）。")
        if unbanked_fingerprint(lines) != fingerprint:
            raise LedgerRefused(
                "待交存的款项已有变化（可能已由他人登记交存，或又收了款），请核对后重新提交。"
            )
        used = session.scalar(
            select(FeeBanking.id).where(
                FeeBanking.community == community_key(), FeeBanking.slip_number == slip
            )
        )
        if used is not None:
            raise LedgerRefused("这个交存单号已经登记过。", "slip_number")
        cash = sum(line.signed for line in lines if line.entry.method == "cash")
        cheque = sum(line.signed for line in lines if line.entry.method == "cheque")
        banking = FeeBanking(
            community=community_key(),
            cash_fen=cash,
            cheque_fen=cheque,
            slip_number=slip,
            banked_on=banked_on,
            banked_by=actor_name(),
        )
        session.add(banking)
        session.flush()
        ids = [line.entry.id for line in lines]
        marked = session.execute(
            update(FeeEntry)
            .where(FeeEntry.id.in_(ids), FeeEntry.banking_id.is_(None))
            .values(banking_id=banking.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if marked != len(ids):
            raise LedgerRefused("这些款项已经登记交存过，不能重复交存。")
        record_audit(
            "fees.bank",
            target=f"交存单 {slip}",
            detail=f"现金 {yuan_text(cash)} 元，支票 {yuan_text(cheque)} 元，{len(ids)} 笔",
        )
    return banking


def bankings(limit: int = 20) -> list[FeeBanking]:
    return list(
        db.session.scalars(
            select(FeeBanking)
            .where(FeeBanking.community == community_key())
            .order_by(FeeBanking.id.desc())
            .limit(limit)
        )
    )


def reconciliations(limit: int = 20) -> list[FeeReconciliation]:
    return list(
        db.session.scalars(
            select(FeeReconciliation)
            .where(FeeReconciliation.community == community_key())
            .order_by(FeeReconciliation.date_to.desc(), FeeReconciliation.id.desc())
            .limit(limit)
        )
    )


def reconcile_due(day: date) -> tuple[FeeReconciliation | None, int | None, bool]:
    """(the last reconciliation, days since its period ended, whether one is overdue: more
    than three days since, or none while the ledger has entries older than three days)."""
    last = next(iter(reconciliations(1)), None)
    if last is not None:
        days = (day - last.date_to).days
        return last, days, days > RECONCILE_EVERY_DAYS
    first = first_entry_day()
    return None, None, first is not None and (day - first).days > RECONCILE_EVERY_DAYS


def first_entry_day() -> date | None:
    """The ledger's first business day (None while it is empty)."""
    return db.session.scalar(
        select(func.min(FeeEntry.day)).where(FeeEntry.community == community_key())
    )


def record_reconciliation(
    *,
    date_from: date,
    date_to: date,
    accounts_fen: int,
    explanation: str,
    counterpart: str,
    finance_side: bool,
) -> FeeReconciliation:
    """The ledger of the period checked with the accountant: both totals, the difference and,
    when it is not zero, its explanation. ``finance_side``: the one recording is 财务 (the
    counterpart is then the 客服 present), else the 客服 (the counterpart the accountant)."""
    if date_from > date_to:
        raise LedgerRefused("核对期间的开始日期不能晚于结束日期。", "date_from")
    if date_to > today():
        raise LedgerRefused("核对期间不能晚于今天。", "date_to")
    if (date_to - date_from).days > 366:
        raise LedgerRefused("核对期间不超过一年。", "date_from")
    counterpart = clean_line(counterpart if isinstance(counterpart, str) else "") or ""
    if not counterpart or len(counterpart) > 30 or is_unreadable(counterpart):
        who = "客服" if finance_side else "财务会计"
        raise LedgerRefused(f"请填写一同核对的{who}姓名（不超过 30 字）。", "counterpart")
    explanation = clean_reason(explanation, "差异说明", "explanation", required=False)
    with write_transaction() as session:
        overlap = session.scalar(
            select(FeeReconciliation).where(
                FeeReconciliation.community == community_key(),
                FeeReconciliation.date_from <= date_to,
                FeeReconciliation.date_to >= date_from,
            )
        )
        if overlap is not None:
            raise LedgerRefused(
                f"{overlap.date_from} 至 {overlap.date_to} 已经核对过，期间不能重叠。", "date_from"
            )
        ledger = ledger_total(date_from, date_to)
        difference = accounts_fen - ledger
        if difference and not explanation:
            raise LedgerRefused(
                f"财务金额与台帐相差 {yuan_text(difference)} 元，请填写差异说明。", "explanation"
            )
        me = actor_name()
        found = FeeReconciliation(
            community=community_key(),
            date_from=date_from,
            date_to=date_to,
            ledger_fen=ledger,
            accounts_fen=accounts_fen,
            difference_fen=difference,
            explanation=explanation,
            service_name=counterpart if finance_side else me,
            finance_name=me if finance_side else counterpart,
        )
        session.add(found)
        record_audit(
            "fees.reconcile",
            target=f"{date_from} 至 {date_to}",
            detail=f"台帐 {yuan_text(ledger)} 元，财务 {yuan_text(accounts_fen)} 元，"
            f"差额 {yuan_text(difference)} 元",
        )
    return found
