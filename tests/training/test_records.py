"""Per-person records and who is behind, for the 经理 and 客服主管; exports for audits; nobody
else reads another person's record."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.extensions import db
from tests.support.forms import csrf_token_from

from .conftest import HOME, TODAY, nonce_from

pytestmark = pytest.mark.one_app_per_module


def complete(trainee_, training):
    """Read every section of the path and pass every quiz."""
    for section in training.path_for(trainee_.role):
        trainee_.mark_read(section)
    for quiz in training.quizzes_for(trainee_.role):
        trainee_.take(quiz)


def test_the_manager_sees_who_is_behind_first(trainee, training):
    complete(trainee(roles.CLEANER), training)
    trainee(roles.SECURITY).mark_read(training.path_for(roles.SECURITY)[0])
    manager = trainee(roles.MANAGER)
    page = manager.html(HOME + "people/")
    assert f'<strong id="behind-count">{len(roles.ROLES) - 1}</strong>' in page
    rows = page.split('id="people"')[1].split("</table>")[0].split("<tbody>")[1].split("</tr>")
    assert "cleaner" in rows[-2] and "已完成" in rows[-2]  # the one who is done comes last
    assert "1/" in page.split(">security<")[1].split("</tr>")[0]
    behind = manager.html(HOME + "people/?behind=1")
    assert ">cleaner<" not in behind and ">security<" in behind
    home = manager.html("/forms/staff/")
    assert (
        'id="training-team"' in home and f"其中 <strong>{len(roles.ROLES) - 1}</strong> 人" in home
    )


def test_a_persons_record_has_path_attempts_and_sessions(trainee, training, stored):
    cleaner = trainee(roles.CLEANER)
    cleaner.mark_read(training.path_for(roles.CLEANER)[0])
    cleaner.take(training.quizzes["cleaning"], wrong={"ashtray-sand"})
    user_id = stored.user("cleaner").id
    for role in (roles.MANAGER, roles.SERVICE_LEAD):
        page = trainee(role).html(f"{HOME}people/{user_id}")
        assert "培训记录：cleaner" in page
        assert "保洁服务品质检查标准" in page and "未通过" in page
        assert page.count("已读") >= 1 and "未读" in page
    own = cleaner.html(HOME + "me")
    assert "培训记录：cleaner" in own


def test_nobody_else_reads_another_persons_record(trainee, stored):
    user_id = stored.user("cleaner").id
    for role in (roles.SERVICE, roles.ENGINEERING, roles.SECURITY, roles.CLEANER):
        response = trainee(role).client.get(f"{HOME}people/{user_id}")
        assert response.status_code == 403, role
        assert "此页面仅限客服主管、经理、品质部使用" in response.get_data(as_text=True)
    manager = trainee(roles.MANAGER)
    for path in ("people/99999", "people/0", "people/-1", "people/abc"):
        assert manager.client.get(HOME + path).status_code == 404, path


def test_records_export_to_excel_and_csv(app, trainee, training, stored):
    complete(trainee(roles.CLEANER), training)
    manager = trainee(roles.MANAGER)
    response = manager.client.get(HOME + "people/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0][:5] == ["姓名", "用户名", "角色", "应读章节", "已读"]
    cleaner_row = next(r for r in rows if r[1] == "cleaner")
    total = len(training.path_for(roles.CLEANER))
    assert cleaner_row[2:5] == ["保洁", total, total] and cleaner_row[-1] == "已完成"
    assert cleaner_row[-2] == 1  # 完成度 100 %, a percentage
    assert len(rows) == 1 + len(roles.ROLES)
    text = manager.client.get(HOME + "people/export.csv").data.decode("utf-8")
    assert text.startswith("\ufeff姓名,")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r[1] for r in parsed[1:]} == set(roles.ROLES)
    assert manager.client.get(HOME + "people/export.pdf").status_code == 404
    assert stored.count(AuditLog) >= 2
    with app.app_context():
        targets = [a.target for a in db.session.query(AuditLog).filter_by(action="export")]
    assert targets == ["员工培训记录", "员工培训记录"]


def test_sessions_export_one_row_per_attendee(trainee, stored):
    lead = trainee(roles.SERVICE_LEAD)
    html = lead.html(HOME + "sessions/new")
    lead.client.post(
        HOME + "sessions/new",
        data={
            "csrf_token": csrf_token_from(html),
            "nonce": nonce_from(html),
            "held_on": TODAY.isoformat(),
            "starts_at": "09:00",
            "topic": "=1+1 清洁标准",
            "trainer": str(stored.user("manager").id),
            "sections": ["cleaning-standards#大堂"],
            "attendees": [str(stored.user("cleaner").id), str(stored.user("service").id)],
        },
    )
    text = lead.client.get(HOME + "sessions/export.csv").data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["培训编号", "培训日期", "培训主题", "主讲人"]
    assert [r[6] for r in rows[1:]] == ["cleaner（保洁）", "service（客服）"]
    assert rows[1][2] == "'=1+1 清洁标准"  # never a formula
    assert rows[1][4] == "保洁服务品质检查标准 › 大堂"
    sheet = load_workbook(io.BytesIO(lead.client.get(HOME + "sessions/export.xlsx").data)).active
    assert sheet.max_row == 3 + 2  # title, filter, header, two attendees
    assert sheet["B4"].value.date() == TODAY and sheet["I4"].is_date
