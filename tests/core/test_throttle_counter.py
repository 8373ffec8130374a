"""The throttles' counter file on SQLite (``core/throttle.py``): one B-tree of hits, made
afresh from a file of an older layout."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from forms_app.core.throttle import Budget, counter_file, spend_counted

BUDGET = Budget("post:192.0.2.7", 2, timedelta(hours=1), "提交过于频繁，请稍后再试。")


def test_a_counter_file_of_the_older_layout_is_made_again_and_counts(app):
    with app.app_context():
        path = counter_file()
        older = sqlite3.connect(path)
        older.execute(
            "CREATE TABLE throttle_hit"
            " (id INTEGER PRIMARY KEY, key VARCHAR(120) NOT NULL, at DATETIME NOT NULL)"
        )
        older.execute("CREATE INDEX ix_throttle_hit_key_at ON throttle_hit (key, at)")
        older.execute("INSERT INTO throttle_hit (key, at) VALUES ('post:192.0.2.7', '2999-01-01')")
        older.commit()
        older.close()

        assert spend_counted([BUDGET]) is None
        assert spend_counted([BUDGET]) is None
        assert spend_counted([BUDGET]) is BUDGET

    with sqlite3.connect(path) as counters:
        (table,) = counters.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'throttle_hit'"
        ).fetchone()
        assert "WITHOUT ROWID" in table
        assert counters.execute("SELECT count(*) FROM throttle_hit").fetchone() == (2,)
        assert counters.execute("PRAGMA index_list(throttle_hit)").fetchall()[0][3] == "pk"
