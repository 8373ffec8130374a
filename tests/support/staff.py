"""Staff helpers other test folders reuse: create an account, log in (test client or browser)."""

from __future__ import annotations

import re

from flask import Flask

from forms_app.accounts import roles
from tests.support.server import LiveServer

LOGIN_PATH = "/forms/staff/login"
PASSWORD = "correct-horse-9"
# One account per role, named after the role code (the ``staff_accounts`` fixture): each
# community role's a member of the default community, the company's 品质部 of none.
ROLE_USERS = {role: role for role in roles.ALL_ROLES}
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def create_staff(
    app_or_server, username: str, role: str, password: str = "correct-horse-9"
) -> None:
    """Create an account with ``flask accounts create`` (its alias ``create-user``; password through standard input), run in
    this process on the app's or the live server's database."""
    if isinstance(app_or_server, LiveServer):
        with app_or_server.app() as app:
            create_staff(app, username, role, password)
        return
    assert isinstance(app_or_server, Flask)
    result = app_or_server.test_cli_runner().invoke(
        args=["create-user", username, "--role", role], input=password + "\n"
    )
    assert result.exit_code == 0, result.output


def create_role_accounts(app: Flask, users: dict[str, str], password: str = PASSWORD) -> None:
    """One account per role (``{role: username}``) on the app's database, each made as
    ``accounts create`` makes it (the account, its audit entry by the command line), all in
    one write transaction: the command commits each on its own, ten commits a test."""
    from forms_app.accounts.audit import record_audit
    from forms_app.accounts.cli import CLI_ACTOR
    from forms_app.accounts.models import StaffUser
    from forms_app.accounts.passwords import hash_password
    from forms_app.accounts.roles import role_label
    from forms_app.core.database import write_transaction

    with app.app_context(), write_transaction() as session:
        for role, username in users.items():
            session.add(
                StaffUser(
                    username=username,
                    display_name="",
                    role=role,
                    password_hash=hash_password(password),
                )
            )
            record_audit(
                "user.create", target=username, detail=role_label(role), actor_name=CLI_ACTOR
            )


def login(
    client_or_page,
    username: str,
    password: str = "correct-horse-9",
    base_url: str = "",
    next_path: str | None = None,
):
    """Log in through the real form; returns the response (client) or the page (browser)."""
    query = f"?next={next_path}" if next_path else ""
    if hasattr(client_or_page, "goto"):
        page = client_or_page
        page.goto(base_url + LOGIN_PATH + query)
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]:has-text('登录')")
        page.wait_for_load_state()
        return page
    client = client_or_page
    where = {"base_url": base_url} if base_url else {}  # another community's host name
    html = client.get(LOGIN_PATH + query, **where).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, "no login form: is this client already logged in?"
    token = match.group(1)
    data = {"csrf_token": token, "username": username, "password": password}
    if next_path:
        data["next"] = next_path
    return client.post(LOGIN_PATH, data=data, **where)


def open_place(page, label: str) -> None:
    """Open a place of the back office the way a person would on this screen: the tab bar on
    a phone (or its 更多 sheet), the top navigation at the desk."""
    tab = page.locator(".tabbar").get_by_role("link", name=label, exact=True)
    if tab.count():
        tab.click()
    elif page.locator(".tabbar").is_visible():
        page.locator(".tabbar").get_by_role("link", name="更多").click()
        page.locator("#staff-menu").get_by_role("link", name=label, exact=True).click()
    else:
        page.locator(".topnav").get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state()


def placement(username: str, department: str, is_head: bool = True, community: str = ""):
    """The statement that places an account in a department of a community (default: the
    first, the tests' own), a 主管 by default."""
    from sqlalchemy import select, update

    from forms_app.accounts.models import StaffMembership, StaffUser
    from forms_app.core.community import DEFAULT_COMMUNITY_FILE, load_community

    key = community or load_community(DEFAULT_COMMUNITY_FILE).key
    account = select(StaffUser.id).where(StaffUser.username == username).scalar_subquery()
    return (
        update(StaffMembership)
        .where(StaffMembership.staff_id == account, StaffMembership.community == key)
        .values(department=department, is_head=is_head)
    )


def place_staff(session, username: str, department: str, is_head: bool = False, **values):
    """Place an account (``placement``) and set its mobile etc., in the caller's transaction."""
    from sqlalchemy import update

    from forms_app.accounts.models import StaffUser

    session.execute(placement(username, department, is_head))
    if values:
        session.execute(update(StaffUser).where(StaffUser.username == username).values(**values))
