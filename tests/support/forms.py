"""Reading what a form page holds: its CSRF token."""

from __future__ import annotations

import re

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


# The smallest staff page that hands out the session's CSRF token (the phone's drafts ask it).
STAFF_TOKEN_PATH = "/forms/staff/drafts/session"


def staff_csrf_token(client) -> str:
    """A CSRF token of a logged-in staff client's session, as its forms carry one: read from
    the drafts' session answer, not by rendering the whole home page for it."""
    response = client.get(STAFF_TOKEN_PATH)
    assert response.status_code == 200, "no staff session: is this client logged in?"
    return response.get_json()["csrf_token"]
