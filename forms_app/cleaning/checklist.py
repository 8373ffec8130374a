"""The inspection checklist, built from ``data/cleaning_standards.yml``.

Groups (室内, 外立面) hold areas, areas hold items; ids come from the data file and are what
inspections store. An item with ``same_as`` refers to another area's standard, which the
inspector sees expanded. A data file with a duplicate or missing id stops the app at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..core.community import DATA_DIR, cached_data

DATA_FILE = "cleaning_standards.yml"
# Items the seed marks （视情况） may be 不适用 where the fitting is not provided at all.
OPTIONAL_MARK = "视情况"
# Areas that belong to one building, so an inspection of them names the building. The
# others (办公区, 公共洗手间, 地下室, the façade) are named by the area itself.
BUILDING_AREAS = ("lobby", "floors", "elevator-car")


class ChecklistError(ValueError):
    """The cleaning standards file cannot be used as a checklist."""


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    same_as: str | None = None

    @property
    def optional(self) -> bool:
        """True when the standard applies only where the fitting is provided (视情况)."""
        return OPTIONAL_MARK in self.text


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    key_area: bool
    group_name: str
    items: tuple[Item, ...]

    @property
    def needs_building(self) -> bool:
        return self.id in BUILDING_AREAS


@dataclass(frozen=True)
class Group:
    id: str
    number: str
    name: str
    areas: tuple[Area, ...]


class Checklist:
    """Every group, area and item of the standards, with look-ups by id."""

    def __init__(self, groups: tuple[Group, ...]):
        self.groups = groups
        self.areas = {area.id: area for group in groups for area in group.areas}
        self.items = {item.id: (area, item) for area in self.areas.values() for item in area.items}

    def referenced(self, item: Item) -> Area | None:
        """The area whose standard a ``same_as`` item refers to."""
        return self.areas.get(item.same_as) if item.same_as else None


def _require(entry, key: str, where: str, source) -> str:
    value = entry.get(key) if isinstance(entry, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ChecklistError(f"{source}: {where} 缺少 {key}")
    return value


def build_checklist(raw, source: str | Path) -> Checklist:
    """Check the parsed data file and build the checklist; ChecklistError names the file."""
    if not isinstance(raw, dict) or not isinstance(raw.get("groups"), list):
        raise ChecklistError(f"{source}: 缺少 groups 列表（保洁服务品质检查标准）")
    seen: set[str] = set()

    def unique(identifier: str) -> str:
        if identifier in seen:
            raise ChecklistError(
                f"{source}: 编号 {identifier!r} 重复，每个区域和检查项的编号必须唯一"
            )
        seen.add(identifier)
        return identifier

    groups = []
    for group in raw["groups"]:
        group_name = _require(group, "name", "类别", source)
        areas = []
        for area in group.get("areas") or []:
            area_id = unique(str(_require(area, "id", f"「{group_name}」的区域", source)))
            name = _require(area, "name", f"区域 {area_id}", source)
            items = tuple(
                Item(
                    id=unique(str(_require(item, "id", f"「{name}」的检查项", source))),
                    text=str(_require(item, "text", f"「{name}」的检查项", source)).strip(),
                    same_as=item.get("same_as"),
                )
                for item in area.get("items") or []
            )
            if not items:
                raise ChecklistError(f"{source}: 区域「{name}」没有检查项")
            areas.append(Area(area_id, name, bool(area.get("key_area")), group_name, items))
        groups.append(
            Group(str(group.get("id", "")), str(group.get("number", "")), group_name, tuple(areas))
        )
    checklist = Checklist(tuple(groups))
    for _area, item in checklist.items.values():
        if item.same_as and item.same_as not in checklist.areas:
            raise ChecklistError(
                f"{source}: 检查项 {item.id} 的 same_as 指向不存在的区域 {item.same_as!r}"
            )
    return checklist


@lru_cache(maxsize=1)
def checklist() -> Checklist:
    """The checklist of the data file (parsed once per process, like the other data files)."""
    source = DATA_DIR / DATA_FILE
    raw = cached_data(DATA_FILE)
    if raw is None:
        raise ChecklistError(f"{source}: 文件不存在")
    return build_checklist(raw, source)
