"""Accounts and access: staff accounts (the 经理's pages and the commands), login, server-side
sessions, throttling, roles and the one permissions table, the audit log, and the staff home
that domains fill through ``registry.py``.

This package imports no domain; domains import it (dependencies run one way).
"""

from __future__ import annotations

from flask import Flask

from ..core.commands import register_group
from ..core.community import served_communities
from . import public_posts
from .organisation import load_organisation
from .registry import HomePanel, StaffSection, register_section
from .roles import MANAGER
from .rota import gaps_home_figures


def init_app(app: Flask, url_prefix: str) -> None:
    """Register login, logout, the staff home, the audit log and the ``flask`` commands."""
    from . import (  # noqa: F401  (they attach to bp)
        cli,
        company,
        staff_accounts,
        staff_organisation,
        staff_rota,
        views,
    )
    from .blueprint import bp

    app.register_blueprint(bp, url_prefix=f"{url_prefix}/staff")
    company.register_company_section(app)
    public_posts.init_app(app)
    # A mistake in the community's organisation stops the app at start-up, the file named.
    for community in served_communities(app):
        load_organisation(community)
    register_group(
        app,
        "accounts",
        "员工账号：创建、授予小区角色、列出、停用、启用、重置密码。",
        {
            "create": cli.create_user,
            "grant": cli.grant_role,
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


def register_home_panels(app: Flask) -> None:
    """The organisation's part of the staff home, after the domains' (the factory calls it):
    the 经理's day opens on the figures, then the shifts of the next 7 days nobody is on duty for."""
    register_section(
        app,
        StaffSection(
            name="organisation",
            home=(
                HomePanel(
                    "accounts/_home_rota.html",
                    gaps_home_figures,
                    "organisation.manage",
                    today_for=frozenset({MANAGER}),
                ),
            ),
        ),
    )
