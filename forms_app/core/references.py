"""Reference numbers people read out on the phone: <prefix><YYYYMMDD>-<sequence of the day>.

ZX20261127-003 is the day's third renovation application, BJ… a move-in booking. One function
for every domain: the prefix names the register.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, bindparam, cast, func, select

# The look-up of each register's last sequence, built once (it runs under the write lock).
_LAST_SEQUENCE: dict = {}


def _last_sequence(table, start: int):
    """The day's highest sequence, read from the references alone (the digits from position
    ``start`` on): the unique reference index holds them, so the look-up reads the index's
    pages and not a row of the table per application filed that day."""
    statement = _LAST_SEQUENCE.get((table, start))
    if statement is None:
        # A range on the unique reference index: "." is the character after "-".
        statement = select(func.max(cast(func.substr(table.c.reference, start), Integer))).where(
            table.c.reference >= bindparam("first"), table.c.reference < bindparam("after")
        )
        _LAST_SEQUENCE[(table, start)] = statement
    return statement


def next_reference(connection, table, prefix: str, filed_on: date) -> tuple[int, str]:
    """The day's next sequence number in ``table`` and its reference.

    ``table`` has ``reference`` (unique) and ``sequence`` columns. Call inside
    ``write_transaction``: on SQLite the write lock is already held, so no other process can
    take the same number; the unique reference guards PostgreSQL.
    """
    head = f"{prefix}{filed_on:%Y%m%d}-"
    last = connection.scalar(
        _last_sequence(table, len(head) + 1), {"first": head, "after": head[:-1] + "."}
    )
    sequence = (last or 0) + 1
    return sequence, f"{head}{sequence:03d}"
