"""Every Jinja filter of the app, registered in one place by ``create_app``.

Plain functions too, so exports and messages format a rate or a mobile the same way pages do.
"""

from __future__ import annotations

from flask import Flask

from ..core.clock import local_time


def format_rate(rate: float | None) -> str:
    """0.905 → "90.5%", 0.9 → "90%", no figure → "—"."""
    return "—" if rate is None else f"{rate * 100:.1f}%".replace(".0%", "%")


def mask_mobile(mobile: str) -> str:
    """138****8000: enough to recognise a number in a list, not to call it."""
    if len(mobile) < 8:
        return "*" * len(mobile)
    return mobile[:3] + "*" * (len(mobile) - 7) + mobile[-4:]


def local_minute(moment) -> str:
    """A stored UTC moment as the community's local time, to the minute."""
    return local_time(moment).strftime("%Y-%m-%d %H:%M")


def init_app(app: Flask) -> None:
    app.add_template_filter(local_minute, "local_time")
    app.add_template_filter(format_rate, "rate")
    app.add_template_filter(mask_mobile, "mask_mobile")
