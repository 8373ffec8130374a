"""Households registered in a test's database through the registry's own functions."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from forms_app.households.models import OWNER, HouseholdPerson
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


def signed_in(app, mobile: str, client=None):
    """A browser (test client) holding a 我的办理 grant of the newest person registered with
    this mobile, as the one-time code would give it."""
    from sqlalchemy import select

    from forms_app.core.clock import utcnow
    from forms_app.core.database import write_transaction
    from forms_app.core.extensions import db
    from forms_app.my_records.grants import COOKIE_KEY, _hash
    from forms_app.my_records.models import MyGrant

    client = client or app.test_client()
    token = secrets.token_urlsafe(16)
    with app.test_request_context():
        person = db.session.scalar(
            select(HouseholdPerson)
            .where(HouseholdPerson.mobile == mobile)
            .order_by(HouseholdPerson.id.desc())
        )
        with write_transaction() as session:
            session.add(
                MyGrant(
                    community=person.community,
                    token_hash=_hash(token),
                    person_id=person.id,
                    room_id=person.room_id,
                    created_at=utcnow(),
                    expires_at=utcnow() + timedelta(minutes=15),
                    address="test",
                )
            )
        db.session.remove()
    with client.session_transaction() as session:
        session[COOKIE_KEY] = token
    return client
