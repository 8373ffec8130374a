"""公告's place in the app: the owner pages and the back office's, the navigation, the staff
home panel, the audit labels, the 我的办理 panel, the worker's scan for notices published at a
set time, and the renovation events it reacts to."""

from __future__ import annotations

from flask import Flask

from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..events import subscribe
from ..my_records.panels import Panel, register_panel
from ..notifications.scans import register_scan


def init_app(app: Flask, url_prefix: str) -> None:
    from . import (
        models,  # noqa: F401  (the tables, for the migrations' autogenerate)
        owner_views,
        publishing,
        staff_views,
    )

    app.register_blueprint(owner_views.bp, url_prefix=f"{url_prefix}/notices")
    app.register_blueprint(staff_views.bp, url_prefix=f"{url_prefix}/staff/notices")
    register_section(
        app,
        StaffSection(
            name="notices",
            nav=(NavLink("公告", "notices_staff.index", "notices.view"),),
            home=(
                HomePanel(
                    "notices/staff/_home.html",
                    staff_views.home_figures,
                    "notices.view",
                    today_for=frozenset({"service_lead"}),
                ),
            ),
            audit_labels={
                "notices.draft": "保存公告草稿",
                "notices.publish": "发布公告",
                "notices.correct": "更正公告",
                "notices.withdraw": "撤回公告",
            },
        ),
    )
    register_panel(app, Panel("notices/_my_panel.html", owner_views.my_panel))
    register_scan(app, "notices.due", publishing.send_due)
    subscribe(app, "renovation.approve", publishing.on_renovation_approved)
    subscribe(app, "renovation.extend", publishing.on_renovation_extended)
