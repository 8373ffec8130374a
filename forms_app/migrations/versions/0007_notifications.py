"""Notifications: the outbox and its delivery attempts; 我的办理's one-time codes and wrong codes.

Renamed from 0009_notifications.py so that file names sort in run order. The revision id keeps
its old number (0009_notifications) so that databases already stamped with it stay on their
chain.

Revision ID: 0009_notifications
Revises: 0006_cleaning
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_notifications"
down_revision = "0006_cleaning"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("record_type", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("leased_by", sa.String(length=80), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notification_idempotency_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notification_record", ["record_type", "record_id"], unique=False)

    op.create_table(
        "owner_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=8), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_code")),
    )
    with op.batch_alter_table("owner_code", schema=None) as batch_op:
        batch_op.create_index("ix_owner_code_address", ["address", "created_at"], unique=False)
        batch_op.create_index("ix_owner_code_mobile", ["mobile", "created_at"], unique=False)

    op.create_table(
        "owner_code_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_code_failure")),
    )
    with op.batch_alter_table("owner_code_failure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_owner_code_failure_address", ["address", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_owner_code_failure_mobile", ["mobile", "created_at"], unique=False
        )

    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_attempt_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempt")),
    )
    with op.batch_alter_table("notification_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_attempt_notification_id"), ["notification_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("notification_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_attempt_notification_id"))

    op.drop_table("notification_attempt")
    with op.batch_alter_table("owner_code_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_owner_code_failure_mobile")
        batch_op.drop_index("ix_owner_code_failure_address")

    op.drop_table("owner_code_failure")
    with op.batch_alter_table("owner_code", schema=None) as batch_op:
        batch_op.drop_index("ix_owner_code_mobile")
        batch_op.drop_index("ix_owner_code_address")

    op.drop_table("owner_code")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_record")
        batch_op.drop_index("ix_notification_due")

    op.drop_table("notification")
