"""Move-in bookings (搬家预约).

Revision ID: 0005_move_in
Revises: 0004_surveys
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_move_in"
down_revision = "0004_surveys"
branch_labels = None
depends_on = None

ACTIVE_WHERE = sa.text("state != 'cancelled'")


def upgrade():
    op.create_table(
        "move_in_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=False),
        sa.Column("building", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=8), nullable=False),
        sa.Column("owner_name", sa.String(length=30), nullable=False),
        sa.Column("owner_mobile", sa.String(length=11), nullable=False),
        sa.Column("move_date", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("oversize", sa.Boolean(), nullable=False),
        sa.Column("large_items", sa.Text(), nullable=False),
        sa.Column("wants_trolley", sa.Boolean(), nullable=False),
        sa.Column("wants_carry_help", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["staff_user.id"],
            name=op.f("fk_move_in_booking_closed_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_in_booking")),
        sa.UniqueConstraint("filed_on", "sequence", name="uq_move_in_booking_filed_on_sequence"),
        sa.UniqueConstraint("reference", name=op.f("uq_move_in_booking_reference")),
        sa.UniqueConstraint("submission_nonce", name=op.f("uq_move_in_booking_submission_nonce")),
        sa.UniqueConstraint("token", name=op.f("uq_move_in_booking_token")),
    )
    op.create_index("ix_move_in_booking_day", "move_in_booking", ["move_date", "slot"])
    op.create_index(
        "uq_move_in_booking_active_seat",
        "move_in_booking",
        ["move_date", "slot", "seat"],
        unique=True,
        sqlite_where=ACTIVE_WHERE,
        postgresql_where=ACTIVE_WHERE,
    )
    op.create_index(
        "uq_move_in_booking_active_room_day",
        "move_in_booking",
        ["building", "unit", "room", "move_date"],
        unique=True,
        sqlite_where=ACTIVE_WHERE,
        postgresql_where=ACTIVE_WHERE,
    )


def downgrade():
    op.drop_index("uq_move_in_booking_active_room_day", table_name="move_in_booking")
    op.drop_index("uq_move_in_booking_active_seat", table_name="move_in_booking")
    op.drop_index("ix_move_in_booking_day", table_name="move_in_booking")
    op.drop_table("move_in_booking")
