"""Row-level security on PostgreSQL: the database's own wall between communities (issue 28),
behind the ORM's (``community_scope.py``), for whatever SQL the ORM's does not see - a Core
statement, a ``text()`` query, a join someone wrote by hand.

Every table with a ``community`` column has row-level security enabled *and forced* (the app's
role owns the tables, and an owner is otherwise exempt) and one policy, ``community_wall``: a
statement sees, inserts and changes only the rows whose ``community`` is the connection's
``app.community`` setting, unless ``app.every_community`` is ``on``. With neither set a
statement sees nothing and can write nothing: the wall fails closed.

The app sets both for every statement it runs (``install_row_security``): ``app.community``
to ``community_key()`` (the request's host, or ``acting_in``), ``app.every_community`` on only
for a statement marked ``all_communities()`` or run inside ``every_community(reason)``, and
send them only when the connection does not hold these values already: a connection that keeps
serving one community sends them once, not per statement or per transaction. They are set for
the session only outside any transaction (so no rollback can take them back behind the app's
back), and a change inside a transaction only for that transaction (``set_config(..., true)``),
which ends with it.

Migrations and backups run as the table owner and go around the wall the same explicit way
(``migrations/env.py``, ``files/backups.py``). A PostgreSQL superuser, or a role with
BYPASSRLS, is never held by row-level security: the app must connect as an ordinary role.

``wall_keyed_tables`` walls every keyed table that is not walled yet; migration
0027_row_level_security calls it, and ``migrations/env.py`` calls it after every upgrade once
the walls exist, so a table keyed or created later is walled without a list to keep.
``unwalled_tables`` is the check (tests/core/test_row_security.py).
"""

from __future__ import annotations

import logging

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .community import community_key
from .community_scope import ALL_COMMUNITIES, crossing_reason

log = logging.getLogger(__name__)

POLICY = "community_wall"
COMMUNITY_SETTING = "app.community"
BYPASS_SETTING = "app.every_community"
CONDITION = (
    f"community = current_setting('{COMMUNITY_SETTING}', true)"
    f" OR current_setting('{BYPASS_SETTING}', true) = 'on'"
)
_SET = f"SELECT set_config('{COMMUNITY_SETTING}', %s, %s), set_config('{BYPASS_SETTING}', %s, %s)"

_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
# Keys of a DBAPI connection's ``info``: the settings of its session (set only outside any
# transaction, where no rollback can undo them), and those set in its open transaction.
_LOCAL = "row_security_local"
_SESSION = "row_security_session"

