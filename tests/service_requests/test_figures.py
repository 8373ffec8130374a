"""The seed's weekly figures from the records (客户满意率, 工程报修维修合格率, 客户投诉回访率,
counts, time to close) per week and month, each with its definition; 走访 against the quota;
exports that Excel opens safely."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from forms_app.accounts import roles
from forms_app.core.clock import today
from forms_app.service_requests.figures import compute, month_of, parse_period, week_of
from forms_app.service_requests.models import HouseholdVisit, ServiceFollowUp

from .conftest import COMPLAINT_URL, STAFF, repair_fields

pytestmark = pytest.mark.one_app_per_module

S, E, M = roles.SERVICE, roles.ENGINEERING, roles.MANAGER


def repaired(owner, desk, worker, stored, room, verdicts, lead=None):
    """An online repair done and followed up once per verdict (True: satisfied); after 不满意
    the 经理 (``lead``) goes in person (never the worker who did it)."""
    owner.file(fields=repair_fields(room=room))
    item = stored.request()
    desk.step(
        item.id, "dispatch", {"assignee": str(stored.user_id("engineering")), "urgency": "normal"}
    )
    hands = worker
    for verdict in verdicts:
        hands.step(item.id, "arrive")
        hands.step(item.id, "finish", {"result": "好了", "receipt": "absent"})
        data = {
            "satisfied": "yes" if verdict else "no",
            "owner_view": "意见",
            "supervisor": str(stored.user_id("manager")),
        }
        assert desk.step(item.id, "follow_up", data).status_code == 303
        hands = lead
    return item.id


def by_name(figures):
    return {f.name: f for f in figures}


def test_the_weeks_figures_follow_their_definitions(app, owner, staff, stored):
    desk, worker = staff(S), staff(E)
    repaired(owner, desk, worker, stored, "101", [True])  # good at the first call
    lead = staff(M)
    repaired(owner, desk, worker, stored, "102", [False, True], lead)  # reopened, then satisfied
    repaired(owner, desk, worker, stored, "201", [False], lead)  # still reopened
    owner.file(COMPLAINT_URL)
    complaint = stored.request().id
    desk.step(complaint, "assign", {"department": "工程部"})
    desk.step(complaint, "answer", {"answer": "已处理"})
    owner.file(COMPLAINT_URL)  # answered, not yet called back
    unanswered = stored.request().id
    desk.step(unanswered, "assign", {"department": "工程部"})
    desk.step(unanswered, "answer", {"answer": "在处理"})
    desk.step(complaint, "follow_up", {"satisfied": "yes", "owner_view": "好"})

    with app.test_request_context():
        figures = by_name(compute(parse_period("")[0]))
    calls = figures["客户满意率"]
    # Calls: 101 yes, 102 no + yes, 201 no, complaint yes → 3 of 5.
    assert (calls.numerator, calls.denominator) == (3, 5) and calls.value == 0.6
    quality = figures["工程报修维修合格率"]
    assert (quality.numerator, quality.denominator) == (1, 3)  # first calls of three repairs
    complaints = figures["客户投诉回访率"]
    assert (complaints.numerator, complaints.denominator) == (1, 2)
    assert figures["受理报修数"].value == 3 and "线上 3" in figures["受理报修数"].definition
    assert figures["受理投诉数"].value == 2
    assert figures["办结报修数"].value == 2 and figures["办结投诉数"].value == 1
    assert figures["报修平均办结时长"].value is not None
    assert all(f.definition for f in figures.values())

    def exported(query):
        body = desk.client.get(f"{STAFF}/export.csv?{query}").data.decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(body)))

    rows = exported("kind=repair&columns=full")
    assert sorted(row["回访次数"] for row in rows) == ["1", "1", "2"]
    assert sorted(row["返修次数"] for row in rows) == ["0", "1", "1"]
    assert sorted(row["回访结果"] for row in rows) == ["不满意", "满意", "满意"]
    short = exported("kind=repair")  # the columns people read, by default
    assert list(short[0]) == [
        "编号", "类型", "房屋", "内容摘要", "状态", "派工人员", "时限", "完成时间", "回访结果"
    ]  # fmt: skip
    assert sorted(row["回访结果"] for row in short) == ["不满意", "满意", "满意"]
    assert all(row["完成时间"] and row["类型"] == "报修" for row in short)

    sheet = load_workbook(
        io.BytesIO(desk.client.get(f"{STAFF}/figures/export.xlsx?by=week").data)
    ).active
    header = [c.value for c in sheet[3]]
    this_week = dict(zip(header, [c.value for c in sheet[sheet.max_row]], strict=True))
    assert this_week["客户满意率"] == 0.6 and this_week["客户满意率样本数"] == 5
    assert this_week["工程报修维修合格率样本数"] == 3 and this_week["受理报修数"] == 3
    assert this_week["报修平均办结时长样本数"] == 2

    page = desk.client.get(f"{STAFF}/figures").get_data(as_text=True)
    assert "60%" in page and "3 / 5" in page and "低于目标" in page
    assert "本期回访中业主表示满意的次数 ÷ 本期回访总次数" in page


def test_calls_of_another_week_are_not_counted(app, owner, staff, stored):
    desk, worker = staff(S), staff(E)
    repaired(owner, desk, worker, stored, "101", [True])
    stored.execute(update(ServiceFollowUp).values(called_at=datetime(2026, 1, 5, 4)))
    with app.test_request_context():
        this_week = by_name(compute(parse_period("")[0]))
        january = by_name(compute(parse_period("2026-W02")[0]))
        month = by_name(compute(parse_period("2026-01")[0]))
    assert this_week["客户满意率"].denominator == 0 and this_week["客户满意率"].value is None
    assert january["客户满意率"].denominator == 1 and month["客户满意率"].denominator == 1


def test_periods_follow_local_weeks_and_months():
    week = week_of(date(2026, 11, 26))
    assert (week.first, week.after) == (date(2026, 11, 23), date(2026, 11, 30))
    # Monday 00:00 in China is Sunday 16:00 UTC.
    assert week.utc_range()[0] == datetime(2026, 11, 22, 16)
    assert month_of(date(2026, 12, 31)).after == date(2027, 1, 1)
    assert (
        week.shifted(-1).arg == "2026-W47"
        and month_of(date(2026, 12, 5)).shifted(1).arg == "2027-01"
    )
    assert parse_period("2026-13")[1] and parse_period("2026-W60")[1]
    assert parse_period("9999-W01")[1] and parse_period("x" * 500)[1]
    assert parse_period("9999-12")[1] and parse_period("9999-W52")[1]
    assert parse_period("2026-W48")[0].label.startswith("2026 年第 48 周")


def test_odd_periods_show_this_week_with_a_message(staff):
    desk = staff(S)
    for value in ("2026-99", "abc", "\x00", "2026-W00", "1-W1"):
        response = desk.client.get(f"{STAFF}/figures", query_string={"period": value})
        assert response.status_code == 200
        assert 'id="period-error"' in response.get_data(as_text=True)


def test_visits_count_households_against_the_quota(app, staff, stored):
    desk = staff(S)
    with app.app_context():
        day = today()

    def visit(room, kind="regular", **extra):
        page = desk.client.get(f"{STAFF}/visits").get_data(as_text=True)
        nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
        data = {
            "nonce": nonce,
            "kind": kind,
            "visited_on": day.isoformat(),
            "building": "1",
            "unit": "1",
            "room": room,
            "person": "王先生",
            "opinion": "希望增加夜间照明",
            "follow_up": "报工程部",
            "owner_signed": "y",
            **extra,
        }
        return desk.post(f"{STAFF}/visits", data)

    for room in ("101", "102", "101"):  # the same household twice counts once
        assert visit(room).status_code == 303
    page = desk.client.get(f"{STAFF}/visits").get_data(as_text=True)
    assert "<strong>2</strong> / 10 户" in page and "还差 8 户" in page
    response = visit("9999")
    assert response.status_code == 400 and 'id="room-error"' in response.get_data(as_text=True)
    response = visit("101", opinion="\u3000", person="王先生")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="opinion-error"' in page
    assert 'value="王先生"' in page  # what was typed stays
    assert stored.visits() == 3
    assert len(stored.audit("service.visit")) == 3
    # Visits belong to a community (issue 28): another's is in no count, list or export here.
    assert visit("201", person="外区住户").status_code == 303
    stored.execute(
        update(HouseholdVisit.__table__)
        .where(HouseholdVisit.__table__.c.person == "外区住户")
        .values(community="other")
    )
    page = desk.client.get(f"{STAFF}/visits").get_data(as_text=True)
    assert "<strong>2</strong> / 10 户" in page and "外区住户" not in page
    assert "外区住户" not in desk.client.get(f"{STAFF}/visits/export.csv").get_data(as_text=True)
    assert stored.visits() == 3


def test_exports_are_formula_safe_with_a_bom(owner, staff, stored):
    owner.file(fields=repair_fields(description='=HYPERLINK("http://x")', owner_name="@王"))
    desk = staff(S)
    response = desk.client.get(f"{STAFF}/export.csv?columns=full")
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff编号,")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[1][9] == '\'=HYPERLINK("http://x")' and rows[1][6] == "'@王"
    assert rows[1][7] == "13800138000"
    sheet = load_workbook(io.BytesIO(desk.client.get(f"{STAFF}/export.xlsx").data)).active
    assert sheet.cell(4, 4).value == '\'=HYPERLINK("http://x")'  # 内容摘要
    full = desk.client.get(f"{STAFF}/export.xlsx?columns=full").data
    assert load_workbook(io.BytesIO(full)).active.cell(4, 10).value == '\'=HYPERLINK("http://x")'
    figures = desk.client.get(f"{STAFF}/figures/export.csv?by=month").data.decode("utf-8")
    assert figures.startswith("\ufeff统计周期,开始日期,结束日期,客户满意率,客户满意率样本数,")
    assert figures.count("\n") == 1 + 12  # one row per month
    book = load_workbook(io.BytesIO(desk.client.get(f"{STAFF}/figures/export.xlsx?by=week").data))
    assert book.sheetnames == ["客服统计（按周）", "指标定义"]
    assert book.active.max_row == 3 + 12
    assert desk.client.get(f"{STAFF}/figures/export.csv?by=year").status_code == 404
    assert desk.client.get(f"{STAFF}/visits/export.xlsx").status_code == 200
    assert [a.target for a in stored.audit("export")] == [
        "报修投诉登记",
        "报修投诉登记",
        "报修投诉登记",
        "客服统计",
        "客服统计",
        "走访记录",
    ]


def test_figures_and_exports_are_for_service_and_manager_only(staff):
    # The 客服主管 holds every permission of 客服.
    for role in roles.ROLES:
        client = staff(role).client
        for url in (f"{STAFF}/figures", f"{STAFF}/export.csv", f"{STAFF}/visits"):
            expected = 200 if role in (S, roles.SERVICE_LEAD, M) else 403
            assert client.get(url).status_code == expected, (url, role)
