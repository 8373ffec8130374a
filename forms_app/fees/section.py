"""收费's place in the app: its blueprints, commands, navigation, home panels, audit labels and
the events it reacts to. Each part of the package adds itself here."""

from __future__ import annotations

from flask import Flask

from ..accounts.registry import StaffSection, register_section


def init_app(app: Flask, url_prefix: str) -> None:
    from . import models  # noqa: F401  (the tables, for the migrations' autogenerate)

    register_section(
        app,
        StaffSection(
            name="fees",
            nav=(),
            audit_labels={},
        ),
    )
