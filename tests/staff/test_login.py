"""Login security: throttling, fresh sessions, server-side logout, cookie flags, safe next=."""

import pytest
from sqlalchemy import select

from forms_app.accounts.access import safe_next
from forms_app.accounts.models import AuditLog, LoginAttempt
from forms_app.core.extensions import db
from tests.support.forms import csrf_token_from
from tests.support.staff import PASSWORD, create_staff, login

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module


def test_unauthenticated_staff_page_redirects_to_login_with_next(client):
    response = client.get("/forms/staff/renovations?state=pending")
    assert response.status_code == 302
    assert (
        response.headers["Location"]
        == "/forms/staff/login?next=/forms/staff/renovations?state%3Dpending"
    )


def test_wrong_password_is_refused_in_chinese_and_audited(app, client):
    create_staff(app, "sun", "客服", PASSWORD)
    response = login(client, "sun", "wrong-password-0")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "用户名或密码不正确" in html and 'value="sun"' in html
    assert login(client, "nobody", "wrong-password-0").status_code == 401
    response = login(client, "", "")
    assert "请输入用户名" in response.get_data(as_text=True)
    with app.app_context():
        entries = db.session.execute(select(AuditLog.action, AuditLog.target)).all()
    assert ("login.failure", "sun") in entries and ("login.failure", "nobody") in entries


def test_login_sets_a_new_httponly_samesite_cookie_and_logout_ends_it_server_side(app, client):
    create_staff(app, "zhou", "经理", PASSWORD)
    client.get("/forms/staff/login")
    before = client.get_cookie("forms_session")
    response = login(client, "zhou")
    assert response.status_code == 302 and response.headers["Location"] == "/forms/staff/"
    cookie_header = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header
    after = client.get_cookie("forms_session").value
    assert before is None or before.value != after

    # A copy of the cookie taken before logout...
    thief = app.test_client()
    thief.set_cookie("forms_session", after)
    assert thief.get("/forms/staff/").status_code == 200
    html = client.get("/forms/staff/").get_data(as_text=True)
    from tests.support.forms import csrf_token_from

    client.post("/forms/staff/logout", data={"csrf_token": csrf_token_from(html)})
    # ...stops working once the owner logs out.
    assert thief.get("/forms/staff/").status_code == 302
    assert client.get("/forms/staff/").status_code == 302


def test_planted_session_cookie_does_not_survive_login(app, client):
    """Session fixation: a cookie planted before login is not the one that gets logged in."""
    create_staff(app, "wu", "工程", PASSWORD)
    attacker = app.test_client()
    attacker.get("/forms/staff/login")
    planted = attacker.get_cookie("forms_session").value
    client.set_cookie("forms_session", planted)
    assert login(client, "wu").status_code == 302
    assert client.get_cookie("forms_session").value != planted
    assert client.get("/forms/staff/").status_code == 200
    assert attacker.get("/forms/staff/").status_code == 302
    second_device = app.test_client()
    login(second_device, "wu")
    assert client.get("/forms/staff/").status_code == 200  # two devices, two sessions


def test_throttle_per_account_counts_in_the_database(app, client):
    create_staff(app, "zheng", "客服", PASSWORD)
    for _ in range(5):
        assert login(client, "zheng", "wrong-password-0").status_code == 401
    response = login(client, "zheng", PASSWORD)
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)
    for _ in range(3):  # a script hammering the locked account
        assert login(client, "zheng", PASSWORD).status_code == 429
    with app.app_context():
        actions = db.session.execute(select(AuditLog.action)).scalars().all()
    assert actions.count("login.throttled") == 1 and actions.count("login.failure") == 5


def test_throttle_per_address(app):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    create_staff(app, "feng", "客服", PASSWORD)
    client = app.test_client()
    for name in ("a1", "a2", "a3"):
        login(client, name, "wrong-password-0")
    assert login(client, "feng", PASSWORD).status_code == 429


BAD_NEXT = [
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "https://evil.com",
    "javascript:alert(1)",
    "/\\/evil.com",
    "\\\\evil.com",
    "http:/evil.com",
    "/\t/evil.com",
    " //evil.com",
]


@pytest.mark.parametrize("target", BAD_NEXT)
def test_next_never_leaves_the_site(app, client, target):
    assert safe_next(target) is None
    create_staff(app, "chen", "客服", PASSWORD)
    response = login(client, "chen", next_path=target)
    assert response.status_code == 302 and response.headers["Location"] == "/forms/staff/"


def test_next_on_this_site_is_followed(app, client):
    create_staff(app, "chu", "客服", PASSWORD)
    response = login(client, "chu", next_path="/forms/staff/patrols/due")
    assert response.headers["Location"] == "/forms/staff/patrols/due"


def test_session_cookie_is_secure_over_https(tmp_path, monkeypatch, own_community_file):
    from flask_migrate import upgrade

    from forms_app import create_app

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HTTPS", "1")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://localhost")
    monkeypatch.setenv("COMMUNITY_FILE", str(own_community_file))
    app = create_app({"TESTING": True, "SITE_DIR": None})
    with app.app_context():
        upgrade()
    create_staff(app, "han", "经理", PASSWORD)
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    client.environ_base["HTTP_REFERER"] = "https://localhost/forms/staff/login"
    response = login(client, "han")
    assert response.status_code == 302
    assert (
        "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_throttle_counts_username_variants_as_one_account(app, client):
    create_staff(app, "qian", "客服", PASSWORD)
    for variant in ("QIAN", " qian", "qian ", "Qian\t", "\u3000qIaN"):
        assert login(client, variant, "wrong-password-0").status_code == 401
    assert login(client, "qian", PASSWORD).status_code == 429


def test_forwarded_for_is_not_trusted_without_a_proxy(app):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    create_staff(app, "kong", "客服", PASSWORD)
    client = app.test_client()
    for number, name in enumerate(("b1", "b2", "b3")):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.0.0.{number}"
        login(client, name, "wrong-password-0")
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "10.9.9.9"
    assert login(client, "kong", PASSWORD).status_code == 429


def test_a_huge_username_is_refused_and_fits_the_attempts_table(app, client):
    huge = "x" * 5000
    response = login(client, huge, "wrong-password-0")
    assert response.status_code == 401
    with app.app_context():
        names = db.session.execute(select(LoginAttempt.username)).scalars().all()
        limit = LoginAttempt.__table__.c.username.type.length
    assert names and all(len(name) <= limit for name in names)


def test_logging_in_again_ends_the_previous_session(app, client):
    """A shared office PC: the next person's login ends the first one's session on the server."""
    create_staff(app, "lu", "客服", PASSWORD)
    create_staff(app, "ma", "经理", PASSWORD)
    assert login(client, "lu").status_code == 302
    copied = app.test_client()
    copied.set_cookie("forms_session", client.get_cookie("forms_session").value)
    token = csrf_token_from(client.get("/forms/staff/").get_data(as_text=True))
    response = client.post(
        "/forms/staff/login", data={"csrf_token": token, "username": "ma", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "ma（经理）" in client.get("/forms/staff/").get_data(as_text=True)
    assert copied.get("/forms/staff/").status_code == 302
