"""收费 at the counter and the 收费台帐 (back office, ``/forms/staff/fees/ledger``).

- 收费柜台 (fees.collect): find a household (room, name, mobile tail), see its unpaid bills,
  prepaid balance and deposits held; take a payment (with 预存), apply the balance, sell a
  特约服务, take or refund a deposit, ask for a 减免; the 经理 refunds a balance
  (fees.approve) and decides the 减免 waiting for them.
- 收据 (fees.view): the printable A5 receipt, each print counted (补打 from the second);
  作废 and 冲正 (fees.void) with a reason.
- 收费台帐 (fees.view): one day's entries and who took what by method; the export of a range
  of days (fees.export, audited); 交存 (fees.bank) of the day's cash and cheques with the
  deposit slip number; 对账 (fees.reconcile) every three days.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.permissions import allowed
from ..accounts.registry import HomePanel, NavLink
from ..accounts.roles import FINANCE, MANAGER, SERVICE, SERVICE_LEAD
from ..core.clock import today, utcnow
from ..core.extensions import db
from ..core.fee_standards import current_fee_standards, yuan_text
from ..core.tokens import new_nonce
from ..events import subscribe
from ..households.registry import current_people, room_by_id, room_or_404, search
from ..web.exports import (
    DATE,
    DATETIME,
    NUMBER,
    Column,
    Table,
    table_response,
)
from ..web.template_filters import local_minute
from . import accounts, ledger
from .models import (
    BANKED_METHODS,
    METHODS,
    FeeEntry,
    FeeReceipt,
    FeeWaiverRequest,
)
from .receipts import amount_in_words, count_print, number_text, receipt_entries

bp = Blueprint("fees_ledger", __name__)

NAV = (
    NavLink("收费柜台", "fees_ledger.counter", "fees.collect"),
    NavLink("收费台帐", "fees_ledger.index", "fees.view"),
)
AUDIT = {
    "fees.payment": "收款（开收据）",
    "fees.prepay_apply": "预存余额抵扣",
    "fees.service": "特约服务收费",
    "fees.deposit": "收取押金",
    "fees.deposit_refund": "退还押金",
    "fees.waiver_request": "申请减免",
    "fees.waiver_decide": "审批减免",
    "fees.refund": "退还预存款",
    "fees.reverse": "冲正台帐记录",
    "fees.void": "作废收据",
    "fees.receipt_print": "打印收据",
    "fees.bank": "现金支票交存银行",
    "fees.reconcile": "与财务核对收费台帐",
}
MAX_EXPORT_DAYS = 366


def _home_figures(user, day: date) -> dict | None:
    """The 经理's waivers waiting, 财务's cash to bank, everyone's reconciliation due."""
    figures = {}
    if allowed(user.role, "fees.approve"):
        figures["waivers"] = len(ledger.pending_waivers())
    if allowed(user.role, "fees.bank"):
        figures["unbanked"] = sum(line.signed for line in ledger.unbanked(day))
    if allowed(user.role, "fees.reconcile"):
        last, days, overdue = ledger.reconcile_due(day)
        figures.update(last_reconciled=last, reconcile_days=days, reconcile_overdue=overdue)
    if not figures.get("waivers") and not figures.get("unbanked"):
        if not figures.get("reconcile_overdue"):
            return None
    return figures


HOME = (
    HomePanel(
        "fees/ledger_home.html",
        _home_figures,
        "fees.view",
        today_for=frozenset({MANAGER, FINANCE, SERVICE, SERVICE_LEAD}),
    ),
)


def register(app) -> None:
    """Renovation's 退还押金 writes the ledger's refund in the step's transaction."""
    subscribe(app, "renovation.refund_deposit", ledger.on_renovation_refund)
    app.add_template_filter(yuan_text, "ledger_yuan")


# ----- helpers -----------------------------------------------------------------------------


def _date_arg(name: str, default: date) -> date:
    value = request.args.get(name, "")
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not date(2000, 1, 1) <= day <= date(2999, 12, 31):
        return default
    return day


def _form_date(name: str, label: str) -> date:
    value = request.form.get(name, "")
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not date(2000, 1, 1) <= day <= date(2999, 12, 31):
        raise ledger.LedgerRefused(f"请填写{label}（年-月-日）。", name)
    return day


