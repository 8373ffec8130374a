"""Who is logged in, and the decorator every staff view uses.

``staff_required()`` lets in any logged-in staff member; ``staff_required("accounts.audit")``
only the roles the permissions table gives that permission. Without a session the browser goes to the login page with a same-site ``next``;
a logged-in user of the wrong role gets a Chinese 403 page.

The role that counts is the account's role in the request's community (``StaffUser.role``,
models.py): an account with none there is kept out of the whole back office with a page naming
the communities it does work in, and a read-only role (品质部) is refused every POST.
"""

from __future__ import annotations

import re
from functools import wraps

from flask import g, redirect, render_template, request, session, url_for

from ..web.drafts import LOGIN, draft_reply, is_draft_request
from ..web.errors import render_error
from .memberships import not_member_message, other_places
from .models import StaffUser
from .permissions import STAFF, allowed, read_only, roles_for
from .roles import ALL_ROLES, role_label
from .sessions import user_for_token

SESSION_KEY = "staff_token"
_MISSING = object()
# A same-site path: one "/" then not "/" or "\" (browsers treat "\" like "/"), no control chars.
_SAFE_PATH = re.compile(r"^/(?![/\\])[^\x00-\x20\\]*$")
READ_ONLY_MESSAGE = (
    "{role}只能查看，不能提交或修改：本次操作没有执行，也没有保存任何内容。"
    "如需更正，请联系本小区的经理或有关岗位。"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_staff() -> StaffUser | None:
    """The logged-in staff member of this request, or None."""
    user = g.get("_staff_user", _MISSING)
    if user is _MISSING:
        user = user_for_token(session.get(SESSION_KEY))
        g._staff_user = user
    return user


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no ``//host``, ``/\\host``, schemes)."""
    if not target or not _SAFE_PATH.match(target):
        return None
    return target


def staff_required(permission: str = STAFF):
    """Require a logged-in staff member whose role holds ``permission`` (see permissions.py).

    The view remembers its permission (``view.permission``) for the role-matrix test."""
    roles_for(permission)  # an unknown name fails at import, not on every request

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_staff()
            if user is None:
                if is_draft_request():
                    # A draft sent after logout is kept on the phone, not lost or misfiled.
                    return draft_reply(
                        LOGIN,
                        "登录已失效，请重新登录；记录仍保存在本机，登录后自动发送。",
                        status=401,
                    )
                # Only a page can be returned to; a form post starts again from the home page.
                back = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for("accounts.login", next=back))
            if user.role is None:
                return not_member_page(user)
            if request.method not in SAFE_METHODS and read_only(user.role):
                return render_error(403, READ_ONLY_MESSAGE.format(role=user.role_label))
            if not allowed(user.role, permission):
                return render_error(403, forbidden_message(permission, user))
            return view(*args, **kwargs)

        wrapped.permission = permission
        return wrapped

    return decorator


def forbidden_message(permission: str, user) -> str:
    """The Chinese 403 text: who may, and who you are."""
    who = "、".join(role_label(r) for r in ALL_ROLES if r in roles_for(permission))
    return f"此页面仅限{who}使用，您的角色是{user.role_label}。"


def not_member_page(user, status: int = 403):
    """The page for an account with no role in this community: who it is, where it works."""
    if is_draft_request():
        return draft_reply(LOGIN, not_member_message(user), status=status)
    return render_template(
        "accounts/not_member.html",
        message=not_member_message(user),
        places=other_places(user),
    ), status
