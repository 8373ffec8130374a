"""收费 test data: bills made directly as rows (the bills part issues them in the product), and
the ledger's row counts a refused write must leave unchanged."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.fees.models import (
    FeeBanking,
    FeeBill,
    FeeBillLine,
    FeeEntry,
    FeeReceipt,
    FeeReceiptCounter,
    FeeReconciliation,
    FeeWaiverRequest,
)


def make_bill(app, room_id: int, period: str, amount_fen: int, community: str = "") -> int:
    """A bill of one 物业管理费 line for the room and period; its id."""
    with app.app_context():
        from forms_app.core.community import current_community

        key = community or current_community().key
        year, month = (int(x) for x in period.split("-"))
        with write_transaction() as session:
            bill = FeeBill(
                community=key,
                room_id=room_id,
                period=period,
                months=1,
                payer_name="",
                due_on=date(year, month, 15),
                issued_by="测试",
            )
            session.add(bill)
            session.flush()
            session.add(
                FeeBillLine(
                    community=key,
                    bill_id=bill.id,
                    item="management",
                    label="物业管理费",
                    quantity="1",
                    unit="月",
                    unit_price="",
                    amount_fen=amount_fen,
                )
            )
            session.flush()
            return bill.id


TABLES = (
    FeeEntry,
    FeeReceipt,
    FeeBanking,
    FeeReconciliation,
    FeeWaiverRequest,
)


def counts(app) -> dict:
    """Rows of every ledger table, and the receipt counters' next numbers."""
    with app.app_context():
        found = {
            table.__tablename__: db.session.scalar(select(func.count()).select_from(table))
            for table in TABLES
        }
        found["counters"] = dict(
            db.session.execute(
                select(FeeReceiptCounter.community, FeeReceiptCounter.next_number)
            ).all()
        )
        db.session.remove()
        return found