def _bill_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("bills"):
        if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10):
            raise ledger.LedgerRefused("所选账单有误，请刷新页面后重新选择。", "bills")
        ids.append(int(value))
    return ids


def _int_field(name: str, label: str) -> int:
    value = request.form.get(name, "")
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10):
        raise ledger.LedgerRefused(f"请选择{label}。", name)
    return int(value)


def _household(room) -> dict:
    bills = accounts.room_bills(room.id)
    ids = [b.id for b in bills]
    amounts = accounts.bill_amounts(ids)
    due = accounts.bills_due(ids)
    held = accounts.deposits_held(room.id)
    entries = list(
        db.session.scalars(
            select(FeeEntry)
            .where(FeeEntry.room_id == room.id)
            .order_by(FeeEntry.id.desc())
            .limit(30)
        )
    )
    return {
        "room": room,
        "people": current_people(room.id),
        "bills": bills,
        "amounts": amounts,
        "due": due,
        "unpaid": [b for b in sorted(bills, key=lambda b: b.period) if due[b.id] > 0],
        "total_due": sum(due.values()),
        "balance": accounts.prepaid_balance(room.id),
        "held": [(ref, ledger.deposit_label(ref), amount) for ref, amount in held.items()],
        "lines": ledger.describe(entries),
        "waivers": ledger.pending_waivers(room.id),
        "applications": ledger.renovation_applications(room),
    }


def _counter_page(room, status: int = 200, *, form: str = "", error=None, values=None):
    standards = current_fee_standards()
    deposits = [(key, standards.deposit(key)) for key in ledger.DEPOSIT_KEYS]
    context = _household(room)
    return render_template(
        "fees/counter_household.html",
        **context,
        services=standards.special_services,
        deposits=[(key, d) for key, d in deposits if d is not None],
        methods={m: METHODS[m] for m in ledger.COUNTER_METHODS},
        nonce=new_nonce(),
        form=form,
        error=error,
        values=values or {},
        may_approve=allowed(current_staff().role, "fees.approve"),
        may_void=allowed(current_staff().role, "fees.void"),
    ), status


def _refused(room, form: str, refused: ledger.LedgerRefused):
    if isinstance(refused, ledger.AlreadyRecorded):
        flash(refused.message, "success")
        if refused.receipt_id:
            return redirect(url_for(".receipt", receipt_id=refused.receipt_id), code=303)
        return redirect(url_for(".household", room_id=room.id), code=303)
    values = {k: v for k, v in request.form.items() if k not in ("csrf_token", "nonce")}
    values["bills"] = request.form.getlist("bills")
    return _counter_page(room, 400, form=form, error=refused, values=values)


# ----- the counter -------------------------------------------------------------------------


@bp.get("/counter")
@staff_required("fees.collect")
def counter():
    """Find the household at the counter: room, name or the mobile's last digits."""
    query = request.args.get("q", "")
    query = query[:30] if isinstance(query, str) and "\x00" not in query else ""
    found = search(query, limit=30) if query else []
    due = accounts.rooms_due([item.room.id for item in found])
    return render_template("fees/counter.html", query=query, found=found, due=due)


@bp.get("/counter/<int:room_id>")
@staff_required("fees.collect")
def household(room_id: int):
    """One household at the counter: what it owes and holds, and the forms."""
    return _counter_page(room_or_404(room_id))


@bp.post("/counter/<int:room_id>/pay")
@staff_required("fees.collect")
def pay(room_id: int):
    room = room_or_404(room_id)
    try:
        receipt = ledger.record_payment(
            room.id,
            payer=request.form.get("payer", ""),
            method=ledger.check_method(request.form.get("method")),
            amount_fen=ledger.parse_yuan(request.form.get("amount"), "收款金额"),
            bill_ids=_bill_ids(),
            prepay=request.form.get("prepay") == "yes",
            nonce=ledger.check_nonce(request.form.get("nonce")),
        )
    except ledger.LedgerRefused as refused:
        return _refused(room, "pay", refused)
    flash(
        f"已收款 {yuan_text(receipt.total_fen)} 元，收据 {number_text(receipt.number)}。", "success"
    )
    return redirect(url_for(".receipt", receipt_id=receipt.id), code=303)


