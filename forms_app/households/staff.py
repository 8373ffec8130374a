"""The registry's place in the back office: its blueprints, navigation and audit labels."""

from __future__ import annotations

from flask import Flask

from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..accounts.roles import SERVICE, SERVICE_LEAD


def _claims_figures(_user, _day):
    """Pending 房屋认证 for the desk's home (nothing shown when none wait)."""
    from .claims import pending_count

    pending = pending_count()
    return {"pending": pending} if pending else None


def init_app(app: Flask, url_prefix: str) -> None:
    from .claim_views import owner_bp as claim_owner_bp
    from .claim_views import staff_bp as claim_staff_bp
    from .import_views import bp as import_bp
    from .key_views import bp as key_bp
    from .staff_views import bp as staff_bp

    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff/households")
    app.register_blueprint(import_bp, url_prefix=f"{url_prefix}/staff/households/import")
    app.register_blueprint(key_bp, url_prefix=f"{url_prefix}/staff/households/keys")
    app.register_blueprint(claim_staff_bp, url_prefix=f"{url_prefix}/staff/households/claims")
    app.register_blueprint(claim_owner_bp, url_prefix=f"{url_prefix}/households")
    register_section(
        app,
        StaffSection(
            name="households",
            nav=(NavLink("住户档案", "households_staff.index", "households.view"),),
            home=(
                HomePanel(
                    "households/staff/_home.html",
                    _claims_figures,
                    "households.claims",
                    today_for=frozenset({SERVICE, SERVICE_LEAD}),
                ),
            ),
            audit_labels={
                "households.reveal": "查看住户完整手机号",
                "households.export": "导出房屋台账",
                "households.import": "导入房屋台账",
            },
        ),
    )
