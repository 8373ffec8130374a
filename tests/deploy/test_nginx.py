"""deploy/nginx.conf, run by Debian's nginx on loopback in front of gunicorn.

The staff half's gate is checked in tests/site/test_staff_handbook_gate.py (through nginx and
without it); here the rest of the production file: the owner site with its headers and
compression, /forms proxied with the app's own headers, the Chinese 413 page, the Chinese
404 page, HTTP sent to HTTPS, and the app's gate endpoint hidden from the outside.
"""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

import requests

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
}


def assert_security_headers(response) -> None:
    """The app's headers; a handbook page's policy is its own <meta> tag, the header adds the
    parts a meta tag cannot carry. No policy lets an inline script run without its hash."""
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name, response.headers.get(name))
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    header = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in header
    meta = re.search(
        r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', response.text
    )
    assert "default-src 'self'" in (meta.group(1) if meta else header), response.url
    for policy in (header, meta.group(1) if meta else ""):
        scripts = re.search(r"script-src ([^;]*)", policy)
        assert not scripts or "'unsafe-inline'" not in scripts.group(1).split(), response.url


def test_owner_site_is_served_with_security_headers_and_compression(nginx_stack):
    home = requests.get(nginx_stack.url + "/", timeout=30)
    assert home.status_code == 200
    assert "<title>山水花园 物业服务手册</title>" in home.text
    assert home.headers["Content-Type"] == "text/html; charset=utf-8"
    assert home.headers["Content-Encoding"] == "gzip"
    assert_security_headers(home)
    page = requests.get(nginx_stack.url + "/owner/repairs/", timeout=30)
    assert page.status_code == 200 and "报修" in page.text
    assert_security_headers(page)
    index = requests.get(nginx_stack.url + "/search/search_index.json", timeout=30)
    assert index.headers["Content-Encoding"] == "gzip"
    assert all(
        doc["location"].startswith(("owner/", "#")) or doc["location"] == ""
        for doc in index.json()["docs"]
    )


def test_assets_are_cached_by_their_names_and_keep_the_headers(nginx_stack, built_site):
    """Material's content-hashed files for a year, sent precompressed; our own unhashed
    stylesheet for minutes, so a new build reaches the readers."""
    [name] = [p.name for p in (built_site / "assets/stylesheets").glob("main.*.min.css")]
    theme = requests.get(
        f"{nginx_stack.url}/assets/stylesheets/{name}",
        timeout=30,
        headers={"Accept-Encoding": "gzip"},
    )
    assert theme.status_code == 200
    assert theme.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert theme.headers["Content-Encoding"] == "gzip"
    assert theme.headers["X-Content-Type-Options"] == "nosniff"
    css = requests.get(nginx_stack.url + "/assets/handbook.css", timeout=30)
    assert css.status_code == 200
    assert css.headers["Cache-Control"] == "max-age=300"
    assert css.headers["X-Content-Type-Options"] == "nosniff"


def test_a_missing_page_gets_the_chinese_404_page(nginx_stack):
    missing = requests.get(nginx_stack.url + "/owner/no-such-page/", timeout=30)
    assert missing.status_code == 404
    assert 'lang="zh' in missing.text and "nginx" not in missing.text


def test_forms_are_proxied_with_the_apps_own_headers(nginx_stack):
    forms = requests.get(nginx_stack.url + "/forms/", timeout=30)
    assert forms.status_code == 200
    assert "装修申请" in forms.text
    assert_security_headers(forms)
    # The app's headers pass through once; nginx adds no second copy to proxied pages.
    raw = forms.raw.headers
    for name in (*SECURITY_HEADERS, "Content-Security-Policy", "Strict-Transport-Security"):
        assert len(raw.getlist(name)) == 1, (name, raw.getlist(name))