@bp.post("/counter/<int:room_id>/apply-prepaid")
@staff_required("fees.collect")
def apply_prepaid(room_id: int):
    room = room_or_404(room_id)
    try:
        applied = ledger.apply_prepaid(
            room.id, _bill_ids(), nonce=ledger.check_nonce(request.form.get("nonce"))
        )
    except ledger.LedgerRefused as refused:
        return _refused(room, "apply", refused)
    flash(f"已用预存余额抵扣 {yuan_text(applied)} 元。", "success")
    return redirect(url_for(".household", room_id=room.id), code=303)


@bp.post("/counter/<int:room_id>/service")
@staff_required("fees.collect")
def service(room_id: int):
    room = room_or_404(room_id)
    try:
        receipt = ledger.sell_service(
            room.id,
            service_id=request.form.get("service", ""),
            quantity=ledger.parse_quantity(request.form.get("quantity")),
            payer=request.form.get("payer", ""),
            method=ledger.check_method(request.form.get("method")),
            nonce=ledger.check_nonce(request.form.get("nonce")),
        )
    except ledger.LedgerRefused as refused:
        return _refused(room, "service", refused)
    flash(f"已收特约服务费 {yuan_text(receipt.total_fen)} 元。", "success")
    return redirect(url_for(".receipt", receipt_id=receipt.id), code=303)


@bp.post("/counter/<int:room_id>/deposit")
@staff_required("fees.collect")
def deposit(room_id: int):
    room = room_or_404(room_id)
    try:
        receipt = ledger.receive_deposit(
            room.id,
            key=request.form.get("deposit", ""),
            application_id=_int_field("application", "装修申请"),
            payer=request.form.get("payer", ""),
            method=ledger.check_method(request.form.get("method")),
            nonce=ledger.check_nonce(request.form.get("nonce")),
        )
    except ledger.LedgerRefused as refused:
        return _refused(room, "deposit", refused)
    flash(f"已收取押金 {yuan_text(receipt.total_fen)} 元。", "success")
    return redirect(url_for(".receipt", receipt_id=receipt.id), code=303)


@bp.post("/counter/<int:room_id>/deposit-refund")
@staff_required("fees.collect")
def deposit_refund(room_id: int):
    room = room_or_404(room_id)
    try:
        entry = ledger.refund_deposit(
            room.id,
            deposit_ref=request.form.get("deposit_ref", ""),
            method=ledger.check_method(request.form.get("method")),
            reason=request.form.get("reason", ""),
            nonce=ledger.check_nonce(request.form.get("nonce")),
        )
    except ledger.LedgerRefused as refused:
        return _refused(room, "deposit_refund", refused)
    flash(f"已退还押金 {yuan_text(entry.amount_fen)} 元。", "success")
    return redirect(url_for(".household", room_id=room.id), code=303)


@bp.post("/counter/<int:room_id>/waiver")
@staff_required("fees.collect")
def waiver(room_id: int):
    """A 减免 asked for (the 经理's own request is approved at once)."""
    room = room_or_404(room_id)
    try:
        found = ledger.request_waiver(
            room.id,
            bill_id=_int_field("bill", "账单"),
            amount_fen=ledger.parse_yuan(
                request.form.get("waiver_amount"), "减免金额", "waiver_amount"
            ),
            reason=request.form.get("reason", ""),
            approve_now=allowed(current_staff().role, "fees.approve"),
            nonce=ledger.check_nonce(request.form.get("nonce")),
        )
    except ledger.LedgerRefused as refused:
        return _refused(room, "waiver", refused)
    if found.state == "approved":
        flash(f"已减免 {yuan_text(found.amount_fen)} 元。", "success")
    else:
        flash(f"减免 {yuan_text(found.amount_fen)} 元的申请已提交，等待经理审批。", "success")
    return redirect(url_for(".household", room_id=room.id), code=303)


@bp.post("/counter/<int:room_id>/refund")
@staff_required("fees.approve")
def refund(room_id: int):
    """The 经理 pays back a prepaid balance."""
    room = room_or_404(room_id)
    try:
        entry = ledger.refund_prepaid(
            room.id,
            amount_fen=ledger.parse_yuan(
                request.form.get("refund_amount"), "退款金额", "refund_amount"
            ),
            method=ledger.check_method(request.form.get("method")),
            reason=request.form.get("reason", ""),
            nonce=ledger.check_nonce(request.form.get("nonce")),
        )
    except ledger.LedgerRefused as refused:
        return _refused(room, "refund", refused)
    flash(f"已退还预存款 {yuan_text(entry.amount_fen)} 元。", "success")
    return redirect(url_for(".household", room_id=room.id), code=303)


