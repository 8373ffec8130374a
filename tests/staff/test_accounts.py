"""Accounts: created on the command line only, argon2id hashes, disable and reset end sessions."""

import pytest
from sqlalchemy import select

from forms_app.accounts.models import AuditLog, StaffUser
from forms_app.core.extensions import db
from tests.support.staff import create_staff, login

pytestmark = pytest.mark.one_app_per_module


def run(runner, *args, password=None):
    return runner.invoke(args=list(args), input=(password + "\n") if password else None)


def test_no_account_exists_by_default(app, runner):
    result = run(runner, "list-users")
    assert "还没有员工账号" in result.output
    with app.app_context():
        assert db.session.execute(select(StaffUser)).first() is None


def test_create_user_hashes_with_argon2id_at_owasp_parameters(app, runner):
    app.config["PASSWORD_HASH_COST"] = "owasp"  # the suite hashes cheaply; production does not
    result = run(runner, "create-user", "Wang", "--role", "经理", password="a-long-secret-1")
    assert result.exit_code == 0, result.output
    assert "已创建账号 wang（经理）" in result.output
    with app.app_context():
        user = db.session.execute(select(StaffUser)).scalar_one()
        assert user.role == "manager" and user.active
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert "a-long-secret-1" not in user.password_hash
        assert db.session.execute(select(AuditLog.action)).scalars().all() == ["user.create"]


def test_create_user_refuses_bad_input(app, runner):
    assert (
        "未知角色"
        in run(runner, "create-user", "li", "--role", "boss", password="a-long-secret-1").output
    )
    assert (
        "密码至少 10 位"
        in run(runner, "create-user", "li", "--role", "客服", password="short").output
    )
    assert (
        "不能与用户名相同"
        in run(runner, "create-user", "lilililili", "--role", "客服", password="lilililili").output
    )
    assert (
        run(runner, "create-user", "li", "--role", "护卫", password="a-long-secret-1").exit_code
        == 0
    )
    assert (
        "已存在"
        in run(runner, "create-user", "LI", "--role", "客服", password="a-long-secret-1").output
    )
    listing = run(runner, "list-users").output
    assert "li\t山水花园：秩序维护\t启用" in listing


def test_disable_user_ends_sessions_and_blocks_login(app, client, runner):
    create_staff(app, "zhao", "客服")
    assert login(client, "zhao").status_code == 302
    assert client.get("/forms/staff/").status_code == 200
    result = run(runner, "disable-user", "zhao")
    assert result.exit_code == 0 and "已停用" in result.output
    response = client.get("/forms/staff/")
    assert response.status_code == 302 and "/forms/staff/login" in response.headers["Location"]
    assert login(client, "zhao").status_code == 401
    run(runner, "enable-user", "zhao")
    assert login(client, "zhao").status_code == 302


def test_reset_password_ends_sessions(app, client, runner):
    create_staff(app, "qian", "工程")
    login(client, "qian")
    assert client.get("/forms/staff/").status_code == 200
    assert run(runner, "reset-password", "qian", password="another-secret-2").exit_code == 0
    assert client.get("/forms/staff/").status_code == 302
    assert login(client, "qian").status_code == 401
    assert login(client, "qian", "another-secret-2").status_code == 302
    with app.app_context():
        actions = db.session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()
    assert "user.reset_password" in actions and "login.failure" in actions
