"""Login, logout, the staff home page and the audit log."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ..core.clock import today, utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..web.paging import paginate
from ..web.typed_input import clean_line
from .access import SESSION_KEY, current_staff, not_member_page, safe_next, staff_required
from .audit import ACTION_LABELS, record_audit, request_address
from .blueprint import bp
from .cli import normalize_username
from .models import AuditLog, LoginAttempt, StaffUser, actor_label
from .passwords import verify_password
from .permissions import allowed
from .registry import audit_labels, home_panels, nav_links, nav_url, tab_links
from .sessions import end_session, start_session
from .throttle import WINDOW, begin_attempt, mark_succeeded

BAD_LOGIN = "用户名或密码不正确。"
# Longer names belong to no account; cut so the attempt fits its column (PostgreSQL refuses more).
MAX_USERNAME = LoginAttempt.__table__.c.username.type.length


@bp.app_context_processor
def _staff_context():
    return {
        "current_staff": current_staff,
        "staff_nav": nav_links,
        "nav_url": nav_url,
        "staff_tabs": tab_links,
        "staff_may": _may,
    }


@bp.app_template_filter("person_label")
def _person_label(user, open_jobs: int | None = None) -> str:
    """{{ worker | person_label }} → 王芳（客服）; {{ worker | person_label(2) }} adds 在办 2 单."""
    return actor_label(user, open_jobs)


def _may(permission: str) -> bool:
    """For templates: does the logged-in staff member hold ``permission``?"""
    user = current_staff()
    return user is not None and allowed(user.role, permission)


@bp.after_app_request
def _no_store(response):
    """Back-office pages (this package's and other domains' under /staff/) hold owners'
    phone numbers: no browser or proxy keeps a copy."""
    if request.blueprint and request.path.startswith(url_for("accounts.home")):
        response.cache_control.no_store = True
    return response


def _lockout_recorded(username: str, address: str) -> bool:
    """True when this lock-out is already in the audit log: a script hammering a locked
    account would otherwise add one entry per request, without end."""
    return (
        db.session.execute(
            select(AuditLog.id)
            .where(
                AuditLog.action == "login.throttled",
                AuditLog.target == username,
                AuditLog.address == address,
                AuditLog.at > utcnow() - WINDOW,
            )
            .limit(1)
        ).first()
        is not None
    )


# Set by logout for the next login page: whose drafts the device should delete.
CLEAR_DRAFTS_KEY = "clear_drafts"


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a successful login starts a new server-side session."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_staff():
            return redirect(next_url or url_for("accounts.home"))
        return render_template(
            "accounts/login.html",
            next_url=next_url,
            errors={},
            username="",
            clear_drafts=session.pop(CLEAR_DRAFTS_KEY, None),
        )

    username = normalize_username(clean_line(request.form.get("username", "")))[:MAX_USERNAME]
    password = request.form.get("password", "")
    errors = {}
    if not username:
        errors["username"] = "请输入用户名。"
    if not password:
        errors["password"] = "请输入密码。"
    if errors:
        return render_template(
            "accounts/login.html", next_url=next_url, errors=errors, username=username
        ), 400

    address = request_address()
    attempt_id = begin_attempt(username, address)
    if attempt_id is None:
        if not _lockout_recorded(username, address):
            record_audit("login.throttled", target=username)
        minutes = int(WINDOW.total_seconds() // 60)
        errors["form"] = f"登录失败次数过多，请 {minutes} 分钟后再试。"
        return render_template(
            "accounts/login.html", next_url=next_url, errors=errors, username=username
        ), 429

    user = db.session.execute(
        select(StaffUser).where(StaffUser.username == username)
    ).scalar_one_or_none()
    usable = user is not None and user.active
    if not verify_password(user.password_hash if usable else None, password):
        record_audit("login.failure", target=username)
        errors["form"] = BAD_LOGIN
        return render_template(
            "accounts/login.html", next_url=next_url, errors=errors, username=username
        ), 401
    if user.role is None:
        # The right password, but no role in this community: no session here, and the page
        # says where the account does work.
        record_audit("login.not_member", target=username, actor=user)
        return not_member_page(user)

    with write_transaction() as db_session:
        mark_succeeded(db_session, attempt_id)
        if session.get(SESSION_KEY):
            # Someone else's (or an old) login in this browser ends on the server as well.
            end_session(db_session, session[SESSION_KEY])
        token = start_session(db_session, user, address)
        record_audit("login.success", target=username, actor=user)
    # A fresh cookie: nothing from before the login (a planted session) survives.
    session.clear()
    session[SESSION_KEY] = token
    return redirect(next_url or url_for("accounts.home"))


@bp.post("/logout")
def logout():
    """End the session on the server, so a copied cookie stops working too."""
    token = session.get(SESSION_KEY)
    user = current_staff()
    if token:
        with write_transaction() as db_session:
            end_session(db_session, token)
            if user:
                record_audit("logout", target=user.username, actor=user)
    session.clear()
    if user:
        # The login page deletes this account's drafts on the device (static/staff_drafts.js)
        # in case the logout skipped the script's own clearing.
        session[CLEAR_DRAFTS_KEY] = user.username
    flash("您已退出登录。", "success")
    return redirect(url_for("accounts.login"))


@bp.get("/")
@staff_required()
def home():
    """The staff home page: today's work of this role first, then the other panels it may
    see (each domain registers its panels)."""
    today_work, others = home_panels(current_staff(), today())
    return render_template("accounts/home.html", today_work=today_work, others=others, day=today())


@bp.get("/drafts/session")
@staff_required()
def draft_session():
    """Who is logged in and a fresh CSRF token, for drafts sent later from the phone
    (static/staff_drafts.js); without a session the answer says "login" (access.py)."""
    return jsonify(outcome="ok", user=current_staff().username, csrf_token=generate_csrf())


@bp.get("/audit")
@staff_required("accounts.audit")
def audit_log():
    """Every audit entry, newest first, filterable by action."""
    action = request.args.get("action", "")
    labels = {**ACTION_LABELS, **audit_labels()}
    query = select(AuditLog).order_by(AuditLog.id.desc())
    if action in labels:
        query = query.where(AuditLog.action == action)
    page = paginate(query, request.args.get("page"))
    # Who did it, as people know them (姓名（角色）) from their account; the entry's own text
    # stays for accounts since removed and for attempts that named no account.
    ids = {entry.actor_id for entry in page.items if entry.actor_id}
    people = (
        {
            user.id: user
            for user in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))
        }
        if ids
        else {}
    )
    return render_template(
        "accounts/audit.html", page=page, action=action, action_labels=labels, people=people
    )
