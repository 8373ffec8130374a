"""Training sessions carry the community key: a session is held in one community

Revision ID: 0023_training_session_community
Revises: 0022_patrol_checklist
Create Date: 2026-12-07 15:05:00

Sessions recorded before are the deployment's one community's: the key of the community file
the app runs on is written into them (migrations/community_key.py).
"""

from forms_app.migrations.community_key import add_community_key, drop_community_key

# revision identifiers, used by Alembic.
revision = "0023_training_session_community"
down_revision = "0022_patrol_checklist"
branch_labels = None
depends_on = None


def upgrade():
    add_community_key("training_session", "ix_training_session_community", ["held_on"])


def downgrade():
    drop_community_key("training_session", "ix_training_session_community")
