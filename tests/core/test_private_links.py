"""Private links stay out of every access log by one rule (issue 26): ``tokens.PRIVATE_LINK``,
used as it is by deploy/nginx.conf's map and by gunicorn's access log in ``make run``. A new
route that takes a token is covered without anyone remembering to list it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from forms_app.core.access_log import is_private
from forms_app.core.tokens import PRIVATE_LINK, new_token
from tests.support.server import PROJECT_ROOT

NGINX_CONF = Path(PROJECT_ROOT, "deploy", "nginx.conf")
# The longest secret in a URL: a permit's signed verification link.
SIGNED = "IlpYMjAyNjEyMDctMDAxIg.axaQbg.X3Sjs9FBW_kHrPBFOKPI7t_ipc8"


def nginx_pattern() -> str:
    config = NGINX_CONF.read_text(encoding="utf-8")
    block = re.search(r"map \$request_uri \$loggable_request \{(.*?)\n\}", config, re.S)
    assert block, "deploy/nginx.conf has no map of loggable requests"
    [pattern] = re.findall(r'"~([^"]+)"\s+0;', block.group(1))
    assert re.search(r"access_log [^;]* if=\$loggable_request;", config)
    assert "access_log off;" not in config.split("return 444;")[1], "one rule, no list"
    return pattern


def test_nginx_uses_the_apps_pattern():
    assert nginx_pattern() == PRIVATE_LINK.pattern


def test_every_route_with_a_token_is_private(app):
    routes = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert len(routes) >= 9
    adapter = app.url_map.bind("localhost")
    for rule in routes:
        for secret in (new_token(), SIGNED):
            values = {name: 1 for name in rule.arguments} | {"token": secret}
            url = adapter.build(rule.endpoint, values)
            assert is_private(url), url
    # A resubmission's ?from= carries the rejected application's status token.
    assert is_private(f"/forms/renovation/apply?from={new_token()}")


@pytest.mark.parametrize(
    "url",
    ["/forms/", "/forms/service/repair", "/forms/staff/service/10", "/owner/repairs/"],
)
def test_ordinary_pages_are_logged(url):
    assert not is_private(url)


def test_nginx_leaves_private_links_out_of_its_log(nginx_stack):
    token = new_token()
    private = f"/forms/service/status/{token}"
    assert requests.get(nginx_stack.url + private, timeout=30).status_code == 404
    requests.get(nginx_stack.url + "/forms/?logged=1", timeout=30)
    log = Path(nginx_stack.nginx.prefix, "access.log")
    deadline = time.monotonic() + 10
    while "/forms/?logged=1" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text()
    assert "/forms/?logged=1" in text and token not in text
