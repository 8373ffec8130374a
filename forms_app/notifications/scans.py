"""Periodic scans the worker runs: a domain registers a function that finds what staff must
hear about (an overdue patrol) and enqueues alerts with a ``dedupe_key``, so running it again
the same day adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask, current_app

EXTENSION_KEY = "notification_scans"


def register_scan(app: Flask, name: str, scan: Callable[[date], int]) -> None:
    """Add ``scan(day) -> alerts added``; the worker calls it every ``NOTIFY_SCAN_SECONDS``."""
    registered = app.extensions.setdefault(EXTENSION_KEY, {})
    if name in registered:
        raise ValueError(f"notification scan {name!r} registered twice")
    registered[name] = scan


def registered_scans() -> dict[str, Callable[[date], int]]:
    return current_app.extensions.get(EXTENSION_KEY, {})
