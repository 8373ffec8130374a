"""Time for the whole app: timestamps stored as naive UTC, rules and pages in China's local date.

Set ``TODAY = "2026-05-10"`` in the app config (or the instance ``config.py``) to fix the date,
for demonstrations and tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

# References, "start not in the past", patrol due dates and permits use mainland China dates.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now as naive UTC, the form every timestamp is stored in."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """Today's date in China, or the configured ``TODAY``."""
    fixed = current_app.config["TODAY"] if has_app_context() else None
    if fixed:
        return fixed if isinstance(fixed, date) else date.fromisoformat(str(fixed))
    return datetime.now(LOCAL_TZ).date()


def local_time(moment: datetime) -> datetime:
    """A stored (naive UTC) timestamp in local time, for display."""
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TZ)


def local_date(moment: datetime) -> date:
    """The local calendar date of a stored naive-UTC time."""
    return local_time(moment).date()
