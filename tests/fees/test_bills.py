"""Bills: a period's bill for every billable room of the registry, computed from the fee file
(management fee by 收费面积, 空置 rate, 未交房 to the developer, 交房 mid-month by days, metered
items, shared public consumption), issued once per room and period, changed only by
adjustment lines with a reason, messages to the 主要联系人, the reminder before the due date,
过户 arrears left on the room or carried by the 经理, the staff list and its exports."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import func, select, update

from forms_app.accounts.models import AuditLog
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.fees import billing
from forms_app.fees.accounts import bill_amounts, bills_due, kept_totals_problems
from forms_app.fees.meters import Entry, record_readings, room_meter
from forms_app.fees.models import FeeBill, FeeBillLine, MeterReading
from forms_app.fees.periods import Period, PeriodRefused
from forms_app.households.models import OCCUPIED, UNDELIVERED, VACANT, HouseholdRoom
from forms_app.households.registry import NewPerson, find_room, transfer
from forms_app.notifications.models import Notification
from tests.support.forms import csrf_token_from
from tests.support.households import register

TODAY = date(2026, 12, 1)
PAGE = "/forms/staff/fees/bills"

pytestmark = pytest.mark.one_app_per_module


@pytest.fixture
def ctx(app):
    app.config["TODAY"] = TODAY.isoformat()
    with app.test_request_context():
        yield app


def room_id(building, unit, number) -> int:
    return find_room(building, unit, number).id


def set_room(code_parts, area_centi, handover=OCCUPIED, handover_on=date(2020, 1, 1)):
    rid = room_id(*code_parts)
    with write_transaction() as session:
        session.execute(
            update(HouseholdRoom)
            .where(HouseholdRoom.id == rid)
            .values(charge_area_centi=area_centi, handover=handover, handover_on=handover_on)
        )
    return rid


def token_of(client, url: str) -> str:
    return csrf_token_from(client.get(url).get_data(as_text=True))


def counts():
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (FeeBill, FeeBillLine, Notification, MeterReading)
    }


def bill_of(rid, period="2026-12", payer=None) -> FeeBill:
    """The room's bill of the period (of ``payer`` when the room has two: 交房 inside it)."""
    query = select(FeeBill).where(FeeBill.room_id == rid, FeeBill.period == period)
    if payer is not None:
        query = query.where(FeeBill.payer_kind == payer)
    return db.session.scalar(query)


def lines(rid, period="2026-12", payer=None) -> dict[str, FeeBillLine]:
    bill = bill_of(rid, period, payer)
    return {line.item: line for line in billing.lines_of(bill.id)}


def four_rooms():
    return {
        "occupied": set_room((1, 1, "101"), 8950),
        "vacant": set_room((1, 1, "102"), 8950, VACANT),
        "undelivered": set_room((1, 1, "201"), 8950, UNDELIVERED, None),
        "mid_month": set_room((1, 1, "202"), 8950, OCCUPIED, date(2026, 12, 10)),
    }


def test_the_management_fee_by_area_vacant_rate_developer_and_days(ctx):
    rooms = four_rooms()
    total_rooms = db.session.scalar(select(func.count()).select_from(HouseholdRoom))
    result = billing.issue_bills("2026-12", "测试")
    assert result.issued == 5 and result.already == 0  # 交房 12-10: two bills
    assert len(result.not_billable) == total_rooms - 4
    assert all("收费面积" in item.reason for item in result.not_billable)
    # 89.50 ㎡ × 1.80 元 = 161.10 元
    occupied = lines(rooms["occupied"])["management"]
    assert (occupied.quantity, occupied.unit_price, occupied.amount_fen) == ("89.5", "1.8", 16110)
    # 空置 × 0.70 = 112.77 元
    assert lines(rooms["vacant"])["management"].amount_fen == 11277
    assert "空置" in lines(rooms["vacant"])["management"].label
    developer = bill_of(rooms["undelivered"])
    assert (developer.payer_kind, developer.payer_name) == ("developer", "开发商")
    assert lines(rooms["undelivered"])["management"].amount_fen == 16110
    # 交房 12-10: 22 days of 31 → 161.10 × 22 / 31 = 114.329… → 114.33
    mid = lines(rooms["mid_month"], payer="household")["management"]
    assert mid.amount_fen == 11433 and "22/31" in mid.label
    # …and the 9 days before to the developer: 161.10 × 9 / 31 = 46.770… → 46.77
    early = lines(rooms["mid_month"], payer="developer")["management"]
    assert early.amount_fen == 4677 and "9/31" in early.label
    assert bill_of(rooms["occupied"]).due_on == date(2026, 12, 15)
    assert result.total_fen == 16110 + 11277 + 16110 + 11433 + 4677


