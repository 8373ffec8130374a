"""Drafts sent from the phone's queue (X-Staff-Draft): JSON answers the script acts on, one
record at most however often a draft is sent, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.cleaning.models import CleaningInspection
from forms_app.core.clock import today
from forms_app.core.extensions import db
from forms_app.renovation.patrols import RenovationPatrol
from tests.cleaning.conftest import inspection_fields
from tests.renovation.test_patrols import TODAY, started_on
from tests.support.forms import csrf_token_from
from tests.support.renovation import checklist_answers, file_application, walk

pytestmark = pytest.mark.one_app_per_module

DRAFT = {"X-Staff-Draft": "1"}
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def on_site(app):
    app.config["TODAY"] = TODAY.isoformat()
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    started_on(app, application_id, TODAY - timedelta(days=2))
    return application_id


def draft_of(client, application_id) -> dict:
    html = client.get(f"/forms/staff/renovations/{application_id}").get_data(as_text=True)
    return {
        "csrf_token": csrf_token_from(html),
        "nonce": NONCE.search(html).group(1),
        "kind": "guard",
        "patrol_date": TODAY.isoformat(),
        "findings": "地下室：正常。",
        **checklist_answers("guard", on=TODAY),
    }


def send(client, application_id, draft):
    return client.post(
        f"/forms/staff/renovations/{application_id}/patrols", data=draft, headers=DRAFT
    )


def patrols(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(RenovationPatrol.id)))


def test_a_draft_sent_twice_is_stored_once(app, as_role):
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    draft = draft_of(guard, application_id)
    first, second = send(guard, application_id, draft), send(guard, application_id, draft)
    assert (first.status_code, first.json["outcome"]) == (200, "saved")
    assert (second.status_code, second.json["outcome"]) == (200, "duplicate")
    assert "没有重复保存" in second.json["message"]
    assert first.json["location"] == "/forms/staff/patrols/due"
    assert patrols(app) == 1


def test_a_draft_for_a_site_no_longer_on_site_is_a_conflict(app, as_role):
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    draft = draft_of(guard, application_id)
    walk(app, application_id, "complete")
    response = send(guard, application_id, draft)
    assert response.status_code == 409 and response.json["outcome"] == "conflict"
    assert "待验收" in response.json["message"]
    assert patrols(app) == 0


def test_a_draft_after_logout_is_kept_for_login_and_stores_nothing(app, as_role):
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    draft = draft_of(guard, application_id)
    guard.post("/forms/staff/logout", data={"csrf_token": draft["csrf_token"]})
    response = send(guard, application_id, draft)
    # The stale CSRF token is noticed first; the fresh one needs a login.
    assert response.status_code == 400 and response.json["outcome"] == "expired"
    session = guard.get("/forms/staff/drafts/session", headers=DRAFT)
    assert session.status_code == 401 and session.json["outcome"] == "login"
    assert "登录后自动发送" in session.json["message"]
    assert patrols(app) == 0


def test_after_logging_in_again_a_fresh_token_sends_the_draft_once(app, as_role):
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    draft = draft_of(guard, application_id)
    again = as_role(roles.SECURITY)  # a new login: a new session and CSRF secret
    assert send(again, application_id, draft).json["outcome"] == "expired"
    session = again.get("/forms/staff/drafts/session", headers=DRAFT).json
    assert session["user"] == roles.SECURITY
    fresh = {**draft, "csrf_token": session["csrf_token"]}
    assert send(again, application_id, fresh).json["outcome"] == "saved"
    assert send(again, application_id, fresh).json["outcome"] == "duplicate"
    assert patrols(app) == 1


def test_an_invalid_draft_answers_with_its_errors(app, as_role):
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    response = send(guard, application_id, {**draft_of(guard, application_id), "result-passes": ""})
    assert response.status_code == 400 and response.json["outcome"] == "invalid"
    assert response.json["errors"]["item-passes"] == "请选择合格、不合格或不适用。"
    engineer = as_role(roles.ENGINEERING)  # records 装修办 patrols, not the guard's kind
    refused = send(engineer, application_id, draft_of(engineer, application_id))
    assert (
        refused.status_code == 400
        and "请选择您可以记录的巡查类型" in refused.json["errors"]["kind"]
    )
    assert patrols(app) == 0


def test_a_cleaning_draft_sent_twice_is_one_inspection(app, as_role):

    service = as_role(roles.SERVICE)
    html = service.get("/forms/staff/cleaning/new").get_data(as_text=True)
    with app.app_context():
        day = today()
    fields = {
        **inspection_fields(areas=("basement",), building="", day=day),
        "csrf_token": csrf_token_from(html),
        "nonce": NONCE.search(html).group(1),
    }
    answers = [
        service.post("/forms/staff/cleaning/new", data=fields, headers=DRAFT) for _ in range(2)
    ]
    assert [a.json["outcome"] for a in answers] == ["saved", "duplicate"]
    assert answers[0].json["location"] == answers[1].json["location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(CleaningInspection.id))) == 1


STEP_NONCE = re.compile(r'id="step-accept".*?name="nonce" value="([^"]+)"', re.S)


def test_an_acceptance_sent_twice_from_the_site_is_one_step(app, as_role):
    from forms_app.renovation.models import RenovationEvent

    application_id = file_application(app)
    walk(app, application_id, "approve", "start", "complete")
    engineer = as_role(roles.ENGINEERING)
    html = engineer.get(f"/forms/staff/renovations/{application_id}").get_data(as_text=True)
    draft = {
        "csrf_token": csrf_token_from(html),
        "nonce": STEP_NONCE.search(html).group(1),
        "comment": "复验合格",
    }
    url = f"/forms/staff/renovations/{application_id}/steps/accept"
    answers = [engineer.post(url, data=draft, headers=DRAFT) for _ in range(2)]
    assert [a.json["outcome"] for a in answers] == ["saved", "duplicate"]
    with app.app_context():
        accepted = db.session.scalar(
            select(func.count(RenovationEvent.id)).where(
                RenovationEvent.application_id == application_id,
                RenovationEvent.to_state == "accepted",
            )
        )
    assert accepted == 1
    # Another form (another nonce) for the same step now meets the changed state.
    late = engineer.post(
        url, data={**draft, "nonce": "another-form-of-the-same-step"}, headers=DRAFT
    )
    assert late.status_code == 409 and late.json["outcome"] == "conflict"
    assert "验收通过" in late.json["message"]
