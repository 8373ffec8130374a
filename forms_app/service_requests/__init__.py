"""报修与投诉: owners report repairs and complain on their phones; 客服 record phone calls and
visits, dispatch 派工单 to 工程, make the 回访 calls and the household visits (走访); workers
record their jobs on a phone; 客服 and 经理 read the seed's weekly figures."""

from __future__ import annotations

from flask import Flask

from ..accounts import roles
from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..households.records import register_household_records
from ..households.timeline import register_timeline_source
from ..notifications.scans import register_scan


def init_app(app: Flask, url_prefix: str) -> None:
    """Register the owner and staff blueprints and this domain's part of the staff home."""
    # The view modules attach their routes to the staff blueprint.
    from . import export_views, job_views, report_views, staff_views  # noqa: F401
    from .escalation import overdue_alerts
    from .jobs import jobs_panel, register_panel
    from .notices import household_records
    from .staff_blueprint import bp as staff_bp
    from .views import bp

    app.register_blueprint(bp, url_prefix=f"{url_prefix}/service")
    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff/service")
    register_section(
        app,
        StaffSection(
            name="service_requests",
            nav=(
                NavLink("报修投诉", "service_requests_staff.register", "service.register"),
                NavLink("我的派工单", "service_requests_staff.jobs", "service.work"),
                NavLink("走访记录", "service_requests_staff.visits", "service.visits"),
                NavLink("客服统计", "service_requests_staff.figures", "service.figures"),
            ),
            home=(
                HomePanel(
                    "service_requests/staff/_home.html",
                    register_panel,
                    "service.register",
                    today_for=frozenset({roles.SERVICE}),
                ),
                HomePanel(
                    "service_requests/staff/_jobs_home.html",
                    jobs_panel,
                    "service.work",
                    today_for=frozenset({roles.ENGINEERING}),
                ),
            ),
            audit_labels={
                "service.file": "登记报修/投诉（电话、到访）",
                "service.step": "报修/投诉办理（派工、到场、完工、答复、回访、办结）",
                "service.visit": "记录走访",
                "service.call_owner": "查看业主电话（报修/投诉）",
            },
        ),
    )
    register_household_records(app, "service_requests", household_records)
    from .visits import visit_timeline

    register_timeline_source(app, visit_timeline)
    register_scan(app, "service_requests.overdue", overdue_alerts)
    from . import company_figures

    company_figures.register(app)
