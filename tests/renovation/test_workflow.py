"""The renovation workflow: the role matrix over the one table, steps over HTTP, bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog, StaffUser
from forms_app.core.community import (
    DEFAULT_COMMUNITY_FILE,
    CommunityDataError,
    current_community,
    load_community,
)
from forms_app.core.extensions import db
from forms_app.renovation import states
from forms_app.renovation.models import RenovationApplication, RenovationEvent
from forms_app.renovation.workflow import STEPS, WorkflowError, advance
from tests.support.forms import csrf_token_from, staff_csrf_token
from tests.support.renovation import file_application, walk

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

S, E, G, M = roles.SERVICE, roles.ENGINEERING, roles.SECURITY, roles.MANAGER
# A 主管 may take every step its department's members may.
SL, EL = roles.SERVICE_LEAD, roles.ENGINEERING_LEAD
# The policy as the procedure states it; the table in workflow.py must say the same.
EXPECTED = {
    "approve": {S, SL, M},
    "reject": {S, SL, M},
    "start": {S, SL, E, EL, M},
    "extend": {S, SL, E, EL, M},
    "complete": {S, SL, E, EL, M},
    "fail_acceptance": {E, EL, M},
    "accept": {E, EL, M},
    "refund_deposit": {S, SL, M},
}
# The state each step starts from in the matrix test, and the steps that lead there.
PATH_TO = {
    states.PENDING: (),
    states.APPROVED: ("approve",),
    states.IN_PROGRESS: ("approve", "start"),
    states.AWAITING_ACCEPTANCE: ("approve", "start", "complete"),
    states.ACCEPTANCE_FAILED: ("approve", "start", "complete", "fail_acceptance"),
    states.ACCEPTED: ("approve", "start", "complete", "accept"),
    states.DEPOSIT_REFUNDED: ("approve", "start", "complete", "accept", "refund_deposit"),
    states.REJECTED: ("reject",),
}


def test_table_matches_the_procedure():
    assert {step.action: set(step.roles) for step in STEPS} == EXPECTED
    assert not any(
        {G, roles.SECURITY_LEAD, roles.CLEANER, roles.FINANCE} & step.roles for step in STEPS
    )


def events(app, application_id):
    with app.app_context():
        return db.session.execute(
            select(RenovationEvent.to_state, RenovationEvent.actor_name)
            .where(RenovationEvent.application_id == application_id)
            .order_by(RenovationEvent.id)
        ).all()


@pytest.mark.parametrize("state", list(PATH_TO))
@pytest.mark.parametrize("role", roles.ROLES)
def test_role_matrix(app, staff_accounts, role, state):
    """Every (role, state) pair: exactly the table's steps succeed, every other one is refused."""
    application_id = file_application(app)
    walk(app, application_id, *PATH_TO[state])
    for step in STEPS:
        allowed = role in step.roles and state in step.sources
        with app.app_context():
            actor = db.session.execute(select(StaffUser).filter_by(role=role)).scalar_one()
            application = db.session.get(RenovationApplication, application_id)
            before = len(application.events)
            try:
                advance(
                    application,
                    step.action,
                    actor,
                    "理由",
                    new_end_date=application.end_date + timedelta(days=3),
                    confirmed=True,
                    owner_confirmed=True,
                )
                taken = True
            except WorkflowError as error:
                taken = False
                assert error.message
            assert taken == allowed, (step.action, role, state)
            if taken:
                assert len(application.events) == before + 1
                assert application.events[-1].actor_id == actor.id
            db.session.rollback()


def post_step(client, application_id, action, **data):
    """Post a step as its form does, with the box of an irreversible step ticked."""
    html = client.get(f"/forms/staff/renovations/{application_id}").get_data(as_text=True)
    return client.post(
        f"/forms/staff/renovations/{application_id}/steps/{action}",
        data={
            "csrf_token": csrf_token_from(html),
            "confirm": "yes",
            "owner_confirmed": "yes",
            **data,
        },
    )


