"""一户一档: the registry's reads and changes, the one place they are made.

Rooms are seeded once from the community file (``seed_rooms``); from then on the registry is
the master every room picker and check reads. People are never deleted: 过户 and 迁出 end
their standing on a date, and every change is recorded with who made it and why
(``HouseholdChange``). All reads and writes are scoped to the current community.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import abort, has_request_context
from sqlalchemy import and_, func, insert, or_, select, update

from ..accounts.access import current_staff
from ..accounts.models import actor_label as staff_label
from ..core.clock import today
from ..core.community import Community, community_key
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.refusals import Refused
from ..events import announce
from .models import (
    OWNER,
    PERSON_ROLES,
    RESIDENCE,
    TENANT,
    UNDELIVERED,
    HouseholdChange,
    HouseholdPerson,
    HouseholdRoom,
)

COMMAND_LINE = "命令行"
# What a room number can be: 1201, S-101, B1-023.
ROOM_NUMBER = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-]{0,15}")


class RegistryRefused(Refused):
    """A change the registry refuses; ``message`` says why (to staff, in Chinese)."""


def residence_code(building: int, unit: int, number: str) -> str:
    return f"{building}-{unit}-{number}"


def actor_label() -> str:
    """Who is changing the registry: the logged-in staff member, else the command line."""
    staff = current_staff() if has_request_context() else None
    return staff_label(staff) if staff else COMMAND_LINE


# ----- rooms ---------------------------------------------------------------------------------


def community_rooms(community: Community) -> list[dict]:
    """The 住宅 rooms the community file generates (floor × 100 + index per unit)."""
    return [
        {
            "community": community.key,
            "code": residence_code(number, unit, room),
            "kind": RESIDENCE,
            "building": number,
            "unit": unit,
            "number": room,
            "handover": UNDELIVERED,
        }
        for number, building in sorted(community.buildings.items())
        for unit in range(1, building.units + 1)
        for room in building.rooms()
    ]


def seed_rooms(connection, community: Community) -> int:
    """Add the rooms of the community file the registry does not have yet; returns how many.

    Run by the migration that creates the registry and by ``flask households seed`` (a new
    building in the file). Rooms already there are never changed."""
    known = set(
        connection.execute(
            select(HouseholdRoom.code).where(HouseholdRoom.community == community.key)
        ).scalars()
    )
    rows = [row for row in community_rooms(community) if row["code"] not in known]
    if rows:
        connection.execute(insert(HouseholdRoom), rows)
    forget_residences()
    return len(rows)


def find_room(building: int | None, unit: int | None, number: str) -> HouseholdRoom | None:
    """The registry's 住宅 room at building/unit/number (None when there is none, or when
    what was typed cannot be a room number: nothing odd reaches the database)."""
    if building is None or unit is None or not ROOM_NUMBER.fullmatch(number or ""):
        return None
    return db.session.scalar(
        select(HouseholdRoom).where(
            HouseholdRoom.community == community_key(),
            HouseholdRoom.code == residence_code(building, unit, number),
        )
    )


def room_by_id(room_id: int) -> HouseholdRoom | None:
    room = db.session.get(HouseholdRoom, room_id)
    if room is None or room.community != community_key():
        return None
    return room


def room_or_404(room_id: int) -> HouseholdRoom:
    """The community's room for a page that names it; 404 for any other id (another
    community's room included)."""
    room = room_by_id(room_id)
    if room is None:
        abort(404)
    return room


# The registry's 住宅 rooms per database and community, read at most once a minute per
# process: every owner form checks its room against them, and the owner's filing path reads
# nothing before its write. Rooms are added rarely (``households seed``, a building added to
# the community file), and the process that adds them forgets its copy at once.
RESIDENCE_CACHE_SECONDS = 60
_residences: dict[tuple[str, str], tuple[float, frozenset[str], dict]] = {}


def forget_residences() -> None:
    _residences.clear()


def _cached_residences(key: str) -> tuple[frozenset[str], dict]:
    import time

    cache_key = (str(db.engine.url), key)
    cached = _residences.get(cache_key)
    now = time.monotonic()
    if cached is None or now - cached[0] > RESIDENCE_CACHE_SECONDS:
        directory = _read_residence_directory(key)
        codes = frozenset(
            residence_code(int(b), int(u), n)
            for b, entry in directory.items()
            for u, numbers in entry["rooms"].items()
            for n in numbers
        )
        cached = (now, codes, directory)
        _residences[cache_key] = cached
    return cached[1], cached[2]


