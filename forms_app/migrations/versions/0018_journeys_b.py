"""Owners confirm repairs and answer complaints online: service_owner_feedback, with the
community key.

Revision ID: 0018_journeys_b
Revises: 0017_training_sign_in
Create Date: 2026-12-07 11:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_journeys_b"
down_revision = "0017_training_sign_in"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "service_owner_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("fixed", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_owner_feedback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_owner_feedback_created", ["community", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_owner_feedback_request_id"), ["request_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("service_owner_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_owner_feedback_request_id"))
        batch_op.drop_index("ix_service_owner_feedback_created")
    op.drop_table("service_owner_feedback")