def test_steps_over_http_record_who_and_audit(app, as_role):
    application_id = file_application(app)
    service = as_role(S)
    html = service.get(f"/forms/staff/renovations/{application_id}").get_data(as_text=True)
    assert 'id="step-approve"' in html and 'id="step-accept"' not in html
    response = post_step(service, application_id, "approve", comment="资料齐全")
    assert response.status_code == 303
    assert events(app, application_id)[-1] == (states.APPROVED, "service（客服）")
    engineer = as_role(E)
    assert post_step(engineer, application_id, "start").status_code == 303
    # Refund is not the engineer's step: 403, nothing stored.
    assert post_step(engineer, application_id, "refund_deposit").status_code == 403
    guard = as_role(G)
    assert post_step(guard, application_id, "complete").status_code == 403
    assert [e[0] for e in events(app, application_id)] == [
        states.PENDING,
        states.APPROVED,
        states.IN_PROGRESS,
    ]
    with app.app_context():
        audit = db.session.execute(
            select(AuditLog.action, AuditLog.actor_name).where(
                AuditLog.action == "renovation.action"
            )
        ).all()
    assert audit == [("renovation.action", "service"), ("renovation.action", "engineering")]


def test_reject_needs_a_reason_the_owner_then_sees(app, as_role, client):
    application_id = file_application(app)
    manager = as_role(M)
    response = post_step(manager, application_id, "reject", comment="   ")
    assert response.status_code == 400
    assert "请填写驳回理由" in response.get_data(as_text=True)
    assert len(events(app, application_id)) == 1
    response = post_step(manager, application_id, "reject", comment="缺少施工图纸")
    assert response.status_code == 303
    with app.app_context():
        token = db.session.get(RenovationApplication, application_id).status_token
    owner_page = client.get(f"/forms/renovation/status/{token}").get_data(as_text=True)
    assert "已驳回" in owner_page and "缺少施工图纸" in owner_page


def test_illegal_transition_is_refused_in_chinese(app, as_role):
    application_id = file_application(app)
    response = post_step(as_role(M), application_id, "accept")
    assert response.status_code == 409
    assert "申请当前状态为「待审核」，不能进行「验收通过」" in response.get_data(as_text=True)
    assert len(events(app, application_id)) == 1
    assert post_step(as_role(M), application_id, "demolish").status_code == 404


def test_extension_is_a_recorded_step_with_checked_dates(app, as_role):
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    engineer = as_role(E)
    with app.app_context():
        old_end = db.session.get(RenovationApplication, application_id).end_date
    for bad, message in [
        ("2026-02-30", "日期格式"),
        ("", "请填写新的竣工日期"),
        (old_end.isoformat(), "须晚于原竣工日期"),
    ]:
        response = post_step(engineer, application_id, "extend", end_date=bad, comment="雨季")
        assert response.status_code == 400, bad
        html = response.get_data(as_text=True)
        assert message in html and "雨季" in html  # typed reason kept
    new_end = old_end + timedelta(days=10)
    assert (
        post_step(
            engineer, application_id, "extend", end_date=new_end.isoformat(), comment="雨季"
        ).status_code
        == 303
    )
    with app.app_context():
        application = db.session.get(RenovationApplication, application_id)
        assert application.end_date == new_end and application.state == states.IN_PROGRESS
        last = application.events[-1]
        assert last.from_state == last.to_state == states.IN_PROGRESS
        assert new_end.isoformat() in last.comment and "雨季" in last.comment
        assert db.session.scalar(select(func.count(RenovationEvent.id))) == 4


def test_a_double_clicked_step_is_taken_once(app, as_role):
    application_id = file_application(app)
    manager = as_role(M)
    assert post_step(manager, application_id, "approve").status_code == 303
    second = post_step(manager, application_id, "approve")
    assert second.status_code == 409 and "不能进行「批准」" in second.get_data(as_text=True)
    walk(app, application_id, "start")
    with app.app_context():
        new_end = db.session.get(RenovationApplication, application_id).end_date + timedelta(days=5)
    statuses = [
        post_step(
            manager, application_id, "extend", end_date=new_end.isoformat(), comment="雨季"
        ).status_code
        for _ in range(2)
    ]
    assert statuses == [303, 400]
    assert [e[0] for e in events(app, application_id)] == [
        states.PENDING,
        states.APPROVED,
        states.IN_PROGRESS,
        states.IN_PROGRESS,
    ]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(AuditLog.id)).where(AuditLog.action == "renovation.action")
            )
            == 2
        )