def is_residence(building: int | None, unit: int | None, number: str) -> bool:
    """True when the registry has this 住宅 (from the per-process copy, see above)."""
    if building is None or unit is None or not number:
        return False
    codes, _directory = _cached_residences(community_key())
    return residence_code(building, unit, number) in codes


def residence_directory(key: str | None = None) -> dict[str, dict]:
    """Units and rooms per building of the registry's 住宅, for the room pickers:
    ``{"3": {"units": 2, "rooms": {"1": ["101", …], "2": […]}}}``."""
    return _cached_residences(key or community_key())[1]


def _read_residence_directory(key: str) -> dict[str, dict]:
    rows = db.session.execute(
        select(HouseholdRoom.building, HouseholdRoom.unit, HouseholdRoom.number)
        .where(HouseholdRoom.community == key, HouseholdRoom.kind == RESIDENCE)
        .order_by(HouseholdRoom.building, HouseholdRoom.unit, HouseholdRoom.id)
    )
    directory: dict[str, dict] = {}
    for building, unit, number in rows:
        entry = directory.setdefault(str(building), {"units": 0, "rooms": {}})
        entry["units"] = max(entry["units"], unit)
        entry["rooms"].setdefault(str(unit), []).append(number)
    return directory


def parse_area(text) -> int | None:
    """收费面积 typed or imported (89.5, "89.50", "89.5㎡") as an integer of 0.01 m²; None when
    it is not a positive number with at most two decimals."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, float):
        text = repr(text)
    value = re.sub(r"\s|㎡|m²|m2|平方米|平米", "", str(text))
    try:
        area = Decimal(value)
    except InvalidOperation:
        return None
    if not area.is_finite() or area <= 0 or area >= Decimal("100000"):
        return None
    centi = area * 100
    if centi != centi.to_integral_value():
        return None
    return int(centi)


# ----- people --------------------------------------------------------------------------------


def active_clause(day: date):
    """SQL: the person holds their rights on ``day``."""
    return and_(
        HouseholdPerson.since <= day,
        or_(HouseholdPerson.until.is_(None), HouseholdPerson.until > day),
        or_(HouseholdPerson.lease_end.is_(None), HouseholdPerson.lease_end >= day),
    )


def people_of(room_id: int) -> list[HouseholdPerson]:
    """Everyone who ever stood on the room, current first, each group oldest first."""
    rows = db.session.scalars(
        select(HouseholdPerson)
        .where(HouseholdPerson.room_id == room_id)
        .order_by(HouseholdPerson.since, HouseholdPerson.id)
    ).all()
    day = today()
    return sorted(rows, key=lambda p: not p.active_on(day))


def current_people(room_id: int, day: date | None = None) -> list[HouseholdPerson]:
    day = day or today()
    return list(
        db.session.scalars(
            select(HouseholdPerson)
            .where(HouseholdPerson.room_id == room_id, active_clause(day))
            .order_by(HouseholdPerson.role, HouseholdPerson.since, HouseholdPerson.id)
        )
    )


def registered_person(
    room: HouseholdRoom, mobile: str, roles, day: date | None = None
) -> HouseholdPerson | None:
    """The person with this mobile holding one of ``roles`` on the room today, if any."""
    day = day or today()
    return db.session.scalars(
        select(HouseholdPerson)
        .where(
            HouseholdPerson.room_id == room.id,
            HouseholdPerson.mobile == mobile,
            HouseholdPerson.role.in_(tuple(roles)),
            active_clause(day),
        )
        .order_by(HouseholdPerson.since, HouseholdPerson.id)
        .limit(1)
    ).first()


def is_registered_owner(room: HouseholdRoom, mobile: str, day: date | None = None) -> bool:
    return registered_person(room, mobile, (OWNER,), day) is not None


def registered_owner_marker(marker: str):
    """SQL for a write path that reads nothing before its write: ``marker`` when the bound
    mobile (``registry_mobile``) is a registered owner's of the bound 住宅 (``registry_code``,
    ``registry_community``) on the bound day (``registry_day``), else NULL. Bind the four
    with ``registered_owner_params``."""
    from sqlalchemy import bindparam, case, exists, literal

    day = bindparam("registry_day", type_=HouseholdPerson.since.type)
    owner = exists(
        select(HouseholdPerson.id)
        .join(HouseholdRoom, HouseholdRoom.id == HouseholdPerson.room_id)
        .where(
            HouseholdRoom.community == bindparam("registry_community"),
            HouseholdRoom.code == bindparam("registry_code"),
            HouseholdPerson.mobile == bindparam("registry_mobile"),
            HouseholdPerson.role == OWNER,
            HouseholdPerson.since <= day,
            or_(HouseholdPerson.until.is_(None), HouseholdPerson.until > day),
        )
    )
    return case((owner, literal(marker)), else_=None)


def registered_owner_params(building: int, unit: int, number: str, mobile: str) -> dict:
    return {
        "registry_community": community_key(),
        "registry_code": residence_code(building, unit, number),
        "registry_mobile": mobile,
        "registry_day": today(),
    }


def log_change(
    session,
    room_id: int,
    action: str,
    summary: str,
    *,
    person_id: int | None = None,
    reason: str = "",
    actor: str | None = None,
) -> None:
    """Record one change of the registry inside the caller's transaction."""
    session.add(
        HouseholdChange(
            community=community_key(),
            room_id=room_id,
            person_id=person_id,
            action=action,
            summary=summary,
            reason=reason,
            actor_name=actor or actor_label(),
        )
    )


