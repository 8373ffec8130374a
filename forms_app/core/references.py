"""Reference numbers people read out on the phone: <prefix><YYYYMMDD>-<sequence of the day>.

ZX20261127-003 is the day's third renovation application, BJ… a move-in booking. One function
for every domain: the prefix names the register.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select


def next_reference(connection, table, prefix: str, filed_on: date) -> tuple[int, str]:
    """The day's next sequence number in ``table`` and its reference.

    ``table`` has ``reference`` (unique) and ``sequence`` columns. Call inside
    ``write_transaction``: on SQLite the write lock is already held, so no other process can
    take the same number; the unique reference guards PostgreSQL.
    """
    head = f"{prefix}{filed_on:%Y%m%d}-"
    # A range on the unique reference index: "." is the character after "-".
    last = connection.scalar(
        select(func.max(table.c.sequence)).where(
            table.c.reference >= head, table.c.reference < head[:-1] + "."
        )
    )
    sequence = (last or 0) + 1
    return sequence, f"{head}{sequence:03d}"
