"""The seed's procedure through the back office: 客服 record a call, dispatch a 派工单; the
worker records arrival, result, materials, photos and the owner's confirmation (回执); 客服's
回访; 不满意 reopens the job to the supervisor, who goes in person, until the owner is
satisfied or the 经理 closes it with a reason. Complaints: department, answer, 回访."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import update

from forms_app.accounts import roles
from forms_app.core.clock import utcnow
from forms_app.service_requests import states
from forms_app.service_requests.models import ServiceRequest
from tests.support.staff import create_staff, login

from .conftest import (
    COMPLAINT_URL,
    JPEG,
    PDF,
    STAFF,
    Staff,
    complaint_fields,
    nonce_from,
    repair_fields,
)

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

S, E, M = roles.SERVICE, roles.ENGINEERING, roles.MANAGER


def phone_in(desk, kind="repair", **overrides) -> int:
    """客服 records a phone call; the new request's id."""
    page = desk.client.get(f"{STAFF}/new/{kind}").get_data(as_text=True)
    fields = repair_fields(**overrides) if kind == "repair" else complaint_fields(**overrides)
    response = desk.post(
        f"{STAFF}/new/{kind}", {**fields, "source": "phone", "nonce": nonce_from(page)}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.location.rstrip("/").rsplit("/", 1)[-1])


def test_a_repair_from_the_phone_call_to_the_satisfied_follow_up(staff, stored):
    desk, worker = staff(S), staff(E)
    request_id = phone_in(desk)
    item = stored.request()
    assert (item.source, item.recorded_by) == (states.PHONE, "service（客服）")
    assert item.reference.startswith("BX")

    response = desk.step(
        request_id,
        "dispatch",
        {"assignee": str(stored.user_id("engineering")), "urgency": "urgent", "comment": "带角阀"},
    )
    assert response.status_code == 303
    item = stored.request()
    assert item.state == states.DISPATCHED and item.assignee_name == "engineering（工程）"
    assert item.due_at - item.dispatched_at == timedelta(hours=2)  # 紧急 (example setting)

    jobs = worker.client.get(f"{STAFF}/jobs").get_data(as_text=True)
    assert item.reference in jobs and "5号楼2单元1202室" in jobs
    assert worker.step(request_id, "arrive").status_code == 303
    # A double tap on 已到场 records one arrival.
    again = worker.step(request_id, "arrive")
    assert again.status_code == 303
    assert "重复提交" in worker.client.get(again.location).get_data(as_text=True)
    assert stored.request().state == states.ON_SITE
    response = worker.step(
        request_id,
        "finish",
        {
            "result": "更换洗手盆下水管，试水无渗漏。",
            "materials": "下水管 1 根",
            "receipt": "confirmed",
            "receipt_name": "周建国",
        },
        files=[(io.BytesIO(JPEG), "修好了.jpg")],
    )
    assert response.status_code == 303
    item = stored.request()
    assert item.state == states.AWAITING_VISIT and item.receipt_name == "周建国"
    assert [p.stage for p in item.photos] == ["work"]
    assert item.reference not in worker.client.get(f"{STAFF}/jobs").get_data(as_text=True)

    response = desk.step(request_id, "follow_up", {"satisfied": "yes", "owner_view": "修得很快。"})
    assert response.status_code == 303
    item = stored.request()
    assert item.state == states.CLOSED and item.closed_at is not None
    assert [(f.first, f.satisfied) for f in item.follow_ups] == [(True, True)]
    assert [e.action for e in item.events] == ["file", "dispatch", "arrive", "finish", "follow_up"]
    details = [a.detail for a in stored.audit("service.step")]
    assert details == ["派工：已派工", "到场：维修中", "完工：待回访", "回访：已办结"]
    assert len(stored.audit("service.file")) == 1


