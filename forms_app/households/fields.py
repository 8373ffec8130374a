"""The household an owner files for (楼栋/单元/房号) and the owner's contact: model columns,
form fields with their checks, and the room selects' choices.

Shared by every owner form with a room (renovation applications, move-in bookings, and the
domains that come after them), so a room is chosen and checked the same way everywhere.
"""

from __future__ import annotations

import re
import unicodedata

from flask_wtf import FlaskForm
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..core.community import Community, current_community
from ..web.typed_input import clean_line, readable, select_number

# ASCII digits only: \d would also pass full-width and other scripts' digits.
MOBILE = re.compile(r"1[3-9][0-9]{9}")


class HouseholdColumns:
    """Building, unit and room (from data/communities/<id>.yml) and the owner's name and mobile."""

    building: Mapped[int] = mapped_column(Integer)
    unit: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(8))
    owner_name: Mapped[str] = mapped_column(String(30))
    owner_mobile: Mapped[str] = mapped_column(String(11))

    @property
    def room_label(self) -> str:
        return f"{self.building}号楼{self.unit}单元{self.room}室"


def normalize_mobile(value):
    """Accept 138 0013 8000, 138-0013-8000, +86 13800138000 and full-width digits as typed
    by owners (a Chinese input method in full-width mode types １３８…)."""
    if not isinstance(value, str):
        return value
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def mobile_check(label: str):
    def _check(_form, field):
        if not MOBILE.fullmatch(field.data or ""):
            raise ValidationError(f"{label}请填写11位中国大陆手机号码，例如13800138000。")

    return _check


def mobile_field(label: str) -> StringField:
    return StringField(
        label,
        filters=[normalize_mobile],
        validators=[DataRequired(f"请填写{label}。"), mobile_check(label)],
    )


def text_field(label: str, max_chars: int, required_message: str) -> StringField:
    """A required one-line text (a name, a company)."""
    return StringField(
        label,
        filters=[clean_line],
        validators=[
            DataRequired(required_message),
            Length(max=max_chars, message=f"不能超过{max_chars}个字。"),
            readable,
        ],
    )


def room_directory(data: Community) -> dict[str, dict]:
    """Units and the rooms of each unit per building, from the registry (the master of rooms
    since it was seeded from the community file), for the room selects and their filtering
    script: ``{"3": {"units": 2, "rooms": {"1": ["101", …], "2": […]}}}``."""
    from .registry import residence_directory

    return residence_directory(data.key)


def _room_sort(number: str):
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


def room_choices(data: Community) -> dict[str, list[tuple[str, str]]]:
    """Options of the building, unit and room selects (all rooms of all buildings, so the
    form works without script; the script narrows them to the chosen building and unit)."""
    directory = room_directory(data)
    empty = [("", "请选择")]
    max_units = max((entry["units"] for entry in directory.values()), default=0)
    all_rooms = sorted(
        {r for entry in directory.values() for rooms in entry["rooms"].values() for r in rooms},
        key=_room_sort,
    )
    return {
        "building": empty + [(b, f"{b}号楼") for b in sorted(directory, key=int)],
        "unit": empty + [(str(u), f"{u}单元") for u in range(1, max_units + 1)],
        "room": empty + [(r, r) for r in all_rooms],
    }


class HouseholdForm(FlaskForm):
    """Room and owner fields with their checks against the community's buildings.

    The app-wide ``CSRFProtect`` checks the token of every POST before the view runs (and
    answers a bad one with the Chinese error page), so the form does not check it twice.
    """

    class Meta:
        csrf = False

    building = SelectField("楼栋", validate_choice=False, validators=[DataRequired("请选择楼栋。")])
    unit = SelectField("单元", validate_choice=False, validators=[DataRequired("请选择单元。")])
    room = SelectField("房号", validate_choice=False, validators=[DataRequired("请选择房号。")])
    owner_name = text_field("业主姓名", 30, "请填写业主姓名。")
    owner_mobile = mobile_field("业主手机号")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = current_community()
        self._registry_room = None
        self._rooms = None
        # Read from the registry only when the form is shown (a valid POST never needs them).
        self.building.choices = lambda: self._choices()["building"]
        self.unit.choices = lambda: self._choices()["unit"]
        self.room.choices = lambda: self._choices()["room"]
        self._choice_lists = None

    def _choices(self) -> dict[str, list[tuple[str, str]]]:
        if self._choice_lists is None:
            self._choice_lists = room_choices(self.community)
        return self._choice_lists

    @property
    def rooms(self) -> dict[str, dict]:
        """The registry's rooms for the pickers (read when a page shows the form)."""
        if self._rooms is None:
            self._rooms = room_directory(self.community)
        return self._rooms

    def registry_room(self):
        """The registry's room the three selects name (None when there is none)."""
        from .registry import find_room

        building, unit = select_number(self.building.data), select_number(self.unit.data)
        room = self.room.data or ""
        key = (building, unit, room)
        if self._registry_room is None or self._registry_room[0] != key:
            self._registry_room = (key, find_room(building, unit, room))
        return self._registry_room[1]

    def room_key(self) -> tuple[int, int, str] | None:
        """(building, unit, room) when the three name a 住宅 of the registry."""
        from .registry import is_residence

        building, unit = select_number(self.building.data), select_number(self.unit.data)
        room = self.room.data or ""
        if not is_residence(building, unit, room):
            return None
        return building, unit, room

    def validate_building(self, field):
        if select_number(field.data) not in self.community.buildings:
            raise ValidationError("请选择小区内的楼栋。")

    def validate_unit(self, field):
        building = self.community.buildings.get(select_number(self.building.data))
        unit = select_number(field.data)
        if unit is None:
            raise ValidationError("请选择单元。")
        if building and not 1 <= unit <= building.units:
            raise ValidationError(f"{building.label}只有1–{building.units}单元。")

    def validate_room(self, field):
        building = self.community.buildings.get(select_number(self.building.data))
        unit = select_number(self.unit.data)
        # A unit the building lacks is reported beside the unit only.
        if (
            building
            and unit is not None
            and 1 <= unit <= building.units
            and self.room_key() is None
        ):
            raise ValidationError(
                f"{building.label}{unit}单元没有{field.data}室，请从房号列表中选择；"
                "房号有误请联系物业服务中心。"
            )
