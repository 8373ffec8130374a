"""Staff accounts belong to communities: a role, a department and a 主管 post in each
(staff_membership); the company's 品质部 is the account's own company_role

Revision ID: 0028_staff_memberships
Revises: 0027_row_level_security
Create Date: 2026-12-08 10:00:00

Every account there is gets a membership of the deployment's one community (the key of the
community file the app runs on, as migrations/community_key.py reads it) with the role,
department and 主管 post it had; staff_user then loses those three columns. An account's
areas are one per community and area.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from forms_app.core.community import load_community

# revision identifiers, used by Alembic.
revision = "0028_staff_memberships"
down_revision = "0027_row_level_security"
branch_labels = None
depends_on = None


def _key() -> str:
    return load_community(current_app.config["COMMUNITY_FILE"]).key


def upgrade():
    op.create_table(
        "staff_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("is_head", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_membership_staff_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_membership")),
        sa.UniqueConstraint("staff_id", "community", name="uq_staff_membership_staff_community"),
    )
    op.create_index("ix_staff_membership_community", "staff_membership", ["community", "role"])
    op.execute(
        sa.text(
            "INSERT INTO staff_membership (community, staff_id, role, department, is_head, "
            "created_at) SELECT :key, id, role, department, is_head, created_at FROM staff_user"
        ).bindparams(key=_key())
    )
    op.add_column("staff_user", sa.Column("company_role", sa.String(length=20), nullable=True))
    op.drop_index(op.f("ix_staff_user_department"), table_name="staff_user")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("is_head")
        batch_op.drop_column("department")
        batch_op.drop_column("role")
    with op.batch_alter_table("staff_area", schema=None) as batch_op:
        batch_op.drop_constraint("uq_staff_area_user_area", type_="unique")
        batch_op.create_unique_constraint(
            "uq_staff_area_user_area", ["user_id", "community", "area"]
        )


def downgrade():
    # Back to one role per account: the one it has in the running community, else its company
    # role, else its first membership's.
    with op.batch_alter_table("staff_area", schema=None) as batch_op:
        batch_op.drop_constraint("uq_staff_area_user_area", type_="unique")
        batch_op.create_unique_constraint("uq_staff_area_user_area", ["user_id", "area"])
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("department", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("is_head", sa.Boolean(), nullable=False, server_default="0"))
    here = (
        "(SELECT m.{column} FROM staff_membership m "
        "WHERE m.staff_id = staff_user.id AND m.community = :key)"
    )
    first = (
        "(SELECT m.role FROM staff_membership m WHERE m.staff_id = staff_user.id "
        "ORDER BY m.id LIMIT 1)"
    )
    op.execute(
        sa.text(
            f"UPDATE staff_user SET role = COALESCE({here.format(column='role')}, company_role, "
            f"{first}, ''), department = {here.format(column='department')}, "
            f"is_head = COALESCE({here.format(column='is_head')}, is_head)"
        ).bindparams(key=_key())
    )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.alter_column("role", server_default=None)
        batch_op.drop_column("company_role")
    op.create_index(op.f("ix_staff_user_department"), "staff_user", ["department"])
    op.drop_index("ix_staff_membership_community", table_name="staff_membership")
    op.drop_table("staff_membership")