# ----- waivers waiting for the 经理 ----------------------------------------------------------


@bp.get("/waivers")
@staff_required("fees.approve")
def waivers():
    pending = ledger.pending_waivers()
    rooms = {r: room_by_id(r) for r in {w.room_id for w in pending}}
    due = accounts.bills_due(sorted({w.bill_id for w in pending}))
    decided = list(
        db.session.scalars(
            select(FeeWaiverRequest)
            .where(
                FeeWaiverRequest.community == ledger.community_key(),
                FeeWaiverRequest.state != "pending",
            )
            .order_by(FeeWaiverRequest.decided_at.desc())
            .limit(20)
        )
    )
    for w in decided:
        rooms.setdefault(w.room_id, room_by_id(w.room_id))
    return render_template(
        "fees/counter_waivers.html", pending=pending, decided=decided, rooms=rooms, due=due
    )


@bp.post("/waivers/<int:request_id>")
@staff_required("fees.approve")
def decide(request_id: int):
    approve = request.form.get("decision") == "approve"
    try:
        found = ledger.decide_waiver(request_id, approve=approve, note=request.form.get("note", ""))
    except ledger.LedgerRefused as refused:
        flash(refused.message, "error")
        return redirect(url_for(".waivers"), code=303)
    flash(f"减免申请 #{found.id}：{found.state_label}。", "success")
    return redirect(url_for(".waivers"), code=303)


# ----- receipts ------------------------------------------------------------------------------


def _receipt_or_404(receipt_id: int) -> FeeReceipt:
    receipt = db.session.get(FeeReceipt, receipt_id)
    if receipt is None or receipt.community != ledger.community_key():
        abort(404)
    return receipt


def receipt_context(receipt: FeeReceipt) -> dict:
    """What the printed receipt shows (the staff page and the owner's)."""
    lines = ledger.describe(receipt_entries(receipt.id))
    return {
        "receipt": receipt,
        "number": number_text(receipt.number),
        "room": room_by_id(receipt.room_id) if receipt.room_id else None,
        "lines": lines,
        "deposit_label": ledger.deposit_label,
        "in_words": amount_in_words(receipt.total_fen),
        "method": METHODS.get(receipt.method, receipt.method),
        "reprint": receipt.prints > 1,
    }


@bp.get("/receipts/<int:receipt_id>")
@staff_required("fees.view")
def receipt(receipt_id: int):
    """The receipt as it prints (A5); 打印 counts the print, 补打 from the second."""
    found = _receipt_or_404(receipt_id)
    role = current_staff().role
    return render_template(
        "fees/receipt.html",
        **receipt_context(found),
        staff_view=True,
        may_print=allowed(role, "fees.collect"),
        may_void=allowed(role, "fees.void"),
        printing=request.args.get("print") == "1",
    )


@bp.post("/receipts/<int:receipt_id>/print")
@staff_required("fees.collect")
def print_receipt(receipt_id: int):
    found = _receipt_or_404(receipt_id)
    from ..core.database import write_transaction

    with write_transaction() as session:
        prints = count_print(session, found.id)
        record_audit(
            "fees.receipt_print",
            target=f"收据 {number_text(found.number)}",
            detail="补打" if prints > 1 else "打印",
        )
    return redirect(url_for(".receipt", receipt_id=found.id, print="1"), code=303)


@bp.post("/receipts/<int:receipt_id>/void")
@staff_required("fees.void")
def void(receipt_id: int):
    found = _receipt_or_404(receipt_id)
    try:
        ledger.void_receipt(found.id, request.form.get("reason", ""))
    except ledger.LedgerRefused as refused:
        flash(refused.message, "error")
        return redirect(url_for(".receipt", receipt_id=found.id), code=303)
    flash(f"收据 {number_text(found.number)} 已作废，收款已冲正。", "success")
    return redirect(url_for(".receipt", receipt_id=found.id), code=303)


