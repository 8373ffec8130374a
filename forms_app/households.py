"""The household an owner files for (楼栋/单元/房号) and the owner's contact, as model columns.

Mixed into every model an owner submits with a room: renovation applications, move-in bookings.
"""
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column


class HouseholdColumns:
    """Building, unit and room (from data/community.yml) and the owner's name and mobile."""

    building: Mapped[int] = mapped_column(Integer)
    unit: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(8))
    owner_name: Mapped[str] = mapped_column(String(30))
    owner_mobile: Mapped[str] = mapped_column(String(11))

    @property
    def room_label(self) -> str:
        return f"{self.building}号楼{self.unit}单元{self.room}室"
