"""Renovation applications as tests make them: the owner's form filled in and sent through the
real app (``Owner``, ``application_fields``), and for the back office applications filed through
the owner's service and walked through the workflow (``file_application``, ``walk``). Used by
the renovation tests and by every folder whose tests need an application.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from forms_app.accounts import roles
from forms_app.accounts.models import StaffUser
from forms_app.core.clock import today
from forms_app.core.community import load_data
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.renovation.applications import find_by_nonce, submit_application
from forms_app.renovation.models import RenovationApplication
from forms_app.renovation.workflow import STEPS_BY_ACTION, advance
from tests.support.forms import csrf_token_from
from tests.support.staff import ROLE_USERS

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
        "building": str(building),
        "unit": str(unit),
        "room": room,
        "owner_name": "王美华",
        "owner_mobile": "13800138000",
        "contractor_company": "金陵家装有限公司",
        "site_lead_name": "陈工",
        "site_lead_mobile": "13912345678",
        "workers": "6",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=45)).isoformat(),
        "work_items": ["plumbing_electric", "walls_floors"],
        "description": "客厅铺地砖，卫生间重做防水。",
        "includes_prohibited": "no",
        "ack_agreement": "y",
        "ack_fire_safety": "y",
        "ack_prohibitions": "y",
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
        return self.client.post(APPLY_URL, data=data, content_type="multipart/form-data", **kwargs)

    def submit_ok(self, fields: dict | None = None):
        """Submit and follow to the status page; return (status page html, status url)."""
        response = self.submit(fields)
        assert response.status_code == 303, response.get_data(as_text=True)
        status_url, _, query = response.location.partition("?")
        assert query == "new=1"
        return self.client.get(response.location).get_data(as_text=True), status_url


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
                if action == "approve":
                    extra["owner_confirmed"] = True
                advance(application, action, actor, comment, confirmed=True, **extra)
    assert all(a in STEPS_BY_ACTION for a in actions)


def patrol_items(kind: str) -> list[dict]:
    """The checklist items (from data/renovation_rules.yml) a patrol of ``kind`` records."""
    groups = load_data("renovation_rules.yml")["patrol_checklist"]
    return [
        item for group in groups for item in group["items"] if kind in item.get("kinds", [kind])
    ]


def checklist_answers(kind: str = "guard", failed: dict | None = None, on=None, deadline=None):
    """The patrol form's checklist answers: every item of ``kind`` 合格 but those in ``failed``
    (item id → note), 不合格 with the note and ``deadline`` (default: three days after ``on``,
    the patrol date, itself today by default)."""
    failed = failed or {}
    deadline = deadline or (on or today()) + timedelta(days=3)
    answers = {}
    for item in patrol_items(kind):
        if item["id"] in failed:
            answers[f"result-{item['id']}"] = "fail"
            answers[f"note-{item['id']}"] = failed[item["id"]]
            answers[f"deadline-{item['id']}"] = str(deadline)
        else:
            answers[f"result-{item['id']}"] = "pass"
    return answers
