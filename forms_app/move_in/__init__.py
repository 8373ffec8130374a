"""Move-in bookings (搬家预约): the owner's booking form and private confirmation page, and
the staff's schedule of a day.

Slots, capacities, the garage clearance and the oversize post come from the ``move_in`` block
of ``data/communities/<id>.yml``.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..accounts.roles import SECURITY
from ..households.records import register_household_records


def _home_figures(_user, day: date) -> dict:
    """Today's slots with their bookings, for the gate (owners' mobiles stay masked)."""
    from .bookings import availability, todays_bookings

    return {"moves": availability(day), "bookings": todays_bookings(day)}


def init_app(app: Flask, url_prefix: str) -> None:
    """Register the owner and staff blueprints and this domain's part of the staff home."""
    from .notices import household_records
    from .staff_views import bp as staff_bp
    from .views import bp

    app.register_blueprint(bp, url_prefix=f"{url_prefix}/move-in")
    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff/move-ins")
    register_section(
        app,
        StaffSection(
            name="move_in",
            nav=(NavLink("搬家预约", "move_in_staff.schedule", "move_in.schedule"),),
            home=(
                HomePanel(
                    "move_in/staff/_home.html",
                    _home_figures,
                    "move_in.schedule",
                    today_for=frozenset({SECURITY}),
                ),
            ),
            audit_labels={
                "move_in.close": "搬家预约标记完成/取消",
                "move_in.call_owner": "查看业主电话（搬家预约）",
            },
        ),
    )
    register_household_records(app, "move_in", household_records)
