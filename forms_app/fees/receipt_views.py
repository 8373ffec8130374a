"""The owner's receipt (``/forms/fees/receipts/<id>``): a household signed in to 我的办理 sees
the receipts of its room issued since the person's own registration (a new owner never sees
the last one's); anyone else gets the 404 of any unknown page. Printable like the staff's."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from ..core.clock import local_date
from ..core.extensions import db
from ..my_records.codes import allowed_roles
from ..my_records.grants import current_grant
from .ledger_views import receipt_context
from .models import FeeReceipt

bp = Blueprint("fees_receipt", __name__)
NAV: tuple = ()
HOME: tuple = ()
AUDIT: dict[str, str] = {}


@bp.get("/<int:receipt_id>")
def receipt(receipt_id: int):
    grant = current_grant(allowed_roles())
    found = db.session.get(FeeReceipt, receipt_id)
    if (
        grant is None
        or found is None
        or found.room_id != grant.room.id
        or found.community != grant.room.community
        or local_date(found.issued_at) < grant.since
    ):
        abort(404)
    response = render_template("fees/receipt.html", **receipt_context(found), staff_view=False)
    return response, 200, {"Cache-Control": "private, no-store"}
