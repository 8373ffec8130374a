"""The duty rota (值班表): the 经理 puts people on shifts, copies last week, exports the week;
everyone sees it; "on duty now" follows a night shift past midnight; a person is never on two
overlapping shifts; the shifts nobody is on reach the 经理's home. Every refusal is a Chinese
message beside its field, and nothing is stored."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
import yaml
from flask import render_template
from openpyxl import load_workbook
from sqlalchemy import func, select

from forms_app.accounts import (
    roles,
    staff_rota,  # noqa: F401  (the rota's routes attach to bp)
)
from forms_app.accounts.models import AuditLog, DutyShift, StaffUser
from forms_app.accounts.organisation import on_duty
from forms_app.accounts.rota import (
    RotaRefused,
    add_shift,
    copy_previous_week,
    gaps,
    gaps_home_figures,
    rota_week,
    week_of,
)
from forms_app.core.community import current_community
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from tests.support.forms import csrf_token_from

# The app object is shared by the module's tests; each gets it back as new (config included).
pytestmark = pytest.mark.one_app_per_module

ROTA = "/forms/staff/organisation/rota"
TODAY = date(2026, 5, 13)  # a Wednesday
MONDAY = date(2026, 5, 11)
LAST_MONDAY = MONDAY - timedelta(days=7)


@pytest.fixture
def staff(app, staff_accounts):
    """Every role's account, today fixed, and people placed in departments: the guards in 秩序维护部,
    the 客服 in 客户服务中心, the 工程 in 工程部, the 经理 in 管理处."""
    app.config["TODAY"] = TODAY.isoformat()
    place(app, "security", "security")
    place(app, "security_lead", "security", head=True)
    place(app, "service", "service")
    place(app, "engineering", "engineering")
    place(app, "manager", "management", head=True)
    return staff_accounts


def place(app, username: str, department: str | None, head: bool = False, **changes) -> int:
    """Set an account's department (the placement pages are not the rota's)."""
    with app.app_context(), write_transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        user.department, user.is_head = department, head
        for name, value in changes.items():
            setattr(user, name, value)
        return user.id


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))


def add(app, department: str, day: date, shift: str, username: str) -> None:
    """Put someone on the rota through the logic, as the 经理."""
    with app.app_context(), write_transaction() as session:
        manager = session.scalar(select(StaffUser).where(StaffUser.username == "manager"))
        add_shift(session, department, day, shift, user_id(app, username), manager)


def stored(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(DutyShift.department, DutyShift.day, DutyShift.shift, StaffUser.username)
            .join(StaffUser, StaffUser.id == DutyShift.user_id)
            .order_by(DutyShift.day, DutyShift.department, DutyShift.shift, StaffUser.username)
        ).all()
        return [tuple(row) for row in rows]


def audit(app, action: str) -> list[AuditLog]:
    with app.app_context():
        entries = db.session.scalars(select(AuditLog).where(AuditLog.action == action)).all()
        for entry in entries:
            db.session.expunge(entry)
        return entries


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditLog.id)))


def post(client, url: str, data: dict):
    token = csrf_token_from(client.get(ROTA).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def add_form(app, department: str, day: date, shift: str, username: str) -> dict:
    return {
        "department": department,
        "day": day.isoformat(),
        "shift": shift,
        "user": str(user_id(app, username)),
        "week": week_of(day).isoformat(),
    }


def grid_cell(html: str, department: str, day: date, shift_label: str) -> str:
    """The text of one cell of the week grid."""
    row = re.search(
        rf'<tr id="rota-{department}-{day.isoformat()}"[^>]*>(.*?)</tr>', html, re.S
    ).group(1)
    cell = re.search(rf'<td data-label="{shift_label} [^"]*"[^>]*>(.*?)</td>', row, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell.group(1))).strip()


# --- the page and its forms ---------------------------------------------------------------


def test_the_manager_adds_a_shift_and_everyone_sees_it(app, as_role, staff):
    manager = as_role(roles.MANAGER)
    response = post(manager, f"{ROTA}/add", add_form(app, "security", TODAY, "night", "security"))
    assert response.status_code == 303
    assert response.location.endswith(f"{ROTA}?week={MONDAY.isoformat()}#rota-security")
    page = manager.get(response.location).get_data(as_text=True)
    assert "已安排" in page and "5月13日 周三" in page and "夜班" in page
    assert stored(app) == [("security", TODAY, "night", "security")]
    assert "security" in grid_cell(page, "security", TODAY, "夜班")
    assert "无人值班" in grid_cell(page, "security", TODAY, "白班")
    [entry] = audit(app, "rota.add")
    assert entry.target == "秩序维护部 2026-05-13 夜班"

    guard = as_role(roles.SECURITY)
    page = guard.get(f"{ROTA}?week=2026-05-15").get_data(as_text=True)
    assert "security" in grid_cell(page, "security", TODAY, "夜班")
    assert "今天" in page and 'aria-current="date"' in page
    assert "添加值班" not in page and "移除" not in page and "复制上周值班" not in page


def test_a_non_manager_may_view_but_not_change_or_export(app, as_role, staff):
    add(app, "security", TODAY, "day", "security")
    before, logged = stored(app), audit_count(app)
    for role in (roles.SECURITY, roles.SECURITY_LEAD, roles.SERVICE_LEAD, roles.CLEANER):
        client = as_role(role)
        assert client.get(ROTA).status_code == 200
        attempts = [
            (f"{ROTA}/add", add_form(app, "security", TODAY, "night", "security_lead")),
            (f"{ROTA}/remove", {"entry": "1", "week": MONDAY.isoformat()}),
            (f"{ROTA}/copy", {"week": MONDAY.isoformat()}),
        ]
        for url, data in attempts:
            assert post(client, url, data).status_code == 403, (role, url)
        assert client.get(f"{ROTA}.xlsx").status_code == 403
        assert client.get(f"{ROTA}.csv").status_code == 403
    assert stored(app) == before
    assert audit_count(app) == logged + 4  # the four logins, nothing else


@pytest.mark.parametrize(
    "week, message",
    [
        ("x", "日期格式应为"),
        ("2026-13-01", "日期格式应为"),
        ("2026-5-1", "日期格式应为"),
        ("20260511", "日期格式应为"),
        ("2026-W20-1", "日期格式应为"),
        ("%00", "日期格式应为"),
        ("%ff", "日期格式应为"),
        ("1" * 5000, "日期格式应为"),
        ("0001-01-01", "超出范围"),
        ("9999-12-31", "超出范围"),
    ],
)
def test_a_bad_week_shows_this_week(as_role, staff, week, message):
    manager = as_role(roles.MANAGER)
    response = manager.get(f"{ROTA}?week={week}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "2026-05-11 至 2026-05-17（本周）" in page
    assert manager.get(f"{ROTA}.xlsx?week={week}").status_code == 303


def test_any_day_of_a_week_shows_that_week_with_links_around(as_role, staff):
    guard = as_role(roles.SECURITY)
    page = guard.get(f"{ROTA}?week=2026-05-17").get_data(as_text=True)
    assert "2026-05-11 至 2026-05-17" in page
    assert f'href="{ROTA}?week=2026-05-04"' in page and f'href="{ROTA}?week=2026-05-18"' in page
    page = guard.get(f"{ROTA}?week=2026-05-18").get_data(as_text=True)
    assert "2026-05-18 至 2026-05-24" in page and "（本周）" not in page


def test_the_manager_removes_a_shift(app, as_role, staff):
    add(app, "security", TODAY, "day", "security")
    with app.app_context():
        entry_id = db.session.scalar(select(DutyShift.id))
    manager = as_role(roles.MANAGER)
    data = {"entry": str(entry_id), "department": "security", "week": MONDAY.isoformat()}
    response = post(manager, f"{ROTA}/remove", data)
    assert response.status_code == 303
    assert stored(app) == []
    [entry] = audit(app, "rota.remove")
    assert (entry.target, entry.detail) == ("秩序维护部 2026-05-13 白班", "security（秩序维护）")
    again = post(manager, f"{ROTA}/remove", data)
    assert again.status_code == 400
    assert "这条值班已不在值班表上" in again.get_data(as_text=True)


def test_an_entry_older_than_a_month_stays(app, as_role, staff):
    old = TODAY - timedelta(days=40)
    with app.app_context(), write_transaction() as session:
        session.add(
            DutyShift(
                community=current_community().key,
                department="security",
                day=old,
                shift="day",
                user_id=user_id(app, "security"),
            )
        )
    with app.app_context():
        entry_id = db.session.scalar(select(DutyShift.id))
    manager = as_role(roles.MANAGER)
    response = post(
        manager,
        f"{ROTA}/remove",
        {"entry": str(entry_id), "department": "security", "week": old.isoformat()},
    )
    assert response.status_code == 400
    assert "已超过 31 天" in response.get_data(as_text=True)
    assert stored(app) == [("security", old, "day", "security")]


# --- refusals -----------------------------------------------------------------------------


def overlapping_community(tmp_path, own_community_file):
    """The community with an extra 早班 06:00–14:00: it overlaps the 夜班 of the day before
    (until 08:00) and the 白班 of its own day."""
    raw = yaml.safe_load(own_community_file.read_text(encoding="utf-8"))
    raw["organisation"]["shifts"].append(
        {"id": "early", "label": "早班", "start": "06:00", "end": "14:00"}
    )
    path = tmp_path / "overlapping.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_an_overlapping_shift_is_refused_beside_the_shift(
    app, as_role, staff, tmp_path, own_community_file
):
    app.config["COMMUNITY_FILE"] = overlapping_community(tmp_path, own_community_file)
    add(app, "security", TODAY, "night", "security")
    before, logged = stored(app), audit_count(app)
    manager = as_role(roles.MANAGER)
    logged += 1  # the login
    tomorrow = TODAY + timedelta(days=1)
    response = post(
        manager, f"{ROTA}/add", add_form(app, "security", tomorrow, "early", "security")
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    message = (
        "security已排5月13日 周三秩序维护部的夜班（20:00–次日08:00），"
        "与5月14日 周四早班（06:00–14:00）时间重叠，同一人不能同时值两个班。"
    )
    assert f'<p class="field-error" id="rota-security-shift-error">{message}</p>' in page
    # What was chosen is chosen again.
    start = page.index('id="rota-security-day"')
    form = page[start : page.index("</form>", start)]
    assert 'value="2026-05-14" selected' in form and 'value="early" selected' in form
    assert f'value="{user_id(app, "security")}" selected' in form
    assert stored(app) == before and audit_count(app) == logged
    # The 早班 of the day itself overlaps nothing of hers; the 白班 after it does.
    add(app, "security", TODAY + timedelta(days=2), "early", "security")
    with pytest.raises(RotaRefused, match="早班（06:00–14:00），与5月15日 周五白班"):
        add(app, "security", TODAY + timedelta(days=2), "day", "security")


def test_a_shift_in_another_department_overlaps_too(app, staff):
    add(app, "security", TODAY, "day", "security")
    place(app, "security", "service")  # moved to 客服 the same day
    with pytest.raises(RotaRefused) as refused:
        add(app, "service", TODAY, "day", "security")
    assert refused.value.field == "shift"
    assert "已排5月13日 周三秩序维护部的白班（08:00–20:00）" in refused.value.message
    add(app, "service", TODAY, "night", "security")  # 20:00 starts as the 白班 ends: no overlap
    assert stored(app) == [
        ("security", TODAY, "day", "security"),
        ("service", TODAY, "night", "security"),
    ]


def test_a_night_then_the_next_day_shift_is_no_overlap(app, staff):
    add(app, "security", TODAY, "night", "security")
    add(app, "security", TODAY + timedelta(days=1), "day", "security")
    add(app, "security", TODAY - timedelta(days=1), "day", "security")
    assert len(stored(app)) == 3


@pytest.mark.parametrize(
    "department, day, shift, username, field, message",
    [
        (
            "security",
            TODAY,
            "day",
            "engineering",
            "user",
            "engineering不是秩序维护部的成员（现属工程部）",
        ),
        (
            "security",
            TODAY,
            "day",
            "finance",
            "user",
            "finance不是秩序维护部的成员（现属未分配部门）",
        ),
        ("security", TODAY, "day", "disabled", "user", "security的账号已停用，不能排班"),
        ("security", TODAY, "day", None, "user", "请选择值班人员"),
        ("cleaning", TODAY, "day", "cleaner", "department", "保洁部没有值班表"),
        ("nowhere", TODAY, "day", "security", "department", "请从列表中选择部门"),
        ("security", TODAY, "evening", "security", "shift", "请从列表中选择班次"),
        ("security", None, "day", "security", "day", "请选择日期"),
        ("security", TODAY - timedelta(days=32), "day", "security", "day", "已超过 31 天"),
        ("security", TODAY + timedelta(days=367), "day", "security", "day", "最多只能提前一年排班"),
        (
            "security",
            TODAY,
            "day",
            "twice",
            "user",
            "security已排在5月13日 周三的白班，无需重复添加",
        ),
    ],
)
def test_each_refusal_names_its_field_and_stores_nothing(
    app, staff, department, day, shift, username, field, message
):
    place(app, "cleaner", "cleaning")
    if username == "disabled":
        place(app, "security", "security", active=False)
        username = "security"
    if username == "twice":
        add(app, "security", TODAY, "day", "security")
        username = "security"
    before, logged = stored(app), audit_count(app)
    with app.app_context(), write_transaction() as session:
        manager = session.scalar(select(StaffUser).where(StaffUser.username == "manager"))
        person = user_id(app, username) if username else None
        with pytest.raises(RotaRefused) as refused:
            add_shift(session, department, day, shift, person, manager)
    assert (refused.value.field, message in refused.value.message) == (field, True)
    assert stored(app) == before and audit_count(app) == logged


def test_a_refusal_over_http_keeps_the_page_and_the_choice(app, as_role, staff):
    manager = as_role(roles.MANAGER)
    logged = audit_count(app)
    response = post(manager, f"{ROTA}/add", add_form(app, "security", TODAY, "day", "engineering"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "没有保存" in page
    assert (
        '<p class="field-error" id="rota-security-user-error">'
        "engineering不是秩序维护部的成员（现属工程部），不能排入秩序维护部的值班表。</p>"
    ) in page
    # A department posted that has no rota: the message at the top.
    response = post(manager, f"{ROTA}/add", add_form(app, "cleaning", TODAY, "day", "cleaner"))
    assert response.status_code == 400
    assert "保洁部没有值班表" in response.get_data(as_text=True)
    # Odd values are refused, never a 500.
    for value in ("²", "\x00", "9" * 30, "-1", "0001-01-01", "9999-12-31", " "):
        data = {"department": value, "day": value, "shift": value, "user": value, "week": value}
        assert post(manager, f"{ROTA}/add", data).status_code == 400, repr(value)
        assert post(manager, f"{ROTA}/remove", {"entry": value, "week": value}).status_code == 400
        assert post(manager, f"{ROTA}/copy", {"week": value}).status_code == 400
    assert stored(app) == [] and audit_count(app) == logged


# --- on duty now --------------------------------------------------------------------------


def test_on_duty_follows_the_night_shift_past_midnight(app, staff):
    add(app, "security", TODAY, "day", "security")
    add(app, "security", TODAY, "night", "security_lead")
    with app.app_context():

        def who(at: datetime) -> list[str]:
            return [u.username for u in on_duty("security", at)]

        assert who(datetime(2026, 5, 13, 10, 0)) == ["security"]
        assert who(datetime(2026, 5, 13, 20, 0)) == ["security_lead"]
        assert who(datetime(2026, 5, 14, 3, 30)) == ["security_lead"]  # the 13th's 夜班
        assert who(datetime(2026, 5, 14, 8, 0)) == []  # the 14th's 白班: nobody
        assert who(datetime(2026, 5, 13, 7, 59)) == []  # the 12th's 夜班: nobody
        assert on_duty("service", datetime(2026, 5, 13, 10, 0)) == []
    place(app, "security", "security", active=False)
    with app.app_context():
        assert on_duty("security", datetime(2026, 5, 13, 10, 0)) == []


# --- copying last week ----------------------------------------------------------------------


def test_copy_last_week_copies_what_still_holds_and_says_what_was_skipped(app, as_role, staff):
    place(app, "service_lead", "security")
    place(app, "engineering_lead", "security")
    add(app, "security", LAST_MONDAY, "day", "security")  # copied
    add(app, "security", LAST_MONDAY + timedelta(days=6), "night", "security")  # copied
    add(app, "service", LAST_MONDAY + timedelta(days=1), "day", "service")  # already there
    add(app, "service", MONDAY + timedelta(days=1), "day", "service")
    add(app, "security", LAST_MONDAY + timedelta(days=2), "day", "security_lead")  # disabled
    add(app, "security", LAST_MONDAY + timedelta(days=3), "day", "service_lead")  # moved
    # On 秩序维护部's 白班 last Friday; this Friday on 工程部's 白班 (moved there and back).
    add(app, "security", LAST_MONDAY + timedelta(days=4), "day", "engineering_lead")
    place(app, "engineering_lead", "engineering")
    add(app, "engineering", MONDAY + timedelta(days=4), "day", "engineering_lead")
    place(app, "engineering_lead", "security")
    place(app, "security_lead", "security", head=True, active=False)
    place(app, "service_lead", "service")
    add(app, "security", MONDAY - timedelta(days=14), "day", "security")  # two weeks ago
    before = stored(app)

    manager = as_role(roles.MANAGER)
    response = post(manager, f"{ROTA}/copy", {"week": "2026-05-14"})
    assert response.status_code == 303
    page = manager.get(response.location).get_data(as_text=True)
    assert "已从上周复制 2 条值班，跳过 4 条" in page
    assert "security_lead的账号已停用" in page
    assert "service_lead不是秩序维护部的成员（现属客户服务中心）" in page
    assert "时间重叠" in page and "无需重复添加" in page
    copied = sorted(set(stored(app)) - set(before))
    assert copied == [
        ("security", MONDAY, "day", "security"),
        ("security", MONDAY + timedelta(days=6), "night", "security"),
    ]
    [entry] = audit(app, "rota.copy")
    assert entry.target == "2026-05-11 至 2026-05-17"
    assert entry.detail == "从 2026-05-04 至 2026-05-10 复制 2 条，跳过 4 条"

    # Copying again adds nothing: everything is there already or still refused.
    with app.app_context(), write_transaction() as session:
        actor = session.scalar(select(StaffUser).where(StaffUser.username == "manager"))
        result = copy_previous_week(session, MONDAY, actor)
    assert (result.copied, len(result.skipped)) == (0, 6)
    assert sorted(set(stored(app)) - set(before)) == copied


def test_copying_an_empty_week_says_so(app, as_role, staff):
    manager = as_role(roles.MANAGER)
    response = post(manager, f"{ROTA}/copy", {"week": MONDAY.isoformat()})
    page = manager.get(response.location).get_data(as_text=True)
    assert "上周没有值班记录" in page and stored(app) == []


# --- gaps and the 经理's home ---------------------------------------------------------------


def test_gaps_list_the_shifts_nobody_is_on(app, staff):
    with app.app_context():
        assert len(gaps(TODAY)) == 4 * 2 * 7  # four rota departments, two shifts, seven days
        first = gaps(TODAY)[0]
        assert (first.day, first.department.name, first.shift.label) == (TODAY, "管理处", "白班")
    add(app, "security", TODAY, "day", "security")
    add(app, "security", TODAY, "night", "security_lead")
    with app.app_context():
        left = {(g.day, g.department.id, g.shift.id) for g in gaps(TODAY, days=1)}
        assert left == {
            (TODAY, "management", "day"),
            (TODAY, "management", "night"),
            (TODAY, "service", "day"),
            (TODAY, "service", "night"),
            (TODAY, "engineering", "day"),
            (TODAY, "engineering", "night"),
        }
    place(app, "security_lead", "security", active=False)  # a disabled account covers nothing
    with app.app_context():
        assert (TODAY, "security", "night") in {
            (g.day, g.department.id, g.shift.id) for g in gaps(TODAY, days=1)
        }


def test_the_home_panel_shows_gaps_and_nothing_when_every_shift_is_covered(app, staff):
    with app.app_context():
        figures = gaps_home_figures(None, TODAY)
        assert figures["count"] == 56 and len(figures["gaps"]) == 8
        with app.test_request_context():
            html = render_template("accounts/_home_rota.html", figures=figures)
    assert "值班空缺" in html and "56 个班次" in html
    assert f"{ROTA}?week=2026-05-13#rota-management" in html
    assert "查看值班表（共 56 个班次无人值班）" in html

    # One person per department covers both shifts of every day (白班 and 夜班 only touch).
    people = {
        "management": "manager",
        "service": "service",
        "engineering": "engineering",
        "security": "security",
    }
    with app.app_context(), write_transaction() as session:
        actor = session.scalar(select(StaffUser).where(StaffUser.username == "manager"))
        for offset in range(7):
            for department, username in people.items():
                for shift in ("day", "night"):
                    add_shift(
                        session,
                        department,
                        TODAY + timedelta(days=offset),
                        shift,
                        user_id(app, username),
                        actor,
                    )
    with app.app_context():
        assert gaps_home_figures(None, TODAY) is None
        assert gaps_home_figures(None, TODAY + timedelta(days=1))["count"] == 8


def test_the_week_grid_holds_each_shift(app, staff):
    add(app, "service", MONDAY, "night", "service")
    with app.app_context():
        weeks = rota_week(MONDAY)
    assert [w.department.id for w in weeks] == ["management", "service", "engineering", "security"]
    service = weeks[1]
    assert [row.day for row in service.days] == [MONDAY + timedelta(days=i) for i in range(7)]
    monday_night = service.days[0].cells[1]
    assert (monday_night.shift.id, monday_night.gap) == ("night", False)
    assert service.gap_count == 13 and weeks[0].gap_count == 14


# --- the export -----------------------------------------------------------------------------


def test_the_week_exports_to_excel_with_real_dates_and_masked_mobiles(app, as_role, staff):
    place(app, "security", "security", mobile="13800138000")
    add(app, "security", TODAY, "night", "security")
    manager = as_role(roles.MANAGER)
    response = manager.get(f"{ROTA}.xlsx?week=2026-05-16")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "值班表" and "值班周：2026-05-11 至 2026-05-17" in rows[1][0]
    assert rows[2] == ("日期", "星期", "部门", "班次", "时间", "值班人员", "角色", "手机")
    assert len(rows) == 3 + 56  # one row per shift: the person on it, or 无人值班
    on_duty_row = next(row for row in rows[3:] if row[5] == "security")
    assert on_duty_row[1:] == (
        "周三",
        "秩序维护部",
        "夜班",
        "20:00–次日08:00",
        "security",
        "秩序维护",
        "138****8000",
    )
    assert on_duty_row[0] == datetime(2026, 5, 13)
    date_cell = next(c for c in sheet["A"][3:] if c.value == datetime(2026, 5, 13))
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    assert sum(row[5] == "无人值班" for row in rows[3:]) == 55
    csv = manager.get(f"{ROTA}.csv?week=2026-05-16").get_data(as_text=True)
    assert csv.startswith("\ufeff日期,星期,部门,班次,时间,值班人员,角色,手机")
    assert "2026-05-13,周三,秩序维护部,夜班,20:00–次日08:00,security,秩序维护,138****8000" in csv
    assert manager.get(f"{ROTA}.pdf").status_code == 404
    assert [(e.target, e.detail) for e in audit(app, "export")] == [
        ("值班表", "xlsx；2026-05-11 至 2026-05-17"),
        ("值班表", "csv；2026-05-11 至 2026-05-17"),
    ]