def test_issuing_twice_adds_nothing_and_a_room_added_later_is_billed_next_run(ctx):
    four_rooms()
    billing.issue_bills("2026-12", "测试")
    before = counts()
    again = billing.issue_bills("2026-12", "测试")
    assert (again.issued, again.already) == (0, 5)
    assert counts() == before
    late = set_room((2, 1, "101"), 10000)
    third = billing.issue_bills("2026-12", "测试")
    assert third.issued == 1 and bill_of(late) is not None


def test_handed_over_on_the_11th_the_developer_pays_the_10_days_before(ctx):
    rid = set_room((1, 1, "101"), 8950, OCCUPIED, date(2026, 12, 11))
    read(room_meter(rid, "water"), "2026-11", "100", rid)
    read(room_meter(rid, "water"), "2026-12", "110", rid)
    result = billing.issue_bills("2026-12", "测试")
    assert result.issued == 2
    developer = bill_of(rid, payer="developer")
    household = bill_of(rid, payer="household")
    assert developer.payer_name == "开发商"
    before = lines(rid, payer="developer")
    after = lines(rid, payer="household")
    # Each line rounded once: 161.10 × 10/31 = 51.967… → 51.97; × 21/31 = 109.132… → 109.13;
    # together the whole month's 161.10 (within one 分 in general).
    assert (
        before["management"].amount_fen == 5197 and "交房前按天 10/31" in before["management"].label
    )
    assert after["management"].amount_fen == 10913 and "按天 21/31" in after["management"].label
    assert abs(before["management"].amount_fen + after["management"].amount_fen - 16110) <= 1
    # Metered lines go on the household's bill only.
    assert set(before) == {"management"} and after["water"].amount_fen == 3100
    assert (developer.amount_fen, household.amount_fen) == (5197, 10913 + 3100)
    assert kept_totals_problems("shanshui") == []
    before_counts = counts()
    again = billing.issue_bills("2026-12", "测试")
    assert (again.issued, again.already) == (0, 2)
    assert counts() == before_counts


def test_a_room_without_area_is_listed_not_billed(ctx, app):
    rooms = four_rooms()
    with write_transaction() as session:
        session.execute(
            update(HouseholdRoom)
            .where(HouseholdRoom.id == rooms["vacant"])
            .values(charge_area_centi=None)
        )
    result = billing.issue_bills("2026-12", "测试")
    assert bill_of(rooms["vacant"]) is None
    assert rooms["vacant"] in {item.room.id for item in result.not_billable}


def read(meter, period, value, room=None, item="water", note=""):
    year, month = period.split("-")
    record_readings(
        Period(int(year), int(month)),
        [Entry(meter, item, "x", value, note=note, room_id=room)],
        TODAY,
        "工程",
    )


def test_metered_and_shared_lines_show_how_they_were_computed(ctx):
    a = set_room((1, 1, "101"), 10000)
    b = set_room((1, 1, "102"), 30000)
    read(room_meter(a, "water"), "2026-11", "100", a)
    read(room_meter(a, "water"), "2026-12", "112.5", a)
    read(room_meter(b, "water"), "2026-12", "50", b)  # the first reading: the base
    read("public-electricity", "2026-11", "1000", item="public-electricity")
    read("public-electricity", "2026-12", "2234", item="public-electricity")
    result = billing.issue_bills("2026-12", "测试")
    water = lines(a)["water"]
    # 12.5 吨 × 3.10 = 38.75
    assert (water.quantity, water.amount_fen) == ("12.5", 3875)
    assert "上期 100 → 本期 112.5" in water.label
    assert "water" not in lines(b)
    shared = lines(a)["public_electricity"]
    # 1,234 度 × 100 ㎡ ÷ 400 ㎡ = 308.5 度 × 0.53 = 163.505 → 163.51 (rounded once)
    assert shared.amount_fen == 16351 and shared.quantity == "308.5"
    assert "1234 度" in shared.label and "总收费面积 400.00㎡" in shared.label
    assert "25.00%" in shared.label
    assert lines(b)["public_electricity"].amount_fen == 49052  # 925.5 × 0.53 = 490.515
    assert any("public-water" in w for w in result.warnings)  # not read: not shared


