"""Owners and staff hear back: the outbox (written in the same transaction as each change),
the message texts, the channels (企业微信 robot, SMS, the log), the delivery worker and the
back office's view of what was sent.

Domains import this package (``enqueue``, ``register_scan``, ``staff_alerts.alert_staff``);
it imports no domain.
"""

from __future__ import annotations

from flask import Flask

from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section
from ..core.commands import register_group


def init_app(app: Flask, url_prefix: str) -> None:
    """The staff outbox pages, the home panel and ``flask notifications worker``."""
    from . import cli
    from .staff_alerts import SETTING, check_alert_channel

    try:
        check_alert_channel(app.config.get(SETTING) or "wecom")
    except ValueError as error:  # refused at start-up, not at the first dispatch
        raise RuntimeError(str(error)) from None
    from .staff_views import bp as staff_bp
    from .staff_views import home_figures

    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff/notifications")
    register_group(
        app,
        "notifications",
        "通知：发送工作进程（短信、企业微信群机器人、日志）。",
        {"worker": cli.worker_command},
        aliases={"notifications-worker": "worker"},
    )
    register_section(
        app,
        StaffSection(
            name="notifications",
            nav=(NavLink("通知发送", "notifications_staff.outbox", "notifications.view"),),
            home=(HomePanel("notifications/staff/_home.html", home_figures, "notifications.view"),),
            audit_labels={
                "notifications.resend": "重新发送进度链接",
                "notifications.retry": "重试发送失败的通知",
            },
        ),
    )
