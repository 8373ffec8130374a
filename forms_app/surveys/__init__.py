"""Surveys as data: questionnaires from ``data/surveys/*.yml``, answered by owners on phones,
with results and exports for staff.

The survey files are loaded and checked when the blueprint is registered, so a broken file
stops ``create_app`` with a message naming the file and the line.
"""

from __future__ import annotations

from flask import Flask

from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..accounts.roles import MANAGER
from .catalog import load_into


def _home_figures(_user, day) -> dict:
    from .dashboard import satisfaction_headlines

    return {"satisfaction": satisfaction_headlines(day)}


def init_app(app: Flask, url_prefix: str) -> None:
    """Load the survey files, register the owner and staff blueprints and the home panel."""
    from .staff_views import bp as staff_bp
    from .views import bp

    load_into(app)
    from . import company_figures

    company_figures.register(app)
    app.register_blueprint(bp, url_prefix=f"{url_prefix}/surveys")
    from ..households.timeline import register_timeline_source
    from .staff_views import invitation_timeline

    register_timeline_source(app, invitation_timeline)
    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff/surveys")
    register_section(
        app,
        StaffSection(
            name="surveys",
            nav=(NavLink("调查结果", "surveys_staff.index", "surveys.results"),),
            home=(
                HomePanel(
                    "surveys/staff/_home.html",
                    _home_figures,
                    "surveys.results",
                    today_for=frozenset({MANAGER}),
                ),
            ),
            audit_labels={"survey.invitations": "创建调查邀请链接"},
        ),
    )
