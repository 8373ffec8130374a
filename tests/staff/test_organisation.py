"""The staff organisation: departments with their 主管, a mobile and areas per account, the
escalation paths domains use, and every refusal in Chinese with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog, StaffUser
from forms_app.accounts.organisation import (
    PlacementRefused,
    check_placement,
    members,
    organisation,
    supervisor_of,
)
from forms_app.core.community import CommunityDataError, load_community
from forms_app.core.extensions import db
from tests.support.forms import csrf_token_from
from tests.support.staff import ROLE_USERS

pytestmark = pytest.mark.one_app_per_module


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))


def place(client, app, username: str, department: str = "", head=False, mobile="", areas=()):
    number = user_id(app, username)
    page = client.get(f"/forms/staff/accounts/{number}").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "department": department, "mobile": mobile}
    if head:
        data["is_head"] = "1"
    data["areas"] = list(areas)
    return client.post(f"/forms/staff/accounts/{number}/organisation", data=data)


def stored(app, username: str) -> tuple:
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        return (user.department, user.is_head, user.mobile, [a.area for a in user.areas])


@pytest.fixture
def manager(as_role):
    return as_role(roles.MANAGER)


@pytest.fixture
def placed(app, manager):
    """The 经理 heads the 管理处; the 工程主管 heads 工程部, with one 工程 under him."""
    assert place(manager, app, ROLE_USERS[roles.MANAGER], "management", True).status_code == 303
    assert (
        place(manager, app, "engineering_lead", "engineering", True, "13912345678").status_code
        == 303
    )
    assert (
        place(manager, app, "engineering", "engineering", mobile="13800138000").status_code == 303
    )
    return manager


def test_escalation_paths(app, placed):
    with app.app_context():
        by_name = {u.username: u for u in db.session.scalars(select(StaffUser))}
        worker, lead, boss = by_name["engineering"], by_name["engineering_lead"], by_name["manager"]
        assert supervisor_of(worker) == [lead]
        assert supervisor_of(lead) == [boss]
        assert supervisor_of(boss) == []  # the 管理处's 主管 answer to the company
        assert supervisor_of(by_name["service"]) == []  # not placed yet
        assert [u.username for u in members("engineering")] == ["engineering_lead", "engineering"]
        for user in by_name.values():
            assert user not in supervisor_of(user)


def test_a_second_head_answers_to_the_first_never_to_himself(app, placed):
    with app.app_context():
        lead = db.session.scalar(select(StaffUser).where(StaffUser.username == "engineering_lead"))
        with pytest.raises(PlacementRefused):
            check_placement(db.session, lead, "engineering", False)  # the last 主管 stepping down


def test_the_pages_show_the_organisation_with_masked_mobiles(app, placed, as_role):
    page = as_role(roles.ENGINEERING).get("/forms/staff/organisation/").get_data(as_text=True)
    assert "工程部" in page and "139****5678" in page and 'href="tel:13912345678"' in page
    assert "上级：" in page
    listing = placed.get("/forms/staff/accounts/").get_data(as_text=True)
    assert "138****8000" in listing and "13800138000" not in listing
    with app.app_context():
        actions = db.session.scalars(select(AuditLog.action)).all()
    assert actions.count("organisation.place") == 3


@pytest.mark.parametrize(
    ("username", "department", "head", "mobile", "areas", "field", "message"),
    [
        ("engineering", "engineering", False, "", (), "department", "还没有主管"),
        ("cleaner", "finance", False, "", (), "department", "不能分到「财务部」"),
        ("engineering", "engineering", True, "", (), "is_head", "主管须为工程主管"),
        ("engineering_lead", "engineering", True, "", (), "is_head", "管理处还没有主管"),
        ("engineering", "nowhere", False, "", (), "department", "请从列表中选择部门"),
        ("engineering", "", True, "", (), "department", "请先选择部门"),
        ("manager", "management", True, "12345678901", (), "mobile", "11 位大陆手机号"),
        ("manager", "management", True, "1380013800", (), "mobile", "11 位大陆手机号"),
        ("manager", "management", True, "+85291234567", (), "mobile", "11 位大陆手机号"),
        ("manager", "management", True, "", ("1号楼",), "areas", "只有保洁、秩序维护"),
        ("manager", "management", True, "", ("火星",), "areas", "只有保洁、秩序维护"),
    ],
)
def test_refusals_are_chinese_beside_their_field_and_change_nothing(
    app, manager, username, department, head, mobile, areas, field, message
):
    before = stored(app, username)
    response = place(manager, app, username, department, head, mobile, areas)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and message in page
    assert stored(app, username) == before


def test_areas_for_a_cleaner_and_a_wrong_area(app, manager):
    place(manager, app, "manager", "management", True)
    place(manager, app, "cleaning_lead", "cleaning", True)
    ok = place(manager, app, "cleaner", "cleaning", False, "13700137000", ("1号楼", "1号车场"))
    assert ok.status_code == 303
    assert stored(app, "cleaner") == ("cleaning", False, "13700137000", ["1号楼", "1号车场"])
    with app.app_context():
        assert [u.username for u in members("cleaning", "1号楼")] == ["cleaner"]
        assert members("cleaning", "2号楼") == []
    wrong = place(manager, app, "cleaner", "cleaning", False, "", ("火星",))
    assert wrong.status_code == 400 and "请从列表中选择区域" in wrong.get_data(as_text=True)
    assert stored(app, "cleaner")[3] == ["1号楼", "1号车场"]


def test_the_last_head_cannot_leave_be_disabled_or_change_role(app, placed):
    page = place(placed, app, "engineering_lead", "engineering", False)
    assert page.status_code == 400 and "不能没有主管" in page.get_data(as_text=True)
    number = user_id(app, "engineering_lead")
    account = placed.get(f"/forms/staff/accounts/{number}").get_data(as_text=True)
    disabled = placed.post(
        f"/forms/staff/accounts/{number}/active",
        data={"csrf_token": csrf_token_from(account), "active": "0"},
    )
    assert disabled.status_code == 400 and "不能没有主管" in disabled.get_data(as_text=True)
    renamed = placed.post(
        f"/forms/staff/accounts/{number}/profile",
        data={
            "csrf_token": csrf_token_from(account),
            "display_name": "赵工",
            "role": "engineering",
        },
    )
    assert renamed.status_code == 400 and "请先在下面的「组织架构」里调整部门" in renamed.get_data(
        as_text=True
    )
    assert stored(app, "engineering_lead")[:2] == ("engineering", True)
    with app.app_context():
        lead = db.session.scalar(select(StaffUser).where(StaffUser.username == "engineering_lead"))
        assert lead.active and lead.role == roles.ENGINEERING_LEAD
    manager_page = placed.get(f"/forms/staff/accounts/{user_id(app, 'manager')}")
    refused = place(placed, app, "manager", "", False)
    assert refused.status_code == 400 and "向管理处主管汇报" in refused.get_data(as_text=True)
    assert manager_page.status_code == 200


def test_only_the_manager_places_people(app, as_role):
    clerk = as_role(roles.SERVICE)
    number = user_id(app, "engineering")
    assert clerk.post(f"/forms/staff/accounts/{number}/organisation", data={}).status_code in (
        400,
        403,
    )
    assert clerk.get("/forms/staff/organisation/export.csv").status_code == 403
    assert stored(app, "engineering") == (None, False, None, [])


def test_the_export_is_a_typed_workbook(app, placed):
    import io

    from openpyxl import load_workbook

    response = placed.get("/forms/staff/organisation/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and row[0] == "部门")
    records = [dict(zip(rows[header], row)) for row in rows[header + 1 :] if row[0]]
    worker = next(r for r in records if r["姓名"] == "engineering")
    assert worker["部门"] == "工程部" and worker["上级"] == "engineering_lead"
    assert worker["手机"] == "13800138000" and worker["主管"] in (False, "否")


def test_a_community_file_with_a_role_in_no_department_stops_the_app(tmp_path, own_community_file):
    import yaml

    raw = yaml.safe_load(own_community_file.read_text(encoding="utf-8"))
    raw["organisation"]["departments"] = [
        d for d in raw["organisation"]["departments"] if d["id"] != "finance"
    ]
    path = tmp_path / "no-finance.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    from forms_app.accounts.organisation import load_organisation

    with pytest.raises(CommunityDataError, match="未归属：财务"):
        load_organisation(load_community(path))


def test_the_example_organisation_reads(app):
    with app.app_context():
        found = organisation()
    assert found.top == "management"
    assert {d.name for d in found.departments.values() if d.dispatch} == {
        "客户服务中心",
        "工程部",
        "秩序维护部",
        "保洁部",
    }
    assert "12号楼" in found.areas and "1号车场" in found.areas
