"""The staff handbook is for logged-in staff only, however it is asked for.

Every check runs against both ways the handbook is served: gunicorn alone (``make run``: the
app checks the staff session itself) and nginx with ``deploy/nginx.conf`` in front of gunicorn
(production: nginx asks the app through ``auth_request``). A stranger, a forged or stale
cookie, a logged-out or disabled account, tricks in the path: the login page or a 404, never a
word of the staff handbook, never a 500.
"""

from __future__ import annotations

import hashlib
import http.client
import sqlite3
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask

from tests.conftest import HANDBOOK_READER
from tests.support.forms import csrf_token_from
from tests.support.search import open_search, ranked_sections
from tests.support.server import LiveServer
from tests.support.staff import LOGIN_PATH, create_staff

PASSWORD = "correct-horse-9"
# Words that only the staff handbook has (the login page and the owner site have none of them).
STAFF_TEXT = ("岗位职责", "业况表", "保洁服务品质检查标准", "装修服务控制要点", "客服交接班")
PAGE = "/staff/customer-service/"


@dataclass
class Front:
    """One way the site is served: its base URL and the gunicorn behind it."""

    name: str
    url: str
    app: LiveServer


@pytest.fixture(params=["app", "nginx"])
def front(request) -> Front:
    if request.param == "app":
        server = request.getfixturevalue("live_server")
        return Front("app", server.url, server)
    stack = request.getfixturevalue("nginx_stack")
    return Front("nginx", stack.url, stack.app)


def raw_get(url: str, path: str, cookie: str | None = None) -> tuple[int, dict, str]:
    """GET exactly this path (no client-side clean-up of "..", "%2F" or "//")."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        if cookie:
            connection.putheader("Cookie", cookie)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode("utf-8", errors="replace")
        return response.status, dict(response.getheaders()), body
    finally:
        connection.close()


def assert_no_staff_text(body: str, where: str) -> None:
    for text in STAFF_TEXT:
        assert text not in body, f"staff text {text!r} in {where}"


def is_login_redirect(status: int, headers: dict) -> bool:
    location = headers.get("Location", "")
    return status in (301, 302, 303, 307, 308) and urlsplit(location).path == LOGIN_PATH


def staff_session(front: Front, username: str = HANDBOOK_READER) -> requests.Session:
    """A browser-like session logged in through the real login form."""
    session = requests.Session()
    form = session.get(front.url + LOGIN_PATH, timeout=30)
    response = session.post(
        front.url + LOGIN_PATH,
        timeout=30,
        data={"csrf_token": csrf_token_from(form.text), "username": username, "password": PASSWORD},
    )
    assert urlsplit(response.url).path == "/forms/staff/", response.url
    return session


def session_cookie(session: requests.Session) -> str:
    return f"forms_session={session.cookies['forms_session']}"


def signed_session(secret_key: str, data: dict) -> str:
    """A session cookie for ``data`` signed the way Flask signs it, with ``secret_key``."""
    app = Flask(__name__)
    app.secret_key = secret_key
    return "forms_session=" + app.session_interface.get_signing_serializer(app).dumps(data)


def server_secret(server: LiveServer) -> str:
    return (server.instance_path / "secret_key").read_text().strip()


def staff_token(server: LiveServer, session: requests.Session) -> str:
    """The server-side session token inside a logged-in session's cookie."""
    app = Flask(__name__)
    app.secret_key = server_secret(server)
    return app.session_interface.get_signing_serializer(app).loads(
        session.cookies["forms_session"]
    )["staff_token"]


# Ways into the staff half: plain, its search index and sitemaps, and path tricks.
GATED_PATHS = [
    "/staff/",
    "/staff",
    PAGE,
    PAGE + "index.html",
    "/staff/search/search_index.json",
    "/staff/sitemap.xml",
    "/staff/sitemap.xml.gz",
    "/staff/404.html",
    "/staff/no-such-page/",
    "/staff/assets/javascripts/search-segment.js",
    "/staff/../staff/customer-service/",
    "/staff/./customer-service/",
    "/staff/%2e%2e/staff/customer-service/",
    "/staff%2Fcustomer-service/",
    "/staff/customer-service%2Findex.html",
    "//staff/customer-service/",
    "/%73taff/customer-service/",
    "/staff/customer-service/?q=1",
]
# Paths that leave the staff half or name nothing: a 404 or an owner page, never staff text.
OTHER_PATHS = [
    "/owner/../staff/customer-service/",
    "/owner/..%2Fstaff/customer-service/",
    "/owner/%2e%2e/staff/customer-service/",
    "/STAFF/customer-service/",
    "/staff/..%2F..%2F..%2Fetc/passwd",
    "/staff/%00",
    "/site-staff/customer-service/",
    "/staff-customer-service/",
    "/search/search_index.json",
    "/sitemap.xml",
]


@pytest.mark.parametrize("path", GATED_PATHS + OTHER_PATHS)
def test_a_stranger_never_sees_staff_text(front, path):
    status, headers, body = raw_get(front.url, path)
    assert status < 500, (front.name, path, status)
    assert_no_staff_text(body, f"{front.name} {path}")
    if path in GATED_PATHS:
        assert is_login_redirect(status, headers) or status in (301, 308, 404), (status, headers)
    # Following every redirect the way a browser would ends on the login page or a 404.
    final = requests.get(front.url + path, timeout=30)
    assert final.status_code < 500
    assert_no_staff_text(final.text, f"{front.name} {path} (followed)")
    if path in GATED_PATHS and final.status_code == 200:
        assert urlsplit(final.url).path == LOGIN_PATH, final.url
        assert "员工登录" in final.text


