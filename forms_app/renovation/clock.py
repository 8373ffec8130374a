"""Time for renovation: naive UTC in the database, the community's local date for rules."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

# Dates on references, "start not in the past" and the permit are mainland China dates.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now as naive UTC, the form every timestamp is stored in."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def local_time(moment: datetime) -> datetime:
    """A stored (naive UTC) timestamp in local time, for display."""
    return moment.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ)
