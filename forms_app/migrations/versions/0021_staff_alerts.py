"""Personal staff alerts: the outbox records which account a staff alert is for and how its
name reads (notification.staff_id, notification.addressee).

Revision ID: 0021_staff_alerts
Revises: 0020_cleaning_rectification
Create Date: 2026-12-08 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_staff_alerts"
down_revision = "0020_cleaning_rectification"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: no rebuild of the outbox table.
    op.add_column("notification", sa.Column("staff_id", sa.Integer(), nullable=True))
    op.add_column(
        "notification",
        sa.Column("addressee", sa.String(length=120), nullable=False, server_default=""),
    )


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("addressee")
        batch_op.drop_column("staff_id")
