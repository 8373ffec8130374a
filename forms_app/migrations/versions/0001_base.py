"""Base revision: the empty schema every domain migration builds on.

Domain migrations form one chain: 0002_renovation, 0003_staff, 0004_surveys, ...

Revision ID: 0001_base
Revises:
Create Date: 2026-11-27
"""

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
