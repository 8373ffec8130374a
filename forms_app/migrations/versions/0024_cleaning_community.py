"""Cleaning inspections carry the community key (their items, photos and 整改 rows are theirs)

Revision ID: 0024_cleaning_community
Revises: 0023_training_session_community
Create Date: 2026-12-07 15:05:00

Inspections recorded before are the deployment's one community's: the key of the community file
the app runs on (its COMMUNITY_FILE setting) is written into them.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from forms_app.core.community import load_community

# revision identifiers, used by Alembic.
revision = "0024_cleaning_community"
down_revision = "0023_training_session_community"
branch_labels = None
depends_on = None


def upgrade():
    key = load_community(current_app.config["COMMUNITY_FILE"]).key
    with op.batch_alter_table("cleaning_inspection", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("community", sa.String(length=32), nullable=False, server_default=key)
        )
    with op.batch_alter_table("cleaning_inspection", schema=None) as batch_op:
        # The default was for the rows already there; a new inspection names its community.
        batch_op.alter_column("community", server_default=None)
        batch_op.create_index("ix_cleaning_inspection_community", ["community", "inspected_on"])


def downgrade():
    with op.batch_alter_table("cleaning_inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_cleaning_inspection_community")
        batch_op.drop_column("community")