def _locked_room(session, room_id: int) -> HouseholdRoom:
    """The room, row-locked on PostgreSQL (SQLite's write transaction already holds the
    database's write lock), so two changes of one household run one after the other."""
    room = session.scalar(
        select(HouseholdRoom)
        .where(HouseholdRoom.id == room_id, HouseholdRoom.community == community_key())
        .with_for_update()
    )
    if room is None:
        raise RegistryRefused("没有找到这户房屋。")
    return room


@dataclass(frozen=True)
class NewPerson:
    name: str
    mobile: str | None
    role: str
    since: date
    lease_end: date | None = None
    primary_contact: bool = False
    emergency_contact: bool = False


def _check_new_person(person: NewPerson, day: date) -> None:
    if person.role not in PERSON_ROLES:
        raise RegistryRefused("身份只能是业主、家庭成员或租户。", "role")
    if person.since > day:
        raise RegistryRefused("登记日期不能晚于今天。", "since")
    if person.role == TENANT and person.lease_end is None:
        raise RegistryRefused("租户须填写租约到期日。", "lease_end")
    if person.lease_end is not None and person.lease_end < person.since:
        raise RegistryRefused("租约到期日不能早于登记日期。", "lease_end")


def _describe(person: HouseholdPerson | NewPerson) -> str:
    role = PERSON_ROLES.get(person.role, person.role)
    return f"{role} {person.name}"


def _add(session, room: HouseholdRoom, person: NewPerson, actor: str) -> HouseholdPerson:
    row = HouseholdPerson(
        community=room.community,
        room_id=room.id,
        name=person.name,
        mobile=person.mobile or None,
        role=person.role,
        since=person.since,
        lease_end=person.lease_end if person.role == TENANT else None,
        primary_contact=False,
        emergency_contact=person.emergency_contact,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    if person.primary_contact:
        _make_primary(session, room.id, row)
    return row


def _make_primary(session, room_id: int, person: HouseholdPerson) -> None:
    session.execute(
        update(HouseholdPerson)
        .where(HouseholdPerson.room_id == room_id, HouseholdPerson.id != person.id)
        .values(primary_contact=False)
    )
    person.primary_contact = True


def add_person(room_id: int, person: NewPerson, reason: str = "") -> HouseholdPerson:
    """Register a person on a room (业主, 家庭成员 or 租户) from ``person.since``."""
    day = today()
    _check_new_person(person, day)
    actor = actor_label()
    with write_transaction() as session:
        room = _locked_room(session, room_id)
        if person.mobile and _duplicate(session, room.id, person.mobile, person.role, day):
            raise RegistryRefused("该手机号已以相同身份登记在这户。", "mobile")
        row = _add(session, room, person, actor)
        if not _has_primary(session, room.id, day):
            _make_primary(session, room.id, row)
        log_change(
            session,
            room.id,
            "person.add",
            f"登记{_describe(row)}（自 {row.since.isoformat()} 起）",
            person_id=row.id,
            reason=reason,
            actor=actor,
        )
    return row


def _duplicate(session, room_id: int, mobile: str, role: str, day: date) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(HouseholdPerson)
            .where(
                HouseholdPerson.room_id == room_id,
                HouseholdPerson.mobile == mobile,
                HouseholdPerson.role == role,
                or_(HouseholdPerson.until.is_(None), HouseholdPerson.until > day),
            )
        )
        > 0
    )


