"""Cleaning inspection fixtures: a fixed today, staff of every role, an inspector filling in the
form in the test client, and what the database holds."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.cleaning.checklist import checklist
from forms_app.cleaning.models import CleaningInspection, CleaningPhoto, CleaningResult
from forms_app.core.extensions import db
from tests.support.forms import csrf_token_from

NEW_URL = "/forms/staff/cleaning/new"
LIST_URL = "/forms/staff/cleaning/"
TODAY = date(2026, 12, 10)
PASSWORD = "correct-horse-9"
NONCE_INPUT = re.compile(r'name="nonce" value="([^"]+)"')
DETAIL_PATH = re.compile(r"/forms/staff/cleaning/(\d+)\?saved=1$")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def nonce_from(html: str) -> str:
    match = NONCE_INPUT.search(html)
    assert match, "no nonce on the form"
    return match.group(1)


def results_for(area_id: str, failures: dict[str, str] | None = None, na=()) -> dict:
    """Form fields for every item of an area: 合格, except ``failures`` (item id → note) and
    ``na`` (item ids marked 不适用)."""
    failures = failures or {}
    fields = {}
    for item in checklist().areas[area_id].items:
        if item.id in failures:
            fields[f"result-{item.id}"] = "fail"
            fields[f"note-{item.id}"] = failures[item.id]
        elif item.id in na:
            fields[f"result-{item.id}"] = "na"
        else:
            fields[f"result-{item.id}"] = "pass"
    return fields


def inspection_fields(areas=("lobby", "elevator-car"), building="3", day=TODAY, **extra) -> dict:
    """A complete, valid inspection of ``areas``, everything 合格."""
    fields = {
        "inspected_on": day.isoformat(),
        "building": building,
        "spot": "2单元 1层",
        "areas": list(areas),
    }
    for area in areas:
        fields.update(results_for(area))
    fields.update(extra)
    return fields


class Inspector:
    """A logged-in staff member in the test client: opens the form, fills it in, sends it."""

    def __init__(self, client):
        self.client = client

    def open_form(self) -> dict:
        html = self.client.get(NEW_URL).get_data(as_text=True)
        return {"csrf_token": csrf_token_from(html), "nonce": nonce_from(html)}

    def submit(self, fields: dict | None = None, hidden: dict | None = None):
        data = {**(hidden or self.open_form()), **(fields or inspection_fields())}
        return self.client.post(NEW_URL, data=data, content_type="multipart/form-data")

    def inspect(self, fields: dict | None = None) -> tuple[str, int]:
        """Submit and follow to the detail page; returns (its html, the inspection id)."""
        response = self.submit(fields)
        assert response.status_code == 303, response.get_data(as_text=True)[:3000]
        match = DETAIL_PATH.search(response.location)
        assert match, response.location
        return self.client.get(response.location).get_data(as_text=True), int(match.group(1))


@pytest.fixture
def app(app):
    """The app with today fixed."""
    app.config["TODAY"] = TODAY.isoformat()
    return app


@pytest.fixture
def inspector(as_role) -> Inspector:
    return Inspector(as_role(roles.SERVICE))


@pytest.fixture
def stored(app):
    """What the database holds."""

    class Stored:
        def count(self, model=CleaningInspection) -> int:
            with app.app_context():
                return db.session.scalar(select(func.count()).select_from(model))

        def counts(self) -> tuple[int, int, int]:
            return (
                self.count(CleaningInspection),
                self.count(CleaningResult),
                self.count(CleaningPhoto),
            )

    return Stored()
