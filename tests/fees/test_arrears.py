"""Arrears by age, the chase the seed sets (电话催交 → 书面通知 → 上门收款, those who refuse to
the 经理) and 收缴率 with its definition: every amount from bill lines and live ledger entries."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from forms_app.accounts.models import AuditLog
from forms_app.core.extensions import db
from forms_app.fees import arrears
from forms_app.fees.accounts import kept_totals_problems, refresh_bills
from forms_app.fees.models import FeeBill, FeeBillLine, FeeChase, FeeEntry
from forms_app.households.registry import find_room
from tests.support.forms import csrf_token_from
from tests.support.households import register

pytestmark = pytest.mark.one_app_per_module

TODAY = date(2026, 12, 7)
PAGE = "/forms/staff/fees/reports"


@pytest.mark.parametrize(
    "due_on, day, months",
    [
        (date(2026, 12, 15), TODAY, 0),
        (date(2026, 12, 7), TODAY, 0),  # overdue the day after
        (date(2026, 12, 6), TODAY, 1),
        (date(2026, 11, 15), TODAY, 1),
        (date(2026, 9, 15), TODAY, 3),
        (date(2026, 9, 6), TODAY, 4),
        (date(2026, 5, 15), TODAY, 7),
    ],
)
def test_months_overdue_count_a_started_month(due_on, day, months):
    assert arrears.months_overdue(due_on, day) == months


def bill(app, room_id, period, amount_fen, due_on):
    with app.app_context():
        row = FeeBill(
            community="shanshui",
            room_id=room_id,
            period=period,
            due_on=due_on,
            issued_by="测试",
            payer_name="",
        )
        db.session.add(row)
        db.session.flush()
        db.session.add(
            FeeBillLine(
                community="shanshui",
                bill_id=row.id,
                item="management",
                label="物业管理费",
                amount_fen=amount_fen,
            )
        )
        db.session.flush()
        refresh_bills(db.session, [row.id])
        db.session.commit()
        return row.id


def entry(app, room_id, bill_id, kind, amount_fen, day=TODAY, reverses=None):
    with app.app_context():
        row = FeeEntry(
            community="shanshui",
            room_id=room_id,
            bill_id=bill_id,
            kind=kind,
            amount_fen=amount_fen,
            method="cash" if kind == "payment" else None,
            day=day,
            actor="测试",
            reverses_id=reverses,
            reason="测试",
        )
        db.session.add(row)
        db.session.flush()
        bills = [bill_id]
        if reverses:
            bills.append(db.session.get(FeeEntry, reverses).bill_id)
        refresh_bills(db.session, [b for b in bills if b])
        db.session.commit()
        return row.id


@pytest.fixture
def ledger(app):
    """3-1-1201 owes on three bills (one half paid, one reversed payment); 3-1-1202 paid."""
    app.config["TODAY"] = TODAY.isoformat()
    room, _ = register(app, 3, 1, "1201", "张三", "13800138000")
    paid_room, _ = register(app, 3, 1, "1202", "李四", "13900139000")
    old = bill(app, room, "2026-05", 10000, date(2026, 5, 15))
    last = bill(app, room, "2026-11", 10000, date(2026, 11, 15))
    this = bill(app, room, "2026-12", 10000, date(2026, 12, 15))
    entry(app, room, last, "payment", 5000, date(2026, 11, 20))
    wrong = entry(app, room, old, "payment", 10000, date(2026, 11, 20))
    entry(app, room, None, "reversal", 10000, date(2026, 11, 21), reverses=wrong)
    paid = bill(app, paid_room, "2026-12", 8000, date(2026, 12, 15))
    entry(app, paid_room, paid, "payment", 6000, date(2026, 12, 3))
    entry(app, paid_room, paid, "waiver", 2000, date(2026, 12, 3))
    return {"room": room, "paid_room": paid_room, "bills": (old, last, this)}


def test_aging_by_household_from_lines_and_live_entries(app, ledger):
    with app.test_request_context():
        [entry_] = arrears.aging()
    assert entry_.room.id == ledger["room"]
    assert entry_.buckets == {"current": 10000, "m1_3": 5000, "m4_6": 0, "m7": 10000}
    assert entry_.total == 25000 and entry_.contact_name == "张三"
    with app.app_context():
        assert kept_totals_problems("shanshui") == []


def test_the_arrears_page_the_chase_and_the_refused_list(app, as_role, ledger):
    service = as_role("service")
    html = service.get(f"{PAGE}/arrears").get_data(as_text=True)
    assert "3号楼1单元1201室" in html and "150.00" in html and "138****8000" in html
    html = service.get(f"{PAGE}/arrears?all=1").get_data(as_text=True)
    assert "250.00" in html
    assert "3号楼1单元1202室" not in html
    room_page = service.get(f"{PAGE}/arrears/{ledger['room']}").get_data(as_text=True)
    token = csrf_token_from(room_page)
    # A phone call needs its outcome; nothing stored when refused.
    refused = service.post(
        f"{PAGE}/arrears/{ledger['room']}/chase", data={"csrf_token": token, "step": "phone"}
    )
    assert refused.status_code == 400 and "请填写结果" in refused.get_data(as_text=True)
    bad = service.post(
        f"{PAGE}/arrears/{ledger['room']}/chase",
        data={"csrf_token": token, "step": "sue", "outcome": "x"},
    )
    assert bad.status_code == 400 and "请选择催交方式" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeeChase)) == 0
    # Call: the whole number, audited.
    call = service.get(f"{PAGE}/arrears/{ledger['room']}/call").get_data(as_text=True)
    assert 'href="tel:13800138000"' in call
    letter = service.get(f"{PAGE}/arrears/{ledger['room']}/letter").get_data(as_text=True)
    assert "物业服务费用催缴通知" in letter and "250.00" in letter and "2026-05" in letter
    for step, outcome in (("phone", "答应月底交"), ("letter", ""), ("refused", "对维修不满，拒交")):
        ok = service.post(
            f"{PAGE}/arrears/{ledger['room']}/chase",
            data={"csrf_token": token, "step": step, "outcome": outcome},
        )
        assert ok.status_code == 303, step
    with app.app_context():
        audits = db.session.scalars(select(AuditLog.action)).all()
        assert audits.count("fees.call") == 1 and audits.count("fees.chase") == 3
    assert service.get(f"{PAGE}/refused").status_code == 403
    listing = as_role("manager").get(f"{PAGE}/refused").get_data(as_text=True)
    assert "3号楼1单元1201室" in listing and "对维修不满，拒交" in listing
    # Nothing to chase on a household that owes nothing.
    nothing = service.post(
        f"{PAGE}/arrears/{ledger['paid_room']}/chase",
        data={"csrf_token": token, "step": "phone", "outcome": "x"},
    )
    assert nothing.status_code == 400 and "没有欠费" in nothing.get_data(as_text=True)


def test_collection_rates_with_their_definition(app, as_role, ledger):
    with app.test_request_context():
        bill_rate, cash_rate = arrears.month_rates("2026-12")["community"]
    # December's bills: 10,000 + 8,000 billed, 2,000 waived, 6,000 collected.
    assert (bill_rate.billed, bill_rate.waived, bill_rate.collected) == (18000, 2000, 6000)
    assert bill_rate.rate == pytest.approx(0.375)
    # December's cash: opening arrears 15,000 (May 10,000 + Nov 5,000) + 18,000 billed.
    assert cash_rate.billed == 33000 and cash_rate.collected == 6000
    html = as_role("manager").get(f"{PAGE}/rates?month=2026-12").get_data(as_text=True)
    assert "当月账单收缴率" in html and "37.5%" in html and "减免不计入应收" in html
    assert as_role("service").get(f"{PAGE}/rates").status_code == 403
    weekly = as_role("service_lead").get(f"{PAGE}/weekly?week=2026-12-02").get_data(as_text=True)
    assert "2026-11-30 至 2026-12-06" in weekly and "60.00" in weekly


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exports_are_audited(app, as_role, ledger, fmt):
    manager = as_role("manager")
    for url in (f"{PAGE}/arrears?fmt={fmt}", f"{PAGE}/rates?month=2026-12&fmt={fmt}"):
        response = manager.get(url)
        assert response.status_code == 200 and len(response.data) > 100
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "export")
            )
            == 2
        )


def test_odd_values_and_strangers(app, as_role, ledger):
    manager = as_role("manager")
    for url in (
        f"{PAGE}/arrears?building=99&all=x",
        f"{PAGE}/rates?month=2026-13",
        f"{PAGE}/rates?month=%00",
        f"{PAGE}/weekly?week=9999-99-99",
        f"{PAGE}/arrears/99999999",
    ):
        assert manager.get(url).status_code in (200, 404), url
    assert as_role("security").get(f"{PAGE}/arrears").status_code == 403
    with app.test_request_context():
        assert find_room(3, 1, "1201").id == ledger["room"]


def test_lines_and_entries_added_through_the_session_keep_the_bills_totals(app):
    """No writer can leave a bill's kept totals behind: adding a line or an entry (and a
    reversal) through the ORM refreshes them in the same transaction."""
    app.config["TODAY"] = TODAY.isoformat()
    room, _ = register(app, 5, 1, "101", "王五", "13700137000")
    with app.app_context():
        row = FeeBill(
            community="shanshui",
            room_id=room,
            period="2026-12",
            due_on=date(2026, 12, 15),
            issued_by="测试",
        )
        db.session.add(row)
        db.session.flush()
        db.session.add(
            FeeBillLine(community="shanshui", bill_id=row.id, item="x", label="x", amount_fen=900)
        )
        db.session.commit()
        assert (row.amount_fen, row.settled_fen, row.settled_on) == (900, 0, None)
        pay = FeeEntry(
            community="shanshui",
            room_id=room,
            bill_id=row.id,
            kind="payment",
            amount_fen=900,
            day=TODAY,
            actor="测试",
        )
        db.session.add(pay)
        db.session.commit()
        assert (row.settled_fen, row.settled_on) == (900, TODAY)
        db.session.add(
            FeeEntry(
                community="shanshui",
                room_id=room,
                kind="reversal",
                amount_fen=900,
                day=TODAY,
                actor="测试",
                reverses_id=pay.id,
                reason="收错",
            )
        )
        db.session.commit()
        assert (row.settled_fen, row.settled_on) == (0, None)
        assert kept_totals_problems("shanshui") == []