def test_one_message_per_household_to_its_primary_contact(ctx, app):
    rooms = four_rooms()
    register(app, 1, 1, "101", "张三", "13800138000")
    register(app, 1, 1, "201", "李四", "13900139000")  # 未交房: the developer's bill
    billing.issue_bills("2026-12", "测试")
    billing.issue_bills("2026-12", "测试")
    sent = db.session.scalars(
        select(Notification).where(Notification.kind == "fees.bill_issued")
    ).all()
    assert [n.recipient for n in sent] == ["13800138000"]
    assert sent[0].dedupe_key == f"fees.issued:shanshui:{rooms['occupied']}:2026-12"
    assert "161.10" in sent[0].text and "2026-12-15" in sent[0].text
    assert bill_of(rooms["occupied"]).payer_name == "张三"


def test_one_reminder_before_the_due_date(ctx, app):
    four_rooms()
    register(app, 1, 1, "101", "张三", "13800138000")
    billing.issue_bills("2026-12", "测试")
    assert billing.due_reminders(date(2026, 12, 5)) == 0  # more than 3 days before
    assert billing.due_reminders(date(2026, 12, 13)) == 1
    assert billing.due_reminders(date(2026, 12, 14)) == 0  # once per bill
    [reminder] = db.session.scalars(
        select(Notification).where(Notification.kind == "fees.bill_due")
    ).all()
    assert reminder.recipient == "13800138000" and "161.10" in reminder.text


@pytest.mark.parametrize(
    "month, message",
    [
        ("2026-13", "没有 13 月"),
        ("abc", "年-月"),
        ("2026-1", "年-月"),
        ("2027-02", "不能晚于下个月"),
        ("1999-12", "不能早于"),
        ("", "年-月"),
    ],
)
def test_bad_months_are_refused_on_the_command_line(app, ctx, month, message):
    four_rooms()
    before = counts()
    result = app.test_cli_runner().invoke(args=["bills", "issue", "--month", month])
    assert result.exit_code == 1
    assert message in result.output
    assert counts() == before


def test_the_command_issues_and_says_what_it_did(app, ctx):
    four_rooms()
    result = app.test_cli_runner().invoke(args=["bills", "issue", "--month", "2027-01"])
    assert result.exit_code == 0, result.output
    # 2027-01: the room handed over 2026-12-10 is the household's for the whole month.
    assert "新开具 4 张账单" in result.output and "不计费" in result.output
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "fees.issue"))
    assert audit.actor_name == "命令行" and audit.target == "2027-01"


def test_quarterly_cycle_bills_three_months_from_a_cycle_start(ctx, app, monkeypatch):
    from forms_app.core import fee_standards

    standards = fee_standards.current_fee_standards()
    monkeypatch.setattr(standards, "billing_cycle", "quarterly")
    rid = set_room((1, 1, "101"), 10000)
    with pytest.raises(PeriodRefused) as refused:
        billing.issue_bills("2026-12", "测试")
    assert "1、4、7、10" in refused.value.message
    billing.issue_bills("2026-10", "测试")
    line = lines(rid, "2026-10")["management"]
    assert line.amount_fen == 54000  # 100 ㎡ × 3 × 1.80
    assert bill_of(rid, "2026-10").months == 3


# ----- staff pages (setup and checks in their own contexts: a request of the test client
# would share an open one) ----------------------------------------------------------------


@pytest.fixture
def web(app):
    app.config["TODAY"] = TODAY.isoformat()
    return app


@contextmanager
def db_of(app):
    with app.test_request_context():
        yield
        db.session.remove()


def issued(app, *periods) -> dict:
    with db_of(app):
        rooms = four_rooms()
        for period in periods:
            billing.issue_bills(period, "测试")
        return {name: bill_of(rid).id if periods else rid for name, rid in rooms.items()}


