"""Whose repairs a member of staff may open (service_requests/scope.py): a 工程 worker only the
jobs assigned to them, by id or in lists; the 工程主管 the department's; the desk and the 经理
every one. Owners' mobiles are masked on every staff page until a tap reveals one, and each
reveal and each export leaves an audit entry."""

from __future__ import annotations

import re

import pytest

from forms_app.accounts import roles

from .conftest import STAFF, Staff
from .test_workflow import phone_in

pytestmark = pytest.mark.one_app_per_module

S, E, EL, M = roles.SERVICE, roles.ENGINEERING, roles.ENGINEERING_LEAD, roles.MANAGER
MOBILE, MASKED = "13800138000", "138****8000"


@pytest.fixture
def second_worker(app, stored):
    """Another 工程 worker, logged in: ``engineering2``."""
    from tests.support.staff import PASSWORD, create_role_accounts, login

    create_role_accounts(app, {E: "engineering2"})
    client = app.test_client()
    assert login(client, "engineering2", PASSWORD).status_code == 302
    return Staff(client)


def dispatched(desk, stored, assignee: str) -> int:
    request_id = phone_in(desk)
    response = desk.step(
        request_id,
        "dispatch",
        {"assignee": str(stored.user_id(assignee)), "urgency": "normal", "comment": ""},
    )
    assert response.status_code == 303
    return request_id


def test_a_worker_cannot_open_another_workers_job_by_id_or_find_it_in_a_list(
    staff, stored, second_worker
):
    desk, worker = staff(S), staff(E)
    request_id = dispatched(desk, stored, "engineering")
    reference = stored.request().reference
    assert worker.client.get(f"{STAFF}/jobs/{request_id}").status_code == 200

    other = second_worker
    for url in (f"{STAFF}/jobs/{request_id}", f"{STAFF}/{request_id}"):
        response = other.client.get(url)
        assert response.status_code == 403, url
        page = response.get_data(as_text=True)
        assert "这张工单不是派给您的" in page
        assert "周建国" not in page and MASKED not in page and "漏水" not in page
    assert other.client.get(f"{STAFF}/{request_id}/photos/1").status_code == 403
    assert reference not in other.client.get(f"{STAFF}/jobs").get_data(as_text=True)
    assert reference in worker.client.get(f"{STAFF}/jobs").get_data(as_text=True)
    # Nor can they take its steps or reveal its owner's mobile: nothing changes, nothing shown.
    for action in ("arrive", "finish"):
        response = other.step(request_id, action, {"result": "x", "receipt": "confirmed"})
        assert response.status_code == 403 and MOBILE not in response.get_data(as_text=True)
    refused = other.post(f"{STAFF}/{request_id}/call")
    assert refused.status_code == 403 and MOBILE not in refused.get_data(as_text=True)
    assert stored.request().state == "dispatched"
    assert stored.audit("service.call_owner") == []
    # A request that does not exist is still a 404.
    assert other.client.get(f"{STAFF}/jobs/99999").status_code == 404


def test_the_engineering_lead_sees_the_departments_jobs_not_others(staff, stored):
    desk, lead = staff(S), staff(EL)
    ours = dispatched(desk, stored, "engineering")
    ours_reference = stored.request().reference
    managers = dispatched(desk, stored, "manager")
    managers_reference = stored.request().reference
    assert lead.client.get(f"{STAFF}/{ours}").status_code == 200
    assert lead.client.get(f"{STAFF}/jobs/{ours}").status_code == 200
    jobs = lead.client.get(f"{STAFF}/jobs").get_data(as_text=True)
    assert ours_reference in jobs and managers_reference not in jobs
    refused = lead.client.get(f"{STAFF}/{managers}")
    assert refused.status_code == 403
    assert "不属于您的部门" in refused.get_data(as_text=True)
    # Complaints passed to the department, and no other department's.
    to_us = phone_in(desk, "complaint")
    assert desk.step(to_us, "assign", {"department": "工程部"}).status_code == 303
    to_guards = phone_in(desk, "complaint")
    assert desk.step(to_guards, "assign", {"department": "秩序维护部"}).status_code == 303
    assert lead.client.get(f"{STAFF}/{to_us}").status_code == 200
    assert lead.client.get(f"{STAFF}/{to_guards}").status_code == 403
    # The desk and the 经理 open every one.
    for role in (S, M):
        for request_id in (ours, managers, to_guards):
            assert staff(role).client.get(f"{STAFF}/{request_id}").status_code == 200