@bp.post("/entries/<int:entry_id>/reverse")
@staff_required("fees.void")
def reverse(entry_id: int):
    entry = db.session.get(FeeEntry, entry_id)
    if entry is None or entry.community != ledger.community_key():
        abort(404)
    back = request.form.get("back")
    target = (
        url_for(".household", room_id=entry.room_id)
        if back == "household" and entry.room_id
        else url_for(".index", date=entry.day.isoformat())
    )
    try:
        ledger.reverse_entry(entry.id, request.form.get("reason", ""))
    except ledger.LedgerRefused as refused:
        flash(refused.message, "error")
        return redirect(target, code=303)
    flash(f"台帐 #{entry.id} 已冲正。", "success")
    return redirect(target, code=303)


# ----- the day's ledger, export --------------------------------------------------------------


@bp.get("/")
@staff_required("fees.view")
def index():
    """收费台帐 of one day: every entry, who took what by method, and what is to bank."""
    day = _date_arg("date", today())
    actors = sorted({e.actor for e in ledger.entries_between(day, day)})
    actor = request.args.get("staff", "")
    actor = actor if actor in actors else ""
    lines = ledger.describe(ledger.entries_between(day, day, actor or None))
    summary = ledger.summarize(ledger.describe(ledger.entries_between(day, day)))
    unbanked = ledger.unbanked_totals(day)
    last, days, overdue = ledger.reconcile_due(today())
    role = current_staff().role
    return render_template(
        "fees/ledger.html",
        day=day,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        actors=actors,
        actor=actor,
        lines=lines,
        summary=summary,
        methods=METHODS,
        unbanked_cash=unbanked["cash"],
        unbanked_cheque=unbanked["cheque"],
        last_reconciled=last,
        reconcile_days=days,
        reconcile_overdue=overdue,
        may={
            p.split(".")[1]: allowed(role, p)
            for p in ("fees.void", "fees.bank", "fees.reconcile", "fees.export", "fees.approve")
        },
        pending_waivers=len(ledger.pending_waivers()) if allowed(role, "fees.approve") else 0,
    )


EXPORT_COLUMNS = (
    Column("日期", DATE),
    Column("时间", DATETIME),
    Column("台帐号", width=8),
    Column("收据号", width=10),
    Column("房屋", width=20),
    Column("交款人"),
    Column("类型", width=22),
    Column("付款方式"),
    Column("收入（元）", NUMBER, 12),
    Column("支出（元）", NUMBER, 12),
    Column("抵扣或减免（元）", NUMBER, 14),
    Column("账单月份"),
    Column("押金"),
    Column("说明", width=30),
    Column("批准人"),
    Column("经办人"),
    Column("交存", width=8),
)


def _export_rows(lines):
    from decimal import Decimal

    def yuan(fen: int):
        return (Decimal(fen) / 100).quantize(Decimal("0.01")) if fen else None

    for line in lines:
        e = line.entry
        yield [
            e.day,
            e.created_at and _local(e.created_at),
            e.id,
            number_text(line.receipt.number) if line.receipt else "",
            line.room_label,
            e.payer,
            line.kind_label,
            line.method_label,
            yuan(max(line.signed, 0)),
            yuan(max(-line.signed, 0)),
            yuan(e.amount_fen) if not line.signed else None,
            line.bill_period,
            ledger.deposit_label(e.deposit_ref),
            e.reason,
            e.approved_by or "",
            e.actor,
            "已交存" if e.banking_id else ("待交存" if e.method in BANKED_METHODS else ""),
        ]


def _local(moment):
    from ..core.clock import local_time

    return local_time(moment).replace(tzinfo=None)


