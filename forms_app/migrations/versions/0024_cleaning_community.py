"""Cleaning inspections carry the community key (their items, photos and 整改 rows are theirs)

Revision ID: 0024_cleaning_community
Revises: 0023_training_session_community
Create Date: 2026-12-07 15:05:00

Inspections recorded before are the deployment's one community's: the key of the community file
the app runs on is written into them (migrations/community_key.py).
"""

from forms_app.migrations.community_key import add_community_key, drop_community_key

# revision identifiers, used by Alembic.
revision = "0024_cleaning_community"
down_revision = "0023_training_session_community"
branch_labels = None
depends_on = None


def upgrade():
    add_community_key("cleaning_inspection", "ix_cleaning_inspection_community", ["inspected_on"])


def downgrade():
    drop_community_key("cleaning_inspection", "ix_cleaning_inspection_community")
