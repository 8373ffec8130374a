"""Whose area a checked item is in: the cleaning standard's areas and the staff organisation's.

The organisation gives each 保洁 areas by name (accounts/organisation.py: the buildings'
"3号楼", the public areas, the car parks). An inspection names a building, or none (公共区域),
and the standard's areas it checked (大堂, 地下室 …). They meet like this:

- an inspection with a building is that building's area, whichever of the standard's areas
  it checked (the building's 大堂, 楼层, 电梯轿厢 — and its 天面 when the inspector named it);
- an area of the standard checked without a building belongs to the organisation's areas the
  community lists for it (``cleaning.public_areas`` in the community file: 地下室 → the car
  parks, in the example); one the community does not list belongs to no 保洁's area, and the
  保洁主管, who answers for every area, records its 整改.

The same community block may set ``rectify_hours``: how soon a failed item is to be put right
(整改时限). The seed gives no such time; without the setting no deadline is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import false, or_, true

from ..accounts.models import StaffUser
from ..accounts.organisation import load_organisation
from ..accounts.permissions import allowed
from ..core.community import Community, CommunityDataError, current_community
from .checklist import checklist
from .models import CleaningInspection, CleaningResult

# Checked inside the views: whoever holds it answers for every area (the 保洁主管, and those
# who inspect); a 保洁 only for the areas the organisation gives them.
ALL_AREAS = "cleaning.all_areas"


@dataclass(frozen=True)
class CleaningSettings:
    # Area id of the standard (inspected without a building) → the organisation's areas.
    public_areas: dict[str, tuple[str, ...]]
    rectify_hours: int | None


def _block(data: Community) -> dict:
    block = data.get("cleaning") or {}
    return block if isinstance(block, dict) else {}


def load_settings(data: Community) -> CleaningSettings:
    """Read and check the ``cleaning`` block; a mistake stops the app at start-up."""
    raw = data.get("cleaning")
    if raw is not None and not isinstance(raw, dict):
        raise CommunityDataError(
            f"{data.source}: cleaning 须为设置项（public_areas、rectify_hours）"
        )
    block = _block(data)
    problems = []
    standard = checklist().areas
    places = set(load_organisation(data).areas)
    mapping = block.get("public_areas") or {}
    if not isinstance(mapping, dict):
        problems.append("cleaning.public_areas 须为「检查标准的区域 id: [组织架构中的区域]」")
        mapping = {}
    public_areas = {}
    for area_id, names in mapping.items():
        area = standard.get(str(area_id))
        if area is None:
            problems.append(f"cleaning.public_areas 中的 {area_id} 不是保洁检查标准的区域")
            continue
        if area.needs_building:
            problems.append(
                f"cleaning.public_areas 不能列「{area.name}」：检查{area.name}时须选择楼栋，"
                "它属于该楼栋的区域"
            )
            continue
        names = names if isinstance(names, list) else [names]
        unknown = [str(n) for n in names if str(n) not in places]
        if unknown or not names:
            problems.append(
                f"cleaning.public_areas.{area_id} 须列出组织架构中的区域（楼栋、公共区域、车场）"
                + (f"，没有：{'、'.join(unknown)}" if unknown else "")
            )
            continue
        public_areas[area.id] = tuple(dict.fromkeys(str(n) for n in names))
    hours = block.get("rectify_hours")
    if hours is not None and not (isinstance(hours, int) and not isinstance(hours, bool)):
        problems.append("cleaning.rectify_hours 须为正整数（小时）")
    elif hours is not None and hours < 1:
        problems.append("cleaning.rectify_hours 须为正整数（小时）")
    if problems:
        raise CommunityDataError(f"{data.source}: " + "；".join(problems))
    return CleaningSettings(public_areas, hours)


@lru_cache(maxsize=8)
def _settings_of(data: Community) -> CleaningSettings:
    return load_settings(data)


def settings() -> CleaningSettings:
    """The running community's cleaning settings (read once per community file)."""
    return _settings_of(current_community())


def building_label(number: int) -> str:
    found = current_community().buildings.get(number)
    return found.label if found else f"{number}号楼"


def areas_of(building: int | None, area_id: str) -> tuple[str, ...]:
    """The organisation's areas a checked item is in (empty: nobody's own area)."""
    if building:
        return (building_label(building),)
    return settings().public_areas.get(area_id, ())


def area_words(building: int | None, area_id: str) -> str:
    return "、".join(areas_of(building, area_id)) or "未分配（由保洁主管整改）"


@dataclass(frozen=True)
class Scope:
    """The checked items a person answers for: every one, or those of their areas."""

    everything: bool
    names: tuple[str, ...] = ()
    buildings: frozenset[int] = frozenset()
    public_areas: frozenset[str] = frozenset()

    def covers(self, building: int | None, area_id: str) -> bool:
        if self.everything:
            return True
        if building:
            return building in self.buildings
        return area_id in self.public_areas

    def result_condition(self):
        """SQL: a result (joined to its inspection) in the scope. The community is the scope
        hook's (core/community_scope.py), as for every inspection statement."""
        if self.everything:
            return true()
        parts = []
        if self.buildings:
            parts.append(CleaningInspection.building.in_(sorted(self.buildings)))
        if self.public_areas:
            parts.append(
                CleaningInspection.building.is_(None)
                & CleaningResult.area_id.in_(sorted(self.public_areas))
            )
        return or_(*parts) if parts else false()


def scope_of(user: StaffUser) -> Scope:
    """Whose items ``user`` sees and rectifies: everything with ``cleaning.all_areas``, else
    the areas the organisation gives them in this community."""
    if allowed(user.role, ALL_AREAS):
        return Scope(everything=True)
    community = current_community()
    names = tuple(a.area for a in user.areas if a.community == community.key)
    chosen = set(names)
    buildings = frozenset(n for n, b in community.buildings.items() if b.label in chosen)
    public = frozenset(
        area_id
        for area_id, places in settings().public_areas.items()
        if chosen.intersection(places)
    )
    return Scope(False, names, buildings, public)
