"""Renovation applications, their history and attachments.

Revision ID: 0002_renovation
Revises: 0001_base
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_renovation"
down_revision = "0001_base"
branch_labels = None
depends_on = None

OPEN_ROOM_WHERE = sa.text("state NOT IN ('rejected', 'deposit_refunded')")


def upgrade():
    op.create_table(
        "renovation_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status_token", sa.String(length=64), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=False),
        sa.Column("building", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=8), nullable=False),
        sa.Column("owner_name", sa.String(length=30), nullable=False),
        sa.Column("owner_mobile", sa.String(length=11), nullable=False),
        sa.Column("contractor_company", sa.String(length=60), nullable=False),
        sa.Column("site_lead_name", sa.String(length=30), nullable=False),
        sa.Column("site_lead_mobile", sa.String(length=11), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("work_items", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("wants_tarpaulin", sa.Boolean(), nullable=False),
        sa.Column("wants_extinguisher", sa.Boolean(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_application")),
        sa.UniqueConstraint("reference", name=op.f("uq_renovation_application_reference")),
        sa.UniqueConstraint("status_token", name=op.f("uq_renovation_application_status_token")),
        sa.UniqueConstraint(
            "submission_nonce", name=op.f("uq_renovation_application_submission_nonce")
        ),
    )
    op.create_index(
        "uq_renovation_application_open_room",
        "renovation_application",
        ["building", "unit", "room"],
        unique=True,
        sqlite_where=OPEN_ROOM_WHERE,
        postgresql_where=OPEN_ROOM_WHERE,
    )

    op.create_table(
        "renovation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["renovation_application.id"],
            name=op.f("fk_renovation_event_application_id_renovation_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_event")),
    )
    op.create_index(
        op.f("ix_renovation_event_application_id"), "renovation_event", ["application_id"]
    )

    op.create_table(
        "renovation_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["renovation_application.id"],
            name=op.f("fk_renovation_attachment_application_id_renovation_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_attachment")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_renovation_attachment_stored_name")),
    )
    op.create_index(
        op.f("ix_renovation_attachment_application_id"),
        "renovation_attachment",
        ["application_id"],
    )


def downgrade():
    op.drop_table("renovation_attachment")
    op.drop_table("renovation_event")
    op.drop_table("renovation_application")
