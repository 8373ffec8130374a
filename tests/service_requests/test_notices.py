"""Owners hear back: each step of a repair or complaint writes its message into the outbox in
the step's own transaction (nothing when the step is refused), and 我的办理 lists the room's
requests with their private status pages."""

from __future__ import annotations

from sqlalchemy import select

from forms_app.accounts import roles
from forms_app.core.extensions import db
from forms_app.households.records import records_for
from forms_app.notifications.models import Notification

from .conftest import COMPLAINT_URL, STATUS_PATH


def outbox(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [
            (n.kind, n.recipient, n.text)
            for n in db.session.scalars(
                select(Notification)
                .where(Notification.record_type == "service_request")
                .order_by(Notification.id)
            )
        ]


def test_every_step_of_a_repair_is_told_in_its_own_transaction(app, owner, staff, stored):
    status_path = owner.file()
    item = stored.request()
    sent = outbox(app)
    assert [(k, r) for k, r, _ in sent] == [
        ("service.received", "13800138000"),
        ("service.new", ""),
    ]
    assert item.reference in sent[0][2] and status_path in sent[0][2]
    desk, worker = staff(roles.SERVICE), staff(roles.ENGINEERING)
    worker_id = str(stored.user_id("engineering"))
    desk.step(item.id, "dispatch", {"assignee": worker_id, "urgency": "urgent"})
    # A second dispatch (another member of staff) is refused and tells the owner nothing.
    refused = staff(roles.MANAGER).step(
        item.id, "dispatch", {"assignee": worker_id, "urgency": "urgent"}
    )
    assert refused.status_code == 409
    worker.step(item.id, "arrive")
    worker.step(item.id, "finish", {"result": "好了", "receipt": "absent"})
    lead = staff(roles.MANAGER)
    desk.step(
        item.id,
        "follow_up",
        {"satisfied": "no", "owner_view": "还漏", "supervisor": str(stored.user_id("manager"))},
    )
    lead.step(item.id, "arrive")
    lead.step(item.id, "finish", {"result": "换了三通", "receipt": "absent"})
    desk.step(item.id, "follow_up", {"satisfied": "yes", "owner_view": "好了"})
    kinds = [k for k, _, _ in outbox(app)]
    assert kinds == [
        "service.received",
        "service.new",
        "service.dispatched",
        "service.job",
        "service.finished",
        "service.reopened",
        "service.supervisor_job",
        "service.finished",
        "service.closed",
    ]
    texts = dict((k, t) for k, _, t in outbox(app))
    assert (
        "engineering（工程）" in texts["service.job"] and "5号楼2单元1202室" in texts["service.job"]
    )
    assert "主管将亲自上门" in texts["service.reopened"]


def test_a_complaint_answer_and_the_managers_close_are_told(app, owner, staff, stored):
    owner.file(COMPLAINT_URL)
    item = stored.request()
    desk, manager = staff(roles.SERVICE), staff(roles.MANAGER)
    desk.step(item.id, "assign", {"department": "工程部"})
    desk.step(item.id, "answer", {"answer": "已处理"})
    manager.step(item.id, "close", {"reason": "业主电话确认不再需要回访"})
    kinds = [k for k, _, _ in outbox(app)]
    assert kinds == [
        "service.received",
        "service.new",
        "service.complaint_assigned",
        "service.answered",
        "service.closed",
    ]
    assert "您的投诉" in outbox(app)[0][2]


def test_my_records_lists_the_rooms_requests(app, owner, stored):
    owner.file()
    owner.file(COMPLAINT_URL)
    with app.test_request_context():
        records = records_for(5, 2, "1202")
    assert [(r.kind, r.state) for r in records if r.reference.startswith("BX")] == [
        ("报修", "待派工")
    ]
    repair = next(r for r in records if r.reference.startswith("BX"))
    assert STATUS_PATH.fullmatch(repair.url) and repair.mobile == "13800138000"
    with app.test_request_context():
        assert [r.kind for r in records_for(3, 1, "801")] == ["投诉"]
