"""Base revision: the empty schema every domain migration builds on.

Domain migrations form one chain: 0002_renovation, 0003_staff, 0004_surveys, ... File names
sort in run order; the revision ids of files 0007-0011 keep their historical numbers, which
differ from the file numbers (see ../README).

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
