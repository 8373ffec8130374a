"""Every handbook page is readable on a 360 px phone without scrolling sideways."""

from __future__ import annotations

import struct

import pytest

from tests.conftest import HANDBOOK_READER
from tests.support.staff import login

PHONE_WIDTH = 360

# The elements that stick out to the right, to say what to fix when the check fails.
WIDEST_ELEMENTS = """(width) => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > width + 1 && el.offsetParent !== null)
  .slice(0, 5)
  .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
       (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
       ' right=' + Math.round(el.getBoundingClientRect().right))"""


# What a reader sees: the page's width, the viewport's, and how wide a full-page screenshot is
# (as far as the page can be panned), which Playwright works out from these six numbers before
# it draws one: read here without drawing and encoding every page (the test checks on one page
# that a screenshot is that wide).
WIDTHS = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  screenshot: Math.max(
    document.body.scrollWidth, document.documentElement.scrollWidth,
    document.body.offsetWidth, document.documentElement.offsetWidth,
    document.body.clientWidth, document.documentElement.clientWidth),
})"""


def page_paths(site) -> list[str]:
    """URL paths of every built page (directory URLs), the 404 page included."""
    paths = []
    for html in sorted(site.rglob("*.html")):
        rel = html.relative_to(site).as_posix()
        paths.append(rel.removesuffix("index.html") if rel.endswith("index.html") else rel)
    return paths


def png_width(png: bytes) -> int:
    """Width in pixels from a PNG's IHDR chunk."""
    return struct.unpack(">I", png[16:20])[0]


@pytest.mark.browser
def test_every_page_fits_a_360px_phone(phone, live_server, built_site, built_staff_site):
    """Both halves: the owner site, and the staff handbook as a logged-in staff member sees it."""
    paths = page_paths(built_site) + ["staff/" + path for path in page_paths(built_staff_site)]
    assert len(paths) > 20, "the handbook should have both halves built"
    login(phone, HANDBOOK_READER, base_url=live_server.url)
    too_wide = {}
    for path in paths:
        phone.goto(f"{live_server.url}/{path}", wait_until="load")
        widths = phone.evaluate(WIDTHS)
        if max(widths.values()) > PHONE_WIDTH:
            too_wide[path] = dict(widths, sticking_out=phone.evaluate(WIDEST_ELEMENTS, PHONE_WIDTH))
    assert not too_wide, f"pages wider than {PHONE_WIDTH} px: {too_wide}"
    # The measure is the screenshot's width: on the last page, and on one made too wide.
    assert screenshot_width(phone) == widths["screenshot"]
    phone.evaluate("document.body.insertAdjacentHTML('beforeend', '<pre>' + '宽'.repeat(80))")
    assert screenshot_width(phone) == phone.evaluate(WIDTHS)["screenshot"] > PHONE_WIDTH


def screenshot_width(phone) -> int:
    shot = phone.screenshot(full_page=True, scale="css", type="png", animations="disabled")
    return png_width(shot)
