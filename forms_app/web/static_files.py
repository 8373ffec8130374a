"""The app's own stylesheets, scripts and icon, kept by browsers until they change.

Pages link them with ``url_for('static', filename=…)``; every such link carries the file's
content digest (``?v=…``), and a request that names the current digest is answered with a year
of caching. A phone then fetches a page's stylesheets and scripts once, where it asked again for
each of them on every page (``no-cache``: five to seven round trips a staff page on a mobile
network), and a deploy that changes a file changes its links, so no one keeps an old copy. A
request without the digest, or with an old one, is answered as before: asked again each time.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from flask import Flask, current_app, request
from werkzeug.security import safe_join

A_YEAR = 365 * 24 * 3600
VERSION = "v"  # the query parameter


@lru_cache(maxsize=512)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.blake2b(handle.read(), digest_size=6).hexdigest()


def static_digest(app: Flask, filename: str) -> str | None:
    """The digest of a file of the app's static folder as it is now (an edited file has a new
    one); None for a name that is no file there."""
    path = safe_join(app.static_folder, filename) if app.static_folder else None
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def _add_version(endpoint: str, values: dict) -> None:
    if endpoint == "static" and VERSION not in values and "filename" in values:
        digest = static_digest(current_app, values["filename"])
        if digest:
            values[VERSION] = digest


class StaticVersionsFlask(Flask):
    """Flask, with a year's caching for a static file asked for by its current digest."""

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        version = request.args.get(VERSION) if filename else None
        if version and version == static_digest(self, filename):
            return A_YEAR
        return super().get_send_file_max_age(filename)


def init_app(app: Flask) -> None:
    app.url_defaults(_add_version)
