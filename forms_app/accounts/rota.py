"""The duty rota (值班表): who is on duty for which shift of which day, per department.

Only the departments listed in ``organisation.rota`` of the community file have a rota; the
shifts are the community's ``organisation.shifts`` (a night shift runs into the next
morning). ``organisation.on_duty`` answers "who is on duty now" for every domain; this module
reads and changes the rota:

- ``rota_week(monday)``: per rota department, per day, per shift, the people on the rota;
- ``add_shift`` / ``remove_shift``: the 经理's changes, each refused with a Chinese message
  tied to its form field (``RotaRefused``) when it cannot be;
- ``copy_previous_week``: last week's rota into this week, entries that would be refused
  skipped and counted;
- ``gaps(start_day, days)``: the shifts nobody (active) is on, for the 经理's home.

Days that may be changed: from ``DAYS_BACK`` days before today (a swap made last week is
still put on record) to ``DAYS_AHEAD`` days after it (a year's planning); older entries stay
as the record of who was on duty. Every query and row carries the community key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..core.clock import today
from ..core.community import community_key
from ..core.extensions import db
from ..core.refusals import Refused
from .audit import record_audit
from .models import DutyShift, StaffUser, actor_label
from .organisation import Department, Shift, department_name, organisation

DAYS_BACK = 31  # the rota of the last month may still be corrected
DAYS_AHEAD = 366  # and planned up to a year ahead
WEEKDAYS = "一二三四五六日"
HOME_LIST = 8  # gaps listed on the 经理's home; the rest are counted
MAX_CREATED_BY = DutyShift.__table__.c.created_by.type.length


class RotaRefused(Refused):
    """A change of the rota that cannot be made; ``field`` is the form field it concerns
    (department, day, shift, user, or entry for a removal)."""


def week_of(day: date) -> date:
    """The Monday of the week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def day_label(day: date) -> str:
    """5月11日 周一."""
    return f"{day.month}月{day.day}日 周{WEEKDAYS[day.weekday()]}"


def week_label(monday: date) -> str:
    """2026-05-11 至 2026-05-17."""
    return f"{monday.isoformat()} 至 {(monday + timedelta(days=6)).isoformat()}"


@dataclass
class RotaCell:
    """One shift of one day in one department's rota: the people on it."""

    day: date
    shift: Shift
    entries: list[DutyShift] = field(default_factory=list)

    @property
    def gap(self) -> bool:
        """Nobody on duty: no entry of an active account."""
        return not any(entry.user.active for entry in self.entries)


@dataclass
class RotaDay:
    day: date
    cells: list[RotaCell]

    @property
    def label(self) -> str:
        return day_label(self.day)


@dataclass
class DepartmentWeek:
    """A rota department's week: a row per day, a cell per shift; ``others`` holds the
    entries of shifts no longer in the community file (shown so they can be removed)."""

    department: Department
    days: list[RotaDay]
    others: list[DutyShift] = field(default_factory=list)

    @property
    def gap_count(self) -> int:
        return sum(cell.gap for row in self.days for cell in row.cells)


@dataclass(frozen=True)
class Gap:
    """A shift of a day with nobody on duty in a rota department."""

    day: date
    department: Department
    shift: Shift

    @property
    def day_label(self) -> str:
        return day_label(self.day)


@dataclass
class CopyResult:
    copied: int = 0
    skipped: list[str] = field(default_factory=list)  # why each skipped entry was, in Chinese


def rota_week(monday: date, session=None) -> list[DepartmentWeek]:
    """The rota of the week starting ``monday`` for every rota department (in the order of
    the community file), with the people of each shift in the order they were added."""
    session = session or db.session
    org = organisation()
    departments = org.rota_departments
    days = [monday + timedelta(days=offset) for offset in range(7)]
    entries = session.scalars(
        select(DutyShift)
        .options(joinedload(DutyShift.user))
        .where(
            DutyShift.community == community_key(),
            DutyShift.day >= days[0],
            DutyShift.day <= days[-1],
            DutyShift.department.in_([d.id for d in departments]),
        )
        .order_by(DutyShift.day, DutyShift.id)
    ).all()
    weeks = []
    for department in departments:
        cells = {
            (day, shift.id): RotaCell(day, shift) for day in days for shift in org.shifts.values()
        }
        week = DepartmentWeek(
            department,
            [
                RotaDay(day, [cells[(day, shift.id)] for shift in org.shifts.values()])
                for day in days
            ],
        )
        for entry in entries:
            if entry.department != department.id:
                continue
            cell = cells.get((entry.day, entry.shift))
            if cell is None:
                week.others.append(entry)
            else:
                cell.entries.append(entry)
        weeks.append(week)
    return weeks