def test_the_login_page_comes_back_to_the_page_asked_for(front):
    status, headers, _ = raw_get(front.url, PAGE + "?from=home")
    assert is_login_redirect(status, headers)
    assert parse_qs(urlsplit(headers["Location"]).query)["next"] == [PAGE + "?from=home"]
    session = requests.Session()
    form = session.get(
        front.url + headers["Location"]
        if headers["Location"].startswith("/")
        else headers["Location"],
        timeout=30,
    )
    response = session.post(
        front.url + LOGIN_PATH,
        timeout=30,
        data={
            "csrf_token": csrf_token_from(form.text),
            "username": HANDBOOK_READER,
            "password": PASSWORD,
            "next": PAGE + "?from=home",
        },
    )
    assert urlsplit(response.url).path == PAGE
    assert "客服主管岗位职责" in response.text


def test_logged_in_staff_read_the_handbook_and_its_search_index(front):
    session = staff_session(front)
    page = session.get(front.url + PAGE, timeout=30)
    assert page.status_code == 200 and "物业管理员工作内容" in page.text
    assert page.headers["Cache-Control"] == "private, no-cache"
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    index = session.get(front.url + "/staff/search/search_index.json", timeout=30).json()
    assert any(doc["location"].startswith("customer-service/") for doc in index["docs"])
    assert not any(doc["location"].startswith("owner/") for doc in index["docs"])
    # A folder without its slash is sent to it, like a static server does.
    short = session.get(front.url + "/staff/customer-service", timeout=30, allow_redirects=False)
    assert short.status_code == 301 and short.headers["Location"].endswith(PAGE)


def test_the_staff_home_links_to_the_handbook(front):
    session = staff_session(front)
    home = session.get(front.url + "/forms/staff/", timeout=30)
    assert 'id="staff-handbook-link" href="/staff/"' in home.text
    assert "员工手册" in session.get(front.url + "/staff/", timeout=30).text


def test_forged_cookies_get_the_login_page(front):
    garbage = "forms_session=not-a-session"
    wrong_key = signed_session("not-the-secret-key", {"staff_token": "x" * 43})
    # Signed with the server's own key, but naming no session it ever started.
    made_up = signed_session(server_secret(front.app), {"staff_token": "x" * 43})
    for cookie in (garbage, wrong_key, made_up):
        status, headers, body = raw_get(front.url, PAGE, cookie)
        assert is_login_redirect(status, headers), (cookie, status)
        assert_no_staff_text(body, cookie)


def test_a_logged_out_cookie_stops_opening_the_handbook(front):
    session = staff_session(front)
    cookie = session_cookie(session)
    assert raw_get(front.url, PAGE, cookie)[0] == 200
    home = session.get(front.url + "/forms/staff/", timeout=30)
    session.post(
        front.url + "/forms/staff/logout",
        timeout=30,
        data={"csrf_token": csrf_token_from(home.text)},
    )
    status, headers, body = raw_get(front.url, PAGE, cookie)
    assert is_login_redirect(status, headers)
    assert_no_staff_text(body, "copied cookie after logout")


def test_an_expired_session_gets_the_login_page(front):
    session = staff_session(front)
    cookie = session_cookie(session)
    digest = hashlib.sha256(staff_token(front.app, session).encode()).hexdigest()
    with sqlite3.connect(front.app.instance_path / "forms.sqlite3") as database:
        database.execute(
            "UPDATE staff_session SET expires_at = '2000-01-01 00:00:00.000000' "
            "WHERE token_hash = ?",
            (digest,),
        )
    status, headers, body = raw_get(front.url, PAGE, cookie)
    assert is_login_redirect(status, headers)
    assert_no_staff_text(body, "expired session")


def test_disabling_an_account_closes_the_handbook_at_once(front):
    username = f"leaving-{front.name}"
    create_staff(front.app, username, "工程", PASSWORD)
    session = staff_session(front, username)
    cookie = session_cookie(session)
    assert raw_get(front.url, PAGE, cookie)[0] == 200
    front.app.flask("disable-user", username)
    status, headers, body = raw_get(front.url, PAGE, cookie)
    assert is_login_redirect(status, headers)
    assert_no_staff_text(body, "disabled account")


@pytest.mark.browser
def test_from_the_staff_home_to_the_handbook_and_its_search(front, phone):
    """A stranger's phone gets the login form; after logging in, the page asked for, whose
    search finds staff sections."""
    phone.goto(front.url + "/staff/cleaning-standards/")
    assert phone.locator("h1").inner_text() == "员工登录"
    assert "烟头" not in phone.content()
    phone.fill("#username", HANDBOOK_READER)
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]:has-text('登录')")
    phone.wait_for_url("**/staff/cleaning-standards/")
    assert "电梯轿厢" in phone.content()
    open_search(phone, front.url + "/staff/")
    assert ranked_sections(phone, "客服主管职责")[0] == "staff/customer-service/#客服主管岗位职责"
    phone.goto(front.url + "/forms/staff/")
    phone.click("#staff-handbook-link")
    phone.wait_for_url("**/staff/")
    assert "员工手册" in phone.title()
