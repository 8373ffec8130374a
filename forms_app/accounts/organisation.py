"""The staff organisation: departments and their 主管, areas, shifts and the duty rota.

Departments, shifts, the departments with a rota and the areas are data of the community
(``organisation`` in the community file); who is in which department, who is its 主管, each
account's mobile and areas, and who is on duty when are records. An account's role decides
what it may do (the permissions table); its department decides whose 主管 it answers to. Role,
department and 主管 post are the account's in this community (its membership, models.py); only
the community's members are its people.

The escalation paths every domain may ask (they import this module, it imports no domain):

- ``supervisor_of(account)``: the people the account answers to — the other 主管 of its
  department, or for a 主管 the 主管 of the 管理处 (``top``); never the account itself;
- ``on_duty(department, at)``: who is on duty in a department at a moment (night shifts run
  into the next morning);
- ``members(department, area=None)``: the active members of a department, of one area too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import select

from ..core.clock import local_time, utcnow
from ..core.community import Community, CommunityDataError, current_community
from ..core.extensions import db
from ..core.refusals import Refused
from .models import DutyShift, StaffArea, StaffUser
from .roles import ROLE_LABELS

# A mainland mobile: 11 ASCII digits starting 13–19.
MOBILE = re.compile(r"1[3-9][0-9]{9}")
HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    roles: tuple[str, ...]
    head_roles: tuple[str, ...]
    dispatch: bool  # repairs and complaints can be dispatched to it (派工)
    has_areas: bool  # its members cover areas (保洁, 秩序维护)
    has_rota: bool


@dataclass(frozen=True)
class Shift:
    id: str
    label: str
    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    @property
    def hours(self) -> str:
        return f"{self.start:%H:%M}–{'次日' if self.overnight else ''}{self.end:%H:%M}"

    def span(self, day: date) -> tuple[datetime, datetime]:
        """The shift of ``day`` as local (naive) start and end."""
        start = datetime.combine(day, self.start)
        end = datetime.combine(day + timedelta(days=1) if self.overnight else day, self.end)
        return start, end


@dataclass(frozen=True)
class Organisation:
    top: str
    departments: dict[str, Department]
    shifts: dict[str, Shift]
    areas: tuple[str, ...]

    def department_of_role(self, role: str) -> list[Department]:
        return [d for d in self.departments.values() if role in d.roles]

    @property
    def rota_departments(self) -> list[Department]:
        return [d for d in self.departments.values() if d.has_rota]


def _time(text, where: str, problems: list[str]) -> time:
    if not (isinstance(text, str) and HHMM.fullmatch(text)):
        problems.append(f"{where} 须为 HH:MM 格式的时间")
        return time(0, 0)
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def load_organisation(data: Community) -> Organisation:
    """Read and check the ``organisation`` block; a mistake stops the app at start-up."""
    block = data.get("organisation") or {}
    problems: list[str] = []
    departments: dict[str, Department] = {}
    for entry in block.get("departments") or []:
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("name"):
            problems.append("organisation.departments 的每个部门须有 id 和 name")
            continue
        roles = tuple(entry.get("roles") or ())
        heads = tuple(entry.get("head_roles") or ())
        unknown = [r for r in (*roles, *heads) if r not in ROLE_LABELS]
        if unknown or not roles or not heads or not set(heads) <= set(roles):
            problems.append(
                f"部门 {entry['id']} 的 roles 和 head_roles 须为已知角色，且 head_roles 在 roles 之中"
            )
        if entry["id"] in departments:
            problems.append(f"部门 id {entry['id']} 重复")
        departments[entry["id"]] = Department(
            id=str(entry["id"]),
            name=str(entry["name"]),
            roles=roles,
            head_roles=heads,
            dispatch=bool(entry.get("dispatch")),
            has_areas=bool(entry.get("areas")),
            has_rota=entry["id"] in (block.get("rota") or ()),
        )
    if not departments:
        problems.append("organisation.departments 须列出部门")
    taken = [role for d in departments.values() for role in d.roles]
    missing = [role for role in ROLE_LABELS if role not in taken]
    doubled = sorted({role for role in taken if taken.count(role) > 1})
    if missing or doubled:
        problems.append(
            "每个角色须恰好属于一个部门"
            + (f"（未归属：{'、'.join(ROLE_LABELS[r] for r in missing)}）" if missing else "")
            + (f"（重复：{'、'.join(ROLE_LABELS[r] for r in doubled)}）" if doubled else "")
        )
    top = block.get("top")
    if top not in departments:
        problems.append("organisation.top 须为其中一个部门的 id（管理处）")
    for name in block.get("rota") or ():
        if name not in departments:
            problems.append(f"organisation.rota 中的部门 {name} 不存在")
    shifts: dict[str, Shift] = {}
    for entry in block.get("shifts") or []:
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("label"):
            problems.append("organisation.shifts 的每个班次须有 id、label、start、end")
            continue
        where = f"班次 {entry['id']}"
        start = _time(entry.get("start"), f"{where} 的 start", problems)
        end = _time(entry.get("end"), f"{where} 的 end", problems)
        if start == end:
            problems.append(f"{where} 的开始和结束不能相同")
        shifts[str(entry["id"])] = Shift(str(entry["id"]), str(entry["label"]), start, end)
    if block.get("rota") and not shifts:
        problems.append("有值班表的部门须有 organisation.shifts")
    areas = (
        *(building.label for building in data.buildings.values()),
        *(str(a) for a in block.get("public_areas") or ()),
        *(str(a) for a in block.get("car_parks") or ()),
    )
    if len(set(areas)) != len(areas):
        problems.append("区域名称（楼栋、公共区域、车场）不能重复")
    if problems:
        raise CommunityDataError(f"{data.source}: " + "；".join(problems))
    return Organisation(str(top), departments, shifts, areas)


@lru_cache(maxsize=128)  # one per community
def _organisation_of(data: Community) -> Organisation:
    return load_organisation(data)


def organisation() -> Organisation:
    """The running community's organisation (read once per community file)."""
    return _organisation_of(current_community())


