"""Serve the built handbook (``site/``) from the app process in local runs.

In production nginx serves these files and proxies only ``/forms`` to the app.
"""
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, send_from_directory

bp = Blueprint("site", __name__)


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def page(path: str):
    """A file of the built site; a folder answers with its index.html like nginx would."""
    root = Path(current_app.config["SITE_DIR"])
    if not root.is_dir():
        abort(404)
    target = root / path
    if path and target.is_dir() and not path.endswith("/"):
        return redirect(request.path + "/", code=301)
    if path == "" or path.endswith("/"):
        path = path + "index.html"
    return send_from_directory(root, path, max_age=300)
