"""Where a notice applies — the whole community, some buildings, some units — read from a
form, written for people ("3号楼、5号楼"), and matched against a household's room.

One rule decides whether a notice concerns a room (``concerns``), and the list of households
to message is the registry's households that rule lets through, so a notice for building 3 is
never shown to, labelled for or sent to building 5.
"""

from __future__ import annotations

import re

from ..core.community import current_community
from ..households.registry import registered_households
from .models import BUILDINGS, COMMUNITY, UNITS

SCOPE_KINDS = {COMMUNITY: "全小区", BUILDINGS: "指定楼栋", UNITS: "指定单元"}
UNIT_KEY = re.compile(r"([0-9]{1,3})-([0-9]{1,2})")


class ScopeError(ValueError):
    """A scope that cannot be: the Chinese message."""


def unit_choices() -> list[tuple[str, str]]:
    """Every unit of the community: ("3-1", "3号楼1单元")."""
    return [
        (f"{b.number}-{u}", f"{b.number}号楼{u}单元")
        for b in current_community().buildings.values()
        for u in range(1, b.units + 1)
    ]


def building_choices() -> list[tuple[int, str]]:
    return [(b.number, b.label) for b in current_community().buildings.values()]


def read_scope(scope_kind: str, buildings: list[str], units: list[str]) -> list:
    """The scope list for ``scope_kind`` from the form's ticked boxes, checked."""
    community = current_community()
    if scope_kind == COMMUNITY:
        return []
    if scope_kind == BUILDINGS:
        numbers = set()
        for raw in buildings:
            raw = str(raw).strip()
            if not re.fullmatch(r"[0-9]{1,3}", raw) or int(raw) not in community.buildings:
                raise ScopeError("所选楼栋不在本小区，请重新选择。")
            numbers.add(int(raw))
        if not numbers:
            raise ScopeError("请选择公告适用的楼栋（至少一栋），或选“全小区”。")
        return sorted(numbers)
    if scope_kind == UNITS:
        keys = set()
        for raw in units:
            match = UNIT_KEY.fullmatch(str(raw).strip())
            building = community.buildings.get(int(match.group(1))) if match else None
            if building is None or not 1 <= int(match.group(2)) <= building.units:
                raise ScopeError("所选单元不在本小区，请重新选择。")
            keys.add((int(match.group(1)), int(match.group(2))))
        if not keys:
            raise ScopeError("请选择公告适用的单元（至少一个），或选“全小区”。")
        return [f"{b}-{u}" for b, u in sorted(keys)]
    raise ScopeError("请选择公告适用的范围：全小区、指定楼栋或指定单元。")


def _units(scope: list) -> list[tuple[int, int]]:
    return [(int(b), int(u)) for b, u in (str(key).split("-") for key in scope)]


def scope_label(scope_kind: str, scope: list) -> str:
    """ "全小区", "3号楼、5号楼", "3号楼1单元、2单元、5号楼1单元"."""
    if scope_kind == COMMUNITY:
        return "全小区"
    if scope_kind == BUILDINGS:
        return "、".join(f"{b}号楼" for b in scope)
    parts, last = [], None
    for building, unit in _units(scope):
        parts.append(f"{unit}单元" if building == last else f"{building}号楼{unit}单元")
        last = building
    return "、".join(parts)


def scope_buildings(scope_kind: str, scope: list) -> list[int] | None:
    """The buildings a notice concerns; None for the whole community."""
    if scope_kind == COMMUNITY:
        return None
    if scope_kind == BUILDINGS:
        return sorted(int(b) for b in scope)
    return sorted({b for b, _ in _units(scope)})


def concerns(scope_kind: str, scope: list, building: int | None, unit: int | None) -> bool:
    """True when a notice with this scope concerns the room in ``building``/``unit``."""
    if scope_kind == COMMUNITY:
        return True
    if building is None:
        return False
    if scope_kind == BUILDINGS:
        return building in {int(b) for b in scope}
    return (building, unit) in set(_units(scope))


def households_in_scope(scope_kind: str, scope: list) -> list:
    """The registered households (``registry.Household``) the scope concerns."""
    buildings = scope_buildings(scope_kind, scope)
    found = registered_households()
    if buildings is None:
        return found
    return [h for h in found if concerns(scope_kind, scope, h.building, h.unit)]
