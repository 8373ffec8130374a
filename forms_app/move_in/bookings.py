"""Booking a move: slots and what is left of them, one write transaction per booking, the
route to use on the day, cancelling and closing a booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core.clock import today, utcnow
from ..core.community import current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.references import next_reference
from ..core.refusals import Refused
from ..core.tokens import is_nonce, is_token
from .models import BOOKED, CANCELLED, MoveInBooking
from .notices import notify_booked, notify_cancelled, notify_moved
from .slots import Slot, day_slots

# A concurrent writer on PostgreSQL can take the same seat or reference; check again then.
ATTEMPTS = 3

BOOKING_FIELDS = (
    "building",
    "unit",
    "room",
    "owner_name",
    "owner_mobile",
    "move_date",
    "slot",
    "oversize",
    "large_items",
    "wants_trolley",
    "wants_carry_help",
)


class SlotFull(Exception):
    """Every place of the chosen slot on that day is taken."""


class RoomAlreadyBooked(Exception):
    """The room already has an active booking on that day."""

    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference


class BookingClosed(Exception):
    """The booking is already completed or cancelled."""


class MoveRefused(Refused):
    """A move to another slot that cannot be made, with the Chinese message and its field."""

    default_field = "slot"


@dataclass(frozen=True)
class SlotAvailability:
    slot: Slot
    taken: int

    @property
    def remaining(self) -> int:
        return max(self.slot.capacity - self.taken, 0)

    @property
    def full(self) -> bool:
        return self.remaining == 0


def bookable_dates() -> tuple[date, date]:
    """The first and last day an owner may book: tomorrow up to ``booking_days_ahead``."""
    now = today()
    return now + timedelta(days=1), now + timedelta(
        days=current_community().move_in["booking_days_ahead"]
    )


def _taken_by_slot(move_date: date) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(MoveInBooking.slot, func.count())
            .where(MoveInBooking.move_date == move_date, MoveInBooking.state != CANCELLED)
            .group_by(MoveInBooking.slot)
        ).all()
    )


def availability(move_date: date) -> list[SlotAvailability]:
    """Each slot of the day with the number of active bookings it holds."""
    taken = _taken_by_slot(move_date)
    return [SlotAvailability(slot, taken.get(slot.id, 0)) for slot in day_slots().values()]


def todays_bookings(day: date) -> list[MoveInBooking]:
    """The day's active bookings in slot order (the staff home's list for the gate)."""
    order = {slot_id: index for index, slot_id in enumerate(day_slots())}
    rows = db.session.scalars(
        select(MoveInBooking)
        .where(MoveInBooking.move_date == day, MoveInBooking.state != CANCELLED)
        .order_by(MoveInBooking.seat, MoveInBooking.id)
    ).all()
    return sorted(rows, key=lambda b: order.get(b.slot, len(order)))


def find_by_nonce(nonce: str) -> MoveInBooking | None:
    if not is_nonce(nonce):
        return None
    return db.session.scalar(select(MoveInBooking).where(MoveInBooking.submission_nonce == nonce))


def find_by_token(token: str) -> MoveInBooking | None:
    if not is_token(token):
        return None
    return db.session.scalar(select(MoveInBooking).where(MoveInBooking.token == token))


def active_booking_for(
    building: int, unit: int, room: str, move_date: date
) -> MoveInBooking | None:
    """The room's active booking on that day, if any."""
    return db.session.scalar(
        select(MoveInBooking).where(
            MoveInBooking.building == building,
            MoveInBooking.unit == unit,
            MoveInBooking.room == room,
            MoveInBooking.move_date == move_date,
            MoveInBooking.state != CANCELLED,
        )
    )


def _free_seat(move_date: date, slot: Slot) -> int:
    taken = set(
        db.session.scalars(
            select(MoveInBooking.seat).where(
                MoveInBooking.move_date == move_date,
                MoveInBooking.slot == slot.id,
                MoveInBooking.state != CANCELLED,
            )
        )
    )
    if len(taken) >= slot.capacity:
        raise SlotFull()
    return min(set(range(1, slot.capacity + 1)) - taken)


def book(values: dict, nonce: str) -> tuple[MoveInBooking, bool]:
    """Store a validated booking; returns (booking, created).

    Capacity and the one-booking-per-room-per-day rule are checked again inside the write
    transaction, which on SQLite holds the write lock from its start, so two workers can
    never both take the last place. The partial unique indexes guard PostgreSQL.
    """
    for attempt in range(ATTEMPTS):
        try:
            return _book_once(values, nonce)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _book_once(values: dict, nonce: str) -> tuple[MoveInBooking, bool]:
    with write_transaction() as session:
        existing = find_by_nonce(nonce)
        if existing:
            return existing, False
        blocking = active_booking_for(
            values["building"], values["unit"], values["room"], values["move_date"]
        )
        if blocking:
            raise RoomAlreadyBooked(blocking.reference)
        seat = _free_seat(values["move_date"], day_slots()[values["slot"]])
        now, filed_on = utcnow(), today()
        sequence, reference = next_reference(
            session.connection(), MoveInBooking.__table__, "BJ", filed_on
        )
        booking = MoveInBooking(
            reference=reference,
            filed_on=filed_on,
            sequence=sequence,
            submission_nonce=nonce,
            seat=seat,
            state=BOOKED,
            created_at=now,
            **{name: values[name] for name in BOOKING_FIELDS},
        )
        session.add(booking)
        notify_booked(session, booking)
    return booking, True


