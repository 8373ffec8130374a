"""A move-in booking: one room, one day, one time slot, one seat of that slot's capacity.

Timestamps are stored as naive UTC. Capacity is kept by seats: an active booking holds one
seat number of its day and slot, and a partial unique index lets no two active bookings hold
the same seat, so the database itself refuses an over-full slot even on PostgreSQL. A booking
belongs to the community of its room: seats, slots and room-days are each community's own.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.community_scope import CommunityOwned
from ..core.extensions import db
from ..core.tokens import new_token
from ..households.fields import HouseholdColumns

BOOKED = "booked"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATE_LABELS = {BOOKED: "已预约", COMPLETED: "已完成", CANCELLED: "已取消"}

# Cancelled bookings free their seat and their room-day.
ACTIVE_WHERE = text("state != 'cancelled'")


class MoveInBooking(CommunityOwned, HouseholdColumns, db.Model):
    """One owner's booking of a move (搬家预约)."""

    __tablename__ = "move_in_booking"
    __table_args__ = (
        # Reference numbers (BJ…) run across the deployment, like the unique reference.
        UniqueConstraint("filed_on", "sequence", name="uq_move_in_booking_filed_on_sequence"),
        Index("ix_move_in_booking_community", "community", "move_date", "slot"),
        Index(
            "uq_move_in_booking_active_seat",
            "community",
            "move_date",
            "slot",
            "seat",
            unique=True,
            sqlite_where=ACTIVE_WHERE,
            postgresql_where=ACTIVE_WHERE,
        ),
        Index(
            "uq_move_in_booking_active_room_day",
            "community",
            "building",
            "unit",
            "room",
            "move_date",
            unique=True,
            sqlite_where=ACTIVE_WHERE,
            postgresql_where=ACTIVE_WHERE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    filed_on: Mapped[date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer)
    # The owner's private link, unguessable like a renovation status link.
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # One per rendered form: a second POST of the same form finds the first booking.
    submission_nonce: Mapped[str] = mapped_column(String(64), unique=True)

    move_date: Mapped[date] = mapped_column(Date)
    # Slot id of ``move_in.slots`` in data/communities/<id>.yml.
    slot: Mapped[str] = mapped_column(String(16))
    seat: Mapped[int] = mapped_column(Integer)
    oversize: Mapped[bool] = mapped_column(Boolean)
    large_items: Mapped[str] = mapped_column(Text, default="")
    wants_trolley: Mapped[bool] = mapped_column(Boolean, default=False)
    wants_carry_help: Mapped[bool] = mapped_column(Boolean, default=False)

    state: Mapped[str] = mapped_column(String(16), default=BOOKED)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Who marked it 已完成 or 已取消, and when: the owner ("业主") or a staff account.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def active(self) -> bool:
        return self.state != CANCELLED