def _has_primary(session, room_id: int, day: date) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(HouseholdPerson)
            .where(
                HouseholdPerson.room_id == room_id,
                HouseholdPerson.primary_contact.is_(True),
                active_clause(day),
            )
        )
        > 0
    )


def end_person(person_id: int, on: date, reason: str, end_reason: str = "move_out") -> None:
    """迁出 (or a registration made in error): the person's rights end on ``on``."""
    day = today()
    if not reason.strip():
        raise RegistryRefused("请填写原因。", "reason")
    if on > day:
        raise RegistryRefused("迁出日期不能晚于今天。", "on")
    actor = actor_label()
    with write_transaction() as session:
        person = session.get(HouseholdPerson, person_id)
        if person is None or person.community != community_key():
            raise RegistryRefused("没有找到这位登记人员。")
        _locked_room(session, person.room_id)
        session.refresh(person)
        if person.ended_by(day):
            raise RegistryRefused(f"{person.name} 已于 {person.until} 迁出或到期，无需再办理。")
        if on < person.since:
            raise RegistryRefused(f"迁出日期不能早于登记日期（{person.since.isoformat()}）。", "on")
        person.until = on
        person.end_reason = end_reason
        was_primary = person.primary_contact
        person.primary_contact = False
        log_change(
            session,
            person.room_id,
            "person.end",
            f"{_describe(person)} {'迁出' if end_reason == 'move_out' else '登记作废'}"
            f"（{on.isoformat()} 起不再登记）",
            person_id=person.id,
            reason=reason,
            actor=actor,
        )
        if was_primary:
            _pick_primary(session, person.room_id, day)


def _pick_primary(session, room_id: int, day: date) -> None:
    """After the 主要联系人 left: the longest-standing current owner, else anyone current."""
    rest = session.scalars(
        select(HouseholdPerson)
        .where(HouseholdPerson.room_id == room_id, active_clause(day))
        .order_by((HouseholdPerson.role != OWNER), HouseholdPerson.since, HouseholdPerson.id)
        .limit(1)
    ).first()
    if rest is not None:
        rest.primary_contact = True


def last_transfer_on(session, room_id: int) -> date | None:
    """The date of the room's last 过户 (None when it never changed owner)."""
    return session.scalar(
        select(func.max(HouseholdPerson.until)).where(
            HouseholdPerson.room_id == room_id, HouseholdPerson.end_reason == "transfer"
        )
    )