def test_not_satisfied_reopens_to_the_supervisor_until_satisfied(staff, stored, app):
    create_staff(app, "zhuguan", E)
    desk, worker, manager = staff(S), staff(E), staff(M)
    request_id = phone_in(desk)
    desk.step(
        request_id,
        "dispatch",
        {"assignee": str(stored.user_id("engineering")), "urgency": "normal"},
    )
    worker.step(request_id, "arrive")
    worker.step(request_id, "finish", {"result": "已疏通。", "receipt": "absent"})

    page = desk.step(request_id, "follow_up", {"satisfied": "no", "owner_view": "还在漏"})
    assert page.status_code == 400
    assert 'id="follow_up-supervisor-error"' in page.get_data(as_text=True)
    # The one who did the job is never offered, nor taken, as the supervisor who goes in person.
    detail = desk.client.get(f"{STAFF}/{request_id}").get_data(as_text=True)
    offered = detail.split('id="supervisor"')[1].split("</select>")[0]
    assert "zhuguan（工程，在办 0 单）" in offered
    assert f'value="{stored.user_id("engineering")}"' not in offered
    own = desk.step(
        request_id,
        "follow_up",
        {
            "satisfied": "no",
            "owner_view": "还在漏",
            "supervisor": str(stored.user_id("engineering")),
        },
    )
    assert own.status_code == 400 and "不能是做这张单的人本人" in own.get_data(as_text=True)
    assert stored.request().state == states.AWAITING_VISIT
    response = desk.step(
        request_id,
        "follow_up",
        {"satisfied": "no", "owner_view": "还在漏", "supervisor": str(stored.user_id("zhuguan"))},
    )
    assert response.status_code == 303
    item = stored.request()
    assert item.state == states.REOPENED and item.reopen_count == 1
    assert item.assignee_name == "zhuguan（工程）"
    # The first worker no longer holds the job; the supervisor sees it and goes in person.
    assert worker.step(request_id, "arrive").status_code == 403
    assert "不是派给您的" in worker.step(request_id, "arrive").get_data(as_text=True)
    supervisor = Staff(app.test_client())
    assert login(supervisor.client, "zhuguan").status_code == 302
    jobs = supervisor.client.get(f"{STAFF}/jobs").get_data(as_text=True)
    assert item.reference in jobs and "回访不满意" in jobs
    assert supervisor.step(request_id, "arrive").status_code == 303
    assert "主管亲自上门" in stored.request().events[-1].comment
    supervisor.step(
        request_id,
        "finish",
        {"result": "更换三通。", "receipt": "confirmed", "receipt_name": "周建国"},
    )
    desk.step(request_id, "follow_up", {"satisfied": "yes", "owner_view": "好了"})
    item = stored.request()
    assert item.state == states.CLOSED
    assert [(f.first, f.satisfied) for f in item.follow_ups] == [(True, False), (False, True)]
    # A closed job cannot change.
    for action, data in (
        ("follow_up", {"satisfied": "no", "owner_view": "x", "supervisor": "1"}),
        ("close", {"reason": "x"}),
    ):
        response = manager.step(request_id, action, data)
        assert response.status_code == 409
        assert "已办结" in response.get_data(as_text=True)
    assert stored.request().events[-1].action == "follow_up"


def test_the_manager_closes_with_a_reason(staff, stored):
    desk, manager = staff(S), staff(M)
    request_id = phone_in(desk)
    response = manager.step(request_id, "close", {"reason": "  "})
    assert response.status_code == 400
    assert 'id="close-reason-error"' in response.get_data(as_text=True)
    assert desk.step(request_id, "close", {"reason": "重复报修"}).status_code == 403
    assert (
        manager.step(request_id, "close", {"reason": "与 BX 重复，已合并处理"}).status_code == 303
    )
    item = stored.request()
    assert item.state == states.CLOSED and item.close_reason == "与 BX 重复，已合并处理"


