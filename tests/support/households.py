"""Households registered in a test's database through the registry's own functions."""

from __future__ import annotations

from datetime import date

from forms_app.households.models import OWNER
from forms_app.households.registry import NewPerson, add_person, find_room


def register(
    app,
    building: int,
    unit: int,
    room: str,
    name: str,
    mobile: str | None,
    role: str = OWNER,
    since: date = date(2020, 1, 1),
    lease_end: date | None = None,
):
    """Register a person on a 住宅 room of the registry; returns (room id, person id)."""
    with app.test_request_context():
        found = find_room(building, unit, room)
        assert found is not None, f"no room {building}-{unit}-{room} in the registry"
        person = add_person(found.id, NewPerson(name, mobile, role, since, lease_end=lease_end))
        return found.id, person.id
