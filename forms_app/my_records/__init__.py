"""我的办理: an owner proves a room with the mobile on record and a one-time code, then sees
every application, booking and request of that room, each linking to its status page.

Domains register what they hold for a household (``registry.register_household_records``);
this package imports no domain. Codes go out through the notifications outbox.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, url_prefix: str) -> None:
    from .views import bp

    app.register_blueprint(bp, url_prefix=f"{url_prefix}/my")