def department(department_id: str | None) -> Department | None:
    return organisation().departments.get(department_id or "")


def department_name(department_id: str | None) -> str:
    found = department(department_id)
    return found.name if found else "未分配部门"


def dispatch_departments() -> list[str]:
    """The names of the departments repairs and complaints are dispatched to (派工)."""
    return [d.name for d in organisation().departments.values() if d.dispatch]


def _active():
    """The community's active people (members of it: not another community's, nor 品质部)."""
    return select(StaffUser).where(StaffUser.active.is_(True), StaffUser.is_member())


def heads(department_id: str, session=None) -> list[StaffUser]:
    """The active 主管 of a department."""
    session = session or db.session
    return list(
        session.scalars(
            _active()
            .where(StaffUser.department == department_id, StaffUser.is_head.is_(True))
            .order_by(StaffUser.id)
        )
    )


def supervisor_of(account: StaffUser, session=None) -> list[StaffUser]:
    """Whom ``account`` answers to: the 主管 of its department, or, for a 主管, the 主管 of
    the 管理处. Empty for the 管理处's own 主管 (they answer to the company) and for an
    account not placed in a department yet. Never the account itself."""
    session = session or db.session
    if not account.department or department(account.department) is None:
        return []
    top = organisation().top
    if not account.is_head:
        found = [h for h in heads(account.department, session) if h.id != account.id]
        if found:
            return found
    if account.department == top and account.is_head:
        return []
    return [h for h in heads(top, session) if h.id != account.id]


def members(department_id: str, area: str | None = None, session=None) -> list[StaffUser]:
    """The active members of a department (its 主管 included), only those covering ``area``
    when one is given."""
    session = session or db.session
    query = _active().where(StaffUser.department == department_id)
    if area is not None:
        query = query.where(
            StaffUser.id.in_(
                select(StaffArea.user_id).where(
                    StaffArea.community == current_community().key, StaffArea.area == area
                )
            )
        )
    return list(session.scalars(query.order_by(StaffUser.is_head.desc(), StaffUser.id)))


def shifts_around(at: datetime) -> list[tuple[date, Shift]]:
    """The (day, shift) pairs whose time covers the local moment ``at``."""
    moment = at.replace(tzinfo=None)
    found = []
    for day in (moment.date() - timedelta(days=1), moment.date()):
        for shift in organisation().shifts.values():
            start, end = shift.span(day)
            if start <= moment < end:
                found.append((day, shift))
    return found


def on_duty(department_id: str, at: datetime | None = None, session=None) -> list[StaffUser]:
    """Who is on duty in ``department_id`` at ``at`` (local time; default now)."""
    session = session or db.session
    moment = at if at is not None else local_time(utcnow()).replace(tzinfo=None)
    pairs = shifts_around(moment)
    if not pairs:
        return []
    community = current_community().key
    found: list[StaffUser] = []
    for day, shift in pairs:
        found += session.scalars(
            _active()
            .join(DutyShift, DutyShift.user_id == StaffUser.id)
            .where(
                DutyShift.community == community,
                DutyShift.department == department_id,
                DutyShift.day == day,
                DutyShift.shift == shift.id,
            )
            .order_by(DutyShift.id)
        )
    return list(dict.fromkeys(found))


