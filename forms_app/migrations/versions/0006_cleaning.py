"""Cleaning quality inspections (保洁品质检查): inspections, checked items, photos.

Revision ID: 0006_cleaning
Revises: 0005_move_in
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_cleaning"
down_revision = "0005_move_in"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cleaning_inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("building", sa.Integer(), nullable=True),
        sa.Column("spot", sa.String(length=60), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("inspector_name", sa.String(length=100), nullable=False),
        sa.Column("passed_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("na_count", sa.Integer(), nullable=False),
        sa.Column("key_failed_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["staff_user.id"],
            name=op.f("fk_cleaning_inspection_inspector_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_inspection")),
        sa.UniqueConstraint(
            "submission_nonce", name=op.f("uq_cleaning_inspection_submission_nonce")
        ),
    )
    op.create_index("ix_cleaning_inspection_date", "cleaning_inspection", ["inspected_on", "id"])
    op.create_index(
        op.f("ix_cleaning_inspection_inspector_id"), "cleaning_inspection", ["inspector_id"]
    )
    op.create_table(
        "cleaning_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.String(length=40), nullable=False),
        sa.Column("area_name", sa.String(length=40), nullable=False),
        sa.Column("key_area", sa.Boolean(), nullable=False),
        sa.Column("item_id", sa.String(length=60), nullable=False),
        sa.Column("item_text", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["cleaning_inspection.id"],
            name=op.f("fk_cleaning_result_inspection_id_cleaning_inspection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_result")),
        sa.UniqueConstraint("inspection_id", "item_id", name="uq_cleaning_result_inspection_item"),
    )
    op.create_index("ix_cleaning_result_area", "cleaning_result", ["area_id", "result"])
    op.create_index("ix_cleaning_result_item", "cleaning_result", ["item_id", "result"])
    op.create_table(
        "cleaning_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["cleaning_result.id"],
            name=op.f("fk_cleaning_photo_result_id_cleaning_result"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_photo")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_cleaning_photo_stored_name")),
    )
    op.create_index(op.f("ix_cleaning_photo_result_id"), "cleaning_photo", ["result_id"])


def downgrade():
    op.drop_index(op.f("ix_cleaning_photo_result_id"), table_name="cleaning_photo")
    op.drop_table("cleaning_photo")
    op.drop_index("ix_cleaning_result_item", table_name="cleaning_result")
    op.drop_index("ix_cleaning_result_area", table_name="cleaning_result")
    op.drop_table("cleaning_result")
    op.drop_index(op.f("ix_cleaning_inspection_inspector_id"), table_name="cleaning_inspection")
    op.drop_index("ix_cleaning_inspection_date", table_name="cleaning_inspection")
    op.drop_table("cleaning_inspection")