def test_a_second_dispatch_is_told_who_was_quicker(staff, stored):
    first, second = staff(S), staff(M)
    request_id = phone_in(first)
    worker = str(stored.user_id("engineering"))
    assert (
        first.step(request_id, "dispatch", {"assignee": worker, "urgency": "urgent"}).status_code
        == 303
    )
    response = second.step(request_id, "dispatch", {"assignee": worker, "urgency": "planned"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "service（客服） 已于" in page and "不能再「派工」" in page
    item = stored.request()
    assert item.urgency == "urgent" and [e.action for e in item.events].count("dispatch") == 1


def test_only_the_assigned_worker_records_the_job(staff, stored, app):
    create_staff(app, "wang", E)
    desk = staff(S)
    request_id = phone_in(desk)
    desk.step(
        request_id,
        "dispatch",
        {"assignee": str(stored.user_id("engineering")), "urgency": "normal"},
    )
    other = Staff(app.test_client())
    login(other.client, "wang")
    # Another worker's job is not theirs to open, let alone record (service_requests/scope.py).
    assert other.step(request_id, "arrive").status_code == 403
    assert stored.request().state == states.DISPATCHED
    refused = other.client.get(f"{STAFF}/jobs/{request_id}")
    assert refused.status_code == 403 and "不是派给您的" in refused.get_data(as_text=True)


def test_finish_needs_a_result_a_receipt_and_real_photos(staff, stored):
    desk, worker = staff(S), staff(E)
    request_id = phone_in(desk)
    desk.step(
        request_id,
        "dispatch",
        {"assignee": str(stored.user_id("engineering")), "urgency": "normal"},
    )
    worker.step(request_id, "arrive")
    cases = [
        ({"result": "", "receipt": "absent"}, None, "result"),
        ({"result": "好了", "receipt": ""}, None, "receipt"),
        ({"result": "好了", "receipt": "confirmed", "receipt_name": ""}, None, "receipt_name"),
        ({"result": "好了", "receipt": "absent"}, [(io.BytesIO(PDF), "x.jpg")], "photos"),
    ]
    for data, files, field in cases:
        response = worker.step(request_id, "finish", {"materials": "生料带", **data}, files=files)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, field
        assert f'id="finish-{field}-error"' in page, field
        assert "生料带" in page  # typed text kept
    assert stored.request().state == states.ON_SITE
    assert stored.request().photos == []


def test_overdue_jobs_are_marked_and_filtered(staff, stored):
    desk, worker = staff(S), staff(E)
    late, on_time = phone_in(desk), phone_in(desk, room="1201")
    for request_id in (late, on_time):
        desk.step(
            request_id,
            "dispatch",
            {"assignee": str(stored.user_id("engineering")), "urgency": "normal"},
        )
    stored.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == late)
        .values(due_at=utcnow() - timedelta(hours=1))
    )
    page = desk.client.get(f"{STAFF}/?overdue=1").get_data(as_text=True)
    assert "共 1 条" in page and "已超时" in page
    assert 'class="is-overdue"' in worker.client.get(f"{STAFF}/jobs").get_data(as_text=True)
    home = desk.client.get("/forms/staff/").get_data(as_text=True)
    assert "已超时" in home
    assert 'id="overdue"' in desk.client.get(f"{STAFF}/{late}").get_data(as_text=True)


def test_a_complaint_goes_to_a_department_is_answered_and_followed_up(staff, stored, owner, client):
    status_path = owner.file(COMPLAINT_URL)
    desk = staff(S)
    request_id = stored.request().id
    assert (
        desk.step(request_id, "dispatch", {"assignee": "1", "urgency": "urgent"}).status_code == 409
    )
    response = desk.step(request_id, "assign", {"department": "不存在的部门"})
    assert response.status_code == 400 and 'id="assign-department-error"' in response.get_data(
        as_text=True
    )
    assert desk.step(request_id, "assign", {"department": "秩序维护部"}).status_code == 303
    assert (
        desk.step(
            request_id, "answer", {"answer": "已安排夜间加强巡查，22:00 后制止施工。"}
        ).status_code
        == 303
    )
    assert "已安排夜间加强巡查" in client.get(status_path).get_data(as_text=True)
    assert (
        desk.step(
            request_id, "follow_up", {"satisfied": "yes", "owner_view": "晚上安静了"}
        ).status_code
        == 303
    )
    item = stored.request()
    assert item.state == states.CLOSED and item.owner_view == "晚上安静了"
    assert "已办结" in client.get(status_path).get_data(as_text=True)


def test_masked_mobiles_in_the_register_and_on_the_detail_until_revealed(staff, stored):
    desk = staff(S)
    request_id = phone_in(desk)
    register = desk.client.get(f"{STAFF}/").get_data(as_text=True)
    assert "138****8000" in register and "13800138000" not in register
    detail = desk.client.get(f"{STAFF}/{request_id}").get_data(as_text=True)
    assert "138****8000" in detail and "13800138000" not in detail
    revealed = desk.post(f"{STAFF}/{request_id}/call").get_data(as_text=True)
    assert 'href="tel:13800138000"' in revealed
    assert len(stored.audit("service.call_owner")) == 1


def test_staff_intake_twice_with_one_form_stores_once(staff, stored):
    desk = staff(S)
    page = desk.client.get(f"{STAFF}/new/complaint").get_data(as_text=True)
    data = {**complaint_fields(), "source": "walk_in", "nonce": nonce_from(page)}
    assert desk.post(f"{STAFF}/new/complaint", data).status_code == 303
    assert desk.post(f"{STAFF}/new/complaint", data).status_code == 303
    assert stored.count() == 1 and stored.request().source == states.WALK_IN
    assert len(stored.audit("service.file")) == 1
