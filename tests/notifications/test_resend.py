"""Staff see on each record what was sent and whether it arrived, and send the link again."""

from __future__ import annotations

from forms_app.accounts import roles
from tests.move_in.conftest import MOVE_DAY, TODAY
from tests.support.forms import csrf_token_from
from tests.support.renovation import Owner

from .conftest import deliver_due, outbox
from .test_outbox import application_id, book


def test_the_renovation_detail_shows_messages_and_resends_the_status_link(app, client, as_role):
    Owner(client).submit_ok()
    number = application_id(app)
    desk = as_role(roles.SERVICE)
    page = desk.get(f"/forms/staff/renovations/{number}").get_data(as_text=True)
    messages = page.split('id="messages"')[1].split("</section>")[0]
    assert "申请已收到" in messages and "等待发送" in messages and "138****8000" in messages
    deliver_due(app)
    page = desk.get(f"/forms/staff/renovations/{number}").get_data(as_text=True)
    assert "已送达" in page.split('id="messages"')[1].split("</section>")[0]
    response = desk.post(
        f"/forms/staff/renovations/{number}/resend-link", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 303
    [again] = outbox(app, kind="status_link")
    [received] = outbox(app, kind="renovation.received")
    assert again.recipient == "13800138000" and again.requested_by == "service（客服）"
    assert again.reference == received.reference
    assert received.text.split("进度：")[1] in again.text  # the same private link
    page = desk.get(f"/forms/staff/renovations/{number}").get_data(as_text=True)
    assert "service（客服） 重发" in page
    audit = as_role(roles.MANAGER).get("/forms/staff/audit").get_data(as_text=True)
    assert "重新发送进度链接" in audit and received.reference in audit


def test_roles_without_the_permission_cannot_resend(app, client, as_role):
    Owner(client).submit_ok()
    number = application_id(app)
    engineer = as_role(roles.ENGINEERING)
    page = engineer.get(f"/forms/staff/renovations/{number}").get_data(as_text=True)
    assert 'id="resend-link"' not in page
    response = engineer.post(
        f"/forms/staff/renovations/{number}/resend-link", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 403
    assert outbox(app, kind="status_link") == []


def test_the_move_in_schedule_shows_messages_and_resends_the_booking_link(app, client, as_role):
    app.config["TODAY"] = TODAY.isoformat()
    book(client)
    deliver_due(app)
    desk = as_role(roles.SERVICE)
    day = f"/forms/staff/move-ins/?date={MOVE_DAY.isoformat()}"
    page = desk.get(day).get_data(as_text=True)
    assert "预约已确认：已送达" in page
    [confirmed] = outbox(app, kind="move_in.confirmed")
    response = desk.post(
        f"/forms/staff/move-ins/{confirmed.record_id}/resend-link",
        data={"csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 303
    [again] = outbox(app, kind="status_link")
    assert "搬家预约" in again.text and confirmed.text.split("进场路线：")[1] in again.text
    assert "进度链接（重发）：等待发送" in desk.get(day).get_data(as_text=True)
    guard = as_role(roles.SECURITY)
    assert "重发链接" not in guard.get(day).get_data(as_text=True)
