"""Staff fixtures: accounts of every role, applications filed through the real service."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from forms_app.accounts import roles
from forms_app.accounts.models import StaffUser
from forms_app.core.clock import today
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.renovation.applications import find_by_nonce, submit_application
from forms_app.renovation.models import RenovationApplication
from forms_app.renovation.workflow import STEPS_BY_ACTION, advance
from tests.support.staff import create_staff, login

PASSWORD = "correct-horse-9"
# One account per role, named after the role code.
ROLE_USERS = {role: role for role in roles.ROLES}


def application_values(building=1, unit=1, room="101", **overrides) -> dict:
    start = today() + timedelta(days=3)
    values = {
        "building": building,
        "unit": unit,
        "room": room,
        "owner_name": "王美华",
        "owner_mobile": "13800138000",
        "contractor_company": "金陵家装有限公司",
        "site_lead_name": "陈工",
        "site_lead_mobile": "13912345678",
        "workers": 6,
        "start_date": start,
        "end_date": start + timedelta(days=45),
        "work_items": ["plumbing_electric", "walls_floors"],
        "description": "客厅铺地砖。",
        "wants_tarpaulin": False,
        "wants_extinguisher": False,
    }
    values.update(overrides)
    return values


def filed(values: dict, uploads=()) -> RenovationApplication:
    """File an application through the owner's service (inside an app context)."""
    nonce = secrets.token_urlsafe(16)
    submit_application(values, list(uploads), nonce)
    return find_by_nonce(nonce)


def file_application(app, **overrides) -> int:
    """File an application as an owner would (no attachments); its id."""
    with app.app_context():
        return filed(application_values(**overrides)).id


def walk(app, application_id: int, *actions: str, actor_role=roles.MANAGER, comment="测试"):
    """Take workflow steps directly (a manager may take every step)."""
    with app.app_context():
        actor = db.session.query(StaffUser).filter_by(username=ROLE_USERS[actor_role]).one()
        for action in actions:
            with write_transaction():
                application = db.session.get(RenovationApplication, application_id)
                extra = {}
                if action == "extend":
                    extra["new_end_date"] = application.end_date + timedelta(days=7)
                advance(application, action, actor, comment, confirmed=True, **extra)
    assert all(a in STEPS_BY_ACTION for a in actions)


@pytest.fixture
def staff_accounts(app):
    """One account per role; usernames are the role codes."""
    for role, username in ROLE_USERS.items():
        create_staff(app, username, role, PASSWORD)
    return ROLE_USERS


@pytest.fixture
def as_role(app, staff_accounts):
    """A test client logged in with the given role."""

    def _client(role):
        client = app.test_client()
        assert login(client, staff_accounts[role], PASSWORD).status_code == 302
        return client

    return _client
