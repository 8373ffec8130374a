"""The built handbook's two halves as the app sees them.

The owner site and the staff handbook are static MkDocs builds (``make site``). In local runs
the app serves both, the staff half only with a staff session; in production nginx serves them
and asks this package's gate whether a request may see the staff half. Sits above accounts (it
asks who is logged in) and beside the domains, none of which it imports.
"""

from __future__ import annotations

from flask import Flask

from .views import bp, gate


def init_app(app: Flask, url_prefix: str) -> None:
    """The gate always (nginx asks it); the two halves only when this process serves them."""
    app.register_blueprint(gate, url_prefix=url_prefix)
    if app.config.get("SITE_DIR"):
        app.register_blueprint(bp)