def test_an_upload_over_the_limit_gets_the_chinese_413_page(nginx_stack):
    """nginx refuses a body over client_max_body_size from its Content-Length alone."""
    parts = urlsplit(nginx_stack.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("POST", "/forms/renovation/apply")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(60 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode("utf-8")
    finally:
        connection.close()
    assert response.status == 413
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "<h1>文件太大</h1>" in body and "每个附件不超过 10 MB" in body
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_plain_http_is_sent_to_https(nginx_stack):
    port = nginx_stack.nginx.redirect_port
    response = requests.get(
        f"http://127.0.0.1:{port}/owner/repairs/?a=1", timeout=30, allow_redirects=False
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://127.0.0.1/owner/repairs/?a=1"


def test_the_gate_endpoint_answers_nginx_only(nginx_stack):
    """Asked from outside, nginx's internal location has nothing to say."""
    response = requests.get(nginx_stack.url + "/forms/handbook-auth", timeout=30)
    assert response.status_code == 404
    # The app itself answers a stranger's question with 401 and where to log in.
    direct = requests.get(
        nginx_stack.app.url + "/forms/handbook-auth",
        timeout=30,
        headers={"X-Original-URI": "/staff/service-code/?a=1&b=2"},
    )
    assert direct.status_code == 401
    assert direct.headers["Cache-Control"] == "private, no-store"
    assert (
        direct.headers["X-Login-Url"]
        == "/forms/staff/login?next=/staff/service-code/?a%3D1%26b%3D2"
    )
    hostile = requests.get(
        nginx_stack.app.url + "/forms/handbook-auth",
        timeout=30,
        headers={"X-Original-URI": "//evil.example/"},
    )
    assert hostile.headers["X-Login-Url"] == "/forms/staff/login"


# What the tests provoke on purpose: missing files (404) and the oversized upload (413).
EXPECTED_ERRORS = (
    "No such file or directory",
    "is not found",
    "client intended to send too large body",
)


def test_nginx_logged_no_unexpected_errors(nginx_stack):
    """Runs last in this file: no failed auth_request, upstream or configuration error so far."""
    errors = [
        line
        for line in nginx_stack.nginx.error_log.splitlines()
        if any(level in line for level in ("[error]", "[crit]", "[alert]", "[emerg]"))
    ]
    assert all(any(known in line for known in EXPECTED_ERRORS) for line in errors), errors


def test_unknown_hosts_are_dropped_before_the_app(nginx_stack):
    """The default server closes the connection of any Host but the site's own (issue 26):
    a forged Host never reaches the app, on the HTTPS server or the plain HTTP one."""
    for port in (nginx_stack.nginx.port, nginx_stack.nginx.redirect_port):
        for path in ("/forms/service/repair", "/"):
            try:
                response = requests.get(
                    f"http://127.0.0.1:{port}{path}",
                    headers={"Host": "evil.example"},
                    timeout=30,
                    allow_redirects=False,
                )
            except requests.ConnectionError:
                continue
            raise AssertionError(f"{port}{path} answered {response.status_code}")
    assert requests.get(nginx_stack.url + "/forms/", timeout=30).status_code == 200


def test_a_flood_of_posts_is_stopped_by_nginx_first(
    nginx_stack, built_site, built_staff_site, tmp_path
):
    """limit_req (issue 26): from one address a burst of POSTs passes, the rest get nginx's
    Chinese 429 page without reaching the app; GETs are not limited. Its own nginx, so the
    other tests' nginx keeps its budget."""
    from tests.support.nginx import start_nginx

    nginx = start_nginx(
        tmp_path / "nginx",
        app_port=nginx_stack.app.port,
        site=built_site,
        staff_site=built_staff_site,
    )
    try:
        with requests.Session() as client:
            codes = [
                client.post(nginx.url + "/forms/service/repair", data={"x": "1"}, timeout=30)
                for _ in range(80)
            ]
            assert all(client.get(nginx.url + "/forms/", timeout=30).ok for _ in range(80))
    finally:
        nginx.stop()
    refused = [r for r in codes if r.status_code == 429]
    assert 10 <= len(refused) <= 80 - 60
    assert "提交得太频繁，本次提交未保存" in refused[0].content.decode("utf-8")
    assert all(r.status_code == 400 for r in codes if r.status_code != 429)  # the app's CSRF page
