"""The communities' data (``data/communities/<id>.yml``), read by both the handbook build and
the app.

One loader so that the site and the forms agree on buildings, rooms, entrances, hours and
deposits. Everything that differs per community lives in its one file; a deployment serves every
file of ``data/communities/`` (``COMMUNITIES_DIR``), or only ``COMMUNITY_FILE`` when that is set.
A request belongs to the community whose ``hosts`` name the host it was sent to, else to the
first community (by file name): ``current_community()`` answers it everywhere.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"
COMMUNITIES_DIR = DATA_DIR / "communities"
# The first example community: the one file a single-community run (``COMMUNITY_FILE``) and the
# tests start from.
DEFAULT_COMMUNITY_FILE = COMMUNITIES_DIR / "shanshui.yml"

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
    def hosts(self) -> tuple[str, ...]:
        """The host names (lower case, no port) this community is reached at."""
        return tuple(str(host).strip().lower() for host in self.raw.get("hosts") or ())

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


def community_files(directory: str | Path | None = None) -> list[str]:
    """Every community file of a deployment: the ``*.yml`` of ``directory`` (else
    ``data/communities/``), by file name; the first is the default community."""
    folder = Path(directory or COMMUNITIES_DIR)
    return [str(path) for path in sorted(folder.glob("*.yml"))]


def deployment_files(named: str | None, directory: str | Path | None) -> list[str]:
    """The community files a deployment serves: ``named`` (``COMMUNITY_FILE``) alone when set,
    else every file of ``directory`` (``COMMUNITIES_DIR``); the app and ``make site`` agree."""
    return [str(named)] if named else community_files(directory)


@lru_cache(maxsize=8)
def communities_of(files: tuple[str, ...]) -> dict[str, Community]:
    """{key: community} of the deployment's files, checked together: two files with one key,
    or one host name in two files, stop the start with both files named."""
    found: dict[str, Community] = {}
    hosts: dict[str, Community] = {}
    for path in files:
        community = cached_community(path)
        if community.key in found:
            raise CommunityDataError(
                f"{path} 与 {found[community.key].source} 的 id 相同（{community.key}）："
                "每个小区的 id 须不同。"
            )
        found[community.key] = community
        for host in community.hosts:
            if host in hosts:
                raise CommunityDataError(
                    f"{path} 与 {hosts[host].source} 都列出了域名 {host}：一个域名只属于一个小区。"
                )
            hosts[host] = community
    return found


@lru_cache(maxsize=8)
def _host_map(files: tuple[str, ...]) -> dict[str, Community]:
    return {host: c for c in communities_of(files).values() for host in c.hosts}


def deployment_communities() -> dict[str, Community]:
    """{key: community} of every community the running app serves (``COMMUNITY_FILES``)."""
    from flask import current_app

    return communities_of(tuple(current_app.config["COMMUNITY_FILES"]))


def served_communities(app) -> list[Community]:
    """Every community ``app`` serves (its start-up checks read each one's settings)."""
    return list(communities_of(tuple(app.config["COMMUNITY_FILES"])).values())


# The community a command, a scan or a test acts in (``acting_in``), ahead of the request's.
_acting: ContextVar[Community | None] = ContextVar("acting_community", default=None)


@contextmanager
def acting_in(community: Community):
    """Run the block as the given community's: its records, its settings (a command or a
    scan going over every community in turn)."""
    token = _acting.set(community)
    try:
        yield community
    finally:
        _acting.reset(token)


def community_for_host(host: str) -> Community:
    """The community a request sent to ``host`` (``name`` or ``name:port``) belongs to: the one
    listing that name, else the default (``COMMUNITY_FILE``, the first)."""
    from flask import current_app

    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    found = _host_map(tuple(current_app.config["COMMUNITY_FILES"])).get(name.lower())
    return found or cached_community(current_app.config["COMMUNITY_FILE"])


def current_community() -> Community:
    """The community of what runs now: the one ``acting_in`` names, else the request's (by the
    host it was sent to), else the app's default (``COMMUNITY_FILE``). The one accessor views,
    records and settings use."""
    from flask import current_app, g, has_request_context, request

    chosen = _acting.get()
    if chosen is not None:
        return chosen
    if has_request_context():
        found = g.get("_community")
        if found is None:
            found = g._community = community_for_host(request.host)
        return found
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
