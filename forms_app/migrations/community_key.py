"""Giving a table from before the community rule its ``community`` column (issue 28).

The rows already there are the deployment's one community's: the key of the community file
the app runs on (its ``COMMUNITY_FILE`` setting) is written into them, then the column keeps
no default, so a new row always names its community. An index leads with the key. On
PostgreSQL, once the walls exist, migrations/env.py gives the table its row-level security
after the upgrade (core/row_security.py).
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from forms_app.core.community import load_community
from forms_app.core.row_security import unwall_table


def add_community_key(table: str, index: str | None, columns: list[str]) -> None:
    """Add ``community`` to ``table``, filled for existing rows, and the index ``index`` on
    ``community`` and ``columns`` (None: no index of its own, for a table whose every extra
    index is another page written on a hot path)."""
    key = load_community(current_app.config["COMMUNITY_FILE"]).key
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("community", sa.String(length=32), nullable=False, server_default=key)
        )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column("community", server_default=None)
        if index:
            batch_op.create_index(index, ["community", *columns])


def drop_community_key(table: str, index: str | None) -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        unwall_table(connection, table)  # its policy names the column (core/row_security.py)
    with op.batch_alter_table(table, schema=None) as batch_op:
        if index:
            batch_op.drop_index(index)
        batch_op.drop_column("community")
