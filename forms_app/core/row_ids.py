"""Ids in URLs: every ``<int:...>`` of the app is bounded to what the id columns can hold.

Werkzeug's ``int`` converter accepts any number of digits. An id beyond the column's range
reaches the database and fails there (SQLite: "Python int too large to convert", PostgreSQL:
"integer out of range") with a 500 where a missing row answers 404. The id columns are
``Integer``, 32-bit on PostgreSQL and within SQLite's 64-bit range, so a larger number can
never name a row: the route does not match and the request gets the 404 of any unknown URL.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# The largest value of an Integer column on PostgreSQL (int4); SQLite's range is wider.
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``int`` converter that matches only 1 … MAX_ROW_ID."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ROW_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app) -> None:
    """Replace the ``int`` converter; call before any blueprint is registered."""
    app.url_map.converters["int"] = RowIdConverter
