"""Renovation applications (装修申请): the owner's form, status page and permit, and the back
office's register, workflow steps and patrols."""

from __future__ import annotations

from flask import Flask

from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..accounts.roles import ENGINEERING, SECURITY, SERVICE
from ..households.records import register_household_records
from ..notifications.scans import register_scan


def init_app(app: Flask, url_prefix: str) -> None:
    """Register the owner and staff blueprints and this domain's part of the staff home."""
    from . import (  # noqa: F401  (they attach to bp)
        staff_findings,
        staff_patrols,
        staff_register,
        staff_views,
    )
    from .notices import household_records, overdue_patrol_alerts
    from .patrol_alerts import escalate_overdue_patrols
    from .staff_blueprint import bp as staff_bp
    from .staff_home import (
        acceptance_home_figures,
        home_figures,
        patrol_home_figures,
        review_home_figures,
    )
    from .views import bp
    from .workflow import declare_events

    app.register_blueprint(bp, url_prefix=f"{url_prefix}/renovation")
    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff")
    register_section(
        app,
        StaffSection(
            name="renovation",
            nav=(
                NavLink("装修申请", "renovation_staff.renovations", "renovation.view"),
                NavLink("今日待巡查", "renovation_staff.patrols_due", "renovation.view"),
            ),
            # 客服 review, 工程 accept, guards and the 装修办 (客服, 工程) patrol; the overview
            # by state is for everyone else's "其他".
            home=(
                HomePanel(
                    "renovation/staff/_home_review.html",
                    review_home_figures,
                    "renovation.step.approve",
                    today_for=frozenset({SERVICE}),
                ),
                HomePanel(
                    "renovation/staff/_home_review.html",
                    acceptance_home_figures,
                    "renovation.step.accept",
                    today_for=frozenset({ENGINEERING}),
                ),
                HomePanel(
                    "renovation/staff/_home_patrols.html",
                    patrol_home_figures,
                    "renovation.view",
                    today_for=frozenset({SECURITY, SERVICE, ENGINEERING}),
                ),
                HomePanel("renovation/staff/_home.html", home_figures, "renovation.view"),
            ),
            audit_labels={
                "renovation.action": "装修申请状态变更",
                "renovation.patrol": "记录装修巡查",
                "renovation.finding_fix": "记录巡查整改",
                "renovation.finding_recheck": "巡查整改复查",
                "renovation.call_owner": "查看业主电话（装修申请）",
            },
        ),
    )
    register_household_records(app, "renovation", household_records)
    declare_events(app)
    register_scan(app, "renovation.patrol_overdue", overdue_patrol_alerts)
    register_scan(app, "renovation.patrol_escalated", escalate_overdue_patrols)
