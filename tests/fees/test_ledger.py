"""The 收费台帐 and the counter: payments with receipts, prepayment, 特约服务, deposits (and
renovation's 退还押金 through the event hook), waivers approved by the 经理, refunds,
reversals and voids, banking, the three-day reconciliation, exports — and every refusal
leaves nothing half-written."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.extensions import db
from forms_app.fees import accounts, ledger
from forms_app.fees.models import (
    FeeBanking,
    FeeEntry,
    FeeReceipt,
    FeeReconciliation,
    FeeWaiverRequest,
)
from tests.support.fees import counts, make_bill
from tests.support.forms import csrf_token_from
from tests.support.households import register
from tests.support.renovation import file_application, walk

pytestmark = pytest.mark.one_app_per_module

TODAY = date(2026, 12, 10)
BASE = "/forms/staff/fees/ledger"


@pytest.fixture
def fees(app, staff_accounts):
    """Room 1-1-101 with its owner and two bills: 2026-10 of 200.00 and 2026-11 of 300.00."""
    app.config["TODAY"] = TODAY.isoformat()
    room_id, _ = register(app, 1, 1, "101", "张业主", "13800138000")
    app.room_id = room_id
    app.oct = make_bill(app, room_id, "2026-10", 20000)
    app.nov = make_bill(app, room_id, "2026-11", 30000)
    return app


def run(app, call, *args, role=roles.SERVICE, **kwargs):
    """Call a ledger function as a logged-in member of staff of that role would."""
    from flask import g

    from forms_app.accounts.models import StaffUser

    with app.test_request_context():
        g._staff_user = db.session.scalar(select(StaffUser).where(StaffUser.username == role))
        result = call(*args, **kwargs)
        if isinstance(
            result, (FeeReceipt, FeeEntry, FeeWaiverRequest, FeeBanking, FeeReconciliation)
        ):
            db.session.refresh(result)
            db.session.expunge(result)
        return result


def nonce(n: int = 0) -> str:
    return f"test-nonce-{n:04d}-abcdefghijk"


def state(app):
    with app.app_context():
        ids = [app.oct, app.nov]
        return {
            "due": accounts.bills_due(ids),
            "balance": accounts.prepaid_balance(app.room_id),
            "held": accounts.deposits_held(app.room_id),
        }


def pay(app, amount, bills=None, prepay=False, n=1, method="cash", role=roles.SERVICE):
    return run(
        app,
        ledger.record_payment,
        app.room_id,
        payer="张业主",
        method=method,
        amount_fen=amount,
        bill_ids=[app.oct, app.nov] if bills is None else bills,
        prepay=prepay,
        nonce=nonce(n),
        role=role,
    )


# ----- typed amounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, fen",
    [("1280.50", 128050), ("0.05", 5), ("1,002.5", 100250), ("１２.３０", 1230), ("¥8元", 800)],
)
def test_typed_amounts_are_read_as_decimal_fen(typed, fen):
    assert ledger.parse_yuan(typed) == fen


@pytest.mark.parametrize(
    "typed, words",
    [
        ("", "请填写"),
        ("-5", "负数"),
        ("12.345", "两位小数"),
        ("10000000.01", "10,000,000"),
        ("99999999999", "10,000,000"),
        ("0", "大于 0"),
        ("1e3", "数字"),
        ("NaN", "数字"),
        ("12.3.4", "数字"),
        ("x" * 5000, "数字"),
    ],
)
def test_odd_amounts_are_refused_in_chinese(typed, words):
    with pytest.raises(ledger.LedgerRefused) as refused:
        ledger.parse_yuan(typed)
    assert words in refused.value.message


# ----- payments -----------------------------------------------------------------------------


def test_a_payment_settles_the_oldest_bill_first_and_allows_part_payment(fees):
    receipt = pay(fees, 25000)
    assert (receipt.number, receipt.total_fen, receipt.method) == (1, 25000, "cash")
    assert state(fees)["due"] == {fees.oct: 0, fees.nov: 25000}
    with fees.app_context():
        entries = db.session.scalars(select(FeeEntry).order_by(FeeEntry.id)).all()
        assert [(e.kind, e.bill_id, e.amount_fen, e.receipt_id) for e in entries] == [
            ("payment", fees.oct, 20000, receipt.id),
            ("payment", fees.nov, 5000, receipt.id),
        ]
        assert entries[0].day == TODAY and "客服" in entries[0].actor
        assert accounts.kept_totals_problems(entries[0].community) == []
    second = pay(fees, 100, bills=[fees.nov], n=2)
    assert second.number == 2  # one series, no gap


def test_more_than_due_is_refused_without_prepayment_and_nothing_is_written(fees):
    before = counts(fees)
    with pytest.raises(ledger.LedgerRefused) as refused:
        pay(fees, 60000)
    assert "预存" in refused.value.message and refused.value.field == "amount"
    assert counts(fees) == before  # no entry, no receipt, no receipt number taken
    assert pay(fees, 50000, n=2).number == 1


def test_the_remainder_is_kept_as_a_prepayment_when_chosen_and_applied_later(fees):
    receipt = pay(fees, 60000, prepay=True)
    assert receipt.total_fen == 60000
    assert state(fees)["balance"] == 10000 and state(fees)["due"] == {fees.oct: 0, fees.nov: 0}
    # A pure prepayment (no bill chosen), then a new bill paid from the balance.
    pay(fees, 5000, bills=[], prepay=True, n=2)
    dec = make_bill(fees, fees.room_id, "2026-12", 12000)
    applied = run(fees, ledger.apply_prepaid, fees.room_id, [dec], nonce=nonce(3))
    assert applied == 12000
    assert state(fees)["balance"] == 3000
    with fees.app_context():
        assert accounts.bills_due([dec]) == {dec: 0}
    with pytest.raises(ledger.LedgerRefused, match="已经缴清"):
        run(fees, ledger.apply_prepaid, fees.room_id, [dec], nonce=nonce(4))


def test_a_bill_of_another_room_or_no_choice_is_refused(fees):
    other_room, _ = register(fees, 1, 1, "102", "李业主", "13900139000")
    other = make_bill(fees, other_room, "2026-11", 100)
    before = counts(fees)
    with pytest.raises(ledger.LedgerRefused, match="不属于"):
        pay(fees, 100, bills=[other])
    with pytest.raises(ledger.LedgerRefused, match="预存"):
        pay(fees, 100, bills=[])
    with pytest.raises(ledger.LedgerRefused, match="付款方式"):
        pay(fees, 100, method="bitcoin")
    with pytest.raises(ledger.LedgerRefused, match="10,000,000"):
        pay(fees, -5)
    assert counts(fees) == before


def test_the_same_form_sent_twice_is_recorded_once(fees):
    first = pay(fees, 10000, n=7)
    with pytest.raises(ledger.AlreadyRecorded) as again:
        pay(fees, 10000, n=7)
    assert again.value.receipt_id == first.id and "已记录" in again.value.message
    assert state(fees)["due"][fees.oct] == 10000


def test_an_online_provider_records_through_the_same_path(fees):
    receipt = run(
        fees,
        ledger.record_payment,
        fees.room_id,
        payer="张业主",
        method="online",
        amount_fen=20000,
        bill_ids=[fees.oct],
        nonce="wxpay-4200001234567890",
        provider="wechat",
        provider_ref="4200001234567890",
    )
    with fees.app_context():
        entry = db.session.scalar(select(FeeEntry).where(FeeEntry.receipt_id == receipt.id))
        assert (entry.method, entry.provider, entry.provider_ref) == (
            "online",
            "wechat",
            "4200001234567890",
        )
        assert ledger.unbanked(TODAY) == []  # never counter cash
    with pytest.raises(ledger.LedgerRefused):  # the counter cannot claim to be online
        pay(fees, 100, method="online", n=9)


# ----- services and deposits ------------------------------------------------------------------


def test_a_special_service_is_charged_at_the_price_list_times_quantity(fees):
    receipt = run(
        fees,
        ledger.sell_service,
        fees.room_id,
        service_id="copying",
        quantity=12,
        payer="张业主",
        method="scan",
        nonce=nonce(1),
    )
    assert receipt.total_fen == 600  # 0.50 元 × 12
    with fees.app_context():
        entry = db.session.scalar(select(FeeEntry).where(FeeEntry.kind == "service"))
        assert entry.amount_fen == 600 and "复印 12页" in entry.reason
    with pytest.raises(ledger.LedgerRefused, match="特约服务"):
        run(
            fees,
            ledger.sell_service,
            fees.room_id,
            service_id="massage",
            quantity=1,
            payer="张",
            method="cash",
            nonce=nonce(2),
        )
    for typed in ("0", "-1", "1.5", "100001", "²"):
        with pytest.raises(ledger.LedgerRefused, match="数量"):
            ledger.parse_quantity(typed)


@pytest.fixture
def renovation(fees):
    """An application for 1-1-101, approved and on site."""
    application_id = file_application(fees, room="101", owner_mobile="13800138000")
    walk(fees, application_id, "approve", "start")
    fees.application_id = application_id
    return fees


def take_deposit(app, key="renovation", n=1):
    return run(
        app,
        ledger.receive_deposit,
        app.room_id,
        key=key,
        application_id=app.application_id,
        payer="王美华",
        method="cash",
        nonce=nonce(n),
    )


def test_deposits_are_taken_at_the_fee_files_amount_once(renovation):
    app = renovation
    receipt = take_deposit(app)
    assert receipt.total_fen == 200000  # data/fees: 装修押金 2000 元
    take_deposit(app, "tarpaulin", n=2)
    ref = f"renovation:{app.application_id}"
    assert state(app)["held"] == {ref: 200000, f"tarpaulin:{app.application_id}": 10000}
    before = counts(app)
    with pytest.raises(ledger.LedgerRefused, match="已经收取过"):
        take_deposit(app, n=3)
    with pytest.raises(ledger.LedgerRefused, match="装修申请"):
        run(
            app,
            ledger.receive_deposit,
            app.room_id,
            key="renovation",
            application_id=999,
            payer="王",
            method="cash",
            nonce=nonce(4),
        )
    assert counts(app) == before


def test_the_renovation_refund_step_refunds_the_deposit_in_the_ledger(renovation):
    app = renovation
    take_deposit(app)
    walk(app, app.application_id, "complete", "accept", "refund_deposit")
    assert state(app)["held"] == {}
    with app.app_context():
        out = db.session.scalar(select(FeeEntry).where(FeeEntry.kind == "deposit_out"))
        assert (out.amount_fen, out.method, out.deposit_ref, out.room_id) == (
            200000,
            "cash",
            f"renovation:{app.application_id}",
            app.room_id,
        )
        assert "经理" in out.actor
    # Never at the counter, never twice.
    with pytest.raises(ledger.LedgerRefused, match="退还押金"):
        run(
            app,
            ledger.refund_deposit,
            app.room_id,
            deposit_ref=out.deposit_ref,
            method="cash",
            reason="重复",
            nonce=nonce(5),
        )


def test_the_refund_step_without_a_recorded_deposit_writes_nothing_and_says_so(renovation):
    app = renovation
    before = counts(app)
    walk(app, app.application_id, "complete", "accept", "refund_deposit")
    assert counts(app) == before
    with app.app_context():
        note = db.session.scalar(select(AuditLog).where(AuditLog.action == "fees.deposit_refund"))
        assert "未登记收取押金，台帐无退款记录" in note.detail


def test_the_tarpaulin_deposit_is_refunded_at_the_counter_once(renovation):
    app = renovation
    take_deposit(app, "tarpaulin")
    ref = f"tarpaulin:{app.application_id}"
    run(
        app,
        ledger.refund_deposit,
        app.room_id,
        deposit_ref=ref,
        method="cash",
        reason="彩条布已归还",
        nonce=nonce(2),
    )
    assert state(app)["held"] == {}
    with pytest.raises(ledger.LedgerRefused, match="没有这笔押金|已经退还"):
        run(
            app,
            ledger.refund_deposit,
            app.room_id,
            deposit_ref=ref,
            method="cash",
            reason="再退",
            nonce=nonce(3),
        )


# ----- waivers and refunds ---------------------------------------------------------------------


def test_a_waiver_waits_for_the_manager_and_only_approval_writes_the_ledger(fees):
    found = run(
        fees,
        ledger.request_waiver,
        fees.room_id,
        bill_id=fees.oct,
        amount_fen=5000,
        reason="空置期间协商减免",
        approve_now=False,
        nonce=nonce(1),
    )
    assert found.state == "pending"
    assert state(fees)["due"][fees.oct] == 20000
    with pytest.raises(ledger.LedgerRefused, match="待审批"):
        run(
            fees,
            ledger.request_waiver,
            fees.room_id,
            bill_id=fees.oct,
            amount_fen=16000,
            reason="再减",
            approve_now=False,
            nonce=nonce(2),
        )
    decided = run(fees, ledger.decide_waiver, found.id, approve=True, role=roles.MANAGER)
    assert decided.state == "approved" and decided.entry_id
    assert state(fees)["due"][fees.oct] == 15000
    with fees.app_context():
        entry = db.session.get(FeeEntry, decided.entry_id)
        assert entry.kind == "waiver" and "经理" in entry.approved_by and "客服" in entry.actor
    with pytest.raises(ledger.LedgerRefused, match="已经处理过"):
        run(fees, ledger.decide_waiver, found.id, approve=False, note="不", role=roles.MANAGER)


def test_a_refused_waiver_writes_nothing_and_needs_a_note(fees):
    found = run(
        fees,
        ledger.request_waiver,
        fees.room_id,
        bill_id=fees.nov,
        amount_fen=100,
        reason="理由",
        approve_now=False,
        nonce=nonce(1),
    )
    with pytest.raises(ledger.LedgerRefused, match="审批意见"):
        run(fees, ledger.decide_waiver, found.id, approve=False, role=roles.MANAGER)
    run(fees, ledger.decide_waiver, found.id, approve=False, note="无依据", role=roles.MANAGER)
    with fees.app_context():
        assert db.session.scalar(select(FeeEntry.id).where(FeeEntry.kind == "waiver")) is None
    with pytest.raises(ledger.LedgerRefused, match="减免原因"):
        run(
            fees,
            ledger.request_waiver,
            fees.room_id,
            bill_id=fees.nov,
            amount_fen=100,
            reason="  ",
            approve_now=False,
            nonce=nonce(2),
        )
    with pytest.raises(ledger.LedgerRefused, match="超过"):
        run(
            fees,
            ledger.request_waiver,
            fees.room_id,
            bill_id=fees.nov,
            amount_fen=30001,
            reason="太多",
            approve_now=False,
            nonce=nonce(3),
        )


def test_the_manager_refunds_a_prepaid_balance_up_to_it(fees):
    pay(fees, 10000, bills=[], prepay=True)
    with pytest.raises(ledger.LedgerRefused, match="超过"):
        run(
            fees,
            ledger.refund_prepaid,
            fees.room_id,
            amount_fen=10001,
            method="cash",
            reason="搬走",
            nonce=nonce(2),
            role=roles.MANAGER,
        )
    entry = run(
        fees,
        ledger.refund_prepaid,
        fees.room_id,
        amount_fen=4000,
        method="transfer",
        reason="业主申请退还",
        nonce=nonce(3),
        role=roles.MANAGER,
    )
    assert entry.kind == "refund" and "经理" in entry.approved_by
    assert state(fees)["balance"] == 6000


def test_only_the_manager_may_refund_or_decide(fees, as_role):
    desk = as_role(roles.SERVICE)
    page = desk.get(f"{BASE}/counter/{fees.room_id}")
    token = csrf_token_from(page.get_data(as_text=True))
    response = desk.post(
        f"{BASE}/counter/{fees.room_id}/refund",
        data={"csrf_token": token, "refund_amount": "1", "method": "cash", "reason": "x"},
    )
    assert response.status_code == 403
    assert desk.get(f"{BASE}/waivers").status_code == 403
    assert as_role(roles.MANAGER).get(f"{BASE}/waivers").status_code == 200


# ----- reversals and voids -----------------------------------------------------------------


def test_voiding_a_receipt_keeps_its_number_and_reverses_every_entry(fees):
    receipt = pay(fees, 25000)
    voided = run(fees, ledger.void_receipt, receipt.id, "金额录错", role=roles.SERVICE_LEAD)
    assert voided.number == 1 and voided.voided_at and voided.void_reason == "金额录错"
    assert state(fees)["due"] == {fees.oct: 20000, fees.nov: 30000}
    with fees.app_context():
        assert accounts.kept_totals_problems(voided.community) == []
        reversals = db.session.scalars(select(FeeEntry).where(FeeEntry.kind == "reversal")).all()
        assert len(reversals) == 2 and all(r.reverses_id for r in reversals)
    before = counts(fees)
    with pytest.raises(ledger.LedgerRefused, match="已经作废"):
        run(fees, ledger.void_receipt, receipt.id, "再作废", role=roles.MANAGER)
    with pytest.raises(ledger.LedgerRefused, match="不能再冲正"):
        run(fees, ledger.reverse_entry, reversals[0].id, "冲冲正", role=roles.MANAGER)
    with pytest.raises(ledger.LedgerRefused, match="作废原因"):
        run(fees, ledger.void_receipt, receipt.id, "", role=roles.MANAGER)
    assert counts(fees) == before
    assert pay(fees, 100, n=2).number == 2  # the voided number is never used again


def test_an_entry_without_receipt_is_reversed_once(fees):
    pay(fees, 20000, bills=[], prepay=True)
    applied = run(fees, ledger.apply_prepaid, fees.room_id, [fees.oct], nonce=nonce(2))
    assert applied == 20000
    with fees.app_context():
        entry_id = db.session.scalar(select(FeeEntry.id).where(FeeEntry.kind == "prepay_applied"))
    run(fees, ledger.reverse_entry, entry_id, "抵扣错了账单", role=roles.MANAGER)
    assert state(fees)["balance"] == 20000 and state(fees)["due"][fees.oct] == 20000
    with pytest.raises(ledger.LedgerRefused, match="不能重复冲正"):
        run(fees, ledger.reverse_entry, entry_id, "再冲", role=roles.MANAGER)


def test_a_prepayment_already_applied_cannot_be_voided_first(fees):
    receipt = pay(fees, 20000, bills=[], prepay=True)
    run(fees, ledger.apply_prepaid, fees.room_id, [fees.oct], nonce=nonce(2))
    before = counts(fees)
    with pytest.raises(ledger.LedgerRefused, match="小于 0"):
        run(fees, ledger.void_receipt, receipt.id, "录错", role=roles.MANAGER)
    assert counts(fees) == before


def test_a_deposit_refunded_cannot_be_reversed(renovation):
    app = renovation
    receipt = take_deposit(app)
    walk(app, app.application_id, "complete", "accept", "refund_deposit")
    with app.app_context():
        out = db.session.scalar(select(FeeEntry.id).where(FeeEntry.kind == "deposit_out"))
    with pytest.raises(ledger.LedgerRefused, match="押金"):
        run(app, ledger.reverse_entry, out, "错", role=roles.MANAGER)
    with pytest.raises(ledger.LedgerRefused, match="已经退还"):
        run(app, ledger.void_receipt, receipt.id, "错", role=roles.MANAGER)


# ----- the day, banking, reconciliation ------------------------------------------------------


def test_the_day_summary_banking_and_a_second_banking_refused(fees):
    pay(fees, 20000, bills=[fees.oct], n=1)
    pay(fees, 30000, bills=[fees.nov], method="cheque", n=2)
    pay(fees, 1000, bills=[], prepay=True, method="scan", n=3)
    refund = run(
        fees,
        ledger.refund_prepaid,
        fees.room_id,
        amount_fen=400,
        method="cash",
        reason="退",
        nonce=nonce(4),
        role=roles.MANAGER,
    )
    assert refund.amount_fen == 400
    with fees.test_request_context():
        summary = ledger.summarize(ledger.describe(ledger.entries_between(TODAY, TODAY)))
        assert summary.by_method == {"cash": 19600, "cheque": 30000, "scan": 1000}
        assert summary.total == 50600 and len(summary.by_actor) == 2
        lines = ledger.unbanked(TODAY)
        fingerprint = ledger.unbanked_fingerprint(lines)
    banking = run(
        fees,
        ledger.bank,
        up_to=TODAY,
        fingerprint=fingerprint,
        slip_number="JC-001",
        banked_on=TODAY,
        role=roles.FINANCE,
    )
    assert (banking.cash_fen, banking.cheque_fen) == (19600, 30000)
    before = counts(fees)
    with pytest.raises(ledger.LedgerRefused, match="没有待交存"):
        run(
            fees,
            ledger.bank,
            up_to=TODAY,
            fingerprint=fingerprint,
            slip_number="JC-002",
            banked_on=TODAY,
            role=roles.FINANCE,
        )
    pay(fees, 500, bills=[], prepay=True, n=5)
    with pytest.raises(ledger.LedgerRefused, match="有变化"):
        run(
            fees,
            ledger.bank,
            up_to=TODAY,
            fingerprint=fingerprint,
            slip_number="JC-002",
            banked_on=TODAY,
            role=roles.FINANCE,
        )
    with fees.test_request_context():
        fresh = ledger.unbanked_fingerprint(ledger.unbanked(TODAY))
    with pytest.raises(ledger.LedgerRefused, match="登记过"):
        run(
            fees,
            ledger.bank,
            up_to=TODAY,
            fingerprint=fresh,
            slip_number="JC-001",
            banked_on=TODAY,
            role=roles.FINANCE,
        )
    assert counts(fees)["fee_banking"] == before["fee_banking"]


def test_a_reversal_of_banked_cash_is_netted_in_the_next_banking(fees):
    receipt = pay(fees, 20000, bills=[fees.oct])
    with fees.test_request_context():
        fingerprint = ledger.unbanked_fingerprint(ledger.unbanked(TODAY))
    run(
        fees,
        ledger.bank,
        up_to=TODAY,
        fingerprint=fingerprint,
        slip_number="A1",
        banked_on=TODAY,
        role=roles.FINANCE,
    )
    run(fees, ledger.void_receipt, receipt.id, "收错户", role=roles.MANAGER)
    with fees.test_request_context():
        assert [line.signed for line in ledger.unbanked(TODAY)] == [-20000]
        assert ledger.ledger_total(TODAY, TODAY) == 0


def test_reconciliation_every_three_days(fees, as_role):
    pay(fees, 20000, bills=[fees.oct])
    desk = as_role(roles.SERVICE)
    html = desk.get(f"{BASE}/reconcile").get_data(as_text=True)
    assert "还没有核对记录" in html and "200.00" in html
    kwargs = dict(date_from=TODAY - timedelta(days=2), date_to=TODAY, counterpart="财务李会计")
    with pytest.raises(ledger.LedgerRefused, match="差异说明"):
        run(
            fees,
            ledger.record_reconciliation,
            accounts_fen=19000,
            explanation="",
            finance_side=False,
            **kwargs,
        )
    found = run(
        fees,
        ledger.record_reconciliation,
        accounts_fen=19000,
        explanation="一笔转账未到账",
        finance_side=False,
        **kwargs,
    )
    assert (found.ledger_fen, found.difference_fen) == (20000, -1000)
    assert found.finance_name == "财务李会计" and "客服" in found.service_name
    with pytest.raises(ledger.LedgerRefused, match="重叠"):
        run(
            fees,
            ledger.record_reconciliation,
            accounts_fen=0,
            explanation="",
            finance_side=True,
            date_from=TODAY,
            date_to=TODAY,
            counterpart="客服",
        )
    # Four days later the page warns.
    fees.config["TODAY"] = (TODAY + timedelta(days=4)).isoformat()
    html = desk.get(f"{BASE}/reconcile").get_data(as_text=True)
    assert 'id="reconcile-warning"' in html and "已过 4 天" in html
    fees.config["TODAY"] = (TODAY + timedelta(days=3)).isoformat()
    assert 'id="reconcile-warning"' not in desk.get(f"{BASE}/reconcile").get_data(as_text=True)


# ----- the pages -----------------------------------------------------------------------------


def form_of(html: str, action: str) -> dict:
    """The csrf token and nonce of the page's form posting to ``action``."""
    start = html.index(f'action="{action}"')
    part = html[start:]
    return {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', part).group(1),
        "nonce": re.search(r'name="nonce" value="([^"]+)"', part).group(1),
    }


