"""Staff tools: each recorded patrol and each workflow step keeps the nonce of the form it came
from, so a draft sent again from a phone that was offline finds the first record instead of
adding a second.

Renamed from 0011_staff_tools.py so that file names sort in run order. The revision id keeps its
old number (0011_staff_tools) so that databases already stamped with it stay on their chain.

Revision ID: 0011_staff_tools
Revises: 0009_notifications
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_staff_tools"
down_revision = "0009_notifications"
branch_labels = None
depends_on = None


TABLES = ("renovation_patrol", "renovation_event")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            # Nullable: rows from before this revision (and owners' steps) have no nonce.
            batch.add_column(sa.Column("submission_nonce", sa.String(length=64), nullable=True))
            batch.create_unique_constraint(f"uq_{table}_submission_nonce", ["submission_nonce"])


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_submission_nonce", type_="unique")
            batch.drop_column("submission_nonce")