def test_the_mobile_is_masked_until_a_tap_reveals_it_and_the_reveal_is_audited(staff, stored):
    desk, worker = staff(S), staff(E)
    request_id = dispatched(desk, stored, "engineering")
    reference = stored.request().reference
    for who, url in ((desk, f"{STAFF}/{request_id}"), (worker, f"{STAFF}/jobs/{request_id}")):
        page = who.client.get(url).get_data(as_text=True)
        assert MASKED in page and MOBILE not in page, url
        assert "拨打业主电话" in page
    response = worker.post(f"{STAFF}/{request_id}/call")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'href="tel:{MOBILE}"' in page and "已记入审计日志" in page
    assert f"/forms/staff/service/jobs/{request_id}" in page  # back to the job
    entries = stored.audit("service.call_owner")
    assert [(e.actor_name, e.target) for e in entries] == [("engineering", reference)]
    desk.post(f"{STAFF}/{request_id}/call")
    assert len(stored.audit("service.call_owner")) == 2


def test_the_follow_up_starts_with_the_call_and_comes_back_to_its_form(staff, stored):
    desk, worker = staff(S), staff(E)
    request_id = dispatched(desk, stored, "engineering")
    assert worker.step(request_id, "arrive").status_code == 303
    finished = worker.step(
        request_id, "finish", {"result": "更换阀芯。", "receipt": "absent", "materials": ""}
    )
    assert finished.status_code == 303
    page = desk.client.get(f"{STAFF}/{request_id}").get_data(as_text=True)
    call = page.split('id="follow-up-call"')[1].split('id="step-follow_up"')[0]
    assert MASKED in call and MOBILE not in page
    assert f'action="/forms/staff/service/{request_id}/call"' in call and "拨打业主电话" in call
    response = desk.post(f"{STAFF}/{request_id}/call")
    page = response.get_data(as_text=True)
    assert f'href="tel:{MOBILE}"' in page
    assert f'href="/forms/staff/service/{request_id}#step-follow_up"' in page
    assert [e.actor_name for e in stored.audit("service.call_owner")] == ["service"]


def test_the_export_keeps_whole_mobiles_for_the_desk_and_is_audited(staff, stored):
    desk = staff(S)
    dispatched(desk, stored, "engineering")
    before = len(stored.audit("export"))
    response = desk.client.get(f"{STAFF}/export.csv?columns=full")  # the mobile is in the full set
    assert response.status_code == 200
    assert MOBILE in response.data.decode("utf-8-sig")
    entries = stored.audit("export")
    assert len(entries) == before + 1 and entries[-1].target == "报修投诉登记"
    assert entries[-1].detail.startswith("csv；全部列；")
    assert entries[-1].actor_name == "service"
    refused = staff(E).client.get(f"{STAFF}/export.csv")
    assert refused.status_code == 403 and len(stored.audit("export")) == before + 1


CSRF = re.compile(r'(name="csrf_token"[^>]*value="|name="csrf-token" content=")[^"]+')


def _seen(response) -> str:
    assert response.status_code == 200, response.status_code
    return CSRF.sub(r"\1", response.get_data(as_text=True))


