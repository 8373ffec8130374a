"""收费's place in the app: its blueprints, commands, navigation, home panels, audit labels and
the events it reacts to. Each part of the package is a module with a blueprint ``bp`` and its
``NAV``, ``HOME`` and ``AUDIT``; ``register(app)`` (when a part has one) adds its commands,
event subscriptions and periodic scans."""

from __future__ import annotations

from flask import Flask

from ..accounts.registry import StaffSection, register_section

# (module name, URL prefix under /forms): the owner part first, then the back office's.
PARTS = (
    ("owner_views", "/fees"),
    ("bill_views", "/staff/fees/bills"),
    ("meter_views", "/staff/fees/meters"),
    ("ledger_views", "/staff/fees/ledger"),
    ("report_views", "/staff/fees/reports"),
    ("receipt_views", "/fees/receipts"),
)


def init_app(app: Flask, url_prefix: str) -> None:
    import importlib

    from . import models  # noqa: F401  (the tables, for the migrations' autogenerate)
    from .accounts import keep_bill_totals

    keep_bill_totals()

    nav, home, audit = [], [], {}
    for name, prefix in PARTS:
        part = importlib.import_module(f"{__package__}.{name}")
        app.register_blueprint(part.bp, url_prefix=f"{url_prefix}{prefix}")
        nav.extend(part.NAV)
        home.extend(part.HOME)
        audit.update(part.AUDIT)
        if hasattr(part, "register"):
            part.register(app)
    register_section(
        app, StaffSection(name="fees", nav=tuple(nav), home=tuple(home), audit_labels=audit)
    )
