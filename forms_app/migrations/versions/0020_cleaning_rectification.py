"""Cleaning 整改 → 复检: each failed item's steps (cleaning_follow_up, appended, never edited)
and the photos of a 整改 (cleaning_follow_up_photo), both with the community key.

Revision ID: 0020_cleaning_rectification
Revises: 0019_shared_hosts
Create Date: 2026-12-07 13:29:09.127662

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_cleaning_rectification"
down_revision = "0019_shared_hosts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cleaning_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff_user.id"],
            name=op.f("fk_cleaning_follow_up_actor_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["cleaning_result.id"],
            name=op.f("fk_cleaning_follow_up_result_id_cleaning_result"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_follow_up")),
        sa.UniqueConstraint("community", "result_id", "step", name="uq_cleaning_follow_up_step"),
        sa.UniqueConstraint(
            "submission_nonce", name=op.f("uq_cleaning_follow_up_submission_nonce")
        ),
    )
    with op.batch_alter_table("cleaning_follow_up", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cleaning_follow_up_actor_id"), ["actor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cleaning_follow_up_result_id"), ["result_id"], unique=False
        )

    op.create_table(
        "cleaning_follow_up_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["cleaning_follow_up.id"],
            name=op.f("fk_cleaning_follow_up_photo_follow_up_id_cleaning_follow_up"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_follow_up_photo")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_cleaning_follow_up_photo_stored_name")),
    )
    with op.batch_alter_table("cleaning_follow_up_photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cleaning_follow_up_photo_follow_up_id"), ["follow_up_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("cleaning_follow_up_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cleaning_follow_up_photo_follow_up_id"))

    op.drop_table("cleaning_follow_up_photo")
    with op.batch_alter_table("cleaning_follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cleaning_follow_up_result_id"))
        batch_op.drop_index(batch_op.f("ix_cleaning_follow_up_actor_id"))

    op.drop_table("cleaning_follow_up")
