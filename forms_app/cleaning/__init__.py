"""保洁品质检查: cleaning quality inspections in the staff back office.

The checklist is built from ``data/cleaning_standards.yml``, the same file the handbook's
cleaning standards page is rendered from, so the page and the inspection never disagree.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask

from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..accounts.roles import MANAGER


def _home_figures(_user, day: date) -> dict:
    """This month's inspections for the 经理's home page."""
    from .checklist import checklist
    from .inspections import month_summary

    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    return {"cleaning": month_summary(first, after, checklist()), "month": first}


def init_app(app: Flask, url_prefix: str) -> None:
    """Register the staff blueprint (cleaning has no owner side) and its home panel."""
    from .staff_views import bp as staff_bp

    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff/cleaning")
    register_section(
        app,
        StaffSection(
            name="cleaning",
            nav=(NavLink("保洁检查", "cleaning_staff.index", "cleaning.inspect"),),
            home=(
                HomePanel(
                    "cleaning/staff/_home.html",
                    _home_figures,
                    "cleaning.summary",
                    today_for=frozenset({MANAGER}),
                ),
            ),
            audit_labels={"cleaning.inspect": "记录保洁品质检查"},
        ),
    )