def test_issue_from_the_staff_page_then_list_with_totals(web, as_role):
    with db_of(web):
        rooms = four_rooms()
    client = as_role("service_lead")
    token = token_of(client, f"{PAGE}/")
    page = client.post(f"{PAGE}/issue", data={"csrf_token": token, "period": "2026-12"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "新开具 5 张账单" in html
    listing = client.get(f"{PAGE}/?period=2026-12").get_data(as_text=True)
    assert "应缴合计 <strong>596.07</strong>" in listing  # 549.30 + the developer's 46.77
    assert "交房前的天数由开发商承担" in listing
    unpaid = client.get(f"{PAGE}/?period=2026-12&state=paid").get_data(as_text=True)
    assert "共 <strong>0</strong> 张账单" in unpaid
    one = client.get(f"{PAGE}/?period=2026-12&q=1-1-101").get_data(as_text=True)
    assert "共 <strong>1</strong> 张账单" in one
    with db_of(web):
        bill_id = bill_of(rooms["mid_month"], payer="household").id
    page = client.get(f"{PAGE}/{bill_id}").get_data(as_text=True)
    assert "22/31" in page and "114.33" in page
    refused = client.post(f"{PAGE}/issue", data={"csrf_token": token, "period": "2026-13"})
    assert refused.status_code == 303
    assert "没有 13 月" in client.get(f"{PAGE}/").get_data(as_text=True)


def test_a_customer_service_clerk_may_see_but_not_issue(web, as_role):
    client = as_role("service")
    assert client.get(f"{PAGE}/").status_code == 200
    token = token_of(client, "/forms/staff/")
    response = client.post(f"{PAGE}/issue", data={"csrf_token": token, "period": "2026-12"})
    assert response.status_code == 403
    with db_of(web):
        assert db.session.scalar(select(func.count()).select_from(FeeBill)) == 0


@pytest.mark.parametrize(
    "amount, reason, message",
    [
        ("-200", "面积更正", "不能低于 0"),
        ("12.345", "面积更正", "2 位小数"),
        ("abc", "面积更正", "须是数字"),
        ("0", "面积更正", "不能为 0"),
        ("1e9", "面积更正", "不能超过"),
        ("NaN", "面积更正", "须是数字"),
        ("-10", "  ", "请填写原因"),
    ],
)
def test_bad_adjustments_are_refused_and_nothing_is_written(web, as_role, amount, reason, message):
    bill_id = issued(web, "2026-12")["occupied"]
    with db_of(web):
        before = counts()
    client = as_role("service_lead")
    token = token_of(client, f"{PAGE}/{bill_id}")
    response = client.post(
        f"{PAGE}/{bill_id}/adjust", data={"csrf_token": token, "amount": amount, "reason": reason}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with db_of(web):
        assert counts() == before


def test_an_adjustment_is_a_new_line_with_its_reason(web, as_role):
    bill_id = issued(web, "2026-12")["occupied"]
    client = as_role("manager")
    token = token_of(client, f"{PAGE}/{bill_id}")
    response = client.post(
        f"{PAGE}/{bill_id}/adjust",
        data={"csrf_token": token, "amount": "-161.10", "reason": "开发商承诺免收首月"},
    )
    assert response.status_code == 303
    with db_of(web):
        items = billing.lines_of(bill_id)
        assert items[0].amount_fen == 16110  # the charge itself is never edited
        assert items[-1].kind == "adjustment" and items[-1].amount_fen == -16110
        assert items[-1].reason == "开发商承诺免收首月"
        assert bill_amounts([bill_id])[bill_id] == 0
        assert db.session.get(FeeBill, bill_id).amount_fen == 0  # the kept total follows
    page = client.get(f"{PAGE}/{bill_id}").get_data(as_text=True)
    assert "开发商承诺免收首月" in page and "已结清" in page
    clerk = as_role("service")
    token = token_of(clerk, f"{PAGE}/{bill_id}")
    response = clerk.post(
        f"{PAGE}/{bill_id}/adjust", data={"csrf_token": token, "amount": "5", "reason": "x"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_list_exports_money_as_numbers_and_is_audited(web, as_role, fmt):
    issued(web, "2026-12")
    client = as_role("manager")
    response = client.get(f"{PAGE}/export.{fmt}?period=2026-12&state=unpaid")
    assert response.status_code == 200
    data = response.get_data()
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        assert "161.10" in text and "1号楼1单元101室" in text
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(data)).active
        numbers = [c for row in sheet.iter_rows(values_only=True) for c in row]
        assert 161.1 in numbers
    with db_of(web):
        assert db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "export")
        )


@pytest.mark.parametrize(
    "query",
    ["period=2026-13", "period=x", "building=abc", "state=odd", "q=%27%3B", "page=-1", "period="],
)
def test_odd_list_filters_are_answered_not_failed(web, as_role, query):
    client = as_role("manager")
    assert client.get(f"{PAGE}/?{query}").status_code == 200
    assert client.get(f"{PAGE}/export.csv?{query}").status_code == 200


# ----- 过户 ------------------------------------------------------------------------------------


def test_transfer_leaves_arrears_on_the_room_and_the_manager_may_carry_them(web, as_role):
    with db_of(web):
        rid = set_room((1, 1, "101"), 8950)
    register(web, 1, 1, "101", "老业主", "13800138000", since=date(2015, 1, 1))
    with db_of(web):
        billing.issue_bills("2026-11", "测试")
        transfer(rid, TODAY, [NewPerson("新业主", "13700137000", "owner", TODAY)], "买卖合同")
        [alert] = db.session.scalars(
            select(Notification).where(Notification.kind == "fees.transfer_arrears")
        ).all()
        assert "161.10" in alert.text and "1号楼1单元101室" in alert.text
        billing.issue_bills("2026-12", "测试")
        old, new = bill_of(rid, "2026-11"), bill_of(rid, "2026-12")
        assert new.payer_name == "新业主" and old.payer_name == "老业主"
        old_id, new_id = old.id, new.id
    lead = as_role("service_lead")
    assert "过户前欠费" in lead.get(f"{PAGE}/?period=2026-11").get_data(as_text=True)
    # Only the 经理 carries, with a note.
    assert 'id="carry"' not in lead.get(f"{PAGE}/{old_id}").get_data(as_text=True)
    manager = as_role("manager")
    token = token_of(manager, f"{PAGE}/{old_id}")
    refused = manager.post(
        f"{PAGE}/{old_id}/carry", data={"csrf_token": token, "target": new_id, "note": ""}
    )
    assert refused.status_code == 400 and "请填写原因" in refused.get_data(as_text=True)
    done = manager.post(
        f"{PAGE}/{old_id}/carry",
        data={"csrf_token": token, "target": new_id, "note": "买卖双方约定由买方承担"},
    )
    assert done.status_code == 303
    with db_of(web):
        assert bills_due([old_id, new_id]) == {old_id: 0, new_id: 16110 * 2}
        carried = [line for line in billing.lines_of(new_id) if line.kind == "carried"]
        assert carried[0].reason == "买卖双方约定由买方承担"
        assert kept_totals_problems("shanshui") == []
    again = manager.post(
        f"{PAGE}/{old_id}/carry", data={"csrf_token": token, "target": new_id, "note": "再来"}
    )
    assert again.status_code in (400, 403)


# ----- PostgreSQL: two runs at once ------------------------------------------------------------


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    from tests.support.postgres import app_on_postgres

    with app_on_postgres(
        postgres_url, tmp_path / "instance", monkeypatch, TODAY=TODAY.isoformat()
    ) as app:
        yield app


def test_two_issue_runs_at_once_bill_each_room_once(pg_app):
    import threading

    from sqlalchemy import create_engine, text

    from tests.support.postgres import wait_for_blocked

    with db_of(pg_app):
        rooms = four_rooms()
    outcomes: list[int] = []

    def run() -> None:
        with pg_app.test_request_context():
            outcomes.append(billing.issue_bills("2026-12", "测试").issued)
            db.session.remove()

    engine = create_engine(pg_app.config["PG_URL"])
    with engine.connect() as other:
        # A third writer holds one of the bills (uncommitted): both runs queue behind it.
        other.execute(
            text(
                "INSERT INTO fee_bill (community, room_id, period, months, payer_kind, "
                "payer_name, due_on, issued_at, issued_by, amount_fen, settled_fen) VALUES "
                "('shanshui', :room, '2026-12', 1, 'household', '', '2026-12-15', now(), 'x', 0, 0)"
            ),
            {"room": rooms["occupied"]},
        )
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_for_blocked(other, 2)
        other.rollback()  # it gives up: the two runs race for every bill
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    assert sorted(outcomes) == [0, 5]  # 交房 12-10: the developer's and the household's
    with db_of(pg_app):
        assert db.session.scalar(select(func.count()).select_from(FeeBill)) == 5
        lines = db.session.scalar(select(func.count()).select_from(FeeBillLine))
        assert lines == 5 * len(billing.lines_of(bill_of(rooms["occupied"]).id))
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "fees.issue")
            )
            == 1
        )
