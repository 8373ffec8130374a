"""Repairs and complaints fixtures: owners filling in the forms, staff taking steps through
the real pages, and what the database holds."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forms_app.accounts.models import AuditLog, StaffUser
from forms_app.core.extensions import db
from forms_app.service_requests.models import HouseholdVisit, ServiceEvent, ServiceRequest
from tests.support.forms import csrf_token_from, staff_csrf_token

REPAIR_URL = "/forms/service/repair"
COMPLAINT_URL = "/forms/service/complaint"
NONCE_INPUT = re.compile(r'id="nonce" name="nonce" type="hidden" value="([^"]+)"')
STATUS_PATH = re.compile(r"/forms/service/status/[\w-]{32,}")
STAFF = "/forms/staff/service"
# A real JPEG's first bytes are enough for the content check.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% not a photo\n"


def nonce_from(html: str) -> str:
    match = NONCE_INPUT.search(html)
    assert match, "no nonce on the form"
    return match.group(1)


def repair_fields(**overrides) -> dict:
    fields = {
        "building": "5",
        "unit": "2",
        "room": "1202",
        "owner_name": "周建国",
        "owner_mobile": "138 0013 8000",
        "location": "home",
        "description": "卫生间洗手盆下水管漏水。",
        "available_time": "工作日 18:00 后",
    }
    fields.update(overrides)
    return fields


def complaint_fields(**overrides) -> dict:
    fields = {
        "building": "3",
        "unit": "1",
        "room": "801",
        "owner_name": "李秀英",
        "owner_mobile": "13912345678",
        "department": "秩序维护部",
        "description": "晚上 11 点后小区内仍有装修噪音。",
        "wish": "请加强夜间巡查并告知结果。",
    }
    fields.update(overrides)
    return fields


class Owner:
    """An owner in the test client: opens a form, fills it in, sends it."""

    def __init__(self, client):
        self.client = client

    def open_form(self, url: str = REPAIR_URL) -> dict:
        html = self.client.get(url).get_data(as_text=True)
        return {"csrf_token": csrf_token_from(html), "nonce": nonce_from(html)}

    def submit(
        self,
        url: str = REPAIR_URL,
        fields: dict | None = None,
        hidden: dict | None = None,
        files=None,
    ):
        fields = fields or (repair_fields() if url == REPAIR_URL else complaint_fields())
        data = {**(hidden or self.open_form(url)), **fields}
        if files:
            data["photos"] = files
        return self.client.post(url, data=data, content_type="multipart/form-data")

    def file(self, url: str = REPAIR_URL, fields: dict | None = None, files=None) -> str:
        """Submit and return the status page's path."""
        response = self.submit(url, fields, files=files)
        assert response.status_code == 303, response.get_data(as_text=True)
        path = response.location.partition("?")[0]
        assert STATUS_PATH.fullmatch(path), path
        return path


@pytest.fixture
def owner(client) -> Owner:
    return Owner(client)


class Staff:
    """A logged-in member of staff taking steps through the back-office pages."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = STAFF + "/") -> str:
        return staff_csrf_token(self.client)

    def post(self, path: str, data: dict | None = None, files=None):
        data = {"csrf_token": self.token(), **(data or {})}
        if files:
            data["photos"] = files
            return self.client.post(path, data=data, content_type="multipart/form-data")
        return self.client.post(path, data=data)

    def step(self, request_id: int, action: str, data: dict | None = None, files=None):
        path = (
            f"{STAFF}/jobs/{request_id}/{action}"
            if action in ("arrive", "finish")
            else f"{STAFF}/{request_id}/{action.replace('_', '-')}"
        )
        return self.post(path, data, files)


@pytest.fixture
def staff(as_role):
    """``staff(role)``: a member of staff of that role (usernames are the role codes)."""
    return lambda role: Staff(as_role(role))


@pytest.fixture
def stored(app):
    """What the database holds."""

    class Stored:
        def count(self, model=ServiceRequest, **where) -> int:
            with app.app_context():
                return db.session.scalar(select(func.count(model.id)).filter_by(**where))

        def request(self, reference: str | None = None) -> ServiceRequest:
            with app.app_context():
                query = select(ServiceRequest).order_by(ServiceRequest.id.desc())
                if reference:
                    query = query.where(ServiceRequest.reference == reference)
                row = db.session.scalars(query).first()
                _ = row.events, row.photos, row.follow_ups
                db.session.expunge_all()
                return row

        def request_by_id(self, request_id: int) -> ServiceRequest:
            with app.app_context():
                row = db.session.get(ServiceRequest, request_id)
                _ = row.events, row.photos, row.follow_ups
                db.session.expunge_all()
                return row

        def state_and_events(self, request_id: int) -> tuple[str, int]:
            """The request's state and how many steps it has recorded, in one read."""
            with app.app_context():
                return tuple(
                    db.session.execute(
                        select(
                            ServiceRequest.state,
                            select(func.count(ServiceEvent.id))
                            .where(ServiceEvent.request_id == ServiceRequest.id)
                            .scalar_subquery(),
                        ).where(ServiceRequest.id == request_id)
                    ).one()
                )

        def references(self) -> list[str]:
            with app.app_context():
                return list(db.session.scalars(select(ServiceRequest.reference)))

        def user_id(self, username: str) -> int:
            with app.app_context():
                return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))

        def audit(self, action: str) -> list[AuditLog]:
            with app.app_context():
                rows = db.session.scalars(
                    select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
                ).all()
                db.session.expunge_all()
                return rows

        def visits(self) -> int:
            return self.count(HouseholdVisit)

        def execute(self, statement, **params):
            with app.app_context():
                db.session.execute(statement, params)
                db.session.commit()

    return Stored()
