"""Open 我的办理 grants, held on the server (``MyGrant``): the session cookie carries a random
token whose hash is kept here. A grant ends at 退出, when its time is up, and as soon as the
person's standing on the room ends (过户, 迁出, lease end) or their role is no longer let in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import session
from sqlalchemy import select, update

from ..core.clock import today, utcnow
from ..core.community import current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..households.models import HouseholdPerson, HouseholdRoom
from .models import MyGrant

COOKIE_KEY = "my_grant"  # the token, in the signed session cookie


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class OpenGrant:
    grant: MyGrant
    person: HouseholdPerson
    room: HouseholdRoom

    @property
    def minutes_left(self) -> int:
        return max(1, int((self.grant.expires_at - utcnow()).total_seconds() // 60))

    @property
    def since(self) -> date:
        """The household's business is shown from the person's own registration on."""
        return self.person.since


def open_grant(person: HouseholdPerson, room: HouseholdRoom, minutes: int, address: str) -> None:
    """Record a grant for the person and put its token in the session."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with write_transaction() as writing:
        writing.add(
            MyGrant(
                community=room.community,
                token_hash=_hash(token),
                person_id=person.id,
                room_id=room.id,
                created_at=now,
                expires_at=now + timedelta(minutes=minutes),
                address=address[:64],
            )
        )
    session[COOKIE_KEY] = token


def current_grant(roles) -> OpenGrant | None:
    """The session's open grant, when it is still valid and its person still stands on the
    room in one of ``roles`` today; None otherwise (and the cookie forgets it)."""
    token = session.get(COOKIE_KEY)
    if not isinstance(token, str) or not token:
        return None
    row = db.session.execute(
        select(MyGrant, HouseholdPerson, HouseholdRoom)
        .join(HouseholdPerson, HouseholdPerson.id == MyGrant.person_id)
        .join(HouseholdRoom, HouseholdRoom.id == MyGrant.room_id)
        .where(MyGrant.token_hash == _hash(token))
    ).first()
    if row is None:
        session.pop(COOKIE_KEY, None)
        return None
    grant, person, room = row
    valid = (
        grant.ended_at is None
        and grant.expires_at > utcnow()
        and room.community == current_community().key
        and person.role in roles
        and person.active_on(today())
    )
    if not valid:
        session.pop(COOKIE_KEY, None)
        return None
    return OpenGrant(grant, person, room)


def end_grant() -> None:
    """退出: the session's grant ends now, for every copy of the cookie."""
    token = session.pop(COOKIE_KEY, None)
    if not isinstance(token, str) or not token:
        return
    with write_transaction() as writing:
        writing.execute(
            update(MyGrant)
            .where(MyGrant.token_hash == _hash(token), MyGrant.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def prefill(form) -> bool:
    """Fill an owner form's room, name and mobile from the signed-in household (我的办理),
    when one is signed in in this browser; True when it did."""
    from .codes import allowed_roles

    if not session.get(COOKIE_KEY):
        return False
    grant = current_grant(allowed_roles())
    if grant is None or grant.room.unit is None:
        return False
    form.building.data = str(grant.room.building)
    form.unit.data = str(grant.room.unit)
    form.room.data = grant.room.number
    for name, value in (("owner_name", grant.person.name), ("owner_mobile", grant.person.mobile)):
        field = getattr(form, name, None)
        if field is not None and value:
            field.data = value
    form.prefilled_from_household = True
    return True
