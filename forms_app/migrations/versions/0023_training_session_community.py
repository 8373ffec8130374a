"""Training sessions carry the community key: a session is held in one community

Revision ID: 0023_training_session_community
Revises: 0022_patrol_checklist
Create Date: 2026-12-07 15:05:00

Sessions recorded before are the deployment's one community's: the key of the community file
the app runs on (its COMMUNITY_FILE setting) is written into them.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from forms_app.core.community import load_community

# revision identifiers, used by Alembic.
revision = "0023_training_session_community"
down_revision = "0022_patrol_checklist"
branch_labels = None
depends_on = None


def upgrade():
    key = load_community(current_app.config["COMMUNITY_FILE"]).key
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("community", sa.String(length=32), nullable=False, server_default=key)
        )
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        # The default was for the rows already there; a new session names its community.
        batch_op.alter_column("community", server_default=None)
        batch_op.create_index("ix_training_session_community", ["community", "held_on"])


def downgrade():
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.drop_index("ix_training_session_community")
        batch_op.drop_column("community")
