"""Staff accounts, sessions, login attempts, the audit log and renovation patrols.

Revision ID: 0003_staff
Revises: 0002_renovation
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_staff"
down_revision = "0002_renovation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_user_username")),
    )
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_staff_session_user_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_session_token_hash")),
    )
    op.create_index(op.f("ix_staff_session_user_id"), "staff_session", ["user_id"])
    op.create_table(
        "staff_login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_attempt")),
    )
    op.create_index(op.f("ix_staff_login_attempt_at"), "staff_login_attempt", ["at"])
    op.create_index(op.f("ix_staff_login_attempt_username"), "staff_login_attempt", ["username"])
    op.create_index(op.f("ix_staff_login_attempt_address"), "staff_login_attempt", ["address"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_user.id"], name=op.f("fk_audit_log_actor_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"])
    op.create_table(
        "renovation_patrol",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("patrol_date", sa.Date(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("inspector_name", sa.String(length=50), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("violation", sa.Boolean(), nullable=False),
        sa.Column("violation_description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["renovation_application.id"],
            name=op.f("fk_renovation_patrol_application_id_renovation_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["staff_user.id"],
            name=op.f("fk_renovation_patrol_inspector_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_patrol")),
    )
    op.create_index(
        "ix_renovation_patrol_due", "renovation_patrol", ["application_id", "kind", "patrol_date"]
    )
    op.create_table(
        "renovation_patrol_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["renovation_patrol.id"],
            name=op.f("fk_renovation_patrol_photo_patrol_id_renovation_patrol"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_patrol_photo")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_renovation_patrol_photo_stored_name")),
    )
    op.create_index(
        op.f("ix_renovation_patrol_photo_patrol_id"), "renovation_patrol_photo", ["patrol_id"]
    )
    # Workflow steps name the staff member who took them (owners' own steps stay NULL).
    with op.batch_alter_table("renovation_event") as batch:
        batch.create_foreign_key(
            "fk_renovation_event_actor_id_staff_user", "staff_user", ["actor_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("renovation_event") as batch:
        batch.drop_constraint("fk_renovation_event_actor_id_staff_user", type_="foreignkey")
    op.drop_table("renovation_patrol_photo")
    op.drop_table("renovation_patrol")
    op.drop_table("audit_log")
    op.drop_table("staff_login_attempt")
    op.drop_table("staff_session")
    op.drop_table("staff_user")
