"""Views: the handbook's two halves, and the gate in front of the staff half.

- The owner site (``site/<id>/``, public) at ``/`` and the staff handbook
  (``site-staff/<id>/``) at ``/staff/``, each of the request's community, are served from the app process in local runs only (``SITE_DIR``,
  ``STAFF_SITE_DIR``). The staff half is only for a logged-in staff member: anyone else is sent
  to the login page, which comes back to the page asked for.
- In production nginx serves both as static files and asks ``/forms/handbook-auth`` whether a
  request may see the staff half (``auth_request``): 204 yes, 401 no, with the login page to
  send the browser to in ``X-Login-Url``. That endpoint is always registered; it answers
  anyone (a stranger learns only "no"), so it lives outside ``/forms/staff/``, where every
  URL is a back-office page that needs a login.

Served like nginx serves them (``deploy/nginx.conf``): the gzip copy written at build time
(``handbook_hooks/compress.py``) to a browser that accepts gzip, and Material's content-hashed
assets (``main.<hash>.min.css``) of the public half cached for a year. A request path is
checked segment by segment before anything on disk is looked at: ``..``, an encoded slash or a
hidden name answers 404 like any missing page.
"""

import mimetypes
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, send_file, url_for

from ..accounts.access import current_staff, safe_next
from ..core.community import community_key
from ..core.security_headers import no_store

STAFF_HANDBOOK = "/staff/"
# Material's bundled assets carry a content hash in their names: a new build gets new names.
HASHED_ASSET = re.compile(r"\.[0-9a-f]{8,}\.min\.(?:css|js)$")
A_YEAR = 365 * 24 * 3600

bp = Blueprint("handbook", __name__)
gate = Blueprint("handbook_gate", __name__)


def _login_url(back: str | None) -> str:
    """The staff login page, coming back to ``back`` when it is a path on this site."""
    return url_for("accounts.login", next=safe_next(back))


@gate.get("/handbook-auth")
def handbook_auth():
    """nginx's question for each request of the staff half: may this browser see it?"""
    if current_staff() is not None:
        response = current_app.response_class(status=204)
    else:
        response = current_app.response_class(status=401)
        response.headers["X-Login-Url"] = _login_url(request.headers.get("X-Original-URI"))
    return no_store(response)


def community_site(directory: str | None) -> str | None:
    """The request's community's build under ``directory`` (``make site`` writes one folder
    per community, ``site/<id>/``), or ``directory`` itself when it holds one build only."""
    if not directory:
        return None
    own = Path(directory) / community_key()
    return str(own) if own.is_dir() else directory


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def page(path: str):
    """A file of the public owner site of the request's community."""
    return _send(community_site(current_app.config["SITE_DIR"]), path, "public, max-age=300")


@bp.get("/staff")
def staff_root():
    return redirect(STAFF_HANDBOOK, code=301)


@bp.get("/staff/", defaults={"path": ""})
@bp.get("/staff/<path:path>")
def staff_page(path: str):
    """A file of the staff handbook, for logged-in staff only; nobody else learns what exists."""
    if current_staff() is None:
        return redirect(_login_url(request.full_path.rstrip("?")))
    response = _send(
        community_site(current_app.config.get("STAFF_SITE_DIR")), path, "private, no-cache"
    )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def safe_segments(path: str) -> list[str] | None:
    """The path's segments when every one names an ordinary file or folder, else None.

    Runs before the filesystem is touched: a path that climbs out (``..``), names a hidden
    file, or carries a backslash or NUL never reaches ``stat``.
    """
    if "\\" in path or "\x00" in path:
        return None
    segments = path.split("/")
    if segments and segments[-1] == "":
        segments.pop()  # "owner/" names the folder "owner"
    if any(segment == "" or segment.startswith(".") for segment in segments):
        return None
    return segments


def _send(directory: str | None, path: str, cache_control: str):
    """A file of a built site; a folder answers with its index.html like nginx would."""
    segments = safe_segments(path)
    if not directory or segments is None or not Path(directory).is_dir():
        abort(404)
    target = Path(directory).joinpath(*segments)
    if target.is_dir():
        if path and not path.endswith("/"):
            return redirect(request.path + "/", code=301)
        target = target / "index.html"
    if not target.is_file():
        abort(404)
    compressed = target.with_name(target.name + ".gz")
    has_gzip = compressed.is_file()
    mimetype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if has_gzip and "gzip" in request.accept_encodings:
        response = send_file(compressed, mimetype=mimetype, conditional=True)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_file(target, mimetype=mimetype, conditional=True)
    if has_gzip:
        response.vary.add("Accept-Encoding")
    if HASHED_ASSET.search(target.name) and cache_control.startswith("public"):
        cache_control = f"public, max-age={A_YEAR}, immutable"
    response.headers["Cache-Control"] = cache_control
    return response