def test_another_communitys_request_is_not_listed_opened_counted_exported_or_changed(
    app, staff, stored
):
    """Issue 28: a request of another community - same room, assigned to our worker, overdue,
    with a dissatisfied 回访 and owner rating this week - leaves every page, count, figure and
    export of this community as it was; its pages and steps are a 404 and change nothing; its
    owner's status page is a 404 here; reference numbers run across the deployment."""
    from datetime import timedelta

    from sqlalchemy import select

    from forms_app.core.clock import utcnow
    from forms_app.core.extensions import db
    from forms_app.households.records import records_for
    from forms_app.service_requests import states
    from forms_app.service_requests.models import OwnerFeedback, ServiceFollowUp, ServiceRequest

    desk, worker, manager = staff(S), staff(E), staff(M)
    dispatched(desk, stored, "engineering")
    desk.client.get(f"{STAFF}/")  # shows the flash of the step
    ours = stored.request()
    pages = {
        manager: ["/forms/staff/", f"{STAFF}/", f"{STAFF}/figures", f"{STAFF}/jobs"],
        desk: ["/forms/staff/", f"{STAFF}/export.csv", f"{STAFF}/figures/export.csv"],
        worker: ["/forms/staff/", f"{STAFF}/jobs"],
    }
    before = {(who, url): _seen(who.client.get(url)) for who, urls in pages.items() for url in urls}
    head, sequence = ours.reference.rsplit("-", 1)
    taken = f"{head}-{int(sequence) + 1:03d}"  # the day's next number in the deployment
    now = utcnow()
    with app.app_context():
        theirs = ServiceRequest(
            community="other",
            kind=states.REPAIR,
            reference=taken,
            filed_on=ours.filed_on,
            sequence=int(sequence) + 1,
            submission_nonce="n" * 32,
            source=states.PHONE,
            recorded_by="外小区客服",
            description="外小区的水管漏水",
            building=ours.building,
            unit=ours.unit,
            room=ours.room,
            owner_name="外小区业主",
            owner_mobile="13900001111",
            state=states.REOPENED,
            urgency="normal",
            assignee_id=ours.assignee_id,
            assignee_name="外小区派的人",
            due_at=now - timedelta(hours=5),
            created_at=now - timedelta(hours=30),
            updated_at=now,
        )
        theirs.follow_ups.append(
            ServiceFollowUp(
                community="other",
                kind=states.REPAIR,
                first=True,
                satisfied=False,
                owner_view="外小区不满意",
                caller_name="外小区客服",
                called_at=now,
            )
        )
        theirs.feedback.append(
            OwnerFeedback(
                community="other",
                kind=states.REPAIR,
                action="confirm",
                fixed=False,
                rating=1,
                first=True,
                created_at=now,
            )
        )
        db.session.add(theirs)
        db.session.commit()
        theirs_id, token = theirs.id, theirs.token
    after = {(who, url): _seen(who.client.get(url)) for who, urls in pages.items() for url in urls}
    assert after == before
    for url in (
        f"{STAFF}/{theirs_id}",
        f"{STAFF}/jobs/{theirs_id}",
        f"{STAFF}/{theirs_id}/photos/1",
    ):
        assert manager.client.get(url).status_code == 404, url
    assert worker.client.get(f"{STAFF}/jobs/{theirs_id}").status_code == 404
    assert desk.client.get(f"/forms/service/status/{token}").status_code == 404
    for who, action, data in (
        (manager, "close", {"reason": "办结"}),
        (desk, "follow_up", {"satisfied": "yes", "owner_view": "满意"}),
        (worker, "arrive", {}),
    ):
        assert who.step(theirs_id, action, data).status_code == 404, action
    assert desk.post(f"{STAFF}/{theirs_id}/call").status_code == 404
    with app.app_context():
        from forms_app.core.community_scope import all_communities

        row = db.session.scalars(
            all_communities(select(ServiceRequest).where(ServiceRequest.id == theirs_id))
        ).one()
        assert (row.state, row.close_reason, len(row.follow_ups)) == (states.REOPENED, "", 1)
        with app.test_request_context():
            here = records_for(ours.building, ours.unit, ours.room)
        assert [record.reference for record in here] == [ours.reference]
    assert stored.audit("service.call_owner") == []
    # Reference numbers run across the deployment: the next one filed here follows theirs.
    phone_in(desk)
    assert stored.request().reference == f"{head}-{int(sequence) + 2:03d}"
