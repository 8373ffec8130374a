"""One-time codes for "我的办理": asked for with a room and a mobile, sent by SMS through the
outbox only when the mobile is registered on that room today (一户一档, in the roles of the
community setting ``households.my_records_roles``), valid for a few minutes and once;
throttled per mobile and per address; each code dies after a few wrong tries, and wrong codes
lock the (mobile, address) pair — never the mobile everywhere — or a whole address for a while.
Every count is in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..core.clock import utcnow
from ..core.community_scope import all_communities
from ..core.database import write_transaction
from ..core.refusals import Refused
from ..households.registry import find_room, registered_person
from ..notifications.outbox import enqueue
from .models import OwnerCode, WrongCode

HOUR = timedelta(hours=1)


def setting(name: str) -> int:
    """One of the MY_* limits (defaults in forms_app/config.py)."""
    return int(current_app.config[name])


class CodeRefused(Refused):
    """The request or the code is refused; ``message`` is for the owner, ``field`` where;
    ``locked``: too many wrong codes, the room and mobile wait."""

    default_field = "form"

    def __init__(self, message: str, field: str | None = None, locked: bool = False):
        super().__init__(message, field)
        self.locked = locked


@dataclass(frozen=True)
class Room:
    building: int
    unit: int
    room: str

    @property
    def label(self) -> str:
        return f"{self.building}号楼{self.unit}单元{self.room}室"


def _digest(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def _minutes_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds() / 60))


def _locked_until(session, mobile: str, address: str, now: datetime) -> tuple[datetime, str] | None:
    """When this mobile may try again from this address, and what is locked, if it is now.

    Wrong codes lock the (mobile, address) pair, never the mobile everywhere: a stranger
    typing wrong codes for someone's mobile locks only himself out. An address with wrong
    codes for many mobiles is locked as a whole."""
    since = now - timedelta(minutes=setting("MY_LOCK_MINUTES"))
    for condition, limit, what in (
        (
            (WrongCode.mobile == mobile) & (WrongCode.address == address),
            setting("MY_MAX_WRONG_CODES"),
            PAIR,
        ),
        (WrongCode.address == address, setting("MY_WRONG_CODES_PER_ADDRESS"), ADDRESS),
    ):
        recent = list(
            session.scalars(
                select(WrongCode.created_at)
                .where(condition, WrongCode.created_at > since)
                .order_by(WrongCode.created_at.desc())
                .limit(limit)
            )
        )
        if len(recent) >= limit:
            return recent[-1] + timedelta(minutes=setting("MY_LOCK_MINUTES")), what
    return None


PAIR, ADDRESS = "pair", "address"


def _lock_message(locked: tuple[datetime, str], now: datetime) -> str:
    until, what = locked
    minutes = _minutes_until(until, now)
    if what == ADDRESS:
        return (
            f"当前网络输错验证码次数过多，已暂时锁定，请 {minutes} 分钟后再试，"
            "或换用其他网络（如手机流量）。如需帮助请联系物业服务中心。"
        )
    return (
        f"验证码输错次数过多，该手机号在当前网络已暂时锁定，请 {minutes} 分钟后再试。"
        "如需帮助请联系物业服务中心。"
    )


def allowed_roles() -> tuple[str, ...]:
    """The registry roles 我的办理 lets in (community setting, default 业主 and 家庭成员)."""
    from ..core.community import current_community

    setting_value = (current_community().get("households") or {}).get("my_records_roles")
    return tuple(setting_value or ("owner", "family"))


def registered_on(room: Room, mobile: str):
    """The person registered with this mobile on the room today in an allowed role, or None."""
    found = find_room(room.building, room.unit, room.room)
    if found is None:
        return None
    return registered_person(found, mobile, allowed_roles())


def request_code(room: Room, mobile: str, address: str) -> None:
    """Record a code request and, when the mobile is registered on the room today, send the
    code.

    The answer is the same either way, so the page does not tell whose mobile is whose;
    both count against the limits. Raises ``CodeRefused`` when a limit is reached.
    """
    now = utcnow()
    on_record = registered_on(room, mobile) is not None
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = setting("MY_CODE_MINUTES")
    with write_transaction() as session:
        locked = _locked_until(session, mobile, address, now)
        if locked:
            raise CodeRefused(_lock_message(locked, now), "owner_mobile", locked=True)
        # The limits on asking count every community's codes: a mobile or an address gains
        # nothing by asking on another community's pages. The code itself opens only this
        # community's room (the look-up in ``check_code`` is scoped to it).
        last = session.scalar(
            all_communities(
                select(func.max(OwnerCode.created_at)).where(OwnerCode.mobile == mobile)
            )
        )
        interval = timedelta(seconds=setting("MY_CODE_INTERVAL_SECONDS"))
        if last and now - last < interval:
            wait = math.ceil((last + interval - now).total_seconds())
            raise CodeRefused(f"验证码刚刚发送过，请 {wait} 秒后再重新获取。", "owner_mobile")
        per_mobile = session.scalar(
            all_communities(
                select(func.count())
                .select_from(OwnerCode)
                .where(OwnerCode.mobile == mobile, OwnerCode.created_at > now - HOUR)
            )
        )
        if per_mobile >= setting("MY_CODES_PER_MOBILE_PER_HOUR"):
            raise CodeRefused(
                "该手机号一小时内获取验证码次数已达上限，请稍后再试。", "owner_mobile"
            )
        per_address = session.scalar(
            all_communities(
                select(func.count())
                .select_from(OwnerCode)
                .where(OwnerCode.address == address, OwnerCode.created_at > now - HOUR)
            )
        )
        if per_address >= setting("MY_CODES_PER_ADDRESS_PER_HOUR"):
            raise CodeRefused("当前网络获取验证码过于频繁，请一小时后再试。")
        session.add(
            OwnerCode(
                building=room.building,
                unit=room.unit,
                room=room.room,
                mobile=mobile,
                address=address,
                code_hash=_digest(code if on_record else secrets.token_hex(16)),
                sent=on_record,
                created_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
        )
        if on_record:
            enqueue(
                session,
                "my.code",
                record_type="my_records",
                recipient=mobile,
                code=code,
                minutes=minutes,
                room=room.label,
            )


def check_code(room: Room, mobile: str, code: str, address: str) -> None:
    """Accept the room's latest unexpired code for this mobile once; else count a wrong code.

    Raises ``CodeRefused`` with how many tries are left, or that the mobile is locked.
    """
    now = utcnow()
    with write_transaction() as session:
        locked = _locked_until(session, mobile, address, now)
        if locked:
            raise CodeRefused(_lock_message(locked, now), "code", locked=True)
        latest = session.scalars(
            select(OwnerCode)
            .where(
                OwnerCode.mobile == mobile,
                OwnerCode.building == room.building,
                OwnerCode.unit == room.unit,
                OwnerCode.room == room.room,
            )
            .order_by(OwnerCode.id.desc())
            .limit(1)
        ).first()
        # Each code dies after a few wrong tries, from whatever addresses they came.
        tries = (
            session.scalar(
                select(func.count())
                .select_from(WrongCode)
                .where(WrongCode.mobile == mobile, WrongCode.created_at >= latest.created_at)
            )
            if latest
            else 0
        )
        if latest and latest.used_at is None and tries >= setting("MY_WRONG_TRIES_PER_CODE"):
            raise CodeRefused("该验证码输错次数过多，已经失效，请重新获取验证码。", "code")
        if (
            latest
            and latest.used_at is None
            and latest.expires_at > now
            and hmac.compare_digest(latest.code_hash, _digest(code))
        ):
            # Conditional: of two tabs sending the same code, one wins.
            used = session.execute(
                update(OwnerCode)
                .where(OwnerCode.id == latest.id, OwnerCode.used_at.is_(None))
                .values(used_at=now)
            )
            if used.rowcount == 1:
                return
        expired = (
            latest is not None
            and latest.used_at is None
            and latest.expires_at <= now
            and hmac.compare_digest(latest.code_hash, _digest(code))
        )
        session.add(WrongCode(mobile=mobile, address=address, created_at=now))
        session.flush()
        locked = _locked_until(session, mobile, address, now)
    if locked:
        raise CodeRefused(_lock_message(locked, now), "code", locked=True)
    if expired:
        raise CodeRefused("验证码已过期，请重新获取。", "code")
    if latest is not None and tries + 1 >= setting("MY_WRONG_TRIES_PER_CODE"):
        raise CodeRefused("验证码不正确，该验证码已经失效，请重新获取验证码。", "code")
    failures = _recent_failures(mobile, address, now)
    left = min(
        setting("MY_MAX_WRONG_CODES") - failures,
        setting("MY_WRONG_TRIES_PER_CODE") - tries - 1 if latest is not None else failures,
    )
    raise CodeRefused(f"验证码不正确或已使用，还可以再试 {left} 次。", "code")


def _recent_failures(mobile: str, address: str, now: datetime) -> int:
    from ..core.extensions import db

    since = now - timedelta(minutes=setting("MY_LOCK_MINUTES"))
    return (
        db.session.scalar(
            select(func.count())
            .select_from(WrongCode)
            .where(
                WrongCode.mobile == mobile,
                WrongCode.address == address,
                WrongCode.created_at > since,
            )
        )
        or 0
    )