def gaps(start_day: date, days: int = 7, session=None) -> list[Gap]:
    """Every (day, rota department, shift) from ``start_day`` for ``days`` days that no active
    account is on, by day, then department and shift in the community file's order."""
    session = session or db.session
    org = organisation()
    departments = org.rota_departments
    if not departments or not org.shifts or days <= 0:
        return []
    end_day = start_day + timedelta(days=days - 1)
    covered = set(
        session.execute(
            select(DutyShift.day, DutyShift.department, DutyShift.shift)
            .join(StaffUser, StaffUser.id == DutyShift.user_id)
            .where(
                DutyShift.community == community_key(),
                DutyShift.day >= start_day,
                DutyShift.day <= end_day,
                StaffUser.active.is_(True),
            )
            .distinct()
        ).all()
    )
    found = []
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        for department in departments:
            for shift in org.shifts.values():
                if (day, department.id, shift.id) not in covered:
                    found.append(Gap(day, department, shift))
    return found


def gaps_home_figures(_user, day: date) -> dict | None:
    """The 经理's home panel: the shifts with nobody on duty in the next 7 days (from
    ``day``); None when every shift has someone."""
    found = gaps(day, 7)
    if not found:
        return None
    return {"gaps": found[:HOME_LIST], "count": len(found)}


def _check_day(day: date | None) -> date:
    if day is None:
        raise RotaRefused("请选择日期。", "day")
    now = today()
    if day < now - timedelta(days=DAYS_BACK):
        raise RotaRefused(
            f"{day_label(day)}（{day.isoformat()}）已超过 {DAYS_BACK} 天，值班记录不能再修改。",
            "day",
        )
    if day > now + timedelta(days=DAYS_AHEAD):
        raise RotaRefused(
            f"最多只能提前一年排班，{day.isoformat()} 太远了。",
            "day",
        )
    return day


def _rota_department(department_id: str | None) -> Department:
    found = organisation().departments.get(department_id or "")
    if found is None:
        raise RotaRefused("请从列表中选择部门。", "department")
    if not found.has_rota:
        raise RotaRefused(f"{found.name}没有值班表。", "department")
    return found


def _member(session, department: Department, user) -> StaffUser:
    if isinstance(user, int):
        user = session.get(StaffUser, user)
    if user is None or user.membership() is None:  # none, or another community's
        raise RotaRefused("请选择值班人员。", "user")
    if not user.active:
        raise RotaRefused(f"{user.name}的账号已停用，不能排班。", "user")
    if user.department != department.id:
        raise RotaRefused(
            f"{user.name}不是{department.name}的成员（现属{department_name(user.department)}），"
            f"不能排入{department.name}的值班表。",
            "user",
        )
    return user


def _check_overlap(session, department: Department, day: date, shift: Shift, user) -> None:
    """Refuse when ``user`` is already on this shift, or on any shift (of any department)
    whose time overlaps it: a night shift of the day before runs into this morning."""
    community = community_key()
    start, end = shift.span(day)
    shifts = organisation().shifts
    # A shift lasts less than a day, so only the day before and after can reach this one.
    nearby = session.scalars(
        select(DutyShift)
        .where(
            DutyShift.community == community,
            DutyShift.user_id == user.id,
            DutyShift.day >= day - timedelta(days=1),
            DutyShift.day <= day + timedelta(days=1),
        )
        .order_by(DutyShift.day, DutyShift.id)
    ).all()
    for entry in nearby:
        if entry.department == department.id and entry.day == day and entry.shift == shift.id:
            raise RotaRefused(
                f"{user.name}已排在{day_label(day)}的{shift.label}，无需重复添加。", "user"
            )
    for entry in nearby:
        other = shifts.get(entry.shift)
        if other is None:
            continue
        other_start, other_end = other.span(entry.day)
        if other_start < end and start < other_end:
            raise RotaRefused(
                f"{user.name}已排{day_label(entry.day)}{department_name(entry.department)}的"
                f"{other.label}（{other.hours}），与{day_label(day)}{shift.label}"
                f"（{shift.hours}）时间重叠，同一人不能同时值两个班。",
                "shift",
            )


