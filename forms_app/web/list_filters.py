"""Filters of the back-office lists, read from the query string.

Every list keeps what was typed (to show it again), a Chinese message for each filter that
makes no sense (shown beside it, never a 500), and the SQL conditions of those that do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_

# "8-2-2601", "8号楼2单元2601": building, unit and room typed in one search box.
ROOM_QUERY = re.compile(r"^\s*(\d{1,3})\D+(\d{1,2})\D+(\d{2,5})\D*$")


@dataclass
class ListFilters:
    """The list's filters as typed, the messages for those that make no sense, the conditions."""

    values: dict
    errors: dict = field(default_factory=dict)
    conditions: list = field(default_factory=list)

    def _date(self, name: str, label: str) -> date | None:
        raw = self.values.get(name, "")
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = f"{label}格式应为 年-月-日，例如 2026-05-01。"
            return None

    def date_range(self, column) -> None:
        """Limit ``column`` to the typed ``date_from``–``date_to`` (both days included)."""
        date_from = self._date("date_from", "开始日期")
        date_to = self._date("date_to", "结束日期")
        if date_from and date_to and date_from > date_to:
            self.errors["date_to"] = "结束日期不能早于开始日期。"
            return
        if date_from:
            self.conditions.append(column >= date_from)
        if date_to:
            self.conditions.append(column <= date_to)

    def household_search(self, model) -> None:
        """The free-text search of a register with a reference and household columns: a whole
        room ("8-2-2601"), else part of the reference or the owner's name, or a room number."""
        query = self.values.get("q", "")[:50]
        if not query:
            return
        room = ROOM_QUERY.match(query)
        if room:
            self.conditions.append(
                (model.building == int(room.group(1)))
                & (model.unit == int(room.group(2)))
                & (model.room == room.group(3))
            )
        else:
            self.conditions.append(
                or_(
                    model.reference.contains(query.upper(), autoescape=True),
                    model.owner_name.contains(query, autoescape=True),
                    model.room == query,
                )
            )
