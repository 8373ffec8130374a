"""Patrol findings: the open ones on 今日待巡查 (overdue first, marked) and the staff home, the
整改 → 复查 loop with its permissions and bad input, and the register export's 巡查整改 sheet."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.extensions import db
from forms_app.renovation.patrols import FindingPhoto, FindingStep, PatrolCheck
from tests.renovation.test_patrols import NONCE, PNG, TODAY, on_site, patrol_page, post_patrol
from tests.support.forms import csrf_token_from
from tests.support.renovation import patrol_items

pytestmark = pytest.mark.one_app_per_module

DAY = timedelta(days=1)


def patrol_with_findings(app, as_role):
    """A guard's patrol five days ago with two findings — clear-out overdue since two days,
    passage due tomorrow — and a 装修办 patrol today with one (rubbish, due in three days)."""
    application_id = on_site(app, days=6)
    guard = as_role(roles.SECURITY)
    response = post_patrol(
        guard,
        application_id,
        patrol_date=(TODAY - 5 * DAY).isoformat(),
        failed={"clear-out": "19:30 仍有工人", "passage": "材料没有走专用装修通道"},
        **{
            "deadline-clear-out": (TODAY - 2 * DAY).isoformat(),
            "deadline-passage": (TODAY + DAY).isoformat(),
        },
    )
    assert response.status_code == 303
    office = as_role(roles.ENGINEERING)
    response = post_patrol(
        office, application_id, kind="office", failed={"rubbish-point": "垃圾堆在楼道"}
    )
    assert response.status_code == 303
    with app.app_context():
        ids = dict(
            db.session.execute(
                select(PatrolCheck.item_id, PatrolCheck.id).where(PatrolCheck.result == "fail")
            ).all()
        )
    return application_id, ids, guard, office


def rows(html: str) -> list[list[str]]:
    """The cells (as text) of the open-findings table."""
    table = html[html.index('id="open-findings"') :]
    table = table[: table.index("</table>")]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]
    ]


def test_open_findings_are_listed_overdue_first_for_the_kinds_one_records(app, as_role):
    application_id, ids, guard, office = patrol_with_findings(app, as_role)
    listed = rows(guard.get("/forms/staff/patrols/due").get_data(as_text=True))
    assert [(r[0], r[1], r[3]) for r in listed] == [
        (str(TODAY - 2 * DAY), "逾期 2 天", "规定清场时间后没有未离开小区的装修人员"),
        (str(TODAY + DAY), "待整改", "使用专用装修通道"),
    ]  # the 装修办's finding is not the guard's
    assert listed[0][2] == "1号楼1单元101室" and listed[0][4] == "19:30 仍有工人"
    listed = rows(office.get("/forms/staff/patrols/due").get_data(as_text=True))
    assert [r[3] for r in listed] == ["装修垃圾堆放在专用装修垃圾堆放点"]
    manager = rows(as_role(roles.MANAGER).get("/forms/staff/patrols/due").get_data(as_text=True))
    assert [r[1] for r in manager] == ["逾期 2 天", "待整改", "待整改"]
    home = guard.get("/forms/staff/").get_data(as_text=True)
    assert "巡查整改：待整改或待复查 2 项" in home and "逾期 1 项" in home
    # The application's page: each finding with its state and deadline.
    page = patrol_page(guard, application_id)
    finding = page[page.index(f'id="finding-{ids["clear-out"]}"') :]
    assert "待整改，逾期 2 天" in finding[:600] and str(TODAY - 2 * DAY) in finding[:800]


def step_form(client, application_id, form_id: str) -> dict:
    html = patrol_page(client, application_id)
    form = html[html.index(f'id="{form_id}"') :]
    return {"csrf_token": csrf_token_from(html), "nonce": NONCE.search(form).group(1)}


def post_step(client, application_id, finding_id, step, data, files=None):
    url = f"/forms/staff/renovations/{application_id}/findings/{finding_id}/{step}"
    data = dict(data)
    if files:
        data["photos"] = files
    return client.post(url, data=data, content_type="multipart/form-data")


def stored(app):
    with app.app_context():
        return (
            db.session.scalar(select(func.count(FindingStep.id))),
            db.session.scalar(select(func.count(FindingPhoto.id))),
            tuple(db.session.scalars(select(PatrolCheck.status).order_by(PatrolCheck.id))),
        )


def test_fix_and_recheck_close_a_finding_and_refuse_what_does_not_fit(app, as_role):
    application_id, ids, guard, office = patrol_with_findings(app, as_role)
    finding = ids["clear-out"]
    before = stored(app)
    form = step_form(guard, application_id, f"fix-{finding}")
    # Someone who does not record the guards' patrols may not record their 整改.
    office_page = patrol_page(office, application_id)
    assert f'id="finding-{finding}"' in office_page and f'id="fix-{finding}"' not in office_page
    office_form = {**form, "csrf_token": csrf_token_from(office_page), "note": "已清场"}
    response = post_step(office, application_id, finding, "fix", office_form)
    assert response.status_code == 403 and "秩序维护部巡查" in response.get_data(as_text=True)
    # Not under this application, not a finding: 404.
    assert post_step(guard, application_id + 1, finding, "fix", form).status_code == 404
    with app.app_context():
        passed = db.session.scalar(select(PatrolCheck.id).where(PatrolCheck.result == "pass"))
    assert post_step(guard, application_id, passed, "fix", form).status_code == 404
    # 复查 before 整改 is refused.
    response = post_step(guard, application_id, finding, "recheck", {**form, "result": "pass"})
    assert response.status_code == 409 and "记录整改完成后才能复查" in response.get_data(
        as_text=True
    )
    bad = [
        ({"note": ""}, None, "请写明整改情况"),
        ({"note": "x" * 501}, None, "整改情况不超过 500 字"),
        ({"note": "已清场", "nonce": "x"}, None, "表单已失效"),
        ({"note": "已清场"}, [(io.BytesIO(b"%PDF-1.4 x"), "单.pdf")], "不是 JPG 或 PNG 照片"),
        ({"note": "已清场"}, [(io.BytesIO(PNG), f"{i}.png") for i in range(4)], "最多 3 张"),
    ]
    for fields, files, message in bad:
        response = post_step(guard, application_id, finding, "fix", {**form, **fields}, files)
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and message in html, message
        assert stored(app) == before, message
    # 整改 recorded with a photo: 待复查, no longer overdue.
    fix = {**form, "note": "已要求施工负责人按时清场"}
    response = post_step(
        guard, application_id, finding, "fix", fix, [(io.BytesIO(PNG), "清场.png")]
    )
    assert response.status_code == 303
    assert response.location == "/forms/staff/patrols/due#findings-heading"
    assert post_step(guard, application_id, finding, "fix", fix).status_code == 303  # same form
    assert "没有重复保存" in guard.get(response.location).get_data(as_text=True)
    steps, photos, _ = stored(app)
    assert (steps, photos) == (before[0] + 1, before[1] + 1)
    listed = rows(guard.get("/forms/staff/patrols/due").get_data(as_text=True))
    assert [(r[1], r[3]) for r in listed] == [
        ("待复查", "规定清场时间后没有未离开小区的装修人员"),  # by deadline, no longer overdue
        ("待整改", "使用专用装修通道"),
    ]
    again = post_step(
        guard,
        application_id,
        finding,
        "fix",
        {**step_form(guard, application_id, f"recheck-{finding}"), "note": "再次"},
    )
    assert again.status_code == 409 and "不能再记录整改" in again.get_data(as_text=True)
    # 复查: bad input first.
    form = step_form(guard, application_id, f"recheck-{finding}")
    bad = [
        ({}, "请选择复查结果"),
        ({"result": "fail", "deadline": str(TODAY + 3 * DAY)}, "复查不合格时请写明问题"),
        ({"result": "fail", "note": "仍有工人", "deadline": "明天"}, "请填写整改期限"),
        (
            {"result": "fail", "note": "仍有工人", "deadline": str(TODAY - DAY)},
            "整改期限不能早于复查日期",
        ),
    ]
    middle = stored(app)
    for fields, message in bad:
        response = post_step(guard, application_id, finding, "recheck", {**form, **fields})
        assert response.status_code == 400 and message in response.get_data(as_text=True), message
        assert stored(app) == middle, message
    # 复查 不合格: back to 待整改 with the new deadline.
    response = post_step(
        guard,
        application_id,
        finding,
        "recheck",
        {**form, "result": "fail", "note": "当晚仍有两名工人", "deadline": str(TODAY + 2 * DAY)},
    )
    assert response.status_code == 303
    with app.app_context():
        check = db.session.get(PatrolCheck, finding)
        assert (check.status, check.deadline) == ("open", TODAY + 2 * DAY)
    # 整改 again, then 复查 合格 closes it.
    form = step_form(guard, application_id, f"fix-{finding}")
    assert (
        post_step(guard, application_id, finding, "fix", {**form, "note": "已清场"}).status_code
        == 303
    )
    form = step_form(guard, application_id, f"recheck-{finding}")
    assert (
        post_step(guard, application_id, finding, "recheck", {**form, "result": "pass"}).status_code
        == 303
    )
    with app.app_context():
        check = db.session.get(PatrolCheck, finding)
        assert check.status == "closed" and check.closed_at is not None
        assert [s.action for s in check.steps] == ["fix", "recheck_fail", "fix", "recheck_pass"]
        assert check.steps[0].actor_name == "security（秩序维护）"
        audit = db.session.scalars(
            select(AuditLog.action).where(AuditLog.action.like("renovation.finding%"))
        ).all()
    assert sorted(audit) == ["renovation.finding_fix"] * 2 + ["renovation.finding_recheck"] * 2
    page = patrol_page(guard, application_id)
    closed = page[page.index(f'id="finding-{finding}"') :]
    closed = closed[: closed.index('<li class="finding ', 1)]
    for text in ("复查合格，已关闭", "整改完成", "复查不合格", "当晚仍有两名工人", "清场.png"):
        assert text in closed, text
    assert f'id="fix-{finding}"' not in page and f'id="recheck-{finding}"' not in page
    listed = rows(guard.get("/forms/staff/patrols/due").get_data(as_text=True))
    assert [r[3] for r in listed] == ["使用专用装修通道"]
    # A closed finding takes no more steps.
    response = post_step(
        guard,
        application_id,
        finding,
        "recheck",
        {**form, "result": "pass", "nonce": "another-form-nonce-0001"},
    )
    assert response.status_code == 409


def findings_sheet(manager):
    response = manager.get("/forms/staff/renovations/export.xlsx")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook["巡查整改"]
    header = [cell.value for cell in sheet[3]]
    return workbook, [
        dict(zip(header, [c.value for c in row])) for row in sheet.iter_rows(min_row=4)
    ]


def test_the_register_export_lists_findings_with_their_loop(app, as_role):
    application_id, ids, guard, _office = patrol_with_findings(app, as_role)
    finding = ids["clear-out"]
    manager = as_role(roles.MANAGER)
    _, found = findings_sheet(manager)
    assert (found[0]["状态"], found[0]["逾期天数"]) == ("逾期未整改", 2)
    form = step_form(guard, application_id, f"fix-{finding}")
    assert (
        post_step(
            guard,
            application_id,
            finding,
            "fix",
            {**form, "note": "已清场"},
            [(io.BytesIO(PNG), "清场.png")],
        ).status_code
        == 303
    )
    workbook, found = findings_sheet(manager)
    assert workbook.sheetnames == ["装修登记", "巡查记录", "巡查整改"]
    assert workbook["巡查整改"].freeze_panes == "A4"
    assert [row["检查项"] for row in found] == [
        "规定清场时间后没有未离开小区的装修人员",
        "使用专用装修通道",
        "装修垃圾堆放在专用装修垃圾堆放点",
    ]
    first, second, third = found
    assert first["问题"] == "19:30 仍有工人" and first["状态"] == "已整改，待复查"
    assert first["整改期限"] == datetime(2026, 5, 8) and first["整改情况"] == "已清场"
    assert (
        isinstance(first["整改完成时间"], datetime)
        and first["整改记录人"] == "security（秩序维护）"
    )
    assert first["逾期天数"] is None and first["复查结果"] is None
    assert first["照片数"] == 1
    assert second["状态"] == "待整改" and second["逾期天数"] == 0
    assert third["巡查类型"] == "装修办巡查" and third["巡查人"] == "engineering（工程）"
    patrols = workbook["巡查记录"]
    header = [cell.value for cell in patrols[3]]
    summaries = [
        dict(zip(header, [c.value for c in row]))["巡查情况"]
        for row in patrols.iter_rows(min_row=4)
    ]
    items = len(patrol_items("guard"))
    assert (
        summaries[0]
        == f"检查 {items} 项：{items - 2} 项合格，2 项不合格。其他情况：施工正常，垃圾已清运。"
    )
