"""钥匙托管: keys an owner leaves with the property (业主留存及备用钥匙, sealed, kept with
秩序维护), and every handover out and back with who, when and the owner's consent.

A key is 在管理处保管 (held), 已借出 (out) or 已退还业主 (returned, for good). Each change of
state is a conditional update on the state the form was shown in, so two people recording at
once cannot both take out the same key: the second is refused with the reason. Every key event
is also a ``HouseholdChange`` of the room, so it shows in the registry's history and in the
weekly changes list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from ..core.clock import local_time, utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..web.exports import DATETIME, Column
from ..web.typed_input import clean_line, is_unreadable
from .models import (
    KEY_HELD,
    KEY_OUT,
    KEY_RETURNED,
    KEY_STATES,
    HouseholdKey,
    HouseholdRoom,
    KeyHandover,
)
from .registry import RegistryRefused, actor_label, community_key, log_change, room_by_id

OUT, BACK, RETURNED = "out", "back", "returned"
DIRECTIONS = {OUT: "借出", BACK: "归还管理处", RETURNED: "退还业主"}
# How the owner agreed to a key leaving the office (the owner's name is typed beside it).
CONSENT_WAYS = ("业主本人书面同意", "业主电话确认", "业主本人到场")
# Which state each handover starts from and leads to.
MOVES = {OUT: (KEY_HELD, KEY_OUT), BACK: (KEY_OUT, KEY_HELD), RETURNED: (KEY_HELD, KEY_RETURNED)}

MAX_DESCRIPTION, MAX_PLACE, MAX_NAME = 60, 60, 30
MAX_CONSENT = 120


class KeyRefused(RegistryRefused):
    """A key record or handover refused; ``message`` says why, ``field`` which input."""


@dataclass(frozen=True)
class NewKey:
    description: str
    sealed: bool
    left_by: str
    kept_at: str


@dataclass(frozen=True)
class Handover:
    direction: str
    person: str
    consent_way: str = ""
    consent_owner: str = ""

    @property
    def consent(self) -> str:
        if not self.consent_way:
            return ""
        return f"{self.consent_way}（业主：{self.consent_owner}）"[:MAX_CONSENT]


# ----- checking what staff typed -------------------------------------------------------------


def _line(form, name: str, label: str, limit: int, errors: dict, required: str) -> str:
    raw = form.get(name, "")
    value = clean_line(raw if isinstance(raw, str) else "")
    if not value:
        errors[name] = required
    elif is_unreadable(value):
        errors[name] = f"{label}含有无法识别的字符（可能是复制时的乱码），请删除后重新填写。"
    elif len(value) > limit:
        errors[name] = f"{label}不能超过{limit}个字。"
    return value


def check_new_key(form) -> tuple[NewKey | None, dict, dict]:
    """A key as typed: (the key or None, the values to show again, errors by field)."""
    errors: dict[str, str] = {}
    description = _line(
        form,
        "description",
        "钥匙说明",
        MAX_DESCRIPTION,
        errors,
        "请写明是哪些钥匙，例如“入户门钥匙2把、信报箱钥匙1把”。",
    )
    left_by = _line(form, "left_by", "留存人", MAX_NAME, errors, "请填写留存钥匙的人（业主姓名）。")
    kept_at = _line(
        form, "kept_at", "存放位置", MAX_PLACE, errors, "请填写存放位置，例如“监控室钥匙柜A-12”。"
    )
    sealed = form.get("sealed", "")
    if sealed not in ("yes", "no"):
        errors["sealed"] = "请选择钥匙是否装入密封袋。"
    values = {
        "description": description,
        "left_by": left_by,
        "kept_at": kept_at,
        "sealed": sealed if sealed in ("yes", "no") else "",
    }
    if errors:
        return None, values, errors
    return NewKey(description, sealed == "yes", left_by, kept_at), values, {}


def check_handover(direction: str, form) -> tuple[Handover | None, dict, dict]:
    """A handover as typed: who takes the key out (with the owner's consent), who brings it
    back, or to whom it is returned for good (with the owner's consent)."""
    errors: dict[str, str] = {}
    required = {
        OUT: "请填写借用人姓名（取走钥匙的人）。",
        BACK: "请填写归还人姓名（交回钥匙的人）。",
        RETURNED: "请填写领回钥匙的人（业主或其委托人）姓名。",
    }[direction]
    person = _line(form, "person", "姓名", MAX_NAME, errors, required)
    values = {"person": person, "consent_way": "", "consent_owner": ""}
    way = owner = ""
    if direction in (OUT, RETURNED):
        way = form.get("consent_way", "")
        if way not in CONSENT_WAYS:
            errors["consent_way"] = "请选择业主同意的方式（书面同意、电话确认或本人到场）。"
            way = ""
        owner = _line(
            form,
            "consent_owner",
            "业主姓名",
            MAX_NAME,
            errors,
            "请填写表示同意的业主姓名。",
        )
        values.update(consent_way=way, consent_owner=owner)
    if errors:
        return None, values, errors
    return Handover(direction, person, way, owner), values, {}


# ----- reads ---------------------------------------------------------------------------------


def keys_of(room_id: int) -> list[HouseholdKey]:
    """The room's keys, newest first."""
    return list(
        db.session.scalars(
            select(HouseholdKey)
            .where(HouseholdKey.room_id == room_id)
            .order_by(HouseholdKey.received_at.desc(), HouseholdKey.id.desc())
        )
    )


def handovers_of(key_ids: list[int]) -> dict[int, list[KeyHandover]]:
    """Each key's handovers, oldest first."""
    found: dict[int, list[KeyHandover]] = {key_id: [] for key_id in key_ids}
    if key_ids:
        for handover in db.session.scalars(
            select(KeyHandover)
            .where(KeyHandover.key_id.in_(key_ids))
            .order_by(KeyHandover.created_at, KeyHandover.id)
        ):
            found[handover.key_id].append(handover)
    return found


def key_of_room(room_id: int, key_id: int) -> HouseholdKey | None:
    """The key ``key_id`` when it belongs to the room (of this community); None otherwise."""
    key = db.session.get(HouseholdKey, key_id)
    if key is None or key.room_id != room_id or key.community != community_key():
        return None
    return key


# ----- changes -------------------------------------------------------------------------------


def _room(room_id: int) -> HouseholdRoom:
    room = room_by_id(room_id)
    if room is None:
        raise KeyRefused("没有找到这户房屋。")
    return room


def record_key(room_id: int, new: NewKey) -> HouseholdKey:
    """Keys left with the property: what, sealed or not, who left them, where they are kept;
    received by the staff member recording them."""
    room = _room(room_id)
    actor = actor_label()
    with write_transaction() as session:
        key = HouseholdKey(
            community=room.community,
            room_id=room.id,
            description=new.description,
            sealed=new.sealed,
            left_by=new.left_by,
            received_by=actor,
            kept_at=new.kept_at,
            state=KEY_HELD,
            received_at=utcnow(),
        )
        session.add(key)
        session.flush()
        log_change(
            session,
            room.id,
            "key.add",
            f"钥匙托管：{new.left_by} 留存{new.description}"
            f"（{'密封' if new.sealed else '未密封'}），{actor} 接收，存放于{new.kept_at}",
            actor=actor,
        )
    return key


def _refusal(key: HouseholdKey, direction: str) -> KeyRefused:
    """Why the handover cannot be made on the key in its current state."""
    if key.state == KEY_RETURNED:
        return KeyRefused("这把钥匙已退还业主，托管已结束，不能再登记借出或归还。")
    if direction == OUT and key.state == KEY_OUT:
        return KeyRefused("这把钥匙已借出，尚未归还，不能再次借出。请先登记归还。")
    if direction == BACK and key.state != KEY_OUT:
        return KeyRefused("这把钥匙在管理处保管中，没有借出，无需登记归还。")
    if direction == RETURNED and key.state == KEY_OUT:
        return KeyRefused("这把钥匙已借出，请先登记归还管理处，再退还业主。")
    return KeyRefused(f"钥匙当前状态为“{key.state_label}”，不能{DIRECTIONS[direction]}。")


def record_handover(room_id: int, key_id: int, handover: Handover) -> KeyHandover:
    """A key taken out, brought back or returned to the owner for good. Refused (with the
    reason) when the key is not in the state the move starts from."""
    room = _room(room_id)
    key = key_of_room(room.id, key_id)
    if key is None:
        raise KeyRefused("没有找到这把钥匙。")
    start, end = MOVES[handover.direction]
    actor = actor_label()
    with write_transaction() as session:
        moved = session.execute(
            update(HouseholdKey)
            .where(HouseholdKey.id == key.id, HouseholdKey.state == start)
            .values(state=end)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            session.refresh(key)
            raise _refusal(key, handover.direction)
        row = KeyHandover(
            community=room.community,
            key_id=key.id,
            direction=handover.direction,
            person=handover.person,
            consent=handover.consent,
            staff_name=actor,
            created_at=utcnow(),
        )
        session.add(row)
        summary = {
            OUT: f"钥匙借出：{key.description}，借用人 {handover.person}；{handover.consent}",
            BACK: f"钥匙归还管理处：{key.description}，归还人 {handover.person}",
            RETURNED: f"钥匙退还业主：{key.description}，领回人 {handover.person}；"
            f"{handover.consent}，托管结束",
        }[handover.direction]
        log_change(session, room.id, f"key.{handover.direction}", summary, actor=actor)
    db.session.refresh(key)
    return row


# ----- the 经理's register -------------------------------------------------------------------

REGISTER_COLUMNS = (
    Column("房屋", width=20),
    Column("钥匙", width=28),
    Column("密封"),
    Column("留存人"),
    Column("接收人"),
    Column("接收时间", DATETIME),
    Column("存放位置", width=20),
    Column("状态"),
    Column("最近交接", width=40),
)
ROOM_QUERY = re.compile(r"(\d{1,3})\D+(\d{1,2})\D+([0-9A-Za-z]{1,8})\D*")


@dataclass
class RegisterFilters:
    values: dict
    errors: dict
    conditions: list


def read_filters(args) -> RegisterFilters:
    """The register's filters as typed: ``state`` and ``q`` (a room such as 3-1-1201, or part
    of the keys' description, the person who left them or where they are kept)."""
    state = args.get("state", "")
    query = clean_line(args.get("q", ""))[:30]
    errors: dict[str, str] = {}
    conditions: list = [HouseholdKey.community == community_key()]
    if state and state not in KEY_STATES:
        errors["state"] = "请从列表中选择状态；已显示全部钥匙。"
        state = ""
    if state:
        conditions.append(HouseholdKey.state == state)
    if is_unreadable(query):
        errors["q"] = "查找内容含有无法识别的字符，请重新填写。"
        query = ""
    if query:
        room = ROOM_QUERY.fullmatch(query)
        if room:
            code = f"{int(room.group(1))}-{int(room.group(2))}-{room.group(3).upper()}"
            conditions.append(HouseholdRoom.code == code)
        else:
            conditions.append(
                or_(
                    HouseholdRoom.code == query.upper(),
                    HouseholdRoom.number == query.upper(),
                    HouseholdKey.description.contains(query, autoescape=True),
                    HouseholdKey.left_by.contains(query, autoescape=True),
                    HouseholdKey.kept_at.contains(query, autoescape=True),
                )
            )
    return RegisterFilters({"state": state, "q": query}, errors, conditions)


def describe_filters(filters: RegisterFilters) -> str:
    parts = []
    if filters.values["state"]:
        parts.append(f"状态：{KEY_STATES[filters.values['state']]}")
    if filters.values["q"]:
        parts.append(f"查找：{filters.values['q']}")
    return "；".join(parts) or "全部"


def register_query(filters: RegisterFilters):
    """The keys (joined to their rooms), by room then newest first."""
    return (
        select(HouseholdKey)
        .join(HouseholdRoom, HouseholdRoom.id == HouseholdKey.room_id)
        .where(*filters.conditions)
        .order_by(
            HouseholdRoom.building,
            HouseholdRoom.unit,
            HouseholdRoom.number,
            HouseholdKey.received_at.desc(),
            HouseholdKey.id.desc(),
        )
    )


def describe_handover(handover: KeyHandover | None) -> str:
    if handover is None:
        return ""
    text = f"{DIRECTIONS.get(handover.direction, handover.direction)}：{handover.person}"
    if handover.consent:
        text += f"（{handover.consent}）"
    return f"{text}，经办 {handover.staff_name}"


def rooms_of(keys: list[HouseholdKey]) -> dict[int, HouseholdRoom]:
    ids = sorted({key.room_id for key in keys})
    if not ids:
        return {}
    return {
        room.id: room
        for room in db.session.scalars(select(HouseholdRoom).where(HouseholdRoom.id.in_(ids)))
    }


def last_handovers(key_ids: list[int]) -> dict[int, KeyHandover]:
    return {key_id: rows[-1] for key_id, rows in handovers_of(key_ids).items() if rows}


def register_rows(filters: RegisterFilters):
    """The export's rows, in pages of 500 keys."""
    offset = 0
    while True:
        chunk = db.session.execute(
            register_query(filters).add_columns(HouseholdRoom).limit(500).offset(offset)
        ).all()
        if not chunk:
            return
        last = last_handovers([key.id for key, _room in chunk])
        for key, room in chunk:
            yield (
                room.label,
                key.description,
                "是" if key.sealed else "否",
                key.left_by,
                key.received_by,
                local_time(key.received_at).replace(tzinfo=None),
                key.kept_at,
                key.state_label,
                describe_handover(last.get(key.id)),
            )
        offset += 500
