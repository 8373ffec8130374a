"""Hardening: kept attachments remember the client address that sent them (bounded per
address and in total), and a table of counted requests shared by every worker (throttles of
anonymous public POSTs per address and per room).

Revision ID: 0016_hardening
Revises: 0015_notices
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_hardening"
down_revision = "0015_notices"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttle_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_hit")),
    )
    with op.batch_alter_table("throttle_hit", schema=None) as batch_op:
        batch_op.create_index("ix_throttle_hit_key_at", ["key", "at"], unique=False)
    with op.batch_alter_table("pending_upload", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_index("ix_pending_upload_address", ["address"], unique=False)


def downgrade():
    with op.batch_alter_table("pending_upload", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_upload_address")
        batch_op.drop_column("address")
    with op.batch_alter_table("throttle_hit", schema=None) as batch_op:
        batch_op.drop_index("ix_throttle_hit_key_at")
    op.drop_table("throttle_hit")
