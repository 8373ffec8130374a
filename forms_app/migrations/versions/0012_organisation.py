"""The staff organisation: each account's department, whether it is a 主管 there, a mobile, the
areas a 保洁 or 秩序维护 covers, and the duty rota (值班表). The new tables carry the
community key.

Revision ID: 0012_organisation
Revises: 0007_training
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_organisation"
down_revision = "0007_training"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: no table rebuild of staff_user, which others reference.
    op.add_column("staff_user", sa.Column("department", sa.String(length=32), nullable=True))
    op.add_column(
        "staff_user", sa.Column("is_head", sa.Boolean(), nullable=False, server_default="0")
    )
    op.add_column("staff_user", sa.Column("mobile", sa.String(length=11), nullable=True))
    op.create_index(op.f("ix_staff_user_department"), "staff_user", ["department"])
    op.create_table(
        "staff_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "area", name="uq_staff_area_user_area"),
    )
    op.create_index(op.f("ix_staff_area_community"), "staff_area", ["community"])
    op.create_index(op.f("ix_staff_area_user_id"), "staff_area", ["user_id"])
    op.create_table(
        "duty_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "community", "department", "day", "shift", "user_id", name="uq_duty_shift_person"
        ),
    )
    op.create_index("ix_duty_shift_community_day", "duty_shift", ["community", "day"])
    op.create_index(op.f("ix_duty_shift_user_id"), "duty_shift", ["user_id"])


def downgrade():
    op.drop_table("duty_shift")
    op.drop_table("staff_area")
    op.drop_index(op.f("ix_staff_user_department"), table_name="staff_user")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("mobile")
        batch.drop_column("is_head")
        batch.drop_column("department")
