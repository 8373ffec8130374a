"""Staff accounts on the web, for the 经理 of a community: create with a display name, change
name and role, disable and enable, reset passwords, add an account of another community to this
one and take an account out of it. The command line stays for the first account.

A 经理 sees and manages the accounts of their own community (its members) and grants roles in
it only: the role field is the account's role here; an account that also works elsewhere keeps
its roles there, and is not disabled from here (that would lock it out there too: take it out
of this community instead).

Every change is one write transaction with its audit entry. A second POST of the same "new
account" form (its nonce) finds the account the first one made. The 经理 cannot lock the
back office out: the last active 经理 of the community can neither be disabled, given another
role nor taken out.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.database import write_transaction
from ..core.extensions import db
from ..core.tokens import is_nonce, new_nonce
from ..web.typed_input import UNREADABLE_MESSAGE, clean_line, is_unreadable
from .access import current_staff, staff_required
from .audit import record_audit
from .blueprint import bp
from .cli import USERNAME, normalize_username
from .memberships import active_managers, grant, other_places, remove_here
from .models import StaffUser
from .organisation import (
    PlacementRefused,
    check_leaving,
    check_placement,
    department_name,
    organisation,
    placement_values,
    supervisor_of,
)
from .passwords import hash_password, password_problem
from .roles import COMPANY_ROLES, MANAGER, ROLE_LABELS, role_label
from .sessions import end_user_sessions

MAX_DISPLAY_NAME = StaffUser.__table__.c.display_name.type.length
# What a name may not hold: it is printed on permits and records.
_NAME_REFUSED = re.compile(r"[<>\"'&/\\]")


def _display_name(raw, errors: dict) -> str:
    name = clean_line(raw or "")
    if not name:
        errors["display_name"] = "请填写姓名（员工和业主看到的名字）。"
    elif is_unreadable(name):
        errors["display_name"] = UNREADABLE_MESSAGE
    elif len(name) > MAX_DISPLAY_NAME:
        errors["display_name"] = f"姓名不超过 {MAX_DISPLAY_NAME} 个字。"
    elif _NAME_REFUSED.search(name):
        errors["display_name"] = "姓名不能含有 < > \" ' & / \\ 等符号。"
    return name


def _role(raw, errors: dict) -> str:
    """A role of the community (a 经理 grants no company role)."""
    role = raw or ""
    if role not in ROLE_LABELS:
        errors["role"] = "请选择列表中的角色。"
    return role


USERNAME_TAKEN = (
    "用户名 {username} 已被使用，请换一个。如果是其他小区已有的员工，"
    "请在「员工账号」页用「加入本小区」把该账号加进来。"
)


def _password(form, username: str, errors: dict) -> str:
    password = form.get("password") or ""
    problem = password_problem(username, password) if password else "请设置密码。"
    if problem:
        errors["password"] = problem
    elif password != (form.get("password_confirm") or ""):
        errors["password_confirm"] = "两次输入的密码不一致。"
    return password


def account_or_404(user_id: int, session=None) -> StaffUser:
    """An account of this community (another community's, or the company's, is not here)."""
    user = (session or db.session).get(StaffUser, user_id)
    if user is None or user.membership() is None:
        abort(404)
    return user


def _keeps_a_manager(session, user: StaffUser, new_role: str | None, active: bool) -> bool:
    """False when this change would leave the community no active 经理 (nobody could manage
    its accounts)."""
    was_manager = user.role == MANAGER and user.active
    stays_manager = new_role == MANAGER and active
    return not was_manager or stays_manager or active_managers(session) > 1


def _role_refused(session, user: StaffUser, role: str) -> str | None:
    """A new role must fit the account's department (and its 主管 post)."""
    if not user.department:
        return None
    try:
        check_placement(session, user, user.department, user.is_head, role=role)
    except PlacementRefused as refused:
        return f"{refused.message}请先在下面的「组织架构」里调整部门，再改角色。"
    return None


def _leaving_refused(session, user: StaffUser) -> str | None:
    """Disabling the last 主管 of a department with members leaves nobody to answer to."""
    try:
        check_leaving(session, user, None, False)
    except PlacementRefused as refused:
        return refused.message
    return None


def _accounts_page(join: dict | None = None, errors: dict | None = None, status: int = 200):
    users = (
        db.session.execute(
            select(StaffUser)
            .where(StaffUser.is_member())
            .order_by(StaffUser.active.desc(), StaffUser.role, StaffUser.username)
        )
        .scalars()
        .all()
    )
    return render_template(
        "accounts/accounts.html",
        users=users,
        department_name=department_name,
        roles=ROLE_LABELS,
        join=join or {"username": "", "role": ""},
        errors=errors or {},
    ), status