def test_the_counter_finds_a_household_takes_a_payment_and_prints_a_receipt(fees, as_role):
    desk = as_role(roles.SERVICE)
    found = desk.get(f"{BASE}/counter?q=8000").get_data(as_text=True)
    assert "1号楼1单元101室" in found and "500.00" in found
    url = f"{BASE}/counter/{fees.room_id}"
    html = desk.get(url).get_data(as_text=True)
    assert "2026-10" in html and 'id="total-due"' in html
    action = f"{url}/pay"
    form = form_of(html, action)
    data = {
        **form,
        "amount": "600",
        "payer": "张业主",
        "method": "cash",
        "bills": [str(fees.oct), str(fees.nov)],
    }
    refused = desk.post(action, data=data)
    assert refused.status_code == 400 and "预存" in refused.get_data(as_text=True)
    assert counts(fees)["fee_entry"] == 0
    response = desk.post(action, data={**data, "amount": "500.00"})
    assert response.status_code == 303
    receipt_url = response.location
    again = desk.post(action, data={**data, "amount": "500.00"})  # the same form again
    assert again.status_code == 303 and again.location == receipt_url
    assert "已记录" in desk.get(receipt_url).get_data(as_text=True)
    page = desk.get(receipt_url).get_data(as_text=True)
    for text in ("0000001", "伍佰元整", "500.00", "张业主", "1号楼1单元101室", "现金", "A5"):
        assert text in page, text
    assert 'id="reprint"' not in page
    token = csrf_token_from(page)
    first = desk.post(f"{receipt_url}/print", data={"csrf_token": token})
    assert 'id="reprint"' not in desk.get(first.location).get_data(as_text=True)
    second = desk.post(f"{receipt_url}/print", data={"csrf_token": token})
    assert 'id="reprint"' in desk.get(second.location).get_data(as_text=True)
    # The 客服 cannot void; the 客服主管 can.
    assert (
        desk.post(f"{receipt_url}/void", data={"csrf_token": token, "reason": "x"}).status_code
        == 403
    )
    lead = as_role(roles.SERVICE_LEAD)
    token = csrf_token_from(lead.get(receipt_url).get_data(as_text=True))
    lead.post(f"{receipt_url}/void", data={"csrf_token": token, "reason": "录错"})
    assert 'id="voided"' in lead.get(receipt_url).get_data(as_text=True)


