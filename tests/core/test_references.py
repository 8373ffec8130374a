"""Reference numbers: <prefix><YYYYMMDD>-<the day's sequence>, read back from the references
alone (``core/references.py``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

from forms_app.core.references import next_reference

DAY = date(2026, 12, 7)


def _register():
    table = Table(
        "register",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("reference", String(20), unique=True, nullable=False),
        Column("sequence", Integer, nullable=False),
    )
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    return engine, table


def test_the_day_s_first_reference_is_001_and_the_next_follows_the_highest():
    engine, table = _register()
    with engine.begin() as connection:
        assert next_reference(connection, table, "ZX", DAY) == (1, "ZX20261207-001")
        connection.execute(
            insert(table),
            [
                {"reference": "ZX20261206-007", "sequence": 7},  # the day before
                {"reference": "ZX20261207-001", "sequence": 1},
                {"reference": "ZX20261207-002", "sequence": 2},
                {"reference": "BJ20261207-005", "sequence": 5},  # another register's prefix
            ],
        )
        assert next_reference(connection, table, "ZX", DAY) == (3, "ZX20261207-003")


def test_past_the_999th_of_a_day_the_numbers_go_on_by_value_not_by_spelling():
    # "ZX20261207-999" sorts after "ZX20261207-1000" as text: the highest is found by value.
    engine, table = _register()
    with engine.begin() as connection:
        connection.execute(
            insert(table),
            [
                {"reference": f"ZX20261207-{sequence:03d}", "sequence": sequence}
                for sequence in (998, 999, 1000)
            ],
        )
        assert next_reference(connection, table, "ZX", DAY) == (1001, "ZX20261207-1001")