def close(
    booking_id: int, state: str, actor_name: str, actor_id: int | None = None
) -> MoveInBooking:
    """Mark a booked move 已完成 or 已取消, recording who and when. Call inside
    ``write_transaction``; raises ``BookingClosed`` when it is no longer booked.

    The row is locked and read afresh, so an owner's cancel and a staff close racing on
    PostgreSQL (no database-wide write lock there) cannot both take effect."""
    booking = db.session.get(
        MoveInBooking, booking_id, with_for_update=True, populate_existing=True
    )
    if booking is None:
        raise LookupError(booking_id)
    if booking.state != BOOKED:
        raise BookingClosed()
    booking.state = state
    booking.closed_at = utcnow()
    booking.closed_by = actor_name
    booking.closed_by_id = actor_id
    return booking


def owner_may_cancel(booking: MoveInBooking) -> bool:
    """An owner cancels a booked move up to the day itself."""
    return booking.state == BOOKED and booking.move_date >= today()


def cancel_by_owner(token: str) -> MoveInBooking:
    """Cancel through the private link; frees the seat. Raises ``BookingClosed`` when the
    booking is no longer booked or its day has passed."""
    with write_transaction():
        booking = find_by_token(token)
        if booking is None:
            raise LookupError(token)
        if not owner_may_cancel(booking):
            raise BookingClosed()
        booking = close(booking.id, CANCELLED, "业主")
        notify_cancelled(db.session(), booking, by_owner=True)
        return booking


def move_by_owner(token: str, move_date: date, slot_id: str) -> MoveInBooking:
    """Move a booked move to another day or slot through the private link.

    Everything is checked again inside one write transaction with the booking's row locked:
    the booking is still booked and not past, the day is bookable, the room has no other
    booking that day, and the slot has a free seat. The seat's partial unique index refuses
    a concurrent writer that took the same seat on PostgreSQL; then it is tried again and
    finds the slot full. Raises ``BookingClosed``, ``MoveRefused``, ``SlotFull`` or
    ``RoomAlreadyBooked``; nothing changes then.
    """
    for attempt in range(ATTEMPTS):
        try:
            with write_transaction() as session:
                booking, old_date, old_slot = _move_once(token, move_date, slot_id)
                notify_moved(session, booking, old_date, old_slot)
                return booking
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _move_once(token: str, move_date: date, slot_id: str) -> tuple[MoveInBooking, date, str]:
    """The booking moved (row locked), with the day and slot it had before."""
    found = find_by_token(token)
    if found is None:
        raise LookupError(token)
    booking = db.session.get(MoveInBooking, found.id, with_for_update=True, populate_existing=True)
    if not owner_may_cancel(booking):
        raise BookingClosed()
    first, last = bookable_dates()
    if not first <= move_date <= last:
        raise MoveRefused(f"只能改到 {first:%Y-%m-%d} 至 {last:%Y-%m-%d} 之间的日期。", "move_date")
    slot = day_slots().get(slot_id)
    if slot is None:
        raise MoveRefused("请从列表中选择搬家时段。")
    if (booking.move_date, booking.slot) == (move_date, slot_id):
        raise MoveRefused("新的时间和原预约相同，请选择其他日期或时段。")
    blocking = active_booking_for(booking.building, booking.unit, booking.room, move_date)
    if blocking is not None and blocking.id != booking.id:
        raise RoomAlreadyBooked(blocking.reference)
    old_date, old_slot = booking.move_date, booking.slot
    booking.seat = _free_seat(move_date, slot)
    booking.move_date = move_date
    booking.slot = slot_id
    return booking, old_date, old_slot


@dataclass(frozen=True)
class Route:
    """How the move comes in on the day: the gate or garage entrance and what happens there."""

    oversize: bool
    entrance: str
    steps: tuple[str, ...]


def route_for(booking: MoveInBooking) -> Route:
    """The route from the seed's 家私搬运 plan, with this community's posts.

    Without items over the garage clearance the vehicle comes in through the garage, where
    the entrance posts measure it, and the furniture goes up by lift from the basement;
    oversize items enter at the oversize post and are transferred in the designated area.
    The renovation material entrances per building are a different rule (materials, not
    moves) and play no part here.
    """
    data = current_community()
    move_in = data.move_in
    clearance = move_in["garage_clearance_m"]
    if booking.oversize:
        post = move_in["oversize_post"]
        return Route(
            True,
            post,
            (
                f"您有超过车库限高（{clearance}米）的大件物品，不能进车库：搬家车辆请从{post}进入小区。",
                "在物业规划指定的区域转运家私，秩序维护员会现场指挥。",
            ),
        )
    return Route(
        False,
        "地下车库出入口岗",
        (
            f"家私不超过车库进口标高（{clearance}米），搬家车辆从地下车库的出入口岗进入。",
            f"小区{move_in['entrance_posts']}个出入口岗都配有圈尺，岗位人员会现场测量；"
            "没有超高的，由协管员指挥车辆。",
            "从地下室乘电梯把家私搬运上楼。",
        ),
    )


def service_office() -> dict | None:
    """The service centre's office, where owners ask about utilities and move-in matters."""
    return current_community().service_office
