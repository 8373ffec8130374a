"""Households registered in a test's database through the registry's own functions."""

from __future__ import annotations

from datetime import date

from forms_app.households.models import OWNER
from forms_app.households.registry import NewPerson, add_person, find_room
from tests.support.apps import TEST_CONFIG


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


def register_on_instance(instance, *args, **kwargs):
    """``register`` on the database of a live server's instance folder (tests that serve)."""
    import pytest

    from forms_app import create_app
    from forms_app.core.extensions import db

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INSTANCE_PATH", str(instance))
        app = create_app(dict(TEST_CONFIG))
    try:
        return register(app, *args, **kwargs)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