def transfer(room_id: int, on: date, new_owners: list[NewPerson], reason: str) -> None:
    """过户: every current owner, family member and tenant of the room stops on ``on`` (kept in
    the history); the new owners stand from that day. Refused in the future or before the
    room's last 过户."""
    day = today()
    if not new_owners:
        raise RegistryRefused("请至少填写一位新业主。", "name")
    if not reason.strip():
        raise RegistryRefused("请填写过户原因或依据（如：房产证号、买卖合同）。", "reason")
    if on > day:
        raise RegistryRefused("过户日期不能晚于今天：请在过户当天或之后办理。", "on")
    actor = actor_label()
    with write_transaction() as session:
        room = _locked_room(session, room_id)
        last = last_transfer_on(session, room.id)
        if last is not None and on < last:
            raise RegistryRefused(f"过户日期不能早于上一次过户（{last.isoformat()}）。", "on")
        if last is not None and on == last:
            # A second 过户 the same day is a form sent twice or two desks at once.
            raise RegistryRefused(
                f"该房屋 {last.isoformat()} 已办理过户，同一天不能再办理一次；"
                "如登记有误，请将误登记的人员办理迁出（登记有误）后重新登记。",
                "on",
            )
        current = session.scalars(
            select(HouseholdPerson).where(
                HouseholdPerson.room_id == room.id,
                or_(HouseholdPerson.until.is_(None), HouseholdPerson.until > on),
            )
        ).all()
        earliest = max((p.since for p in current), default=None)
        if earliest is not None and on < earliest:
            raise RegistryRefused(
                f"过户日期不能早于现登记人员的登记日期（{earliest.isoformat()}）。", "on"
            )
        for person in current:
            person.until = on
            person.end_reason = "transfer"
            person.primary_contact = False
        session.flush()
        added = [
            _add(
                session,
                room,
                NewPerson(p.name, p.mobile, OWNER, on, primary_contact=(i == 0)),
                actor,
            )
            for i, p in enumerate(new_owners)
        ]
        before = "、".join(p.name for p in current if p.role == OWNER) or "无登记业主"
        log_change(
            session,
            room.id,
            "transfer",
            f"过户：{before} → {'、'.join(p.name for p in added)}（{on.isoformat()} 起）",
            person_id=added[0].id,
            reason=reason,
            actor=actor,
        )
        announce(
            "households.transfer",
            "household_room",
            room.id,
            room_id=room.id,
            date=on,
            old_owners=tuple(p.name for p in current if p.role == OWNER),
            new_owners=tuple(p.name for p in added),
            actor=actor,
        )


def set_contacts(room_id: int, primary_id: int, emergency_id: int | None) -> None:
    """主要联系人 (bills and notices) and an optional 紧急联系人 of the household."""
    day = today()
    actor = actor_label()
    with write_transaction() as session:
        room = _locked_room(session, room_id)
        people = {
            p.id: p
            for p in session.scalars(
                select(HouseholdPerson).where(
                    HouseholdPerson.room_id == room.id, active_clause(day)
                )
            )
        }
        primary = people.get(primary_id)
        if primary is None:
            raise RegistryRefused("主要联系人须是这户现登记的人员。", "primary")
        if primary.mobile is None:
            raise RegistryRefused("主要联系人须登记手机号（账单和通知发到该手机）。", "primary")
        if emergency_id is not None and emergency_id not in people:
            raise RegistryRefused("紧急联系人须是这户现登记的人员。", "emergency")
        _make_primary(session, room.id, primary)
        for person in people.values():
            person.emergency_contact = person.id == emergency_id
        emergency = people.get(emergency_id) if emergency_id is not None else None
        log_change(
            session,
            room.id,
            "contacts",
            f"主要联系人：{primary.name}；紧急联系人：{emergency.name if emergency else '无'}",
            actor=actor,
        )


def set_room_facts(
    room_id: int,
    charge_area_centi: int | None,
    handover: str,
    handover_on: date | None,
    reason: str,
) -> None:
    """收费面积 and the 交房 state of a room (fees use both)."""
    from .models import HANDOVER_STATES, area_text

    if handover not in HANDOVER_STATES:
        raise RegistryRefused("交房状态只能是未交房、空置或已入住。", "handover")
    if handover != UNDELIVERED and handover_on is None:
        raise RegistryRefused("请填写交房日期。", "handover_on")
    if handover_on is not None and handover_on > today():
        raise RegistryRefused("交房日期不能晚于今天。", "handover_on")
    if not reason.strip():
        raise RegistryRefused("请填写修改原因。", "reason")
    actor = actor_label()
    with write_transaction() as session:
        room = _locked_room(session, room_id)
        changes = []
        if room.charge_area_centi != charge_area_centi:
            changes.append(
                f"收费面积 {area_text(room.charge_area_centi) or '未登记'} → "
                f"{area_text(charge_area_centi) or '未登记'} ㎡"
            )
        if room.handover != handover or room.handover_on != handover_on:
            changes.append(
                f"交房状态 {room.handover_label} → {HANDOVER_STATES[handover]}"
                + (f"（{handover_on.isoformat()}）" if handover_on else "")
            )
        if not changes:
            return
        room.charge_area_centi = charge_area_centi
        room.handover = handover
        room.handover_on = handover_on if handover != UNDELIVERED else None
        log_change(session, room.id, "room", "；".join(changes), reason=reason, actor=actor)