@bp.get("/accounts/")
@staff_required("accounts.manage")
def accounts():
    """The community's accounts: name, username, role here, state; and the form that adds an
    account of another community."""
    return _accounts_page()


@bp.post("/accounts/join")
@staff_required("accounts.manage")
def join_account():
    """Give an existing account (of another community) a role in this one."""
    join = {
        "username": clean_line(request.form.get("username") or "")[:64],
        "role": request.form.get("role") or "",
    }
    errors: dict[str, str] = {}
    username = normalize_username(join["username"])
    role = _role(join["role"], errors)
    if not username:
        errors["username"] = "请填写要加入本小区的账号的用户名。"
    if errors:
        return _accounts_page(join, errors, 400)
    with write_transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            errors["username"] = f"没有用户名为 {username} 的账号：请核对，或用「新建账号」。"
        elif user.company_role in COMPANY_ROLES:
            errors["username"] = (
                f"{user.name}是公司的{user.role_label}账号，在各小区都可查看，不需要加入。"
            )
        elif user.membership() is not None:
            errors["username"] = (
                f"{user.name}已是本小区的员工（{user.role_label}），请在其账号页修改角色。"
            )
        elif not user.active:
            errors["username"] = f"{user.name}的账号已停用，不能加入本小区。"
        else:
            detail = grant(user, role)
            record_audit("user.join", target=user.username, detail=detail)
            user_id = user.id
    if errors:
        return _accounts_page(join, errors, 400)
    flash(f"已把账号 {username} 加入本小区（{role_label(role)}）。", "success")
    return redirect(url_for(".account", user_id=user_id), code=303)


def _new_page(values: dict, errors: dict | None = None, status: int = 200):
    return render_template(
        "accounts/account_new.html", values=values, errors=errors or {}, roles=ROLE_LABELS
    ), status


@bp.get("/accounts/new")
@staff_required("accounts.manage")
def new_account():
    return _new_page({"nonce": new_nonce(), "role": ""})


@bp.post("/accounts/new")
@staff_required("accounts.manage")
def create_account():
    """Create an account; the 经理 tells the new colleague the first password."""
    form = request.form
    nonce = form.get("nonce", "")
    values = {
        "username": clean_line(form.get("username") or "")[:64],
        "display_name": clean_line(form.get("display_name") or "")[: MAX_DISPLAY_NAME * 2],
        "role": form.get("role") or "",
        "nonce": nonce if is_nonce(nonce) else new_nonce(),
    }
    errors: dict[str, str] = {}
    if not is_nonce(nonce):
        errors["form"] = "表单已失效，请刷新页面后重新填写。"
    elif made := db.session.scalar(select(StaffUser).where(StaffUser.creation_nonce == nonce)):
        flash(f"账号 {made.username} 已创建。", "success")
        return redirect(url_for(".account", user_id=made.id), code=303)
    username = normalize_username(values["username"])
    if not USERNAME.match(username) or is_unreadable(username):
        errors["username"] = "用户名须为 2–30 个字符，不含空格和斜杠。"
    display_name = _display_name(values["display_name"], errors)
    role = _role(values["role"], errors)
    password = _password(form, username, errors)
    if not errors and db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        errors["username"] = USERNAME_TAKEN.format(username=username)
    if errors:
        return _new_page(values, errors, 400)
    try:
        with write_transaction() as session:
            user = StaffUser(
                username=username,
                display_name=display_name,
                role=role,
                password_hash=hash_password(password),
                creation_nonce=nonce,
            )
            session.add(user)
            session.flush()
            record_audit(
                "user.create", target=username, detail=f"{display_name}，{role_label(role)}"
            )
    except IntegrityError:
        made = db.session.scalar(select(StaffUser).where(StaffUser.creation_nonce == nonce))
        if made is None:  # the same username, taken a moment ago by another form
            errors["username"] = USERNAME_TAKEN.format(username=username)
            return _new_page(values, errors, 400)
        user = made
    flash(
        f"已创建账号 {user.username}（{user.name}，{user.role_label}）。请把用户名和密码当面告诉本人。",
        "success",
    )
    return redirect(url_for(".account", user_id=user.id), code=303)


def account_page(
    user: StaffUser,
    errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
    placement: dict | None = None,
):
    values = values or {"display_name": user.display_name, "role": user.role}
    return render_template(
        "accounts/account.html",
        user=user,
        values=values,
        errors=errors or {},
        roles=ROLE_LABELS,
        is_self=user.id == current_staff().id,
        elsewhere=other_places(user),
        organisation=organisation(),
        placement=placement or placement_values(user),
        supervisors=supervisor_of(user),
    ), status


@bp.get("/accounts/<int:user_id>")
@staff_required("accounts.manage")
def account(user_id: int):
    return account_page(account_or_404(user_id))


