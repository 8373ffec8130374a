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
        width = phone.evaluate("document.documentElement.scrollWidth")
        viewport = phone.evaluate("window.innerWidth")
        # What a reader sees: a full-page screenshot is as wide as the page can be panned.
        shot = png_width(
            phone.screenshot(
                full_page=True, scale="css", type="png", clip=None, animations="disabled"
            )
        )
        if width > PHONE_WIDTH or viewport > PHONE_WIDTH or shot > PHONE_WIDTH:
            too_wide[path] = {
                "scrollWidth": width,
                "innerWidth": viewport,
                "screenshot": shot,
                "sticking out": phone.evaluate(WIDEST_ELEMENTS, PHONE_WIDTH),
            }
    assert not too_wide, f"pages wider than {PHONE_WIDTH} px: {too_wide}"
