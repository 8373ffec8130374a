"""Debian's Chromium driven by Playwright; never a browser download of Playwright's own."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest

# Debian's headless-only build of the same Chromium (package chromium-headless-shell) when it is
# installed: the same engine without the desktop browser's parts, about a fifth less CPU per
# page than `chromium --headless`, which matters on a 2-core machine running hundreds of pages.
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
CHROMIUM = os.environ.get(
    "CHROMIUM", HEADLESS_SHELL if os.path.exists(HEADLESS_SHELL) else "/usr/bin/chromium"
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    # Every name but this machine's fails to resolve: a page that asks another host gets an
    # error at once (and guard_outside_hosts records the request).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
# A phone inside WeChat: 360 px wide, touch, Chinese.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 12; V2049A) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560 NetType/4G Language/zh_CN"
    ),
}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_or_skip() -> str:
    """Path of Chromium; skip the test when it is missing, except in CI where that fails."""
    if os.path.exists(CHROMIUM) or shutil.which(CHROMIUM):
        return CHROMIUM
    message = (
        f"Chromium not found at {CHROMIUM}: install it with "
        "`sudo apt-get update && sudo apt-get install chromium chromium-headless-shell` to run "
        "the browser tests"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def guard_outside_hosts(context, blocked: list[str]) -> None:
    """Record every request to a host that is not this machine (the launch arguments make it
    fail). The requests are watched, not intercepted: interception would turn the browser's
    cache off, and a phone does use its cache."""

    def _watch(request):
        url = request.url
        host = urlsplit(url).hostname or ""
        if not url.startswith(("data:", "blob:", "about:")) and host not in LOOPBACK:
            blocked.append(url)

    context.on("request", _watch)
