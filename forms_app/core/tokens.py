"""Unguessable values: owners' private links and the one-time nonce of each rendered form.

One generator and one pattern for each, so every domain accepts exactly what it hands out,
and a value that cannot be ours is never looked up (PostgreSQL answers a NUL in a query with
an error).
"""

from __future__ import annotations

import re
import secrets

# The alphabet of secrets.token_urlsafe; the columns hold at most 64 characters.
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
NONCE = re.compile(r"[A-Za-z0-9_-]{20,64}")
# Any request whose path segment or query value looks like a secret (a token above, or a
# signed verification link, which adds dots): kept out of every access log. The one rule:
# deploy/nginx.conf's map uses this very pattern, and gunicorn's access log
# (core/access_log.py) skips what it matches; tests/core/test_private_links.py checks both
# against every route that takes a token.
PRIVATE_LINK = re.compile(r"[/=][A-Za-z0-9_.-]{16,}")


def new_token() -> str:
    """An unguessable token for a private link (status page, permit, invitation)."""
    return secrets.token_urlsafe(24)


def is_token(value: str | None) -> bool:
    """Whether a link's token could be one of ours."""
    return bool(value) and TOKEN.fullmatch(value) is not None


def new_nonce() -> str:
    """A one-time value for one rendered form, so its second POST finds the first result."""
    return secrets.token_urlsafe(24)


def is_nonce(value: str | None) -> bool:
    """Whether a posted nonce could be one we rendered."""
    return bool(value) and NONCE.fullmatch(value) is not None
