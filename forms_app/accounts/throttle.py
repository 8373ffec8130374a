"""Login throttling counted in the database, so all worker processes share one count.

An attempt is recorded as failed *before* the password is checked and marked successful
afterwards: parallel guesses sent to different workers are all counted, and the write lock
is not held while argon2 runs.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..core.database import write_transaction
from .models import LoginAttempt, utcnow

WINDOW = timedelta(minutes=15)
KEEP = timedelta(days=1)


def _limits() -> tuple[int, int]:
    config = current_app.config
    return config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], config["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def begin_attempt(username: str, address: str) -> int | None:
    """Record an attempt and return its id; None when the account or address is throttled."""
    per_account, per_address = _limits()
    now = utcnow()
    since = now - WINDOW
    with write_transaction() as session:
        last_success = session.execute(
            select(func.max(LoginAttempt.at)).where(
                LoginAttempt.username == username, LoginAttempt.succeeded.is_(True)
            )
        ).scalar()
        account_since = max(since, last_success) if last_success else since
        account_failures = session.execute(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > account_since,
            )
        ).scalar_one()
        address_failures = session.execute(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.address == address,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > since,
            )
        ).scalar_one()
        if account_failures >= per_account or address_failures >= per_address:
            return None
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP))
        attempt = LoginAttempt(at=now, username=username, address=address, succeeded=False)
        session.add(attempt)
        session.flush()
        return attempt.id


def mark_succeeded(session, attempt_id: int) -> None:
    """Inside the login's write transaction: this attempt was the right password."""
    session.get(LoginAttempt, attempt_id).succeeded = True
