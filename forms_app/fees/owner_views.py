"""A household's bills in 我的办理 (``/forms/fees/``): for the signed-in household, the bills
still due with their lines, the history, receipts, the prepaid balance and the deposits held.

What a person sees after 过户: the bills of periods from the month of their own registration
(``since``) on — the former owners' arrears stay on the former owners' bills, which the new
owner never sees — and, on those bills, any arrears the 经理 chose to carry (a ``carried``
line with the 经理's note). Online payment is not offered here (it needs a merchant account).
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from sqlalchemy import select

from ..core.extensions import db
from ..core.fee_standards import current_fee_standards, yuan_text
from ..core.security_headers import private
from ..my_records.codes import allowed_roles
from ..my_records.grants import current_grant
from . import accounts, billing
from .models import HOUSEHOLD, LINE_KINDS, FeeBill
from .periods import month_key, period_of

bp = Blueprint("fees", __name__)
NAV: tuple = ()
HOME: tuple = ()
AUDIT: dict[str, str] = {}
# The owner's view of one receipt (the receipts part, ``receipt_views.py``).
RECEIPT_ENDPOINT = "fees_receipt.receipt"


def visible_bills(room_id: int, since) -> list[FeeBill]:
    """The room's bills the person may see: the household's (never the developer's, e.g. for
    the days before 交房), of periods from the month of their registration."""
    return list(
        db.session.scalars(
            select(FeeBill)
            .where(
                FeeBill.room_id == room_id,
                FeeBill.payer_kind == HOUSEHOLD,
                FeeBill.period >= month_key(since),
            )
            .order_by(FeeBill.period.desc())
        )
    )


@bp.get("/")
def index():
    grant = current_grant(allowed_roles())
    if grant is None:
        return redirect(url_for("my_records.start"))
    room = grant.room
    bills = visible_bills(room.id, grant.since)
    ids = [bill.id for bill in bills]
    amounts, dues = billing.amounts_and_dues(ids)
    lines = billing.lines_by_bill(ids)
    receipts = accounts.room_receipts(room.id, grant.since)
    standards = current_fee_standards()
    deposits = accounts.deposits_held(room.id)
    response = current_app.make_response(
        render_template(
            "fees/index.html",
            room=room,
            person=grant.person,
            minutes_left=grant.minutes_left,
            current=[b for b in bills if dues[b.id] > 0],
            history=[b for b in bills if dues[b.id] == 0],
            amounts=amounts,
            dues=dues,
            lines=lines,
            line_kinds=LINE_KINDS,
            period_of=period_of,
            receipts=receipts,
            receipt_endpoint=RECEIPT_ENDPOINT,
            balance=accounts.prepaid_balance(room.id),
            deposits=deposits,
            deposit_names={k: d.name for k, d in standards.deposits.items() if d},
            total_due=sum(dues.values()),
            yuan=yuan_text,
        )
    )
    return private(response)
