"""账单 in the back office: issue a period's bills (客服主管, 经理), the period's list with its
totals (filter by building, state, room), one bill with its lines, adjustments and what
settled it, adjustments with a reason, carrying a former owner's arrears after 过户 (经理), the
rooms not billable, and the list as xlsx/csv (audited). ``register`` adds ``flask bills``,
the 过户 subscription and the reminder scan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask import (
    Blueprint,
    Flask,
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
from ..accounts.models import actor_label
from ..accounts.permissions import allowed
from ..accounts.registry import NavLink
from ..core.clock import today, utcnow
from ..core.commands import register_group
from ..core.extensions import db
from ..core.fee_standards import current_fee_standards, yuan_text
from ..core.refusals import Refused
from ..events import subscribe
from ..households.models import ROOM_KINDS, HouseholdRoom, room_label
from ..notifications.scans import register_scan
from ..web.exports import (
    DATE,
    NUMBER,
    Column,
    Table,
    table_response,
)
from ..web.paging import Page
from ..web.template_filters import local_minute
from ..web.typed_input import clean_line
from . import accounts, billing
from .models import LINE_KINDS, FeeBill, FeeEntry, FeeReceipt
from .periods import PERIOD_TEXT, month_key, period_of

bp = Blueprint("fees_bill", __name__)
NAV = (NavLink("账单", "fees_bill.index", "fees.view"),)
HOME: tuple = ()
AUDIT = {
    "fees.issue": "开具账单",
    "fees.adjust": "账单调整",
    "fees.carry": "过户欠费结转",
}
PER_PAGE = 50
STATES = {"all": "全部", "unpaid": "未结清", "paid": "已结清"}
MAX_QUERY = 30


def register(app: Flask) -> None:
    from .commands import issue_command

    register_group(app, "bills", "收费：按账期开具账单。", {"issue": issue_command})
    subscribe(app, "households.transfer", billing.on_transfer)
    register_scan(app, "fees.bill_due", billing.due_reminders)


def _actor() -> str:
    return actor_label(current_staff())


# ----- the period's list ---------------------------------------------------------------------


@dataclass
class Listing:
    period: str
    building: int | None
    state: str
    query: str
    errors: dict
    rows: list  # (row, row, amount, due, before_transfer): a bill's and its room's columns
    total_fen: int
    due_fen: int

    @property
    def described(self) -> str:
        parts = [f"账期 {self.period}"]
        if self.building is not None:
            parts.append(f"{self.building}号楼")
        if self.state != "all":
            parts.append(STATES[self.state])
        if self.query:
            parts.append(f"房号 {self.query}")
        return "；".join(parts)


def _default_period() -> str:
    latest = db.session.scalar(
        select(FeeBill.period)
        .where(FeeBill.community == billing.community_key())
        .order_by(FeeBill.period.desc())
        .limit(1)
    )
    return latest or month_key(today())


# What the list and the export read of a bill and its room: one plain row per bill (standing
# for both the bill and the room: no name is shared), not 2 × 20,000 ORM objects (and their
# expiry when the export's audit entry commits); and the bill's kept totals (``accounts`` keeps
# them equal to its lines and live entries in every write's transaction; arrears read them too)
# instead of summing every line and entry again. The bill's names are those
# ``before_transfer`` reads.
_READS = (
    FeeBill.id,
    FeeBill.room_id,
    FeeBill.period,
    FeeBill.payer_name,
    FeeBill.payer_kind,
    FeeBill.due_on,
    FeeBill.amount_fen,
    FeeBill.settled_fen,
    HouseholdRoom.kind,
    HouseholdRoom.building,
    HouseholdRoom.unit,
    HouseholdRoom.number,
    HouseholdRoom.code,
    HouseholdRoom.charge_area_centi,
)


def _listing() -> Listing:
    """The period's bills as filtered: one plain row per bill (its columns and its room's,
    ``_READS``) and the bills' kept totals, so that 2,000 or 20,000 bills are summed and
    filtered without an ORM object each; the page shows ``_page_rows`` of them."""
    errors = {}
    raw = request.args.get("period", "")
    period = raw.strip() if isinstance(raw, str) else ""
    matched = PERIOD_TEXT.fullmatch(period)
    if period and not (matched and 1 <= int(matched[2]) <= 12):
        errors["period"] = "账期须写成 年-月，例如 2026-12；已显示最近的账期。"
        period = ""
    period = period or _default_period()
    building = None
    raw_building = request.args.get("building", "").strip()
    if raw_building:
        if re.fullmatch(r"[0-9]{1,3}", raw_building):
            building = int(raw_building)
        else:
            errors["building"] = "楼号须是数字，例如 3。"
    state = request.args.get("state", "all")
    if state not in STATES:
        errors["state"] = "状态只能是全部、未结清或已结清。"
        state = "all"
    query = clean_line(request.args.get("q", ""))[:MAX_QUERY].upper()
    statement = (
        select(*_READS)
        .join(HouseholdRoom, HouseholdRoom.id == FeeBill.room_id)
        .where(FeeBill.community == billing.community_key(), FeeBill.period == period)
        .order_by(HouseholdRoom.kind.desc(), HouseholdRoom.building, HouseholdRoom.unit)
        .order_by(HouseholdRoom.id)
    )
    if building is not None:
        statement = statement.where(HouseholdRoom.building == building)
    if query:
        if re.fullmatch(r"[0-9A-Z\-]{1,30}", query):
            statement = statement.where(
                (HouseholdRoom.code == query) | (HouseholdRoom.number == query)
            )
        else:
            errors["q"] = "房号写成 3-1-1201、1201 或 S-101。"
    found = db.session.execute(statement).all()
    transfers = billing.last_transfers()
    rows = []
    for row in found:
        due = max(0, row.amount_fen - row.settled_fen)
        if state == "unpaid" and due == 0 or state == "paid" and due > 0:
            continue
        rows.append((row, row, row.amount_fen, due, billing.before_transfer(row, transfers)))
    return Listing(
        period,
        building,
        state,
        query,
        errors,
        rows,
        sum(r[2] for r in rows),
        sum(r[3] for r in rows),
    )


def _page_rows(rows: list) -> list:
    """The listing's rows of one page with the bill and the room they stand for."""
    found = {
        bill.id: (bill, room)
        for bill, room in db.session.execute(
            select(FeeBill, HouseholdRoom)
            .join(HouseholdRoom, HouseholdRoom.id == FeeBill.room_id)
            .where(FeeBill.id.in_([row.id for row, *_ in rows]))
        )
    }
    return [(*found[row.id], amount, due, before) for row, _room, amount, due, before in rows]


