"""The move-in booking form (搬家预约) and its server-side checks.

The room, owner name and mobile fields and their checks are the shared household form's
(``households.py``). Slots, capacities, the booking window and the garage clearance come from
the community file.
"""

from __future__ import annotations

from wtforms import BooleanField, DateField, HiddenField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from ..core.tokens import is_nonce
from ..households.fields import HouseholdForm
from ..web.typed_input import DATE_FORMATS, clean_text, readable
from . import bookings
from .slots import day_slots

LARGE_ITEMS_MAX = 500


class MoveInForm(HouseholdForm):
    """Room, owner, day and slot, large items and the help wanted."""

    move_date = DateField(
        "搬家日期",
        format=DATE_FORMATS,
        invalid_value_message="请按2026-12-01的格式填写日期。",
        validators=[InputRequired("请选择搬家日期。")],
    )
    slot = RadioField("搬家时段", validate_choice=False)
    oversize = RadioField("有没有超过车库限高的大件", validate_choice=False)
    large_items = TextAreaField(
        "大件物品",
        filters=[clean_text],
        validators=[
            Length(max=LARGE_ITEMS_MAX, message=f"大件物品不能超过{LARGE_ITEMS_MAX}个字。"),
            readable,
        ],
    )
    wants_trolley = BooleanField("需要平推车")
    wants_carry_help = BooleanField("需要秩序维护巡逻人员协助搬运大件物品")
    nonce = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = day_slots()
        self.slot.choices = [(s.id, s.label) for s in self.slots.values()]
        self.oversize.choices = [("no", "没有"), ("yes", "有")]
        self.first_day, self.last_day = bookings.bookable_dates()

    @property
    def clearance(self):
        return self.community.move_in["garage_clearance_m"]

    def validate_move_date(self, field):
        if field.data is None:
            return
        if field.data < self.first_day:
            raise ValidationError(
                f"搬家日期最早可选明天（{self.first_day:%Y-%m-%d}）。当天搬家请致电物业服务中心 "
                f"{self.community['service_phone']}。"
            )
        if field.data > self.last_day:
            raise ValidationError(
                f"只能预约{self.community.move_in['booking_days_ahead']}天内的搬家"
                f"（最晚{self.last_day:%Y-%m-%d}）。"
            )
        key = self.room_key()
        blocking = key and bookings.active_booking_for(*key, field.data)
        if blocking:
            raise ValidationError(room_day_taken_message(blocking.reference))

    def validate_slot(self, field):
        if not field.data:
            raise ValidationError("请选择搬家时段。")
        if field.data not in self.slots:
            raise ValidationError("请从列表中选择搬家时段。")
        if self.move_date.data and not self.move_date.errors:
            chosen = next(
                a for a in bookings.availability(self.move_date.data) if a.slot.id == field.data
            )
            if chosen.full:
                raise ValidationError(SLOT_FULL_MESSAGE)

    def validate_oversize(self, field):
        if field.data not in ("yes", "no"):
            raise ValidationError(f"请选择是否有超过车库限高{self.clearance}米的大件物品。")

    def validate_nonce(self, field):
        if not is_nonce(field.data):
            raise ValidationError("页面已过期，请刷新页面后重新填写。")

    def values(self) -> dict:
        """The checked values, as the booking stores them."""
        values = {name: getattr(self, name).data for name in bookings.BOOKING_FIELDS}
        values.update(
            building=int(values["building"]),
            unit=int(values["unit"]),
            oversize=values["oversize"] == "yes",
        )
        return values

    def availability(self):
        """The slots of the chosen day with what is left, when a valid day is chosen."""
        if self.move_date.data and not self.move_date.errors:
            if self.first_day <= self.move_date.data <= self.last_day:
                return {a.slot.id: a for a in bookings.availability(self.move_date.data)}
        return {}


SLOT_FULL_MESSAGE = "该时段已约满，请选择其他时段或日期。"


def room_day_taken_message(reference: str) -> str:
    return (
        f"该房屋这一天已有搬家预约（编号{reference}），同一天只能预约一次。"
        "如需改时段，请通过预约时获得的链接先取消原预约。"
    )
