"""The ledger on PostgreSQL, where a write transaction takes no database-wide lock: two
counters taking receipt numbers at once (the counter row's lock: no duplicate, no gap), two
staff sending the same payment form at once (one wins, the other is told 已记录), two
payments of one bill at once (the room's lock: the second sees what the first settled).
Runs on a throw-away PostgreSQL server (tests/support/postgres.py)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from flask import g
from sqlalchemy import create_engine, func, select, text

from forms_app.accounts import roles
from forms_app.accounts.models import StaffUser
from forms_app.core.extensions import db
from forms_app.fees import accounts, ledger
from forms_app.fees.models import FeeEntry, FeeReceipt
from tests.support.fees import make_bill
from tests.support.households import register
from tests.support.postgres import app_on_postgres, wait_for_blocked
from tests.support.staff import create_staff

TODAY = date(2026, 12, 10)


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(
        postgres_url, tmp_path / "instance", monkeypatch, TODAY=TODAY.isoformat()
    ) as app:
        create_staff(app, "desk", roles.SERVICE)
        yield app


def paying(app, outcomes: list, room_id: int, bill_id: int, amount: int, nonce: str):
    def run() -> None:
        with app.test_request_context():
            g._staff_user = db.session.scalar(select(StaffUser).where(StaffUser.username == "desk"))
            try:
                receipt = ledger.record_payment(
                    room_id,
                    payer="业主",
                    method="cash",
                    amount_fen=amount,
                    bill_ids=[bill_id],
                    nonce=nonce,
                )
                outcomes.append(("ok", receipt.number))
            except ledger.LedgerRefused as refused:
                outcomes.append(("refused", refused.message))

    return threading.Thread(target=run)


def held(app, sql: str, threads: list, waiting: int) -> None:
    """Run the threads while another connection holds a row lock, release it once they all
    wait on it, and wait for them."""
    engine = create_engine(app.config["PG_URL"])
    with engine.connect() as other:
        other.execute(text(sql))
        for thread in threads:
            thread.start()
        wait_for_blocked(other, waiting)
        other.commit()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()


def test_two_counters_take_receipt_numbers_at_once_without_duplicate_or_gap(pg_app):
    rooms = [register(pg_app, 1, 1, number, f"业主{number}", None)[0] for number in ("101", "102")]
    bills = [make_bill(pg_app, room, "2026-11", 10000) for room in rooms]
    first: list = []
    warm = paying(pg_app, first, rooms[0], bills[0], 100, "warm-nonce-000000000000")
    warm.start()
    warm.join()
    assert first == [("ok", 1)]
    outcomes: list = []
    threads = [
        paying(pg_app, outcomes, room, bill, 500, f"counter-nonce-{index}-0000000000")
        for index, (room, bill) in enumerate(zip(rooms, bills, strict=True))
    ]
    held(pg_app, "SELECT next_number FROM fee_receipt_counter FOR UPDATE", threads, 2)
    assert sorted(outcomes) == [("ok", 2), ("ok", 3)]
    with pg_app.app_context():
        numbers = db.session.scalars(select(FeeReceipt.number).order_by(FeeReceipt.number)).all()
        assert numbers == [1, 2, 3]


def test_the_same_payment_form_sent_by_two_desks_at_once_is_recorded_once(pg_app):
    room, _ = register(pg_app, 1, 1, "101", "业主", None)
    bill = make_bill(pg_app, room, "2026-11", 10000)
    outcomes: list = []
    threads = [
        paying(pg_app, outcomes, room, bill, 4000, "same-form-nonce-000000000") for _ in "ab"
    ]
    held(pg_app, f"SELECT id FROM household_room WHERE id = {room} FOR UPDATE", threads, 2)
    assert sorted(o[0] for o in outcomes) == ["ok", "refused"]
    [refused] = [o[1] for o in outcomes if o[0] == "refused"]
    assert "已记录" in refused
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeeEntry)) == 1
        assert db.session.scalar(select(func.count()).select_from(FeeReceipt)) == 1
        assert accounts.bills_due([bill]) == {bill: 6000}


def test_two_payments_of_one_bill_at_once_never_settle_more_than_is_due(pg_app):
    room, _ = register(pg_app, 1, 1, "101", "业主", None)
    bill = make_bill(pg_app, room, "2026-11", 10000)
    outcomes: list = []
    threads = [
        paying(pg_app, outcomes, room, bill, 7000, f"desk-{name}-nonce-0000000000") for name in "ab"
    ]
    held(pg_app, f"SELECT id FROM household_room WHERE id = {room} FOR UPDATE", threads, 2)
    assert sorted(o[0] for o in outcomes) == ["ok", "refused"]
    [refused] = [o[1] for o in outcomes if o[0] == "refused"]
    assert "超过所选账单应缴" in refused
    with pg_app.app_context():
        assert accounts.bills_due([bill]) == {bill: 3000}
        assert db.session.scalars(select(FeeReceipt.number)).all() == [1]  # no gap
