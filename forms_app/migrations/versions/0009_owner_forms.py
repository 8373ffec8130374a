"""Owner forms that forgive: attachments kept against a form's nonce, a resubmitted
application's link to the rejected one, and staff notes the owner never sees.

Renamed from 0010_owner_forms.py so that file names sort in run order. The revision id keeps its
old number (0010_owner_forms) so that databases already stamped with it stay on their chain.

Revision ID: 0010_owner_forms
Revises: 0011_staff_tools
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_owner_forms"
down_revision = "0011_staff_tools"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=30), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_upload")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_pending_upload_stored_name")),
    )
    op.create_index("ix_pending_upload_form_nonce", "pending_upload", ["form", "nonce"])
    op.create_index(op.f("ix_pending_upload_created_at"), "pending_upload", ["created_at"])
    with op.batch_alter_table("renovation_application") as batch:
        batch.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint(
            batch.f("uq_renovation_application_previous_id"), ["previous_id"]
        )
        batch.create_foreign_key(
            batch.f("fk_renovation_application_previous_id_renovation_application"),
            "renovation_application",
            ["previous_id"],
            ["id"],
        )
    with op.batch_alter_table("renovation_event") as batch:
        batch.add_column(sa.Column("internal_note", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("renovation_event") as batch:
        batch.drop_column("internal_note")
    with op.batch_alter_table("renovation_application") as batch:
        batch.drop_constraint(
            batch.f("fk_renovation_application_previous_id_renovation_application"),
            type_="foreignkey",
        )
        batch.drop_constraint(batch.f("uq_renovation_application_previous_id"), type_="unique")
        batch.drop_column("previous_id")
    op.drop_index(op.f("ix_pending_upload_created_at"), table_name="pending_upload")
    op.drop_index("ix_pending_upload_form_nonce", table_name="pending_upload")
    op.drop_table("pending_upload")