# Its own URL: with GET and POST as two rules of one URL, an id out of range would answer
# 405 instead of 404 (Werkzeug checks the method before the converter).
@bp.post("/accounts/<int:user_id>/profile")
@staff_required("accounts.manage")
def update_account(user_id: int):
    """Change the display name and the role in this community."""
    user = account_or_404(user_id)
    values = {
        "display_name": clean_line(request.form.get("display_name") or "")[: MAX_DISPLAY_NAME * 2],
        "role": request.form.get("role") or "",
    }
    errors: dict[str, str] = {}
    display_name = _display_name(values["display_name"], errors)
    role = _role(values["role"], errors)
    if errors:
        return account_page(user, errors, values, 400)
    with write_transaction() as session:
        user = account_or_404(user_id, session)
        if not _keeps_a_manager(session, user, role, user.active):
            errors["role"] = "本小区至少要保留一个启用的经理账号，不能改为其他角色。"
        elif role != user.role and (refused := _role_refused(session, user, role)):
            errors["role"] = refused
        else:
            changes = []
            if display_name != user.display_name:
                changes.append(f"姓名 {user.display_name or '（未填）'} → {display_name}")
            if role != user.role:
                changes.append(f"角色 {grant(user, role)}")
            user.display_name = display_name
            if changes:
                record_audit("user.update", target=user.username, detail="；".join(changes))
    if errors:
        return account_page(account_or_404(user_id), errors, values, 400)
    flash("账号已保存。", "success")
    return redirect(url_for(".account", user_id=user_id), code=303)


@bp.post("/accounts/<int:user_id>/active")
@staff_required("accounts.manage")
def set_active(user_id: int):
    """Disable (its sessions end at once) or enable an account; the form says which."""
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        return account_page(
            account_or_404(user_id), {"active": "请从页面上的按钮操作。"}, status=400
        )
    active = wanted == "1"
    error = None
    with write_transaction() as session:
        user = account_or_404(user_id, session)
        elsewhere = other_places(user)
        if not active and user.id == current_staff().id:
            error = "不能停用自己正在使用的账号。"
        elif not active and elsewhere:
            error = (
                f"{user.name}还在" + "、".join(p.name for p in elsewhere) + "任职，"
                "停用后那里也不能登录：如不再在本小区工作，请用「移出本小区」。"
            )
        elif not _keeps_a_manager(session, user, user.role, active):
            error = "本小区至少要保留一个启用的经理账号。"
        elif not active and (refused := _leaving_refused(session, user)):
            error = refused
        elif user.active != active:
            user.active = active
            if not active:
                end_user_sessions(session, user.id)
            record_audit("user.enable" if active else "user.disable", target=user.username)
    if error:
        return account_page(account_or_404(user_id), {"active": error}, status=400)
    flash("账号已启用。" if active else "账号已停用，其登录已全部失效。", "success")
    return redirect(url_for(".account", user_id=user_id), code=303)


@bp.post("/accounts/<int:user_id>/password")
@staff_required("accounts.manage")
def reset_password(user_id: int):
    """Set a new password; the account's open sessions end."""
    user = account_or_404(user_id)
    errors: dict[str, str] = {}
    password = _password(request.form, user.username, errors)
    if errors:
        return account_page(user, errors, status=400)
    with write_transaction() as session:
        user = account_or_404(user_id, session)
        user.password_hash = hash_password(password)
        end_user_sessions(session, user.id)
        record_audit("user.reset_password", target=user.username)
    flash("密码已重置，该账号原来的登录已全部失效。请把新密码当面告诉本人。", "success")
    return redirect(url_for(".account", user_id=user_id), code=303)


@bp.post("/accounts/<int:user_id>/leave")
@staff_required("accounts.manage")
def leave_community(user_id: int):
    """Take an account out of this community (its role, department, areas and coming duty
    here); the account and its roles in other communities stay."""
    if request.form.get("leave_confirm") != "1":
        return account_page(
            account_or_404(user_id), {"leave": "请先勾选“确认移出本小区”，再点按钮。"}, status=400
        )
    error = None
    with write_transaction() as session:
        user = account_or_404(user_id, session)
        if user.id == current_staff().id:
            error = "不能把自己移出本小区。"
        elif not _keeps_a_manager(session, user, None, user.active):
            error = "本小区至少要保留一个启用的经理账号，不能移出最后一位经理。"
        elif user.active and (refused := _leaving_refused(session, user)):
            error = refused
        else:
            was = user.role_label
            remove_here(session, user)
            record_audit("user.leave", target=user.username, detail=f"原角色 {was}")
            name = user.name
    if error:
        return account_page(account_or_404(user_id), {"leave": error}, status=400)
    flash(f"已把{name}移出本小区；其账号和在其他小区的角色不变。", "success")
    return redirect(url_for(".accounts"), code=303)
