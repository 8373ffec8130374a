"""Local dates for the back office (China Standard Time), with a clock tests can fix.

Set ``TODAY = "2026-05-10"`` in the app config (or the instance ``config.py``) to fix the date.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app, has_app_context

from ..renovation.clock import LOCAL_TZ, local_time


def today() -> date:
    """Today's date in China, or the configured ``TODAY``."""
    fixed = current_app.config.get("TODAY") if has_app_context() else None
    if fixed:
        return fixed if isinstance(fixed, date) else date.fromisoformat(str(fixed))
    return datetime.now(LOCAL_TZ).date()


def local_date(moment: datetime) -> date:
    """The local calendar date of a stored naive-UTC time."""
    return local_time(moment).date()