def test_extension_is_bounded_by_the_community_setting(app, as_role):
    """延期 cannot push the end date past the community's longest works (a typo such as
    9999-12-31 would otherwise keep a permit valid for ever)."""
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    engineer = as_role(E)
    with app.app_context():
        limit = current_community().renovation["max_extended_duration_days"]
        start = db.session.get(RenovationApplication, application_id).start_date
    latest = start + timedelta(days=limit)
    page = engineer.get(f"/forms/staff/renovations/{application_id}").get_data(as_text=True)
    assert f"最长 {limit} 天，最晚 {latest.isoformat()}" in page
    for too_late in (latest + timedelta(days=1), date(9999, 12, 31)):
        response = post_step(
            engineer, application_id, "extend", end_date=too_late.isoformat(), comment="雨季"
        )
        assert response.status_code == 400
        assert f"新的竣工日期不能晚于 {latest.isoformat()}" in response.get_data(as_text=True)
    assert (
        post_step(
            engineer, application_id, "extend", end_date=latest.isoformat(), comment="雨季"
        ).status_code
        == 303
    )
    with app.app_context():
        assert db.session.get(RenovationApplication, application_id).end_date == latest


def test_the_extension_bound_is_read_from_the_community_file(app, as_role, tmp_path):
    data = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    data["renovation"]["max_extended_duration_days"] = 130
    community_file = tmp_path / "community.yml"
    community_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app.config["COMMUNITY_FILE"] = str(community_file)
    application_id = file_application(app)
    walk(app, application_id, "approve")
    with app.app_context():
        start = db.session.get(RenovationApplication, application_id).start_date
    response = post_step(
        as_role(M),
        application_id,
        "extend",
        end_date=(start + timedelta(days=131)).isoformat(),
        comment="材料延误",
    )
    assert response.status_code == 400
    assert "最长 130 天" in response.get_data(as_text=True)
    data["renovation"]["max_extended_duration_days"] = 100  # shorter than the longest works
    community_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommunityDataError, match="max_extended_duration_days"):
        load_community(community_file)


def test_each_step_is_announced_in_its_transaction(app, staff_accounts, monkeypatch):
    """Another part reacting to a step (a ledger entry for a refunded deposit, say) sees it
    inside the step's transaction: a handler that fails takes the step back with it."""
    from forms_app import events

    # The module's app is shared: the subscriptions are undone after the test.
    handlers = app.extensions[events.EXTENSION_KEY].handlers
    seen = []
    monkeypatch.setitem(handlers, "renovation.approve", [seen.append])
    application_id = file_application(app)
    walk(app, application_id, "approve")
    assert [(e.name, e.record_type, e.record_id, e.data["state"]) for e in seen] == [
        ("renovation.approve", "renovation", application_id, states.APPROVED)
    ]

    def refuse(event):
        raise RuntimeError("the reacting part failed")

    monkeypatch.setitem(handlers, "renovation.start", [refuse])
    with pytest.raises(RuntimeError):
        walk(app, application_id, "start")
    with app.app_context():
        assert db.session.get(RenovationApplication, application_id).state == states.APPROVED


def test_every_step_refused_over_http_is_a_4xx_with_its_reason(app, as_role):
    """Every step in every state it does not start from, and by every role that may not take
    it, sent as its form sends it: a 4xx with the Chinese reason and nothing changed, never a
    5xx (issue 26)."""
    clients = {role: as_role(role) for role in roles.ROLES}
    tokens = {role: staff_csrf_token(client) for role, client in clients.items()}
    failures = []
    for number, (state, path) in enumerate(PATH_TO.items()):
        application_id = file_application(app, room=f"{101 + number}")
        walk(app, application_id, *path)
        before = len(events(app, application_id))
        for step in STEPS:
            for role, client in clients.items():
                if role in step.roles and state in step.sources:
                    continue
                with app.app_context():
                    end = db.session.get(RenovationApplication, application_id).end_date
                response = client.post(
                    f"/forms/staff/renovations/{application_id}/steps/{step.action}",
                    data={
                        "csrf_token": tokens[role],
                        "confirm": "yes",
                        "owner_confirmed": "yes",
                        "comment": "理由",
                        "end_date": (end + timedelta(days=3)).isoformat(),
                    },
                )
                where = f"{state} {step.action} as {role}: {response.status_code}"
                if not 400 <= response.status_code < 500:
                    failures.append(where)
                elif response.status_code != 404 and not any(
                    "\u4e00" <= c <= "\u9fff" for c in response.get_data(as_text=True)
                ):
                    failures.append(where + " without a Chinese reason")
                if len(events(app, application_id)) != before:
                    failures.append(where + " changed the application")
    assert not failures, "\n".join(failures)
