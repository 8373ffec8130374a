"""The audit log: logins, state changes, patrols, exports and account changes."""

from __future__ import annotations

from flask import has_request_context, request

from ..core.database import IMMEDIATE, write_transaction
from ..core.extensions import db
from .access import current_staff
from .models import AuditLog

# What the accounts layer's action codes mean, for the 经理's audit page; each domain
# registers the labels of its own actions (registry.StaffSection.audit_labels).
ACTION_LABELS = {
    "login.success": "登录成功",
    "login.failure": "登录失败",
    "login.throttled": "登录被限制（失败次数过多）",
    "login.not_member": "登录被拒（不是本小区的员工）",
    "user.join": "把账号加入本小区",
    "user.leave": "把账号移出本小区",
    "logout": "退出登录",
    "export": "导出数据",
    "user.create": "创建账号",
    "user.update": "修改账号（姓名、本小区的角色）",
    "user.disable": "停用账号",
    "user.enable": "启用账号",
    "user.reset_password": "重置密码",
    "organisation.place": "调整组织架构（部门、主管、手机、区域）",
    "rota.add": "排班",
    "rota.remove": "取消排班",
    "rota.copy": "复制上周值班",
}


def request_address() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


def _in_write_transaction(session) -> bool:
    return session.in_transaction() and bool(
        session.connection().get_execution_options().get(IMMEDIATE)
    )


def audit_name(actor) -> str:
    """姓名（用户名）: the name people know, and the login it used."""
    if not actor.display_name or actor.display_name == actor.username:
        return actor.username
    return f"{actor.display_name}（{actor.username}）"[:64]


def record_audit(
    action: str, target: str = "", detail: str = "", *, actor=None, actor_name: str | None = None
) -> None:
    """Add an audit entry: inside the caller's write transaction, else in one of its own.

    The actor defaults to the logged-in staff member (command-line changes pass
    ``actor_name="命令行"``).
    """
    if actor is None and has_request_context():
        actor = current_staff()
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        actor_name=actor_name or (audit_name(actor) if actor else ""),
        action=action,
        target=str(target)[:120],
        detail=detail,
        address=request_address(),
    )
    session = db.session()
    if _in_write_transaction(session):
        session.add(entry)
    else:
        with write_transaction() as own:
            own.add(entry)
