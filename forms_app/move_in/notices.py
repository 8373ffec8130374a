"""What owners and staff are told about move-in bookings, and the owner's list entry.

Called inside the booking's write transaction, so each message is committed with its change.
An owner's own 改约 or cancellation also reaches whoever is on duty now at the 客户服务中心
(seed: owners book their move at the 客户中心), or its 主管 when nobody is (``staff_alerts``).
"""

from __future__ import annotations

from sqlalchemy import select

from ..accounts import organisation
from ..accounts.roles import SERVICE
from ..core.extensions import db
from ..households.records import (
    UNMATCHED_LIMIT,
    HouseholdRecord,
    UnmatchedRecord,
    no_registry_room,
    with_unmatched,
)
from ..notifications.outbox import enqueue, path_for
from ..notifications.staff_alerts import Recipients, alert_staff, on_duty_or_heads
from .models import MoveInBooking
from .slots import slot_label

RECORD_TYPE = "move_in"
RECORD_LABEL = "搬家预约"


def _values(booking: MoveInBooking) -> dict:
    return {
        "record_type": RECORD_TYPE,
        "record_id": booking.id,
        "reference": booking.reference,
        "date": booking.move_date.isoformat(),
        "slot": slot_label(booking.slot),
    }


def _booking_path(booking: MoveInBooking) -> str:
    return path_for("move_in.booking", token=booking.token)


def notify_booked(session, booking: MoveInBooking) -> None:
    """A new booking: confirmation to the owner, an alert to the staff group."""
    session.flush()  # the booking's id
    enqueue(
        session,
        "move_in.confirmed",
        recipient=booking.owner_mobile,
        link_path=_booking_path(booking),
        **_values(booking),
    )
    enqueue(
        session,
        "move_in.new",
        room=booking.room_label,
        link_path=path_for("move_in_staff.schedule", date=booking.move_date.isoformat()),
        **_values(booking),
    )


def on_duty(session) -> Recipients:
    """Who hears of an owner's change now: the 客户服务中心's person on duty, else its 主管."""
    found = organisation.organisation().department_of_role(SERVICE)
    if not found:
        return Recipients((), "未设客户服务部门")
    return on_duty_or_heads(session, found[0].id)


def _alert_desk(session, kind: str, booking: MoveInBooking, **values) -> None:
    alert_staff(
        session,
        kind,
        on_duty(session),
        room=booking.room_label,
        link_path=_staff_path(booking),
        **_values(booking),
        **values,
    )


def notify_moved(session, booking: MoveInBooking, old_date, old_slot: str) -> None:
    """Moved by the owner to another day or slot (改约): the owner hears of the new time,
    the desk on duty of the change."""
    enqueue(
        session,
        "move_in.changed",
        recipient=booking.owner_mobile,
        link_path=_booking_path(booking),
        **_values(booking),
    )
    _alert_desk(
        session,
        "move_in.owner_moved",
        booking,
        old_date=old_date.isoformat(),
        old_slot=slot_label(old_slot),
    )


def notify_cancelled(session, booking: MoveInBooking, by_owner: bool = False) -> None:
    """Cancelled by the owner or by the desk: the owner hears of it either way; an owner's
    cancellation also goes to the desk on duty."""
    enqueue(
        session,
        "move_in.cancelled",
        recipient=booking.owner_mobile,
        link_path=_booking_path(booking),
        **_values(booking),
    )
    if by_owner:
        _alert_desk(session, "move_in.owner_cancelled", booking)


def resend_booking_link(session, booking: MoveInBooking, staff_name: str) -> None:
    enqueue(
        session,
        "status_link",
        recipient=booking.owner_mobile,
        link_path=_booking_path(booking),
        record_label=RECORD_LABEL,
        requested_by=staff_name,
        **_values(booking),
    )


def _staff_path(booking: MoveInBooking) -> str:
    """The booking on the day's schedule (move-in has no page per booking)."""
    day = booking.move_date.isoformat()
    return path_for("move_in_staff.schedule", date=day) + f"#booking-{booking.id}"


def unmatched_household_records() -> list[UnmatchedRecord]:
    """Bookings whose room the household registry does not have (staff correct them)."""
    rows = db.session.scalars(
        select(MoveInBooking)
        .where(no_registry_room(MoveInBooking.building, MoveInBooking.unit, MoveInBooking.room))
        .order_by(MoveInBooking.filed_on.desc(), MoveInBooking.id.desc())
        .limit(UNMATCHED_LIMIT)
    )
    return [
        UnmatchedRecord(
            RECORD_LABEL,
            b.reference,
            b.building,
            b.unit,
            b.room,
            b.state_label,
            b.filed_on,
            _staff_path(b),
        )
        for b in rows
    ]


@with_unmatched(unmatched_household_records)
def household_records(building: int, unit: int, room: str) -> list[HouseholdRecord]:
    """The room's move-in bookings for "我的办理" and 一户一档."""
    rows = db.session.scalars(
        select(MoveInBooking).where(
            MoveInBooking.building == building,
            MoveInBooking.unit == unit,
            MoveInBooking.room == room,
        )
    )
    return [
        HouseholdRecord(
            RECORD_LABEL,
            b.reference,
            b.state_label,
            _booking_path(b),
            b.filed_on,
            b.owner_mobile,
            _staff_path(b),
        )
        for b in rows
    ]
