"""Renovation fixtures: a filled-in application, submitting it, reading what was stored."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forms_app.database import write_transaction
from forms_app.extensions import db
from forms_app.clock import today
from forms_app.renovation.models import RenovationApplication, record_event
from tests.conftest import csrf_token_from

APPLY_URL = "/forms/renovation/apply"
NONCE_INPUT = re.compile(r'id="nonce" name="nonce" type="hidden" value="([^"]+)"')
REFERENCE = re.compile(r"ZX\d{8}-\d{3,}")


def nonce_from(html: str) -> str:
    match = NONCE_INPUT.search(html)
    assert match, "no nonce on the form"
    return match.group(1)


def application_fields(building=1, unit=1, room="101", **overrides) -> dict:
    """A complete, valid application as an owner fills it in."""
    start = today() + timedelta(days=3)
    fields = {
        "building": str(building), "unit": str(unit), "room": room,
        "owner_name": "王美华", "owner_mobile": "13800138000",
        "contractor_company": "金陵家装有限公司", "site_lead_name": "陈工",
        "site_lead_mobile": "13912345678", "workers": "6",
        "start_date": start.isoformat(), "end_date": (start + timedelta(days=45)).isoformat(),
        "work_items": ["plumbing_electric", "walls_floors"],
        "description": "客厅铺地砖，卫生间重做防水。",
        "ack_agreement": "y", "ack_fire_safety": "y", "ack_prohibitions": "y",
    }
    fields.update(overrides)
    return fields


class Owner:
    """An owner in the test client: opens the form, fills it in, sends it."""

    def __init__(self, client):
        self.client = client

    def open_form(self) -> dict:
        html = self.client.get(APPLY_URL).get_data(as_text=True)
        return {"csrf_token": csrf_token_from(html), "nonce": nonce_from(html)}

    def submit(self, fields: dict | None = None, hidden: dict | None = None, **kwargs):
        data = {**(hidden or self.open_form()), **(fields or application_fields())}
        return self.client.post(APPLY_URL, data=data, content_type="multipart/form-data",
                                **kwargs)

    def submit_ok(self, fields: dict | None = None):
        """Submit and follow to the status page; return (status page html, status url)."""
        response = self.submit(fields)
        assert response.status_code == 303, response.get_data(as_text=True)
        status_url, _, query = response.location.partition("?")
        assert query == "new=1"
        return self.client.get(response.location).get_data(as_text=True), status_url


@pytest.fixture
def owner(client) -> Owner:
    return Owner(client)


@pytest.fixture
def stored(app):
    """Read what the database holds."""

    class Stored:
        def count(self) -> int:
            with app.app_context():
                return db.session.scalar(select(func.count(RenovationApplication.id)))

        def applications(self) -> list[RenovationApplication]:
            with app.app_context():
                rows = db.session.scalars(select(RenovationApplication)).all()
                for row in rows:
                    _ = row.attachments, row.events
                db.session.expunge_all()
                return rows

        def files(self) -> list[Path]:
            return sorted(Path(app.config["UPLOAD_DIR"]).iterdir())

    return Stored()


def move_to(app, reference: str, *steps: tuple[str, str]) -> None:
    """Move an application through states as staff would, with ``record_event``."""
    with app.app_context():
        with write_transaction() as session:
            application = session.scalar(
                select(RenovationApplication).where(RenovationApplication.reference == reference)
            )
            for state, comment in steps:
                record_event(application, state, actor_name="客服 李敏", comment=comment)