# ----- finding a household -------------------------------------------------------------------

ROOM_QUERY = re.compile(
    r"(?P<b>\d{1,3})\s*(?:号楼|栋|幢|号|-|#)\s*(?P<u>\d{1,2})\s*(?:单元|-)\s*(?P<r>\d{2,5})\s*室?"
)


@dataclass(frozen=True)
class Found:
    room: HouseholdRoom
    people: list[HouseholdPerson]


def search(query: str, limit: int = 50) -> list[Found]:
    """Households by room ("3-1-1201", "3号楼1单元1201", "1201", "S-101"), by a name (or part
    of one) or by the last digits of a mobile (4 or more digits)."""
    query = re.sub(r"\s+", "", query or "")
    if not query:
        return []
    key = community_key()
    day = today()
    rooms = select(HouseholdRoom.id).where(HouseholdRoom.community == key)
    matched = ROOM_QUERY.fullmatch(query)
    if matched:
        code = residence_code(int(matched["b"]), int(matched["u"]), matched["r"])
        room_ids = rooms.where(HouseholdRoom.code == code)
    elif query.isdigit() and len(query) >= 4:
        # A room number or a mobile's last digits.
        by_mobile = select(HouseholdPerson.room_id).where(
            HouseholdPerson.community == key,
            HouseholdPerson.mobile.like(f"%{query}"),
            active_clause(day),
        )
        room_ids = rooms.where(or_(HouseholdRoom.number == query, HouseholdRoom.id.in_(by_mobile)))
    elif query.isdigit() or re.fullmatch(r"[A-Za-z0-9\-]+", query):
        room_ids = rooms.where(
            or_(HouseholdRoom.number == query.upper(), HouseholdRoom.code == query.upper())
        )
    else:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        by_name = select(HouseholdPerson.room_id).where(
            HouseholdPerson.community == key,
            HouseholdPerson.name.like(f"%{escaped}%", escape="\\"),
            active_clause(day),
        )
        room_ids = rooms.where(HouseholdRoom.id.in_(by_name))
    found = db.session.scalars(
        select(HouseholdRoom)
        .where(HouseholdRoom.id.in_(room_ids))
        .order_by(HouseholdRoom.building, HouseholdRoom.unit, HouseholdRoom.number)
        .limit(limit)
    ).all()
    if not found:
        return []
    people: dict[int, list[HouseholdPerson]] = {room.id: [] for room in found}
    for person in db.session.scalars(
        select(HouseholdPerson)
        .where(HouseholdPerson.room_id.in_(list(people)), active_clause(day))
        .order_by(HouseholdPerson.role, HouseholdPerson.since)
    ):
        people[person.room_id].append(person)
    return [Found(room, people[room.id]) for room in found]


@dataclass(frozen=True)
class Household:
    """A registered household: a 住宅 with someone standing on it today, and the mobile of
    its 主要联系人 (None when the contact has no mobile)."""

    building: int
    unit: int
    number: str
    contact_mobile: str | None
    room_id: int = 0


def registered_households(building: int | None = None) -> list[Household]:
    """The community's 住宅 with at least one person registered today (one building, or
    all), each with its 主要联系人's mobile."""
    day = today()
    rooms = select(
        HouseholdRoom.id, HouseholdRoom.building, HouseholdRoom.unit, HouseholdRoom.number
    ).where(HouseholdRoom.community == community_key(), HouseholdRoom.kind == RESIDENCE)
    if building is not None:
        rooms = rooms.where(HouseholdRoom.building == building)
    people: dict[int, str | None] = {}
    for room_id, mobile, primary in db.session.execute(
        select(HouseholdPerson.room_id, HouseholdPerson.mobile, HouseholdPerson.primary_contact)
        .where(HouseholdPerson.community == community_key(), active_clause(day))
        .order_by(HouseholdPerson.primary_contact.desc(), HouseholdPerson.since)
    ):
        if room_id not in people:
            people[room_id] = mobile if primary else None
    return [
        Household(b, u, n, people[room_id], room_id)
        for room_id, b, u, n in db.session.execute(
            rooms.order_by(HouseholdRoom.building, HouseholdRoom.unit, HouseholdRoom.id)
        )
        if room_id in people
    ]
