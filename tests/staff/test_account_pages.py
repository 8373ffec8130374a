"""Accounts on the web for the 经理: create with a display name, change name and role, disable,
reset passwords; the display name is what people read; the back office cannot be locked out."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog, StaffSession, StaffUser, actor_label
from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication
from tests.support.forms import csrf_token_from, staff_csrf_token
from tests.support.renovation import file_application, walk
from tests.support.staff import PASSWORD, login

pytestmark = pytest.mark.one_app_per_module

NEW = "/forms/staff/accounts/new"
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def open_form(client) -> dict:
    html = client.get(NEW).get_data(as_text=True)
    return {"csrf_token": csrf_token_from(html), "nonce": NONCE.search(html).group(1)}


def account_fields(**overrides) -> dict:
    fields = {
        "username": "wangfang",
        "display_name": "王芳",
        "role": roles.SERVICE,
        "password": "a-long-secret-1",
        "password_confirm": "a-long-secret-1",
    }
    fields.update(overrides)
    return fields


def user(app, username: str) -> StaffUser | None:
    with app.app_context():
        found = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if found:
            db.session.expunge(found)
        return found


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(StaffUser.id)))


def test_the_manager_creates_an_account_that_logs_in(app, as_role):
    manager = as_role(roles.MANAGER)
    response = manager.post(NEW, data={**open_form(manager), **account_fields()})
    assert response.status_code == 303
    page = manager.get(response.location).get_data(as_text=True)
    assert "已创建账号 wangfang（王芳，客服）" in page
    created = user(app, "wangfang")
    assert (created.display_name, created.role, created.active) == ("王芳", "service", True)
    fresh = app.test_client()
    assert login(fresh, "wangfang", "a-long-secret-1").status_code == 302
    assert "王芳（客服）" in fresh.get("/forms/staff/").get_data(as_text=True)
    listing = manager.get("/forms/staff/accounts/").get_data(as_text=True)
    assert ">王芳</a>" in listing and "wangfang" in listing


def test_the_new_account_form_posted_twice_is_one_account(app, as_role):
    manager = as_role(roles.MANAGER)
    hidden = open_form(manager)
    before = count_users(app)
    first = manager.post(NEW, data={**hidden, **account_fields()})
    second = manager.post(NEW, data={**hidden, **account_fields()})
    assert first.location == second.location
    assert count_users(app) == before + 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("username", "", "用户名须为 2–30 个字符"),
        ("username", "a b", "用户名须为 2–30 个字符"),
        ("username", "manager", "已被使用"),
        ("display_name", "", "请填写姓名"),
        ("display_name", "王" * 31, "不超过 30 个字"),
        ("display_name", "<b>王</b>", "不能含有"),
        ("display_name", "\ufffd", "无法识别的字符"),
        ("role", "boss", "请选择列表中的角色"),
        ("role", "", "请选择列表中的角色"),
        ("password", "short", "密码至少 10 位"),
        ("password", "", "请设置密码"),
        ("password_confirm", "a-long-secret-2", "两次输入的密码不一致"),
    ],
)
def test_bad_account_input_is_refused_beside_the_field(app, as_role, field, value, message):
    manager = as_role(roles.MANAGER)
    before = count_users(app)
    response = manager.post(NEW, data={**open_form(manager), **account_fields(**{field: value})})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error">' in page and message in page
    if field != "username":
        assert 'value="wangfang"' in page
    assert count_users(app) == before


def test_only_the_manager_manages_accounts(app, as_role):
    target = user(app, "service").id
    for role in roles.ROLES:
        if role == roles.MANAGER:
            continue
        client = as_role(role)
        assert client.get("/forms/staff/accounts/").status_code == 403
        token = staff_csrf_token(client)
        response = client.post(
            f"/forms/staff/accounts/{target}/active", data={"csrf_token": token, "active": "0"}
        )
        assert response.status_code == 403
    assert user(app, "service").active


def test_renaming_changes_what_people_read_on_records(app, as_role):
    manager = as_role(roles.MANAGER)
    engineer = user(app, "engineering")
    url = f"/forms/staff/accounts/{engineer.id}"
    token = csrf_token_from(manager.get(url).get_data(as_text=True))
    response = manager.post(
        url + "/profile",
        data={"csrf_token": token, "display_name": "李工", "role": roles.ENGINEERING},
    )
    assert response.status_code == 303
    with app.app_context():
        assert actor_label(db.session.get(StaffUser, engineer.id)) == "李工（工程）"
    # The permit names who approved it by the display name.
    application_id = file_application(app)
    url_m = f"/forms/staff/accounts/{user(app, 'manager').id}"
    token = csrf_token_from(manager.get(url_m).get_data(as_text=True))
    manager.post(
        url_m + "/profile",
        data={"csrf_token": token, "display_name": "张经理", "role": roles.MANAGER},
    )
    walk(app, application_id, "approve")
    with app.app_context():
        application = db.session.get(RenovationApplication, application_id)
        permit = f"/forms/renovation/status/{application.status_token}/permit"
    page = app.test_client().get(permit).get_data(as_text=True)
    assert "张经理（经理）" in page
    # The audit log names who did it the same way (the login only beside it), and pickers
    # of people add what they hold where work is handed out.
    audit = manager.get("/forms/staff/audit").get_data(as_text=True)
    assert "修改账号" in audit and '张经理（经理）<br><span class="muted">登录名 manager' in audit
    with app.app_context():
        assert actor_label(db.session.get(StaffUser, engineer.id), 2) == "李工（工程，在办 2 单）"


def test_disabling_ends_the_sessions_and_enabling_lets_back_in(app, as_role):
    manager = as_role(roles.MANAGER)
    guard_client = as_role(roles.SECURITY)
    guard = user(app, "security")
    url = f"/forms/staff/accounts/{guard.id}"
    token = csrf_token_from(manager.get(url).get_data(as_text=True))
    assert (
        manager.post(url + "/active", data={"csrf_token": token, "active": "0"}).status_code == 303
    )
    assert guard_client.get("/forms/staff/").status_code == 302
    assert login(app.test_client(), "security", PASSWORD).status_code == 401
    assert (
        manager.post(url + "/active", data={"csrf_token": token, "active": "1"}).status_code == 303
    )
    assert login(app.test_client(), "security", PASSWORD).status_code == 302
    assert (
        manager.post(url + "/active", data={"csrf_token": token, "active": "x"}).status_code == 400
    )


def test_resetting_a_password_ends_the_sessions(app, as_role):
    manager = as_role(roles.MANAGER)
    cleaner_client = as_role(roles.CLEANER)
    cleaner = user(app, "cleaner")
    url = f"/forms/staff/accounts/{cleaner.id}/password"
    token = csrf_token_from(
        manager.get(f"/forms/staff/accounts/{cleaner.id}").get_data(as_text=True)
    )
    bad = manager.post(
        url, data={"csrf_token": token, "password": "new-secret-99", "password_confirm": "other"}
    )
    assert bad.status_code == 400 and "两次输入的密码不一致" in bad.get_data(as_text=True)
    assert cleaner_client.get("/forms/staff/").status_code == 200
    good = manager.post(
        url,
        data={
            "csrf_token": token,
            "password": "new-secret-99",
            "password_confirm": "new-secret-99",
        },
    )
    assert good.status_code == 303
    assert cleaner_client.get("/forms/staff/").status_code == 302
    assert login(app.test_client(), "cleaner", "new-secret-99").status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(AuditLog.id)).where(
                    AuditLog.action == "user.reset_password", AuditLog.target == "cleaner"
                )
            )
            == 1
        )


def test_the_last_manager_cannot_be_disabled_or_demoted(app, as_role):
    manager = as_role(roles.MANAGER)
    me = user(app, "manager")
    url = f"/forms/staff/accounts/{me.id}"
    token = csrf_token_from(manager.get(url).get_data(as_text=True))
    response = manager.post(
        url + "/profile",
        data={"csrf_token": token, "display_name": "张经理", "role": roles.SERVICE},
    )
    assert response.status_code == 400
    assert "至少要保留一个启用的经理账号" in response.get_data(as_text=True)
    response = manager.post(url + "/active", data={"csrf_token": token, "active": "0"})
    assert response.status_code == 400 and "不能停用自己" in response.get_data(as_text=True)
    assert user(app, "manager").role == roles.MANAGER and user(app, "manager").active
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(StaffSession.id)).where(
                    StaffSession.user_id == me.id, StaffSession.ended_at.is_(None)
                )
            )
            >= 1
        )
    for path in ("99999", "0", "9" * 30):
        assert manager.get(f"/forms/staff/accounts/{path}").status_code == 404


def test_the_audit_log_shows_only_this_communitys_entries(app, as_role):
    """Issue 28: an audit entry belongs to the community it was made in; another's is not on
    the 经理's audit page, in any action's filter."""
    manager = as_role(roles.MANAGER)
    with app.app_context():
        db.session.add_all(
            [
                AuditLog(action="export", actor_name="本小区的人", target="本小区的导出"),
                AuditLog(
                    community="other", action="export", actor_name="外小区的人", target="外小区"
                ),
            ]
        )
        db.session.commit()
    for url in ("/forms/staff/audit", "/forms/staff/audit?action=export"):
        page = manager.get(url).get_data(as_text=True)
        assert "本小区的导出" in page and "外小区" not in page, url