def _add(session, department_id, day, shift_id, user, actor) -> DutyShift:
    department = _rota_department(department_id)
    day = _check_day(day)
    shift = organisation().shifts.get(shift_id or "")
    if shift is None:
        raise RotaRefused("请从列表中选择班次。", "shift")
    user = _member(session, department, user)
    _check_overlap(session, department, day, shift, user)
    entry = DutyShift(
        community=community_key(),
        department=department.id,
        day=day,
        shift=shift.id,
        user_id=user.id,
        created_by=actor_label(actor)[:MAX_CREATED_BY] if actor else "",
    )
    session.add(entry)
    session.flush()
    return entry


def _describe(entry: DutyShift) -> str:
    """秩序维护部 2026-05-11 夜班."""
    shift = organisation().shifts.get(entry.shift)
    return (
        f"{department_name(entry.department)} {entry.day.isoformat()} "
        f"{shift.label if shift else entry.shift}"
    )


def add_shift(session, department_id, day, shift_id, user, actor) -> DutyShift:
    """Put ``user`` (an account or its id) on the rota of ``department_id`` for the shift
    ``shift_id`` of ``day``, inside the caller's write transaction, with its audit entry.

    Raises ``RotaRefused`` (nothing added) when the department has no rota, the day is out
    of range, the shift is unknown, the person is not an active member of the department,
    is already on that shift, or is on another shift whose time overlaps it."""
    entry = _add(session, department_id, day, shift_id, user, actor)
    record_audit(
        "rota.add",
        target=_describe(entry),
        detail=actor_label(entry.user),
        actor=actor,
    )
    return entry


def remove_shift(session, entry_id: int | None, actor) -> str:
    """Take an entry off the rota (inside the caller's write transaction, audited); returns
    what was removed, in words. Refused when it no longer exists or is older than
    ``DAYS_BACK`` days."""
    entry = session.get(DutyShift, entry_id) if entry_id else None
    if entry is None or entry.community != community_key():
        raise RotaRefused("这条值班已不在值班表上（可能刚被删除），请刷新页面。", "entry")
    if entry.day < today() - timedelta(days=DAYS_BACK):
        raise RotaRefused(
            f"{entry.day.isoformat()} 已超过 {DAYS_BACK} 天，值班记录留作记录，不能删除。",
            "entry",
        )
    target, person = _describe(entry), actor_label(entry.user)
    session.delete(entry)
    session.flush()
    record_audit("rota.remove", target=target, detail=person, actor=actor)
    return f"{person} · {target}"


def copy_previous_week(session, monday: date, actor) -> CopyResult:
    """Copy the rota of the week before ``monday`` into the week of ``monday`` for every rota
    department (inside the caller's write transaction, one audit entry). An entry that would
    be refused now (the person disabled or moved to another department, an overlap, already
    on the rota, the day out of range, the shift gone) is skipped and its reason kept."""
    monday = week_of(monday)
    source = monday - timedelta(days=7)
    rota_ids = [d.id for d in organisation().rota_departments]
    entries = session.scalars(
        select(DutyShift)
        .options(joinedload(DutyShift.user))
        .where(
            DutyShift.community == community_key(),
            DutyShift.day >= source,
            DutyShift.day < monday,
            DutyShift.department.in_(rota_ids),
        )
        .order_by(DutyShift.day, DutyShift.id)
    ).all()
    order = {department_id: index for index, department_id in enumerate(rota_ids)}
    entries.sort(key=lambda e: (order[e.department], e.day, e.id))
    result = CopyResult()
    for entry in entries:
        day = entry.day + timedelta(days=7)
        try:
            # A savepoint per entry: on PostgreSQL the same entry added meanwhile by another
            # request is skipped, not the whole copy rolled back.
            with session.begin_nested():
                _add(session, entry.department, day, entry.shift, entry.user, actor)
        except RotaRefused as refusal:
            result.skipped.append(refusal.message)
        except IntegrityError:
            result.skipped.append(f"{actor_label(entry.user)} 已在 {day.isoformat()} 的值班表上。")
        else:
            result.copied += 1
    record_audit(
        "rota.copy",
        target=f"{week_label(monday)}",
        detail=f"从 {week_label(source)} 复制 {result.copied} 条，跳过 {len(result.skipped)} 条",
        actor=actor,
    )
    return result
