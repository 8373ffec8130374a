"""Accounts and access: staff accounts (the 经理's pages and the commands), login, server-side
sessions, throttling, roles and the one permissions table, the audit log, and the staff home
that domains fill through ``registry.py``.

This package imports no domain; domains import it (dependencies run one way).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, url_prefix: str) -> None:
    """Register login, logout, the staff home, the audit log and the ``flask`` commands."""
    from . import cli, staff_accounts, views  # noqa: F401  (they attach to bp
    from .blueprint import bp

    app.register_blueprint(bp, url_prefix=f"{url_prefix}/staff")
