"""PostgreSQL's row-level security, the second wall between communities (core/row_security.py):
the app, connected as its ordinary role that owns the tables, goes past its own ORM filter with
raw SQL on every keyed table and still sees, changes, deletes and adds nothing of another
community; only ``every_community(reason)`` and ``all_communities()`` go around it."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import tarfile
from datetime import date, datetime, time

import psycopg
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from forms_app.core import row_security
from forms_app.core.community import acting_in, deployment_communities
from forms_app.core.community_scope import all_communities, every_community
from forms_app.core.extensions import db
from forms_app.core.row_security import keyed_tables, unwalled_tables
from forms_app.files.backups import create_backup
from forms_app.renovation.models import RenovationApplication
from tests.support.postgres import app_on_postgres

A, B = "shanshui", "xinyuan"
REFUSED = "row-level security"


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(postgres_url, tmp_path / "instance", monkeypatch) as app:
        yield app


def _value(kind: str, length: int | None, community: str, n: int):
    """A value of column type ``kind`` for row ``n`` of ``community`` (differs per row)."""
    if kind in ("integer", "bigint", "smallint", "numeric", "double precision", "real"):
        return n
    if kind in ("character varying", "text", "character"):
        return f"{community[0]}{n}"[: length or None]
    if kind == "boolean":
        return False
    if kind == "date":
        return date(2026, 12, n)
    if kind.startswith("timestamp"):
        return datetime(2026, 12, n, 9)
    if kind.startswith("time"):
        return time(9)
    if kind in ("json", "jsonb"):
        return json.dumps([])
    if kind == "bytea":
        return b"x"
    raise AssertionError(f"no test value for a column of type {kind}: add one to _value")


def row_sql(connection, table: str, community: str, n: int):
    """An INSERT of a row of ``table`` for ``community``: every required column filled."""
    columns = connection.execute(
        text(
            "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = :table AND is_nullable = 'NO'"
            " AND column_default IS NULL AND is_identity = 'NO' ORDER BY ordinal_position"
        ),
        {"table": table},
    ).all()
    values = {
        name: community if name == "community" else _value(kind, length, community, n)
        for name, kind, length in columns
    }
    casts = {name: kind for name, kind, _ in columns}
    placeholders = ", ".join(
        f"CAST(:{name} AS {casts[name]})" if casts[name] in ("json", "jsonb") else f":{name}"
        for name in values
    )
    names = ", ".join(f'"{name}"' for name in values)
    return text(f'INSERT INTO "{table}" ({names}) VALUES ({placeholders})'), values


def rows_of(connection, tables: list[str], community: str) -> dict[str, str]:
    """{table: a digest of the community's rows in it}."""
    return {
        table: connection.execute(
            text(
                f"SELECT count(*) || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM \"{table}\" t"
                " WHERE community = :c"
            ),
            {"c": community},
        ).scalar()
        for table in tables
    }


def test_the_app_sees_and_changes_only_its_community_whatever_sql_it_runs(pg_app, caplog, tmp_path):
    superuser = create_engine(pg_app.config["PG_URL"])
    with superuser.begin() as connection:
        tables = keyed_tables(connection)
        assert tables == sorted(t.name for t in db.metadata.sorted_tables if "community" in t.c), (
            "every keyed table of the models is keyed in the database"
        )
        assert unwalled_tables(connection) == [], "every keyed table has its wall"
        assert (
            connection.execute(
                text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'forms_app'")
            ).scalar()
            is False
        )
        # One row of each community in every keyed table, references not checked.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            for n, community in ((1, A), (2, B)):
                connection.execute(*row_sql(connection, table, community, n))
        before = rows_of(connection, tables, B)

    with pg_app.app_context():
        served = deployment_communities()
        with acting_in(served[A]), db.engine.connect() as connection:
            for table in tables:
                quoted = f'"{table}"'
                seen = connection.execute(text(f"SELECT community FROM {quoted}")).scalars()
                assert set(seen) == {A}, table
                changed = connection.execute(
                    text(f"UPDATE {quoted} SET community = community WHERE community = :b"),
                    {"b": B},
                )
                assert changed.rowcount == 0, table
                deleted = connection.execute(
                    text(f"DELETE FROM {quoted} WHERE community <> :a"), {"a": A}
                )
                assert deleted.rowcount == 0, table
                with pytest.raises(DBAPIError, match=REFUSED), connection.begin_nested():
                    connection.execute(*row_sql(connection, table, B, 3))
                with pytest.raises(DBAPIError, match=REFUSED), connection.begin_nested():
                    connection.execute(text(f"UPDATE {quoted} SET community = :b"), {"b": B})
            connection.rollback()

        # The setting follows the community the app acts in.
        with acting_in(served[B]), db.engine.connect() as connection:
            assert list(connection.execute(text("SELECT community FROM notice")).scalars()) == [B]

        # The two explicit ways around: a statement marked all_communities(), ORM or not, and
        # a block in every_community(reason), which the app log records.
        with acting_in(served[A]):
            with db.engine.connect() as connection:
                every = all_communities(text("SELECT community FROM notice ORDER BY 1"))
                assert list(connection.execute(every).scalars()) == [A, B]
                assert list(connection.execute(text("SELECT community FROM notice"))) == [(A,)]
            orm = select(RenovationApplication.community).order_by(RenovationApplication.id)
            assert db.session.scalars(all_communities(orm)).all() == [A, B]
            assert db.session.scalars(orm).all() == [A]
            db.session.rollback()
            with caplog.at_level(logging.INFO, "forms_app.every_community"):
                with every_community("测试：全部小区"):
                    assert db.session.scalars(orm).all() == [A, B]
                    with db.engine.connect() as connection:
                        for table in tables:
                            seen = connection.execute(text(f'SELECT community FROM "{table}"'))
                            assert set(seen.scalars()) == {A, B}, table
            assert "测试：全部小区" in caplog.text and __name__ in caplog.text
            db.session.remove()
            with pytest.raises(ValueError):
                with every_community(" "):
                    pass

    with superuser.connect() as connection:
        assert rows_of(connection, tables, B) == before, "nothing of B changed"

        counts = {
            table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
            for table in tables
        }
    superuser.dispose()

    # A backup (pg_dump as the app's role) holds every community's rows.
    with pg_app.app_context():
        archive = create_backup(tmp_path / "backups").archive
    with tarfile.open(archive) as tar:
        tar.extract("database.pgdump", tmp_path, filter="data")
    dump = subprocess.run(
        ["pg_restore", "--data-only", "--file", "-", str(tmp_path / "database.pgdump")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    dumped = {
        name: block.count("\n")
        for name, block in re.findall(
            r"^COPY public\.(\w+) .*? FROM stdin;\n(.*?)^\\\.$", dump, re.M | re.S
        )
    }
    assert {table: dumped.get(table) for table in tables} == counts


def test_the_settings_are_sent_only_when_the_connection_holds_others(pg_app, monkeypatch):
    sent = []
    execute = psycopg.Connection.execute

    def counting(self, query, params=None, **kwargs):
        if query == row_security._SET:
            sent.append(params[0])
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counting)
    setting = text("SELECT current_setting('app.community')")

    def seen(connection) -> str:
        return connection.execute(setting).scalar()

    with pg_app.app_context():
        served = deployment_communities()
        with db.engine.connect() as connection, acting_in(served[A]):
            assert [seen(connection) for _ in range(3)] == [A] * 3
            connection.rollback()  # set outside the transaction: the rollback keeps it
            assert [seen(connection) for _ in range(3)] == [A] * 3
            assert sent == [A]
            with acting_in(served[B]):  # inside a transaction: for the transaction
                assert seen(connection) == B
            assert seen(connection) == A
            assert sent == [A, B, A]
            with acting_in(served[B]):
                assert seen(connection) == B
                connection.rollback()
                assert seen(connection) == B  # a new transaction, set outside it
                assert sent == [A, B, A, B, B]
                nested = connection.begin_nested()
                with acting_in(served[A]):
                    assert seen(connection) == A
                nested.rollback()  # undoes what was set inside the savepoint
                with acting_in(served[A]):
                    assert seen(connection) == A
                assert seen(connection) == B
                assert sent == [A, B, A, B, B, A, A, B]
                connection.commit()
        with db.engine.connect() as connection, acting_in(served[B]):
            auto = connection.execution_options(isolation_level="AUTOCOMMIT")
            assert [seen(auto) for _ in range(3)] == [B] * 3
            assert sent[8:] == []  # the pooled connection holds B already


def test_a_role_that_passes_the_walls_is_named_in_the_log(
    pg_app, postgres_url, monkeypatch, caplog
):
    from forms_app import create_app
    from tests.support.apps import TEST_CONFIG

    monkeypatch.setenv("DATABASE_URL", postgres_url)  # the server's superuser
    with caplog.at_level(logging.WARNING, "forms_app.core.row_security"):
        create_app(dict(TEST_CONFIG))
    assert "数据库角色 postgres 是超级用户或有 BYPASSRLS 属性" in caplog.text


def test_the_worker_delivers_another_communitys_message_past_the_walls(pg_app):
    """The outbox is the deployment's: the worker (every_community) claims, sends and records
    a message of a community other than the one its process runs as."""
    from forms_app.core.database import write_transaction
    from forms_app.notifications.channels import build_channels
    from forms_app.notifications.models import DELIVERED, Notification
    from forms_app.notifications.outbox import enqueue_rows, message_row
    from forms_app.notifications.settings import notification_settings
    from forms_app.notifications.worker import deliver_next

    with pg_app.app_context():
        with acting_in(deployment_communities()[B]):
            row = message_row("renovation.new", reference="ZX-B", room="1号楼1单元101室")
            with write_transaction() as session:
                enqueue_rows(session, [row])
        settings = notification_settings(pg_app.config)
        assert deliver_next("worker-b", settings, build_channels(settings))
        db.session.remove()
        with every_community("测试：读整个发件箱"):
            message = db.session.scalars(select(Notification)).one()
        assert (message.community, message.reference, message.state) == (B, "ZX-B", DELIVERED)
