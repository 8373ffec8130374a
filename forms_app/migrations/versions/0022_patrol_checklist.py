"""Patrols become a checklist: renovation_patrol_check (one row per item of a patrol; a 不合格
item is a finding with its note, 整改 deadline and status), renovation_finding_step (整改 and
复查) and renovation_finding_photo, each with the community key. Patrols recorded before keep
their free text and have no checklist rows.

Revision ID: 0022_patrol_checklist
Revises: 0021_staff_alerts
Create Date: 2026-12-07 13:30:05

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_patrol_checklist"
down_revision = "0021_staff_alerts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "renovation_patrol_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("item_text", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["renovation_patrol.id"],
            name=op.f("fk_renovation_patrol_check_patrol_id_renovation_patrol"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_patrol_check")),
        sa.UniqueConstraint("patrol_id", "item_id", name="uq_renovation_patrol_check_item"),
    )
    with op.batch_alter_table("renovation_patrol_check", schema=None) as batch_op:
        batch_op.create_index(
            "ix_renovation_patrol_check_status", ["community", "status", "deadline"], unique=False
        )

    op.create_table(
        "renovation_finding_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff_user.id"],
            name=op.f("fk_renovation_finding_step_actor_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["renovation_patrol_check.id"],
            name=op.f("fk_renovation_finding_step_check_id_renovation_patrol_check"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_finding_step")),
        sa.UniqueConstraint(
            "submission_nonce", name=op.f("uq_renovation_finding_step_submission_nonce")
        ),
    )
    with op.batch_alter_table("renovation_finding_step", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_renovation_finding_step_check_id"), ["check_id"], unique=False
        )

    op.create_table(
        "renovation_finding_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["renovation_patrol_check.id"],
            name=op.f("fk_renovation_finding_photo_check_id_renovation_patrol_check"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["renovation_finding_step.id"],
            name=op.f("fk_renovation_finding_photo_step_id_renovation_finding_step"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_finding_photo")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_renovation_finding_photo_stored_name")),
    )
    with op.batch_alter_table("renovation_finding_photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_renovation_finding_photo_check_id"), ["check_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_renovation_finding_photo_step_id"), ["step_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("renovation_finding_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_renovation_finding_photo_step_id"))
        batch_op.drop_index(batch_op.f("ix_renovation_finding_photo_check_id"))

    op.drop_table("renovation_finding_photo")
    with op.batch_alter_table("renovation_finding_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_renovation_finding_step_check_id"))

    op.drop_table("renovation_finding_step")
    with op.batch_alter_table("renovation_patrol_check", schema=None) as batch_op:
        batch_op.drop_index("ix_renovation_patrol_check_status")

    op.drop_table("renovation_patrol_check")
