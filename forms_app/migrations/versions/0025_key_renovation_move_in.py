"""Renovation applications and patrols, move-in bookings, household visits and 我的办理 codes
carry the community key; one open application per room, one seat and one room-day per slot
are each community's own

Revision ID: 0025_key_renovation_move_in
Revises: 0024_cleaning_community
Create Date: 2026-12-07 16:00:00

Records made before are the deployment's one community's: the key of the community file the
app runs on is written into them (migrations/community_key.py). An application's history and
attachments, a patrol's photos are reached only through their keyed parent; wrong codes typed
count across the deployment (tests/core/test_community_key.py NEVER_KEYED).
"""

import sqlalchemy as sa
from alembic import op

from forms_app.migrations.community_key import add_community_key, drop_community_key

# revision identifiers, used by Alembic.
revision = "0025_key_renovation_move_in"
down_revision = "0024_cleaning_community"
branch_labels = None
depends_on = None

OPEN_ROOM = sa.text("state NOT IN ('rejected', 'deposit_refunded') AND owner_verified IS NOT NULL")
ACTIVE = sa.text("state != 'cancelled'")

# (table, index, columns, partial condition): the unique indexes that mean "one per room, seat
# or room-day", recreated with the community first.
UNIQUE = (
    (
        "renovation_application",
        "uq_renovation_application_open_room",
        ["building", "unit", "room"],
        OPEN_ROOM,
    ),
    ("move_in_booking", "uq_move_in_booking_active_seat", ["move_date", "slot", "seat"], ACTIVE),
    (
        "move_in_booking",
        "uq_move_in_booking_active_room_day",
        ["building", "unit", "room", "move_date"],
        ACTIVE,
    ),
)
# (table, index led by the key, its other columns, the index it replaces or None).
KEYED = (
    # No index of its own: the owners' filing writes every index of this table (the
    # renovation POST's floor); the open-room unique index leads with the key.
    ("renovation_application", None, [], None),
    (
        "renovation_patrol",
        "ix_renovation_patrol_community",
        ["application_id", "kind", "patrol_date"],
        ("ix_renovation_patrol_due", ["application_id", "kind", "patrol_date"]),
    ),
    (
        "move_in_booking",
        "ix_move_in_booking_community",
        ["move_date", "slot"],
        ("ix_move_in_booking_day", ["move_date", "slot"]),
    ),
    (
        "household_visit",
        "ix_household_visit_community",
        ["visited_on", "kind"],
        ("ix_household_visit_day", ["visited_on", "kind"]),
    ),
    ("owner_code", "ix_owner_code_community", ["mobile", "created_at"], None),
)


def _create_unique(table: str, index: str, columns: list[str], where) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(
            index, columns, unique=True, sqlite_where=where, postgresql_where=where
        )


def _drop_index(table: str, index: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(index)


def upgrade():
    # The partial unique indexes go first and come back after: a table rebuilt by batch mode on
    # SQLite would otherwise carry them over without their condition.
    for table, index, _columns, _where in UNIQUE:
        _drop_index(table, index)
    for table, index, columns, replaced in KEYED:
        if replaced:
            _drop_index(table, replaced[0])
        add_community_key(table, index, columns)
    for table, index, columns, where in UNIQUE:
        _create_unique(table, index, ["community", *columns], where)


def downgrade():
    for table, index, _columns, _where in UNIQUE:
        _drop_index(table, index)
    for table, index, _columns, replaced in reversed(KEYED):
        drop_community_key(table, index)
        if replaced:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.create_index(replaced[0], replaced[1])
    for table, index, columns, where in UNIQUE:
        _create_unique(table, index, columns, where)
