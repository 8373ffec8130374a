"""The renovation rules and community limits the form enforces, read from the data files."""
from __future__ import annotations

from functools import lru_cache

from flask import current_app

from ..community import Community, cached_community, cached_data

# Handbook sections the form links back to (headings written by the handbook pages).
DOCUMENTS_URL = "/owner/renovation/#所需资料"
PROHIBITIONS_URL = "/owner/renovation/rules/#禁止行为"
RULES_PAGE_URL = "/owner/renovation/rules/"


def renovation_rules() -> dict:
    """``data/renovation_rules.yml``: documents, acknowledgments, work items, prohibited changes."""
    return cached_data("renovation_rules.yml")


def community() -> Community:
    return cached_community(current_app.config["COMMUNITY_FILE"])


def work_item_names() -> dict[str, str]:
    return {item["id"]: item["name"] for item in renovation_rules()["work_items"]}


def prohibited_changes() -> dict[str, dict]:
    return {change["id"]: change for change in renovation_rules()["prohibited_changes"]}


def prohibited_change_url(change: dict) -> str:
    """The handbook heading (``### <title>``) that explains one prohibited change."""
    return f"{RULES_PAGE_URL}#{change['title']}"


def acknowledgment_url(acknowledgment_id: str) -> str:
    """Where the owner reads what an acknowledgment accepts."""
    return PROHIBITIONS_URL if acknowledgment_id == "prohibitions" else DOCUMENTS_URL


def room_directory(data: Community) -> dict[str, dict]:
    """Units and rooms per building, for the room selects and their filtering script."""
    return {
        str(number): {"units": building.units, "rooms": building.rooms()}
        for number, building in sorted(data.buildings.items())
    }


@lru_cache(maxsize=8)
def room_choices(data: Community) -> dict[str, list[tuple[str, str]]]:
    """Options of the building, unit and room selects (all rooms of all buildings, so the
    form works without script; the script narrows them to the chosen building)."""
    empty = [("", "请选择")]
    max_units = max(b.units for b in data.buildings.values())
    all_rooms = sorted({r for b in data.buildings.values() for r in b.rooms()}, key=int)
    return {
        "building": empty + [(str(n), b.label) for n, b in sorted(data.buildings.items())],
        "unit": empty + [(str(u), f"{u}单元") for u in range(1, max_units + 1)],
        "room": empty + [(r, r) for r in all_rooms],
    }