class PlacementRefused(Refused):
    """A change of the organisation that cannot be made (message and field)."""


def _heads_after(session, department_id: str, leaving: StaffUser) -> list[StaffUser]:
    return [h for h in heads(department_id, session) if h.id != leaving.id]


def _others_in(session, department_id: str, leaving: StaffUser) -> int:
    return sum(1 for m in members(department_id, session=session) if m.id != leaving.id)


def check_leaving(session, user: StaffUser, new_department: str | None, new_head: bool) -> None:
    """Refuse a change that would leave the user's department (or the 管理处, for the heads of
    other departments) with members but no 主管: nobody to escalate to."""
    old = user.department
    if not old or not user.is_head or not user.active:
        return
    if new_department == old and new_head:
        return
    found = department(old)
    if found is None:
        return
    others = _others_in(session, old, user)
    if others and not _heads_after(session, old, user):
        raise PlacementRefused(
            f"「{found.name}」还有 {others} 名员工，不能没有主管：请先把另一位设为该部门主管。",
            "is_head",
        )
    top = organisation().top
    if old == top and not _heads_after(session, top, user):
        led = [
            d.name
            for d in organisation().departments.values()
            if d.id != top and any(h.id != user.id for h in heads(d.id, session))
        ]
        if led:
            raise PlacementRefused(
                f"{'、'.join(led)}的主管要向{found.name}主管汇报，"
                f"不能没有{found.name}主管：请先把另一位经理设为{found.name}主管。",
                "is_head",
            )


def check_placement(
    session,
    user: StaffUser,
    department_id: str | None,
    is_head: bool,
    role: str | None = None,
) -> None:
    """Refuse a placement the organisation cannot hold: a department that does not take the
    role, a 主管 whose role may not lead it, or a person who would have nobody to answer to
    (a person is never their own supervisor)."""
    role = role or user.role
    if not department_id:
        if is_head:
            raise PlacementRefused("请先选择部门，再设为主管。", "department")
        check_leaving(session, user, None, False)
        return
    found = department(department_id)
    if found is None:
        raise PlacementRefused("请从列表中选择部门。", "department")
    if role not in found.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in found.roles)
        raise PlacementRefused(
            f"「{ROLE_LABELS.get(role, role)}」不能分到「{found.name}」：该部门的角色为{allowed}。",
            "department",
        )
    if is_head and role not in found.head_roles:
        allowed = "、".join(ROLE_LABELS[r] for r in found.head_roles)
        raise PlacementRefused(f"「{found.name}」的主管须为{allowed}。", "is_head")
    check_leaving(session, user, department_id, is_head)
    top = organisation().top
    if is_head and department_id == top:
        return  # the 管理处's 主管 answer to the company
    if not is_head and _heads_after(session, department_id, user):
        return
    if not is_head:
        raise PlacementRefused(
            f"「{found.name}」还没有主管：请先为该部门设置主管，再把员工分到这里。", "department"
        )
    if not _heads_after(session, top, user):
        top_name = organisation().departments[top].name
        raise PlacementRefused(
            f"{top_name}还没有主管：部门主管要向{top_name}主管汇报，请先把一位经理设为{top_name}主管。",
            "is_head",
        )


def check_mobile(raw: str) -> str | None:
    """A mainland mobile (11 digits, 13–19), or None for an empty field."""
    mobile = (raw or "").strip().replace(" ", "").replace("-", "")
    if not mobile:
        return None
    if not MOBILE.fullmatch(mobile):
        raise PlacementRefused("请填写 11 位大陆手机号，如 13800138000。", "mobile")
    return mobile


def check_areas(department_id: str | None, chosen: list[str]) -> list[str]:
    found = department(department_id)
    chosen = list(dict.fromkeys(a for a in chosen if a))
    if not chosen:
        return []
    if found is None or not found.has_areas:
        raise PlacementRefused("只有保洁、秩序维护等部门的员工负责区域。", "areas")
    unknown = [a for a in chosen if a not in organisation().areas]
    if unknown:
        raise PlacementRefused("请从列表中选择区域。", "areas")
    return chosen


def placement_values(user: StaffUser) -> dict:
    return {
        "department": user.department or "",
        "is_head": user.is_head,
        "mobile": user.mobile or "",
        "areas": [a.area for a in user.areas],
    }
