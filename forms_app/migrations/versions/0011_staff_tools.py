"""Staff tools: each recorded patrol keeps the nonce of the form it came from, so a draft sent
again from a phone that was offline finds the first record instead of adding a second.

Revision ID: 0011_staff_tools
Revises: 0006_cleaning
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_staff_tools"
down_revision = "0006_cleaning"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("renovation_patrol") as batch:
        # Nullable: patrols recorded before this revision came from forms without a nonce.
        batch.add_column(sa.Column("submission_nonce", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_renovation_patrol_submission_nonce",
                                       ["submission_nonce"])


def downgrade():
    with op.batch_alter_table("renovation_patrol") as batch:
        batch.drop_constraint("uq_renovation_patrol_submission_nonce", type_="unique")
        batch.drop_column("submission_nonce")