@bp.get("/")
@staff_required("fees.view")
def index():
    """The period's bills with their totals, and the issue form for those who may."""
    listing = _listing()
    pages = max(1, -(-len(listing.rows) // PER_PAGE))
    try:
        number = min(max(1, int(request.args.get("page", 1))), pages)
    except ValueError:
        number = 1
    page = Page(
        _page_rows(listing.rows[(number - 1) * PER_PAGE : number * PER_PAGE]),
        number,
        pages,
        len(listing.rows),
    )
    user = current_staff()
    standards = current_fee_standards()
    return render_template(
        "fees/staff/bills.html",
        listing=listing,
        page=page,
        filters={
            "period": listing.period,
            "building": listing.building or "",
            "state": listing.state if listing.state != "all" else "",
            "q": listing.query,
        },
        periods=billing.issued_periods(),
        states=STATES,
        may_issue=allowed(user.role, "fees.issue"),
        may_export=allowed(user.role, "fees.export"),
        standards=standards,
        suggested=month_key(today()),
        yuan=yuan_text,
    )


@bp.post("/issue")
@staff_required("fees.issue")
def issue():
    """Issue the period's bills (a second time issues nothing new)."""
    period = request.form.get("period", "")
    try:
        result = billing.issue_bills(period, _actor())
    except Refused as refused:
        flash(f"没有开具：{refused.message}", "error")
        return redirect(url_for(".index"), code=303)
    return render_template("fees/staff/bills_issued.html", result=result, yuan=yuan_text)


@bp.get("/not-billable")
@staff_required("fees.view")
def not_billable():
    """Rooms of the registry without 收费面积 (listed with the reason, never billed 0)."""
    _billable, rooms = billing.split_billable(billing.rooms_of_community())
    return render_template("fees/staff/bills_not_billable.html", rooms=rooms)


# ----- one bill ------------------------------------------------------------------------------


def _bill_or_404(bill_id: int) -> FeeBill:
    bill = billing.bill_of_community(bill_id)
    if bill is None:
        abort(404)
    return bill


def bill_page(bill: FeeBill, form: str = "", errors: dict | None = None, values=None):
    room = db.session.get(HouseholdRoom, bill.room_id)
    user = current_staff()
    transfers = billing.last_transfers([bill.room_id])
    amount = accounts.bill_amounts([bill.id])[bill.id]
    due = accounts.bills_due([bill.id])[bill.id]
    settled = accounts.bill_settlements([bill.id])[bill.id]
    receipt_ids = set(
        db.session.scalars(
            select(FeeEntry.receipt_id).where(
                FeeEntry.bill_id == bill.id, FeeEntry.receipt_id.is_not(None)
            )
        )
    )
    receipts = (
        list(
            db.session.scalars(
                select(FeeReceipt).where(FeeReceipt.id.in_(receipt_ids)).order_by(FeeReceipt.id)
            )
        )
        if receipt_ids
        else []
    )
    before = billing.before_transfer(bill, transfers)
    may_carry = allowed(user.role, "fees.approve") and before and due > 0
    return (
        render_template(
            "fees/staff/bill.html",
            bill=bill,
            room=room,
            period=period_of(bill.period, bill.months),
            lines=billing.lines_of(bill.id),
            line_kinds=LINE_KINDS,
            amount=amount,
            due=due,
            settled=settled,
            receipts=receipts,
            before_transfer=before,
            transfer_on=transfers.get(bill.room_id),
            targets=billing.carry_targets(bill, transfers) if may_carry else [],
            may_adjust=allowed(user.role, "fees.adjust"),
            may_carry=may_carry,
            form=form,
            errors=errors or {},
            values=values or {},
            yuan=yuan_text,
            standards=current_fee_standards(),
        ),
        400 if errors else 200,
    )


@bp.get("/<int:bill_id>")
@staff_required("fees.view")
def bill(bill_id: int):
    return bill_page(_bill_or_404(bill_id))


def _text(name: str) -> str:
    value = request.form.get(name, "")
    return value if isinstance(value, str) else ""


@bp.post("/<int:bill_id>/adjust")
@staff_required("fees.adjust")
def adjust(bill_id: int):
    """A new adjustment line with its reason (the bill is never edited)."""
    bill = _bill_or_404(bill_id)
    values = {"amount": _text("amount")[:30], "reason": clean_line(_text("reason"))[:400]}
    try:
        line = billing.add_adjustment(bill.id, values["amount"], values["reason"], _actor())
    except Refused as refused:
        return bill_page(bill, "adjust", {refused.field or "form": refused.message}, values)
    flash(f"已调整 {yuan_text(line.amount_fen)} 元。", "success")
    return redirect(url_for(".bill", bill_id=bill.id) + "#lines", code=303)


@bp.post("/<int:bill_id>/carry")
@staff_required("fees.approve")
def carry(bill_id: int):
    """过户: the 经理 carries the former owner's arrears to a bill of the new owner."""
    bill = _bill_or_404(bill_id)
    values = {"target": _text("target")[:12], "note": clean_line(_text("note"))[:400]}
    try:
        carried = billing.carry_arrears(bill.id, values["target"], values["note"], _actor())
    except Refused as refused:
        field = {"reason": "note"}.get(refused.field, refused.field) or "form"
        return bill_page(bill, "carry", {field: refused.message}, values)
    flash(f"已将 {yuan_text(carried)} 元过户前欠费结转给新业主。", "success")
    return redirect(url_for(".bill", bill_id=bill.id) + "#lines", code=303)


# ----- export --------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    Column("房屋", width=20),
    Column("房号", width=12),
    Column("类型", width=8),
    Column("收费面积（㎡）", NUMBER),
    Column("付款方", width=16),
    Column("账期", width=9),
    Column("应缴（元）", NUMBER),
    Column("欠费（元）", NUMBER),
    Column("缴费截止日", DATE),
    Column("过户前账单", width=10),
)


CENT = Decimal("0.01")


def _money(fen: int):
    return (Decimal(fen) / 100).quantize(CENT)


def _export_rows(listing: Listing):
    """The rows of ``_listing()`` as the export's cells."""
    for bill, room, amount, due, before in listing.rows:
        area = room.charge_area_centi
        yield (
            room_label(room.kind, room.building, room.unit, room.number),
            room.code,
            ROOM_KINDS.get(room.kind, room.kind),
            Decimal(area) / 100 if area is not None else None,
            bill.payer_name or ("开发商" if bill.payer_kind == "developer" else ""),
            bill.period,
            _money(amount),
            _money(due),
            bill.due_on,
            "是" if before else "",
        )


@bp.get("/export.<fmt>")
@staff_required("fees.export")
def export(fmt: str):
    """The period's list as xlsx or CSV, money as numbers; audited."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    listing = _listing()
    rows = list(_export_rows(listing))
    record_audit("export", target="账单", detail=f"{fmt}；{listing.described}")
    filename = f"账单-{listing.period}.{fmt}"
    table = Table(f"账单 {listing.period}", EXPORT_COLUMNS, rows, listing.described)
    return table_response(fmt, filename, [table], local_minute(utcnow()))
