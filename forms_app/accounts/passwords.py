"""Password hashing with argon2id at OWASP's minimum (m=19 MiB, t=2, p=1).

The cost is the setting ``PASSWORD_HASH_COST``: ``owasp`` (the default, and the only one a
production app accepts) or ``testing``, the cheapest argon2id, so a test suite that creates
hundreds of accounts does not spend its time hashing. A stored hash carries its own
parameters, so verification always uses the cost it was made with.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

COSTS = {
    "owasp": {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1},
    "testing": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
}
MIN_LENGTH = 10


@lru_cache(maxsize=len(COSTS))
def _hasher(cost: str) -> tuple[PasswordHasher, str]:
    """The hasher of a cost, with a hash verified against when the account does not exist,
    so the answer takes as long either way."""
    hasher = PasswordHasher(**COSTS[cost])
    return hasher, hasher.hash("not a password of anyone")


def _current() -> tuple[PasswordHasher, str]:
    return _hasher(current_app.config["PASSWORD_HASH_COST"])


def hash_password(password: str) -> str:
    return _current()[0].hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends one argon2 verification."""
    hasher, dummy = _current()
    try:
        return hasher.verify(stored_hash or dummy, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(username: str, password: str) -> str | None:
    """Why a new password is not acceptable, in Chinese; None when it is."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位。"
    if password.strip().lower() == username.strip().lower():
        return "密码不能与用户名相同。"
    return None
