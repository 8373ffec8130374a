"""gunicorn's access log without owners' private links: a request whose path or query holds
something shaped like a secret (``tokens.PRIVATE_LINK``) is not written at all.

Used by ``make run`` (``--logger-class forms_app.core.access_log.PrivateLinksLogger``); in
production gunicorn writes no access log and nginx skips the same requests.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from .tokens import PRIVATE_LINK


def is_private(raw_uri: str) -> bool:
    return PRIVATE_LINK.search(raw_uri or "") is not None


class PrivateLinksLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if is_private(environ.get("RAW_URI") or req.uri or ""):
            return
        super().access(resp, req, environ, request_time)
