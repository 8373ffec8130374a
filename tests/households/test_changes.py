"""The 经理's weekly list of registry changes: the week's changes with who and why, previous and
next weeks, odd weeks answered with a message, exports as .xlsx and CSV (audited), and only
for the 经理."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.clock import today, utcnow
from forms_app.core.extensions import db
from forms_app.households.models import HouseholdChange
from forms_app.households.registry import end_person, find_room, set_room_facts
from tests.support.households import register

pytestmark = pytest.mark.one_app_per_module

URL = "/forms/staff/households/changes"


def monday_of(day):
    return day - timedelta(days=day.weekday())


@pytest.fixture
def changes(app, as_role):
    """This week: 张三 registered on 5-2-301 and its area set; two weeks ago: 李四 registered on
    5-2-302 (the change moved back in time)."""
    room_id, _ = register(app, 5, 2, "301", "张三", "13800138000")
    _, old_person = register(app, 5, 2, "302", "李四", "13900139000")
    with app.app_context():
        room_302 = find_room(5, 2, "302").id
        db.session.execute(
            update(HouseholdChange)
            .where(HouseholdChange.room_id == room_302)
            .values(created_at=utcnow() - timedelta(days=14))
        )
        db.session.commit()
    with app.test_request_context():
        set_room_facts(room_id, 9050, "undelivered", None, "按合同面积登记")
    return room_id, old_person


def test_the_week_lists_its_changes_with_who_and_why(app, as_role, changes):
    manager = as_role(roles.MANAGER)
    html = manager.get(URL).get_data(as_text=True)
    monday = monday_of(today())
    assert f"{monday.isoformat()} 至 {(monday + timedelta(days=6)).isoformat()}" in html
    assert "（本周）" in html
    assert "5号楼2单元301室" in html and "登记业主 张三" in html
    assert "收费面积 未登记 → 90.50 ㎡" in html and "按合同面积登记" in html
    assert "命令行" in html  # the test registered people outside a request
    assert "李四" not in html
    assert f'href="/forms/staff/households/{changes[0]}"' in html
    previous = (monday - timedelta(days=7)).isoformat()
    following = (monday + timedelta(days=7)).isoformat()
    assert f"week={previous}" in html and f"week={following}" in html


def test_another_week_by_any_of_its_days(app, as_role, changes):
    manager = as_role(roles.MANAGER)
    two_weeks_ago = today() - timedelta(days=14)
    html = manager.get(f"{URL}?week={two_weeks_ago.isoformat()}").get_data(as_text=True)
    assert f"住户档案变更：{monday_of(two_weeks_ago).isoformat()}" in html
    assert "登记业主 李四" in html and "张三" not in html
    empty = manager.get(f"{URL}?week=2001-01-03").get_data(as_text=True)
    assert "这一周没有住户档案变更" in empty and "2001-01-01 至 2001-01-07" in empty


@pytest.mark.parametrize("week", ["x", "2026-13-01", "0001-01-01", "9999-12-31", "%00", "1" * 500])
def test_odd_weeks_get_a_message_and_this_week(app, as_role, changes, week):
    manager = as_role(roles.MANAGER)
    response = manager.get(f"{URL}?week={week}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="week-error"' in html and "登记业主 张三" in html
    for fmt in ("csv", "xlsx"):
        response = manager.get(f"{URL}/export.{fmt}?week={week}")
        assert response.status_code == 303


def test_only_the_manager_sees_the_changes(app, as_role, changes):
    for role in roles.ROLES:
        for url in (URL, f"{URL}/export.csv", f"{URL}/export.xlsx"):
            status = as_role(role).get(url).status_code
            assert status == (200 if role == roles.MANAGER else 403), (role, url)


def test_csv_and_xlsx_exports_are_audited(app, as_role, changes):
    manager = as_role(roles.MANAGER)
    monday = monday_of(today()).isoformat()
    response = manager.get(f"{URL}/export.csv?week={monday}")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    header, *rows = text.strip().splitlines()
    assert header == "时间,房屋,变更,内容,原因,经办人"
    assert len(rows) == 2
    assert any("登记人员" in row and "张三" in row for row in rows)
    assert any("房屋资料" in row and "按合同面积登记" in row for row in rows)
    response = manager.get(f"{URL}/export.xlsx?week={monday}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0].startswith("筛选条件：" + monday)
    assert values[2][:3] == ("时间", "房屋", "变更")
    assert len(values) == 5
    assert manager.get(f"{URL}/export.pdf").status_code == 404
    with app.app_context():
        entries = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "export", AuditLog.target == "住户档案变更")
        ).all()
        assert sorted(e.detail.split("；")[0] for e in entries) == ["csv", "xlsx"]


def test_a_move_out_by_staff_names_them(app, as_role, changes):
    manager = as_role(roles.MANAGER)
    with app.test_request_context():
        person = changes[1]
        # Outside a login the registry names the command line; through the page, the staff.
        end_person(person, today(), "数据整理")
    html = manager.get(URL).get_data(as_text=True)
    assert "迁出" in html and "数据整理" in html
