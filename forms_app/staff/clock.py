"""Local date and time for the back office (China Standard Time), with a clock tests can fix.

Set ``TODAY = "2026-05-10"`` in the app config (or the instance ``config.py``) to fix the date.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today's date in China, or the configured ``TODAY``."""
    fixed = current_app.config.get("TODAY") if has_app_context() else None
    if fixed:
        return fixed if isinstance(fixed, date) else date.fromisoformat(str(fixed))
    return datetime.now(LOCAL_TZ).date()


def local_time(value: datetime | None) -> str:
    """A stored naive-UTC time as local ``YYYY-MM-DD HH:MM``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def local_date(value: datetime) -> date:
    """The local calendar date of a stored naive-UTC time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TZ).date()