_ROLE = text("SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
_KEYED_TABLES = text(
    "SELECT c.relname FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_attribute a ON a.attrelid = c.oid"
    " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
    " AND a.attname = 'community' AND NOT a.attisdropped"
    " ORDER BY c.relname"
)
_WALLED_TABLES = text(
    "SELECT c.relname FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_policy p ON p.polrelid = c.oid"
    " WHERE n.nspname = current_schema() AND p.polname = :policy AND p.polcmd = '*'"
    " AND p.polpermissive AND c.relrowsecurity AND c.relforcerowsecurity"
    " ORDER BY c.relname"
)


def _quoted(connection, table: str) -> str:
    return connection.dialect.identifier_preparer.quote(table)


def keyed_tables(connection) -> list[str]:
    """Every table of the schema that has a ``community`` column."""
    return list(connection.execute(_KEYED_TABLES).scalars())


def walled_tables(connection) -> list[str]:
    """Every table with row-level security enabled and forced and the ``community_wall``
    policy for all commands."""
    return list(connection.execute(_WALLED_TABLES, {"policy": POLICY}).scalars())


def unwalled_tables(connection) -> list[str]:
    """The keyed tables the wall does not hold yet (empty when every one is walled)."""
    walled = set(walled_tables(connection))
    return [table for table in keyed_tables(connection) if table not in walled]


def wall_table(connection, table: str) -> None:
    """Row-level security on ``table`` (enabled, forced) with the ``community_wall`` policy."""
    name = _quoted(connection, table)
    connection.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))
    connection.execute(text(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY"))
    connection.execute(text(f"DROP POLICY IF EXISTS {POLICY} ON {name}"))
    connection.execute(
        text(f"CREATE POLICY {POLICY} ON {name} USING ({CONDITION}) WITH CHECK ({CONDITION})")
    )


def unwall_table(connection, table: str) -> None:
    """``table`` without the policy and row-level security (a downgrade, a dropped key)."""
    name = _quoted(connection, table)
    connection.execute(text(f"DROP POLICY IF EXISTS {POLICY} ON {name}"))
    connection.execute(text(f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY"))
    connection.execute(text(f"ALTER TABLE {name} DISABLE ROW LEVEL SECURITY"))


def wall_keyed_tables(connection) -> list[str]:
    """Wall every keyed table not walled yet (PostgreSQL only); the tables walled now. Tables
    already walled are left alone: ALTER TABLE locks a table, and this runs on every upgrade."""
    if connection.dialect.name != "postgresql":
        return []
    tables = unwalled_tables(connection)
    for table in tables:
        wall_table(connection, table)
    return tables


def walls_exist(connection) -> bool:
    """True once the walls were put up (migration 0027_row_level_security)."""
    return connection.dialect.name == "postgresql" and bool(walled_tables(connection))


def _wanted(context) -> tuple[str, str]:
    try:
        key = community_key()
    except RuntimeError:  # no app: no community, so the statement sees nothing
        key = ""
    every = crossing_reason() is not None or bool(
        context is not None and context.execution_options.get(ALL_COMMUNITIES)
    )
    return key, "on" if every else "off"


def _set_settings(conn, cursor, statement, _parameters, context, _executemany) -> None:
    """Before each statement: the settings, when the connection does not hold these already.

    Outside a transaction they are set for the session, in autocommit (the driver's
    connection is idle, so no transaction is open that could take them back on rollback),
    and kept while they stay the same: a connection that serves one community sends them
    once. Inside a transaction a change is set for the transaction only: it ends with it
    (libpq's transaction status says when), and the session's value holds again."""
    info = conn.connection.info  # lives as long as the DBAPI connection
    driver = cursor.connection
    status = driver.pgconn.transaction_status
    if status == _IDLE:  # no transaction: this statement starts one, or autocommits
        info.pop(_LOCAL, None)
        if statement.startswith(_TRANSACTION_CONTROL):
            return
        wanted = _wanted(context)
        if info.get(_SESSION) == wanted:
            return
        autocommit = driver.autocommit
        driver.autocommit = True
        try:
            driver.execute(_SET, (wanted[0], False, wanted[1], False))
        finally:
            driver.autocommit = autocommit
        info[_SESSION] = wanted
        return
    if status == _INERROR or statement.startswith(_TRANSACTION_CONTROL):
        return  # an aborted transaction fails the statement anyway; a savepoint reads no row
    wanted = _wanted(context)
    if info.get(_LOCAL, info.get(_SESSION)) == wanted:
        return
    driver.execute(_SET, (wanted[0], True, wanted[1], True))
    info[_LOCAL] = wanted


def _forget_local(conn, _name, _context) -> None:
    """A savepoint rolled back undoes what was set inside it: set them again."""
    conn.connection.info[_LOCAL] = None


def install_row_security(engine: Engine) -> None:
    """Set the community settings for every statement of a PostgreSQL engine (idempotent),
    and say in the log when the app's role passes through every wall (a superuser or
    BYPASSRLS role)."""
    if engine.dialect.name != "postgresql":
        return
    _load_transaction_states()
    if not event.contains(engine, "before_cursor_execute", _set_settings):
        event.listen(engine, "before_cursor_execute", _set_settings)
        event.listen(engine, "rollback_savepoint", _forget_local)
    try:
        with engine.connect() as connection:
            role, passes = connection.execute(_ROLE).one()
    except SQLAlchemyError:  # the database not reachable yet: the requests will say so
        return
    finally:
        engine.dispose()  # no connection inherited by forked workers
    if passes:
        log.warning(
            "数据库角色 %s 是超级用户或有 BYPASSRLS 属性：行级安全（按小区隔离数据的第二道防线）"
            "对它不起作用。请让应用以拥有这些表的普通角色连接（README「Production」）。",
            role,
        )


# libpq's transaction states, read from the driver when a PostgreSQL engine is set up: a
# process on SQLite never loads psycopg (a tenth of a second at every start).
_IDLE = _INERROR = None


def _load_transaction_states() -> None:
    global _IDLE, _INERROR
    from psycopg.pq import TransactionStatus

    _IDLE, _INERROR = TransactionStatus.IDLE, TransactionStatus.INERROR
