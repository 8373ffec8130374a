"""保洁品质检查: cleaning quality inspections in the staff back office.

The checklist is built from ``data/cleaning_standards.yml``, the same file the handbook's
cleaning standards page is rendered from, so the page and the inspection never disagree.
A failed item then goes round 整改 → 复检 (rectification.py): the 保洁 of its area (areas.py)
records the 整改, whoever inspects re-checks it.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask

from ..accounts.permissions import allowed
from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..accounts.roles import CLEANER, CLEANING_LEAD, MANAGER


def _home_figures(_user, day: date) -> dict:
    """This month's inspections for the 经理's home page."""
    from .checklist import checklist
    from .inspections import month_summary

    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    return {"cleaning": month_summary(first, after, checklist()), "month": first}


def _loop_figures(user, _day: date) -> dict | None:
    """The failed items waiting: a 保洁's (and the 保洁主管's) to put right, and for whoever
    re-checks, those waiting for 复检; nothing for an inspector with none waiting."""
    from .areas import scope_of
    from .rectification import TO_RECHECK, waiting_counts

    scope = scope_of(user)
    counts = waiting_counts(scope)
    rectifies = allowed(user.role, "cleaning.rectify")
    if not rectifies and not counts[TO_RECHECK]:
        return None
    return {
        "counts": counts,
        "scope": scope,
        "rectifies": rectifies,
        "rechecks": allowed(user.role, "cleaning.recheck"),
    }


def init_app(app: Flask, url_prefix: str) -> None:
    """Register the staff blueprint (cleaning has no owner side) and its home panels."""
    from . import rectification_views  # noqa: F401  (its views attach to the blueprint)
    from .staff_views import bp as staff_bp

    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff/cleaning")
    register_section(
        app,
        StaffSection(
            name="cleaning",
            nav=(
                NavLink("保洁检查", "cleaning_staff.index", "cleaning.inspect"),
                NavLink("我的区域", "cleaning_staff.mine", "cleaning.rectify"),
            ),
            home=(
                HomePanel(
                    "cleaning/staff/_home_loop.html",
                    _loop_figures,
                    "cleaning.view",
                    today_for=frozenset({CLEANER, CLEANING_LEAD}),
                ),
                HomePanel(
                    "cleaning/staff/_home.html",
                    _home_figures,
                    "cleaning.summary",
                    today_for=frozenset({MANAGER}),
                ),
            ),
            audit_labels={
                "cleaning.inspect": "记录保洁品质检查",
                "cleaning.rectify": "记录保洁整改",
                "cleaning.recheck": "保洁整改复检",
            },
        ),
    )
