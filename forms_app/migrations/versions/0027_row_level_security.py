"""Row-level security keyed on the community on every keyed table (PostgreSQL): the
database's wall behind the app's (issue 28)

Revision ID: 0027_row_level_security
Revises: 0026_key_service_surveys
Create Date: 2026-12-08 10:00:00

Every table with a ``community`` column gets row-level security, enabled and forced, and the
policy ``community_wall`` (core/row_security.py). Tables keyed or created by later migrations
are walled by migrations/env.py after each upgrade. SQLite has no row-level security: nothing
changes there.
"""

from alembic import op

from forms_app.core.row_security import keyed_tables, unwall_table, wall_keyed_tables

# revision identifiers, used by Alembic.
revision = "0027_row_level_security"
down_revision = "0026_key_service_surveys"
branch_labels = None
depends_on = None


def upgrade():
    wall_keyed_tables(op.get_bind())


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    for table in keyed_tables(connection):
        unwall_table(connection, table)