def test_the_counter_forms_show_refusals_beside_the_field(fees, as_role):
    desk = as_role(roles.SERVICE)
    url = f"{BASE}/counter/{fees.room_id}"
    for amount, words in (("-1", "负数"), ("1.001", "两位小数"), ("20000000", "10,000,000")):
        form = form_of(desk.get(url).get_data(as_text=True), f"{url}/pay")
        response = desk.post(
            f"{url}/pay",
            data={
                **form,
                "amount": amount,
                "payer": "张",
                "method": "cash",
                "bills": [str(fees.oct)],
            },
        )
        assert response.status_code == 400 and words in response.get_data(as_text=True)
    form = form_of(desk.get(url).get_data(as_text=True), f"{url}/waiver")
    response = desk.post(
        f"{url}/waiver",
        data={**form, "bill": str(fees.oct), "waiver_amount": "10", "reason": "协商"},
    )
    assert response.status_code == 303
    assert "等待经理审批" in desk.get(url).get_data(as_text=True)
    manager = as_role(roles.MANAGER)
    html = manager.get(f"{BASE}/waivers").get_data(as_text=True)
    assert "协商" in html
    assert counts(fees)["fee_entry"] == 0


def test_the_ledger_page_banking_page_and_export(fees, as_role):
    pay(fees, 20000, bills=[fees.oct])
    pay(fees, 1000, bills=[fees.nov], method="transfer", n=2)
    view = as_role(roles.FINANCE)
    html = view.get(f"{BASE}/?date={TODAY.isoformat()}").get_data(as_text=True)
    assert "210.00" in html and "银行转账" in html
    html = view.get(f"{BASE}/banking").get_data(as_text=True)
    assert 'id="cash">200.00' in html
    token = csrf_token_from(html)
    fingerprint = re.search(r'name="fingerprint" value="([^"]*)"', html).group(1)
    data = {
        "csrf_token": token,
        "fingerprint": fingerprint,
        "up_to": TODAY.isoformat(),
        "slip_number": "ICBC-0001",
        "banked_on": TODAY.isoformat(),
    }
    assert view.post(f"{BASE}/banking", data=data).status_code == 303
    twice = view.post(f"{BASE}/banking", data=data)
    assert twice.status_code == 400 and "没有待交存" in twice.get_data(as_text=True)
    response = view.get(f"{BASE}/export.xlsx?date_from={TODAY}&date_to={TODAY}")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][8] == "收入（元）"
    assert sorted(r[8] for r in rows[3:]) == [10, 200]
    assert sheet.cell(row=4, column=9).number_format == "0.00"
    csv = view.get(f"{BASE}/export.csv?date_from={TODAY}&date_to={TODAY}").data.decode("utf-8-sig")
    assert "200.00" in csv and "ICBC" not in csv
    with fees.app_context():
        assert db.session.scalar(
            select(AuditLog.detail).where(
                AuditLog.action == "export", AuditLog.target == "收费台帐"
            )
        )
    assert as_role(roles.ENGINEERING).get(f"{BASE}/").status_code == 403
    assert view.get(f"{BASE}/counter").status_code == 403  # 财务 does not take money


