"""Repairs and complaints (报修与投诉): the register, its history, photos, 回访 calls, and
household visits (走访记录).

Renamed from 0008_service_requests.py so that file names sort in run order. The revision id
keeps its old number (0008_service_requests) so that databases already stamped with it stay on
their chain.

Revision ID: 0008_service_requests
Revises: 0010_owner_forms
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_service_requests"
down_revision = "0010_owner_forms"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "household_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("building", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=8), nullable=False),
        sa.Column("person", sa.String(length=30), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        sa.Column("owner_signed", sa.Boolean(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=True),
        sa.Column("visitor_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["staff_user.id"],
            name=op.f("fk_household_visit_visitor_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_visit")),
        sa.UniqueConstraint("submission_nonce", name=op.f("uq_household_visit_submission_nonce")),
    )
    with op.batch_alter_table("household_visit", schema=None) as batch_op:
        batch_op.create_index("ix_household_visit_day", ["visited_on", "kind"], unique=False)

    op.create_table(
        "service_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("submission_nonce", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=60), nullable=False),
        sa.Column("available_time", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=30), nullable=False),
        sa.Column("wish", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("assignee_name", sa.String(length=100), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("arrived_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("materials", sa.Text(), nullable=False),
        sa.Column("receipt", sa.String(length=16), nullable=False),
        sa.Column("receipt_name", sa.String(length=30), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("owner_view", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("building", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=8), nullable=False),
        sa.Column("owner_name", sa.String(length=30), nullable=False),
        sa.Column("owner_mobile", sa.String(length=11), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff_user.id"],
            name=op.f("fk_service_request_assignee_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request")),
        sa.UniqueConstraint("reference", name=op.f("uq_service_request_reference")),
        sa.UniqueConstraint("submission_nonce", name=op.f("uq_service_request_submission_nonce")),
        sa.UniqueConstraint("token", name=op.f("uq_service_request_token")),
    )
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.create_index("ix_service_request_assignee", ["assignee_id", "state"], unique=False)
        batch_op.create_index("ix_service_request_closed", ["closed_at"], unique=False)
        batch_op.create_index("ix_service_request_created", ["created_at"], unique=False)
        batch_op.create_index("ix_service_request_state_due", ["state", "due_at"], unique=False)

    op.create_table(
        "service_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff_user.id"],
            name=op.f("fk_service_event_actor_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_service_event_request_id_service_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_event")),
    )
    with op.batch_alter_table("service_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_event_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "service_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("owner_view", sa.Text(), nullable=False),
        sa.Column("caller_id", sa.Integer(), nullable=True),
        sa.Column("caller_name", sa.String(length=100), nullable=False),
        sa.Column("called_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["caller_id"],
            ["staff_user.id"],
            name=op.f("fk_service_follow_up_caller_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_service_follow_up_request_id_service_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_follow_up")),
    )
    with op.batch_alter_table("service_follow_up", schema=None) as batch_op:
        batch_op.create_index("ix_service_follow_up_called", ["called_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_follow_up_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "service_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_service_photo_request_id_service_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_photo")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_service_photo_stored_name")),
    )
    with op.batch_alter_table("service_photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_photo_request_id"), ["request_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("service_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_photo_request_id"))

    op.drop_table("service_photo")
    with op.batch_alter_table("service_follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_follow_up_request_id"))
        batch_op.drop_index("ix_service_follow_up_called")

    op.drop_table("service_follow_up")
    with op.batch_alter_table("service_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_event_request_id"))

    op.drop_table("service_event")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index("ix_service_request_state_due")
        batch_op.drop_index("ix_service_request_created")
        batch_op.drop_index("ix_service_request_closed")
        batch_op.drop_index("ix_service_request_assignee")

    op.drop_table("service_request")
    with op.batch_alter_table("household_visit", schema=None) as batch_op:
        batch_op.drop_index("ix_household_visit_day")

    op.drop_table("household_visit")
