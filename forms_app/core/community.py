"""The community data (``data/community.yml``), read by both the handbook build and the app.

One loader so that the site and the forms agree on buildings, rooms, entrances, hours and
deposits. Everything that differs per community lives in that one file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_COMMUNITY_FILE = DATA_DIR / "community.yml"

# Shown on every handbook page and every app page while an example community file is in use:
# its amounts, phone number, hours and sizes are not in the source documents.
# libyaml's parser where PyYAML was built with it (the wheels are): the same data as
# ``yaml.safe_load``, several times faster (every process reads the data files at start-up).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(stream):
    """``yaml.safe_load`` on libyaml's parser where PyYAML has it."""
    return yaml.load(stream, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


EXAMPLE_NOTICE = "示例小区：金额、电话、时间、尺寸等为演示数据，不是本小区的实际规定。"


class CommunityDataError(ValueError):
    """The community file is missing something the product relies on."""


class ExampleCommunityInProduction(RuntimeError):
    """Production (HTTPS=1) was started on the example community file."""


def refuse_example_in_production(community: Community, https: bool) -> None:
    """Stop a production start on the example file: owners would read its invented values."""
    if https and community.example:
        raise ExampleCommunityInProduction(
            f"{community.source} 是示例小区数据（example: true），其中的金额、电话、时间等为演示数据，"
            "不能用于正式运行（HTTPS=1）。请复制该文件，改成本小区的实际数据并删除 example 一行，"
            "再设置 COMMUNITY_FILE=新文件路径 后启动。"
        )


@dataclass(frozen=True)
class Building:
    number: int
    units: int
    floors: int
    rooms_per_floor: int

    @property
    def label(self) -> str:
        return f"{self.number}号楼"

    def rooms(self) -> list[str]:
        """Room numbers of one unit: floor * 100 + index, e.g. '101', '1802'."""
        return [
            f"{floor * 100 + index}"
            for floor in range(1, self.floors + 1)
            for index in range(1, self.rooms_per_floor + 1)
        ]

    def has_room(self, unit: int, room: str) -> bool:
        return 1 <= unit <= self.units and room in self.rooms()


class Community:
    """Read-only view of the community file with the look-ups the app and the site need."""

    def __init__(self, raw: dict, source: Path):
        self.raw = raw
        self.source = source
        defaults = raw.get("building_defaults", {})
        self.buildings: dict[int, Building] = {}
        for entry in raw.get("buildings", []):
            merged = {**defaults, **entry}
            building = Building(
                number=int(merged["number"]),
                units=int(merged["units"]),
                floors=int(merged["floors"]),
                rooms_per_floor=int(merged["rooms_per_floor"]),
            )
            self.buildings[building.number] = building
        self._check()

    def _check(self) -> None:
        routed = [b for e in self.material_entrances for b in self.entrance_buildings(e)]
        missing = sorted(set(self.buildings) - set(routed))
        if missing:
            raise CommunityDataError(f"{self.source}: 以下楼栋没有指定装修材料出入口: {missing}")
        doubled = sorted({b for b in routed if routed.count(b) > 1})
        if doubled:
            raise CommunityDataError(f"{self.source}: 楼栋被指定了多个材料出入口: {doubled}")
        key = self.raw.get("id")
        if not (isinstance(key, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", key)):
            raise CommunityDataError(
                f"{self.source}: id（小区标识）须为 1–32 个小写字母、数字或连字符，如 shanshui。"
            )
        renovation = self.raw["renovation"]
        if renovation.get("max_extended_duration_days", 0) < renovation["max_duration_days"]:
            raise CommunityDataError(
                f"{self.source}: renovation.max_extended_duration_days（含延期的最长工期）"
                "须填写，且不小于 max_duration_days。"
            )

    def __getitem__(self, key):
        return self.raw[key]

    def get(self, key, default=None):
        return self.raw.get(key, default)

    @property
    def name(self) -> str:
        return self.raw["name"]

    @property
    def key(self) -> str:
        """The community key every record carries (``id`` in the file)."""
        return str(self.raw["id"])

    @property
    def example(self) -> bool:
        """True for the example community that ships: its own values are demonstration data."""
        return bool(self.raw.get("example"))

    @property
    def example_notice(self) -> str | None:
        """The notice every page shows while the example file is in use, else None."""
        return EXAMPLE_NOTICE if self.example else None

    @property
    def offices(self) -> list[dict]:
        """Where renovation procedures are handled; the service centre's entry carries its name."""
        return [
            {**office, "name": self.raw["service_center"]}
            if office.get("service_center")
            else office
            for office in self.raw["offices"]
        ]

    @property
    def service_office(self) -> dict | None:
        """The service centre's own office (owners ask there about moving in and utilities)."""
        return next((o for o in self.offices if o.get("service_center")), None)

    @property
    def material_entrances(self) -> list[dict]:
        return self.raw["material_entrances"]

    @property
    def renovation(self) -> dict:
        return self.raw["renovation"]

    @property
    def move_in(self) -> dict:
        return self.raw["move_in"]

    @staticmethod
    def entrance_buildings(entrance: dict) -> list[int]:
        """Every building routed through an entrance: the seed's and the community's own."""
        return list(entrance["buildings"]) + list(entrance.get("added_buildings") or [])

    def material_entrance_for(self, building_number: int) -> dict:
        """The entrance through which a building's renovation materials must come in."""
        for entrance in self.material_entrances:
            if building_number in self.entrance_buildings(entrance):
                return entrance
        raise KeyError(building_number)

    @property
    def added_routes(self) -> list[dict]:
        """Entrances the community gave to buildings the seed's routes do not list."""
        return [e for e in self.material_entrances if e.get("added_buildings")]

    def route_is_added(self, building_number: int) -> bool:
        """True when the building's material route is the community's own setting (not the seed's)."""
        entrance = self.material_entrance_for(building_number)
        return building_number in (entrance.get("added_buildings") or [])

    def has_room(self, building_number: int, unit: int, room: str) -> bool:
        building = self.buildings.get(building_number)
        return bool(building and building.has_room(unit, room))


def load_community(path: str | Path | None = None) -> Community:
    """Load and check the community file: ``path``, else ``$COMMUNITY_FILE``, else the default.

    The environment variable lets the handbook build (which calls this without a path) use the
    same file as the app.
    """
    source = Path(path or os.environ.get("COMMUNITY_FILE") or DEFAULT_COMMUNITY_FILE)
    with open(source, encoding="utf-8") as handle:
        raw = load_yaml(handle)
    return Community(raw, source)


@lru_cache(maxsize=8)
def cached_community(path: str) -> Community:
    """Community data cached per file path, for request handlers."""
    return load_community(path)


def current_community() -> Community:
    """The community of the running app (its ``COMMUNITY_FILE``): the one accessor views use."""
    from flask import current_app

    return cached_community(current_app.config["COMMUNITY_FILE"])


def community_key() -> str:
    """The key of the request's community, which every record it makes carries."""
    return current_community().key


def load_data(name: str):
    """Another data file of ``data/`` (rules, standards), parsed; None when it is absent."""
    path = DATA_DIR / name
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as handle:
        return load_yaml(handle)


@lru_cache(maxsize=16)
def cached_data(name: str):
    """``load_data`` cached for request handlers (data files change only with a deploy)."""
    return load_data(name)
