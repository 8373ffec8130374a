"""Accounts and access: staff accounts (the 经理's pages and the commands), login, server-side
sessions, throttling, roles and the one permissions table, the audit log, and the staff home
that domains fill through ``registry.py``.

This package imports no domain; domains import it (dependencies run one way).
"""

from __future__ import annotations

from flask import Flask

from ..core.commands import register_group


def init_app(app: Flask, url_prefix: str) -> None:
    """Register login, logout, the staff home, the audit log and the ``flask`` commands."""
    from . import cli, staff_accounts, views  # noqa: F401  (they attach to bp
    from .blueprint import bp

    app.register_blueprint(bp, url_prefix=f"{url_prefix}/staff")
    register_group(
        app,
        "accounts",
        "员工账号：创建、列出、停用、启用、重置密码。",
        {
            "create": cli.create_user,
            "list": cli.list_users,
            "disable": cli.disable_user,
            "enable": cli.enable_user,
            "reset-password": cli.reset_password,
        },
        aliases={
            "create-user": "create",
            "list-users": "list",
            "disable-user": "disable",
            "enable-user": "enable",
            "reset-password": "reset-password",
        },
    )
