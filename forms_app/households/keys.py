"""钥匙托管: keys an owner leaves with the property (业主留存及备用钥匙, sealed, kept with
秩序维护), and every handover out and back with who, when and the owner's consent."""

from __future__ import annotations

from sqlalchemy import select

from ..core.extensions import db
from .models import HouseholdKey, KeyHandover


def keys_of(room_id: int) -> list[HouseholdKey]:
    """The room's keys, newest first."""
    return list(
        db.session.scalars(
            select(HouseholdKey)
            .where(HouseholdKey.room_id == room_id)
            .order_by(HouseholdKey.received_at.desc(), HouseholdKey.id.desc())
        )
    )


def handovers_of(key_ids: list[int]) -> dict[int, list[KeyHandover]]:
    """Each key's handovers, oldest first."""
    found: dict[int, list[KeyHandover]] = {key_id: [] for key_id in key_ids}
    if key_ids:
        for handover in db.session.scalars(
            select(KeyHandover)
            .where(KeyHandover.key_id.in_(key_ids))
            .order_by(KeyHandover.created_at, KeyHandover.id)
        ):
            found[handover.key_id].append(handover)
    return found
