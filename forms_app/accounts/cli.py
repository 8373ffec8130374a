"""Account commands: ``flask --app forms_app accounts create NAME --role ROLE`` and friends
(the old flat names, ``create-user`` …, stay as aliases).

An account is made with its role in one community (``--community ID``, default the first) or
with the company's 品质部; ``accounts grant NAME --role R --community ID`` gives an existing
account a role in another community (or changes it there).

Passwords come from a hidden prompt, or from the first line of standard input when it is
not a terminal (scripts: ``echo "$PW" | flask --app forms_app accounts create ...``).
"""

from __future__ import annotations

import re
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..core.commands import community_option
from ..core.community import community_key, current_community, deployment_communities
from ..core.database import write_transaction
from ..core.extensions import db
from ..web.typed_input import clean_line
from .audit import record_audit
from .models import StaffUser
from .passwords import hash_password, password_problem
from .roles import COMPANY_ROLE_LABELS, COMPANY_ROLES, ROLE_LABELS, parse_role, role_label
from .sessions import end_user_sessions

CLI_ACTOR = "命令行"
USERNAME = re.compile(r"^[^\s/\\]{2,30}$")


def normalize_username(name: str) -> str:
    return (name or "").strip().lower()


def _read_password(username: str) -> str:
    if sys.stdin.isatty():
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    problem = password_problem(username, password)
    if problem:
        raise click.ClickException(problem)
    return password


def _user(session, username: str) -> StaffUser:
    user = session.execute(
        select(StaffUser).where(StaffUser.username == normalize_username(username))
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"账号 {username} 不存在。")
    return user


ROLE_HELP = (
    "角色: "
    + "、".join(ROLE_LABELS.values())
    + f"（或代码 {', '.join(ROLE_LABELS)}）；公司角色: "
    + "、".join(COMPANY_ROLE_LABELS.values())
    + "（各小区只读，不属于某个小区，不加 --community）"
)


def _parse_role(role_text: str, community_given: bool) -> str:
    role = parse_role(role_text)
    if role is None:
        choices = "、".join([*ROLE_LABELS.values(), *COMPANY_ROLE_LABELS.values()])
        raise click.ClickException(f"未知角色 {role_text}。可选: {choices}")
    if role in COMPANY_ROLES and community_given:
        raise click.ClickException(
            f"{role_label(role)}是公司角色，在各小区都可查看、不属于某个小区：请去掉 --community。"
        )
    return role


def _where(role: str) -> str:
    return "公司" if role in COMPANY_ROLES else f"{current_community().name}（{community_key()}）"


def _community_given() -> bool:
    return bool(click.get_current_context().params.get("community_id"))


@click.command("create-user")
@with_appcontext
@click.argument("name")
@click.option("--role", "role_text", required=True, help=ROLE_HELP)
@click.option("--display-name", default="", help="姓名（许可证和记录上显示），默认用用户名")
@community_option
def create_user(name: str, role_text: str, display_name: str) -> None:
    """Create a staff account with its role in one community (the first one; the 经理 creates the others on the web)."""
    role = _parse_role(role_text, _community_given())
    username = normalize_username(name)
    if not USERNAME.match(username):
        raise click.ClickException("用户名须为 2–30 个字符，不含空格和斜杠。")
    if db.session.execute(select(StaffUser.id).where(StaffUser.username == username)).first():
        raise click.ClickException(f"账号 {username} 已存在。")
    display_name = clean_line(display_name)
    if len(display_name) > StaffUser.__table__.c.display_name.type.length:
        raise click.ClickException("姓名不超过 30 个字。")
    password = _read_password(username)
    with write_transaction() as session:
        session.add(
            StaffUser(
                username=username,
                display_name=display_name,
                role=role,
                password_hash=hash_password(password),
            )
        )
        record_audit(
            "user.create",
            target=username,
            detail=f"{_where(role)}：{role_label(role)}",
            actor_name=CLI_ACTOR,
        )
    click.echo(
        f"已创建账号 {username}（{role_label(role)}）。所属：{_where(role)}。登录地址: /forms/staff/"
    )


@click.command("grant")
@with_appcontext
@click.argument("name")
@click.option("--role", "role_text", required=True, help=ROLE_HELP)
@community_option
def grant_role(name: str, role_text: str) -> None:
    """Give an existing account a role in a community (or change it there), or the company role."""
    from .memberships import grant

    role = _parse_role(role_text, _community_given())
    with write_transaction() as session:
        user = _user(session, name)
        # A company role and community roles are not mixed on one account: the company's
        # 品质部 only reads, so a member of a community would lose what it may do there.
        if role in COMPANY_ROLES and user.memberships:
            raise click.ClickException(
                f"账号 {user.username} 是小区员工；{role_label(role)}请用单独的账号"
                f"（accounts create 用户名 --role {role_label(role)}）。"
            )
        if role not in COMPANY_ROLES and user.company_role:
            raise click.ClickException(
                f"账号 {user.username} 是公司的{role_label(user.company_role)}账号，不属于某个小区；"
                "小区的角色请用单独的账号。"
            )
        detail = grant(user, role)
        if detail:
            record_audit("user.join", target=user.username, detail=detail, actor_name=CLI_ACTOR)
    if not detail:
        click.echo(f"账号 {user.username} 在{_where(role)}已是{role_label(role)}，没有改动。")
        return
    click.echo(f"已给账号 {user.username} {_where(role)}的角色：{role_label(role)}。")


@click.command("list-users")
@with_appcontext
def list_users() -> None:
    """List staff accounts."""
    users = db.session.execute(select(StaffUser).order_by(StaffUser.username)).scalars().all()
    if not users:
        click.echo(
            "还没有员工账号。用 flask --app forms_app accounts create 用户名 --role 经理 创建。"
        )
    names = {key: c.name for key, c in deployment_communities().items()}
    for user in users:
        state = "启用" if user.active else "停用"
        roles = [f"公司：{role_label(user.company_role)}"] if user.company_role else []
        roles += [
            f"{names.get(m.community, m.community)}：{role_label(m.role)}" for m in user.memberships
        ]
        click.echo(
            f"{user.username}\t{user.name}\t{'；'.join(roles) or '不属于任何小区'}\t{state}"
            f"\t{user.created_at:%Y-%m-%d}"
        )


def _set_active(name: str, active: bool) -> None:
    with write_transaction() as session:
        user = _user(session, name)
        user.active = active
        if not active:
            end_user_sessions(session, user.id)
        record_audit(
            "user.enable" if active else "user.disable", target=user.username, actor_name=CLI_ACTOR
        )


@click.command("disable-user")
@with_appcontext
@click.argument("name")
def disable_user(name: str) -> None:
    """Disable an account and end its sessions at once."""
    _set_active(name, False)
    click.echo(f"已停用账号 {normalize_username(name)}，其登录已全部失效。")


@click.command("enable-user")
@with_appcontext
@click.argument("name")
def enable_user(name: str) -> None:
    """Enable a disabled account again."""
    _set_active(name, True)
    click.echo(f"已启用账号 {normalize_username(name)}。")


@click.command("reset-password")
@with_appcontext
@click.argument("name")
def reset_password(name: str) -> None:
    """Set a new password; the account's open sessions end."""
    username = normalize_username(name)
    _user(db.session, username)
    password = _read_password(username)
    with write_transaction() as session:
        user = _user(session, username)
        user.password_hash = hash_password(password)
        end_user_sessions(session, user.id)
        record_audit("user.reset_password", target=username, actor_name=CLI_ACTOR)
    click.echo(f"已重置账号 {username} 的密码，其登录已全部失效。")
