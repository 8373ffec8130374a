"""Move-in fixtures: a fixed today, an owner filling in the booking form, staff of every role,
and what the database holds."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from forms_app.core.community import load_community
from forms_app.core.extensions import db
from forms_app.move_in.models import MoveInBooking
from tests.support.forms import csrf_token_from

BOOK_URL = "/forms/move-in/"
TODAY = date(2026, 12, 1)
MOVE_DAY = TODAY + timedelta(days=3)
PASSWORD = "correct-horse-9"
NONCE_INPUT = re.compile(r'name="nonce" type="hidden" value="([^"]+)"')
BOOKING_PATH = re.compile(r"/forms/move-in/booking/[\w-]{32,}$")
REFERENCE = re.compile(r"BJ\d{8}-\d{3,}")

COMMUNITY = load_community()
MOVE_IN = COMMUNITY.move_in
SLOTS = MOVE_IN["slots"]


def nonce_from(html: str) -> str:
    match = NONCE_INPUT.search(html)
    assert match, "no nonce on the form"
    return match.group(1)


def booking_fields(building=5, unit=2, room="1202", day=MOVE_DAY, slot=None, **overrides) -> dict:
    """A complete, valid booking as an owner fills it in."""
    fields = {
        "building": str(building),
        "unit": str(unit),
        "room": room,
        "owner_name": "周建国",
        "owner_mobile": "138 0013 8000",
        "move_date": day.isoformat(),
        "slot": slot or SLOTS[0]["id"],
        "oversize": "no",
        "large_items": "双开门冰箱、衣柜",
        "wants_trolley": "y",
    }
    fields.update(overrides)
    return fields


def rooms(count: int) -> list[tuple[int, int, str]]:
    """``count`` distinct rooms of the community."""
    found = [
        (number, unit, room)
        for number, building in sorted(COMMUNITY.buildings.items())
        for unit in range(1, building.units + 1)
        for room in building.rooms()
    ]
    return found[:count]


class Owner:
    """An owner in the test client: opens the form, fills it in, sends it."""

    def __init__(self, client):
        self.client = client

    def open_form(self) -> dict:
        html = self.client.get(BOOK_URL).get_data(as_text=True)
        return {"csrf_token": csrf_token_from(html), "nonce": nonce_from(html)}

    def submit(self, fields: dict | None = None, hidden: dict | None = None):
        return self.client.post(
            BOOK_URL, data={**(hidden or self.open_form()), **(fields or booking_fields())}
        )

    def book(self, fields: dict | None = None) -> tuple[str, str]:
        """Book and follow to the confirmation; returns (its html, its path)."""
        response = self.submit(fields)
        assert response.status_code == 303, response.get_data(as_text=True)
        assert BOOKING_PATH.fullmatch(response.location), response.location
        return self.client.get(response.location).get_data(as_text=True), response.location


@pytest.fixture
def app(app):
    """The app with today fixed, so the booking window is known."""
    app.config["TODAY"] = TODAY.isoformat()
    return app


@pytest.fixture
def owner(client) -> Owner:
    return Owner(client)


@pytest.fixture
def stored(app):
    """What the database holds."""

    class Stored:
        def count(self, **where) -> int:
            with app.app_context():
                return db.session.scalar(select(func.count(MoveInBooking.id)).filter_by(**where))

        def bookings(self) -> list[MoveInBooking]:
            with app.app_context():
                rows = db.session.scalars(select(MoveInBooking).order_by(MoveInBooking.id)).all()
                db.session.expunge_all()
                return rows

    return Stored()
