"""Server-side staff sessions: a random token in the cookie, its hash in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from ..core.community_scope import all_communities
from ..core.extensions import db
from .models import StaffSession, StaffUser, utcnow

LIFETIME = timedelta(hours=12)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session, user: StaffUser, address: str) -> str:
    """Record a new session for the user (inside the caller's write transaction); its token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        StaffSession(
            token_hash=_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + LIFETIME,
            address=address,
        )
    )
    return token


def end_session(session, token: str) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _digest(token), StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_user_sessions(session, user_id: int) -> None:
    """End every open session of a user (disabled account, new password)."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


# Made once: SQLAlchemy keeps a statement's compiled SQL under its cache key, which it works
# out once per statement object. Built anew at every request, as it was, the statement and its
# key were made again on every back-office page. The memberships are joined (every community's,
# like their selectin load: staff_user and staff_session are no community's, so reading across
# the wall changes nothing else), where the selectin load was a second statement.
_ACTIVE_USER = all_communities(
    select(StaffUser)
    .join(StaffSession)
    .options(joinedload(StaffUser.memberships))
    .where(
        StaffSession.token_hash == bindparam("token_hash"),
        StaffSession.ended_at.is_(None),
        StaffSession.expires_at > bindparam("now"),
        StaffUser.active.is_(True),
    )
)


def user_for_token(token: str | None) -> StaffUser | None:
    """The active user of an open, unexpired session; None otherwise."""
    if not token:
        return None
    parameters = {"token_hash": _digest(token), "now": utcnow()}
    return db.session.execute(_ACTIVE_USER, parameters).unique().scalar_one_or_none()