@bp.get("/export.<fmt>")
@staff_required("fees.export")
def export(fmt: str):
    """The ledger of a range of days as .xlsx (typed money columns) or CSV; audited."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    date_to = _date_arg("date_to", today())
    date_from = _date_arg("date_from", date_to)
    if date_from > date_to or (date_to - date_from).days >= MAX_EXPORT_DAYS:
        flash(f"导出期间有误：开始日期不能晚于结束日期，且不超过 {MAX_EXPORT_DAYS} 天。", "error")
        return redirect(url_for(".index", date=date_to.isoformat()), code=303)
    described = f"{date_from.isoformat()} 至 {date_to.isoformat()}"
    record_audit("export", target="收费台帐", detail=f"{fmt}；{described}")
    lines = ledger.describe(ledger.entries_between(date_from, date_to))
    table = Table("收费台帐", EXPORT_COLUMNS, _export_rows(lines), described)
    filename = f"收费台帐-{date_from.isoformat()}至{date_to.isoformat()}.{fmt}"
    return table_response(fmt, filename, [table], local_minute(utcnow()))


# ----- banking and reconciliation ------------------------------------------------------------


@bp.get("/banking")
@staff_required("fees.bank")
def banking():
    """财务: the counter's cash and cheques not yet banked, and the bankings made."""
    up_to = _date_arg("date", today())
    lines = ledger.unbanked(up_to)
    return _banking_page(up_to, lines)


def _banking_page(up_to, lines, status=200, error=None, values=None):
    return render_template(
        "fees/banking.html",
        up_to=up_to,
        lines=lines,
        cash=sum(x.signed for x in lines if x.entry.method == "cash"),
        cheque=sum(x.signed for x in lines if x.entry.method == "cheque"),
        fingerprint=ledger.unbanked_fingerprint(lines),
        bankings=ledger.bankings(),
        error=error,
        values=values or {},
        today=today(),
    ), status


@bp.post("/banking")
@staff_required("fees.bank")
def bank():
    values = {k: request.form.get(k, "") for k in ("slip_number", "banked_on", "up_to")}
    try:
        up_to = _form_date("up_to", "截至日期")
        found = ledger.bank(
            up_to=up_to,
            fingerprint=request.form.get("fingerprint", ""),
            slip_number=request.form.get("slip_number", ""),
            banked_on=_form_date("banked_on", "交存日期"),
        )
    except ledger.LedgerRefused as refused:
        day = _date_arg("date", today())
        return _banking_page(day, ledger.unbanked(day), 400, refused, values)
    flash(
        f"已登记交存：现金 {yuan_text(found.cash_fen)} 元，支票 {yuan_text(found.cheque_fen)} 元，"
        f"交存单 {found.slip_number}。",
        "success",
    )
    return redirect(url_for(".banking"), code=303)


@bp.get("/reconcile")
@staff_required("fees.reconcile")
def reconcile():
    """每三天与财务会计核对收费台帐: the last check, the next period and its ledger total."""
    return _reconcile_page()


def _reconcile_page(status=200, error=None, values=None):
    day = today()
    last, days, overdue = ledger.reconcile_due(day)
    date_from = last.date_to + timedelta(days=1) if last else None
    if date_from is None:
        date_from = ledger.first_entry_day() or day
    date_from = min(date_from, day)
    date_to = _date_arg("date_to", day)
    date_from = _date_arg("date_from", date_from)
    preview = ledger.ledger_total(date_from, date_to) if date_from <= date_to else None
    if (date_to - date_from).days > 366:
        preview = None
    return render_template(
        "fees/reconcile.html",
        last=last,
        days=days,
        overdue=overdue,
        every=ledger.RECONCILE_EVERY_DAYS,
        date_from=date_from,
        date_to=date_to,
        preview=preview,
        history=ledger.reconciliations(),
        finance_side=current_staff().role == FINANCE,
        error=error,
        values=values or {},
    ), status


@bp.post("/reconcile")
@staff_required("fees.reconcile")
def record_reconcile():
    values = {
        k: request.form.get(k, "")
        for k in ("date_from", "date_to", "accounts_total", "explanation", "counterpart")
    }
    try:
        found = ledger.record_reconciliation(
            date_from=_form_date("date_from", "核对开始日期"),
            date_to=_form_date("date_to", "核对结束日期"),
            accounts_fen=ledger.parse_yuan(
                request.form.get("accounts_total"), "财务账面金额", "accounts_total", True
            ),
            explanation=request.form.get("explanation", ""),
            counterpart=request.form.get("counterpart", ""),
            finance_side=current_staff().role == FINANCE,
        )
    except ledger.LedgerRefused as refused:
        return _reconcile_page(400, refused, values)
    flash(
        f"已记录 {found.date_from} 至 {found.date_to} 的核对：差额 {yuan_text(found.difference_fen)} 元。",
        "success",
    )
    return redirect(url_for(".reconcile"), code=303)
