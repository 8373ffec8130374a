"""Scripts run only from this site's files or with the response's nonce, on every page; HSTS
with HTTPS=1. The template scan holds every template a package adds later to the same rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from flask import render_template_string

from forms_app import create_app
from tests.support.server import PROJECT_ROOT

TEMPLATES = Path(PROJECT_ROOT, "forms_app", "templates")
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
NONCE_ATTRIBUTE = 'nonce="{{ csp_nonce() }}"'
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def inline_scripts_without_nonce(template: str) -> list[str]:
    """Opening tags of inline scripts that would not run (data blocks are not scripts)."""
    return [
        tag.group(0)
        for tag in SCRIPT_TAG.finditer(template)
        if "src=" not in tag.group(1)
        and "application/json" not in tag.group(1)
        and NONCE_ATTRIBUTE not in tag.group(1)
    ]


def test_the_scan_finds_what_it_looks_for():
    assert inline_scripts_without_nonce("<script>alert(1)</script>") == ["<script>"]
    assert inline_scripts_without_nonce(f"<script {NONCE_ATTRIBUTE}>x()</script>") == []
    assert inline_scripts_without_nonce('<script src="/a.js"></script>') == []
    assert EVENT_HANDLER.search('<button type="button" onclick="window.print()">')


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_has_inline_code_that_would_not_run(path):
    template = path.read_text(encoding="utf-8")
    assert inline_scripts_without_nonce(template) == [], (
        f"{path.name}: move the script into forms_app/static/ or add {NONCE_ATTRIBUTE}"
    )
    assert not EVENT_HANDLER.search(template), f"{path.name}: inline on…= handler never runs"
    assert "javascript:" not in template.lower()


def script_sources(policy: str) -> list[str]:
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    return directives.get("script-src", directives.get("default-src", "")).split()


def get_rules(app):
    """Every GET page of the app (owner and staff) with a plain value for each argument."""
    for rule in app.url_map.iter_rules():
        if (
            "GET" in rule.methods
            and rule.endpoint != "static"
            and not rule.endpoint.startswith("handbook.")
        ):
            yield rule.build({name: "1" for name in rule.arguments}, append_unknown=False)[1]


def test_every_page_allows_no_inline_script_without_the_nonce(app, as_role):
    manager, owner = as_role("manager"), app.test_client()
    pages = 0
    for url in get_rules(app):
        for client in (owner, manager):
            response = client.get(url)
            if response.mimetype != "text/html":
                continue
            pages += 1
            sources = script_sources(response.headers["Content-Security-Policy"])
            assert sources[0] == "'self'", (url, sources)
            assert all(s == "'self'" or s.startswith("'nonce-") for s in sources), (url, sources)
            assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
    assert pages > 30


def test_the_nonce_is_new_for_each_response(app):
    app.add_url_rule(
        "/forms/csp-probe",
        "csp_probe",
        lambda: render_template_string(
            f"<script {NONCE_ATTRIBUTE}>document.title = 'ran'</script>"
        ),
    )
    client = app.test_client()
    nonces = set()
    for _ in range(3):
        response = client.get("/forms/csp-probe")
        nonce = re.search(r'nonce="([^"]+)"', response.get_data(as_text=True)).group(1)
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
        nonces.add(nonce)
    assert len(nonces) == 3


@pytest.mark.browser
def test_chromium_runs_the_nonce_script_and_blocks_an_injected_one(app, phone):
    app.add_url_rule(
        "/forms/csp-probe",
        "csp_probe",
        lambda: render_template_string(
            f"<!doctype html><title>-</title><script {NONCE_ATTRIBUTE}>document.title += 'ran'"
            "</script><script>document.title += 'injected'</script>"
            "<img src=x onerror=\"document.title += 'handler'\">"
        ),
    )
    response = app.test_client().get("/forms/csp-probe")
    phone.route(
        "http://127.0.0.1:9/forms/csp-probe",
        lambda route: route.fulfill(
            status=200, body=response.get_data(), headers=dict(response.headers)
        ),
    )
    phone.goto("http://127.0.0.1:9/forms/csp-probe")
    phone.wait_for_timeout(200)
    assert phone.title() == "-ran"


@pytest.mark.browser
def test_handbook_and_forms_run_their_scripts_without_violations(live_server, phone):
    """The handbook's own inline scripts are allowed by their hashes, nothing else is needed."""
    violations = []
    phone.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    phone.goto(live_server.url + "/owner/renovation/")
    assert phone.evaluate("typeof __md_scope") == "object"  # the theme's inline script ran
    policy = phone.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "default-src 'self'" in policy and "'sha256-" in policy
    assert "'unsafe-inline'" not in script_sources(policy)
    phone.locator(".md-search__input").first.wait_for(state="attached")
    phone.goto(live_server.url + "/forms/move-in/")
    phone.locator("#slot-hint").wait_for()
    assert violations == []


def test_handbook_files_get_no_inline_script_allowance_from_the_header(live_server):
    response = requests.get(live_server.url + "/owner/", timeout=10)
    assert response.status_code == 200
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert 'http-equiv="Content-Security-Policy"' in response.text


def test_hsts_only_with_https(tmp_path, monkeypatch, own_community_file):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    # Production refuses the example community; a company's own file is what it runs on.
    monkeypatch.setenv("COMMUNITY_FILE", str(own_community_file))
    plain = create_app({"TESTING": True, "SITE_DIR": None}).test_client()
    assert "Strict-Transport-Security" not in plain.get("/forms/").headers
    monkeypatch.setenv("HTTPS", "1")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://localhost")
    secure = create_app({"TESTING": True, "SITE_DIR": None}).test_client()
    for url in ("/forms/", "/forms/healthz", "/forms/no-such-page"):
        header = secure.get(url, base_url="https://localhost").headers
        assert header["Strict-Transport-Security"] == "max-age=31536000", url


def test_nginx_sends_hsts_on_everything_it_serves_over_https():
    config = Path(PROJECT_ROOT, "deploy", "nginx.conf").read_text(encoding="utf-8")
    tls_server = config[
        config.index("listen 443 ssl http2") : config.index(
            "server {", config.index("listen 443 ssl http2")
        )
    ]
    assert re.search(
        r'^    add_header Strict-Transport-Security "max-age=\d{8,}" always;$', tls_server, re.M
    )
    # nginx drops the server's add_header lines in a location that has add_header of its own.
    for location in re.findall(r"location [^{]*\{[^}]*\}", tls_server):
        if "add_header" in location:
            assert "Strict-Transport-Security" in location, location