@pytest.mark.parametrize(
    "query",
    [
        "fmt=csv",
        "date=9999-99-99",
        "date=%00",
        "date_from=2026-12-10&date_to=2020-01-01",
        "staff=%ff",
        "q=" + "x" * 5000,
    ],
)
def test_odd_query_values_never_fail(fees, as_role, query):
    manager = as_role(roles.MANAGER)
    for path in (
        "/",
        "/counter",
        f"/counter/{fees.room_id}",
        "/banking",
        "/reconcile",
        "/waivers",
        "/export.csv",
        "/export.xlsx",
    ):
        assert manager.get(f"{BASE}{path}?{query}").status_code < 500, (path, query)


def test_the_owner_sees_their_own_receipts_only(fees):
    from forms_app.core.clock import utcnow
    from forms_app.core.database import write_transaction
    from forms_app.households.models import HouseholdPerson
    from forms_app.my_records.grants import _hash
    from forms_app.my_records.models import MyGrant

    receipt = pay(fees, 20000, bills=[fees.oct])
    other_room, _ = register(fees, 1, 1, "102", "李业主", "13900139000")
    other = make_bill(fees, other_room, "2026-11", 100)
    foreign = run(
        fees,
        ledger.record_payment,
        other_room,
        payer="李",
        method="cash",
        amount_fen=100,
        bill_ids=[other],
        nonce=nonce(9),
    )
    client = fees.test_client()
    url = f"/forms/fees/receipts/{receipt.id}"
    assert client.get(url).status_code == 404
    with fees.app_context():
        person = db.session.scalar(
            select(HouseholdPerson).where(HouseholdPerson.room_id == fees.room_id)
        )
        with write_transaction() as session:
            session.add(
                MyGrant(
                    community=person.community,
                    token_hash=_hash("owner-token"),
                    person_id=person.id,
                    room_id=fees.room_id,
                    created_at=utcnow(),
                    expires_at=utcnow() + timedelta(minutes=30),
                    address="",
                )
            )
    with client.session_transaction() as session:
        session["my_grant"] = "owner-token"
    page = client.get(url)
    assert page.status_code == 200 and "贰佰元整" in page.get_data(as_text=True)
    assert "作废收据" not in page.get_data(as_text=True)  # no staff form for the owner
    assert client.get(f"/forms/fees/receipts/{foreign.id}").status_code == 404
    with fees.app_context():
        assert [r.id for r in accounts.room_receipts(fees.room_id)] == [receipt.id]


def test_the_staff_home_shows_waivers_cash_to_bank_and_a_late_reconciliation(fees, as_role):
    run(
        fees,
        ledger.request_waiver,
        fees.room_id,
        bill_id=fees.oct,
        amount_fen=100,
        reason="协商",
        approve_now=False,
        nonce=nonce(1),
    )
    pay(fees, 20000, bills=[fees.oct], n=2)
    manager = as_role(roles.MANAGER).get("/forms/staff/").get_data(as_text=True)
    assert 'id="home-waivers"' in manager
    fees.config["TODAY"] = (TODAY + timedelta(days=4)).isoformat()
    finance = as_role(roles.FINANCE).get("/forms/staff/").get_data(as_text=True)
    assert 'id="home-unbanked"' in finance and "199.00" not in finance
    assert "200.00" in finance and 'id="home-reconcile"' in finance
    assert 'id="home-waivers"' not in finance
    assert 'id="home-unbanked"' not in as_role(roles.SERVICE).get("/forms/staff/").get_data(
        as_text=True
    )
