"""What each domain has on record for a household, registered by the domain itself.

"我的办理" lists a room's applications, bookings and requests without importing a domain:
each domain's ``init_app`` registers a provider ``records(building, unit, room)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app

EXTENSION_KEY = "household_records"


@dataclass(frozen=True)
class HouseholdRecord:
    """One item of a household's business, as "我的办理" shows it."""

    kind: str  # 装修申请, 搬家预约, …
    reference: str
    state: str  # the state's Chinese label
    url: str  # the record's private status page
    filed_on: date
    # The mobile the record was filed with: it proves who may ask for the room's list.
    mobile: str


Provider = Callable[[int, int, str], list[HouseholdRecord]]


def register_household_records(app: Flask, name: str, provider: Provider) -> None:
    """Add a domain's provider; the order of registration is the order on the page."""
    providers = app.extensions.setdefault(EXTENSION_KEY, {})
    if name in providers:
        raise ValueError(f"household records {name!r} registered twice")
    providers[name] = provider


def records_for(building: int, unit: int, room: str) -> list[HouseholdRecord]:
    """Every registered domain's records of the room, newest first."""
    found = [
        record
        for provider in current_app.extensions.get(EXTENSION_KEY, {}).values()
        for record in provider(building, unit, room)
    ]
    return sorted(found, key=lambda r: (r.filed_on, r.reference), reverse=True)
