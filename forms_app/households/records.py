"""What each domain has on record for a household, registered by the domain itself.

"我的办理" and the staff's 一户一档 page list a room's applications, bookings and requests
without importing a domain: each domain's ``init_app`` registers a provider
``records(building, unit, room)``.

A domain may also say which of its records name a room the registry does not have (typed
before the registry existed, or a room since renamed), so staff can find and correct them: an
``unmatched()`` provider, registered with ``register_household_rooms`` or attached to the
records provider with ``with_unmatched`` (``register_household_records`` picks it up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app
from sqlalchemy import exists

from .models import RESIDENCE, HouseholdRoom
from .registry import community_key

EXTENSION_KEY = "household_records"
UNMATCHED_KEY = "household_unmatched_records"


@dataclass(frozen=True)
class HouseholdRecord:
    """One item of a household's business, as "我的办理" and 一户一档 show it."""

    kind: str  # 装修申请, 搬家预约, …
    reference: str
    state: str  # the state's Chinese label
    url: str  # the record's private status page
    filed_on: date
    # The mobile the record was filed with: it proves who may ask for the room's list.
    mobile: str
    # The record's page in the back office (empty when the domain has none).
    staff_url: str = ""


@dataclass(frozen=True)
class UnmatchedRecord:
    """A domain's record whose building/unit/room is no room of the registry."""

    kind: str
    reference: str
    building: int | None
    unit: int | None
    room: str
    state: str
    filed_on: date
    staff_url: str = ""

    @property
    def room_label(self) -> str:
        return f"{self.building}号楼{self.unit}单元{self.room}室"


Provider = Callable[[int, int, str], list[HouseholdRecord]]
# Every record of the domain (of the current community's database) whose room is not a 住宅
# of the registry, newest first.
UnmatchedProvider = Callable[[], list[UnmatchedRecord]]


def register_household_records(app: Flask, name: str, provider: Provider) -> None:
    """Add a domain's provider; the order of registration is the order on the page. A provider
    carrying an ``unmatched`` provider (``with_unmatched``) registers that one too."""
    providers = app.extensions.setdefault(EXTENSION_KEY, {})
    if name in providers:
        raise ValueError(f"household records {name!r} registered twice")
    providers[name] = provider
    unmatched = getattr(provider, "unmatched", None)
    if unmatched is not None:
        register_household_rooms(app, name, unmatched)


def register_household_rooms(app: Flask, name: str, provider: UnmatchedProvider) -> None:
    """Add a domain's ``unmatched()`` provider (records naming no room of the registry)."""
    providers = app.extensions.setdefault(UNMATCHED_KEY, {})
    if name in providers:
        raise ValueError(f"unmatched household records {name!r} registered twice")
    providers[name] = provider


def with_unmatched(unmatched: UnmatchedProvider):
    """Decorator of a domain's records provider: attach its ``unmatched()`` provider, which
    ``register_household_records`` then registers with it."""

    def attach(provider: Provider) -> Provider:
        provider.unmatched = unmatched
        return provider

    return attach


# The most records of one domain the unmatched list shows (newest first).
UNMATCHED_LIMIT = 500


def no_registry_room(building, unit, room):
    """SQL for a domain's query: its building/unit/room columns name no 住宅 of the current
    community's registry."""
    return ~exists().where(
        HouseholdRoom.community == community_key(),
        HouseholdRoom.kind == RESIDENCE,
        HouseholdRoom.building == building,
        HouseholdRoom.unit == unit,
        HouseholdRoom.number == room,
    )


def records_for(building: int, unit: int, room: str) -> list[HouseholdRecord]:
    """Every registered domain's records of the room, newest first."""
    found = [
        record
        for provider in current_app.extensions.get(EXTENSION_KEY, {}).values()
        for record in provider(building, unit, room)
    ]
    return sorted(found, key=lambda r: (r.filed_on, r.reference), reverse=True)


def unmatched_records() -> list[UnmatchedRecord]:
    """Every registered domain's records whose room the registry does not have, newest first."""
    found = [
        record
        for provider in current_app.extensions.get(UNMATCHED_KEY, {}).values()
        for record in provider()
    ]
    return sorted(found, key=lambda r: (r.filed_on, r.reference), reverse=True)
