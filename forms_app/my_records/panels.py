"""What the domains add to a household's 我的办理 page beyond its records (the notices that
concern it, say): a domain registers a panel in its ``init_app``; this package imports none.

``values(grant)`` gives the panel template's values for the signed-in household, or None when
the panel has nothing to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

EXTENSION_KEY = "my_records_panels"


@dataclass(frozen=True)
class Panel:
    template: str
    values: Callable[[object], dict | None]


def register_panel(app: Flask, panel: Panel) -> None:
    app.extensions.setdefault(EXTENSION_KEY, []).append(panel)


def panels_for(grant) -> list[tuple[str, dict]]:
    """(template, values) of every registered panel with something to show, in order."""
    shown = []
    for panel in current_app.extensions.get(EXTENSION_KEY, []):
        values = panel.values(grant)
        if values is not None:
            shown.append((panel.template, values))
    return shown
