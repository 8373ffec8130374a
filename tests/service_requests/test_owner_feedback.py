"""The owner's word online: a finished repair confirmed (or not fixed) and rated from the
status page or the message's link; not fixed or 不满意 reopens it to the 工程主管, who is
alerted; the 回访 call is still made; the 维修合格率 uses the owner's confirmation first.
Complaints: rated once, replied to once (back to the department). Bad input changes nothing."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.core.extensions import db
from forms_app.notifications.models import Notification
from forms_app.service_requests import states
from forms_app.service_requests.figures import compute, week_of
from forms_app.service_requests.models import OwnerFeedback, ServiceRequest
from tests.support.forms import csrf_token_from
from tests.support.staff import placement

from .conftest import JPEG
from .test_workflow import phone_in

pytestmark = pytest.mark.one_app_per_module

S, E, EL = roles.SERVICE, roles.ENGINEERING, roles.ENGINEERING_LEAD


@pytest.fixture
def lead_is_head(stored):
    """The 工程主管 account placed as the head of 工程部."""
    stored.execute(placement(EL, "engineering"))


def finished_repair(staff, stored) -> ServiceRequest:
    desk, worker = staff(S), staff(E)
    request_id = phone_in(desk)
    engineer = str(stored.user_id("engineering"))
    assert (
        desk.step(request_id, "dispatch", {"assignee": engineer, "urgency": "normal"}).status_code
        == 303
    )
    assert worker.step(request_id, "arrive").status_code == 303
    response = worker.step(
        request_id,
        "finish",
        {"result": "更换下水管。", "receipt": "absent"},
        files=[(io.BytesIO(JPEG), "完工.jpg")],
    )
    assert response.status_code == 303
    return stored.request()


def status_path(item) -> str:
    return f"/forms/service/status/{item.token}"


def owner_post(client, item, action: str, data: dict):
    # The session's token (the status page may show no form any more).
    page = client.get("/forms/service/repair").get_data(as_text=True)
    return client.post(
        f"{status_path(item)}/{action}", data={"csrf_token": csrf_token_from(page), **data}
    )


def outbox(app, kind: str) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        ).all()
        db.session.expunge_all()
        return rows


def feedback_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OwnerFeedback.id)))


def test_the_message_links_to_the_confirmation_and_a_good_one_waits_for_the_call(
    staff, stored, client, app
):
    item = finished_repair(staff, stored)
    [sms] = outbox(app, "service.finished")
    assert sms.text.endswith(f"{status_path(item)}#confirm") and "确认是否修好" in sms.text
    page = client.get(status_path(item)).get_data(as_text=True)
    assert 'id="confirm-form"' in page and 'id="next-what"' in page
    assert "请您确认是否已经修好并评价" in page

    response = owner_post(client, item, "confirm", {"fixed": "yes", "rating": "5", "comment": ""})
    assert response.status_code == 303
    item = stored.request()
    assert item.state == states.AWAITING_VISIT  # the 回访 call is still made
    page = client.get(response.location).get_data(as_text=True)
    assert "感谢您的确认和评价" in page and 'id="confirm-form"' not in page
    assert "已修好，5 分（很满意）" in page and "业主确认" in page

    # A second confirmation of the same completion is refused and stores nothing.
    again = owner_post(client, item, "confirm", {"fixed": "no", "rating": "1", "comment": "x"})
    assert again.status_code == 409 and feedback_count(app) == 1

    # The 回访 call: the owner tells the 客服 they are unhappy after all. The call counts for
    # the 满意率; the 合格率 keeps the owner's own confirmation.
    desk = staff(S)
    response = desk.step(
        item.id,
        "follow_up",
        {"satisfied": "no", "owner_view": "又漏了", "supervisor": str(stored.user_id(EL))},
    )
    assert response.status_code == 303
    with app.app_context():
        figures = {f.name: f for f in compute(week_of(item.created_at.date()))}
    quality = figures["工程报修维修合格率"]
    assert (quality.numerator, quality.denominator) == (1, 1)
    assert "业主在线确认为准" in quality.definition and "首次回访的结果为准" in quality.definition
    satisfaction = figures["客户满意率"]
    assert (satisfaction.numerator, satisfaction.denominator) == (0, 1)


@pytest.mark.parametrize(
    ("fixed", "rating", "verdict"), [("no", "4", "未修好"), ("yes", "2", "不满意（2 分）")]
)
def test_not_fixed_or_unhappy_reopens_to_the_engineering_lead(
    staff, stored, client, app, lead_is_head, fixed, rating, verdict
):
    item = finished_repair(staff, stored)
    response = owner_post(
        client, item, "confirm", {"fixed": fixed, "rating": rating, "comment": "还在滴水"}
    )
    assert response.status_code == 303
    item = stored.request()
    assert item.state == states.REOPENED and item.reopen_count == 1
    assert item.assignee_id == stored.user_id(EL)
    assert item.due_at is not None
    [alert] = outbox(app, "service.owner_reopened")
    assert alert.audience == "staff" and alert.staff_id == stored.user_id(EL)  # personally
    assert verdict in alert.text and "还在滴水" in alert.text and "工程主管" in alert.text
    assert alert.text.endswith(f"/forms/staff/service/{item.id}")
    assert len(outbox(app, "service.reopened")) == 1  # the owner is told too
    page = client.get(status_path(item)).get_data(as_text=True)
    assert "工程主管亲自上门" in page and item.assignee_name in page

    # The 工程主管 goes, finishes; the owner confirms again; the 合格率 keeps the first verdict.
    lead = staff(EL)
    assert lead.step(item.id, "arrive").status_code == 303
    assert (
        lead.step(item.id, "finish", {"result": "重新密封。", "receipt": "absent"}).status_code
        == 303
    )
    assert owner_post(client, item, "confirm", {"fixed": "yes", "rating": "5"}).status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(OwnerFeedback).order_by(OwnerFeedback.id)).all()
        assert [(r.first, r.good) for r in rows] == [(True, False), (False, True)]
        assert all(r.community for r in rows)
        quality = next(f for f in compute(week_of(item.created_at.date())) if "合格率" in f.name)
    assert (quality.numerator, quality.denominator) == (0, 1)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"rating": "5"}, "fixed", "请选择是否已经修好。"),
        ({"fixed": "yes", "rating": "9"}, "rating", "请选择 1–5 分的评价。"),
        ({"fixed": "yes", "rating": "五"}, "rating", "请选择 1–5 分的评价。"),
        (
            {"fixed": "no", "rating": "3", "comment": "  "},
            "comment",
            "请填写哪里没有修好或不满意。",
        ),
        ({"fixed": "yes", "rating": "1"}, "comment", "请填写哪里没有修好或不满意。"),
        ({"fixed": "yes", "rating": "4", "comment": "好" * 501}, "comment", "不超过 500 字"),
        ({"fixed": "yes", "rating": "4", "comment": "\ufffd乱码"}, "comment", "无法识别的字符"),
    ],
)
def test_bad_confirmations_say_why_and_change_nothing(
    staff, stored, client, app, data, field, message
):
    item = finished_repair(staff, stored)
    before = (stored.count(), len(outbox(app, "service.reopened")), len(stored.request().events))
    response = owner_post(client, item, "confirm", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and f'id="confirm-{field}-error"' in page
    assert 'id="form-errors"' in page
    assert feedback_count(app) == 0
    after = stored.request()
    assert after.state == states.AWAITING_VISIT
    assert (stored.count(), len(outbox(app, "service.reopened")), len(after.events)) == before


def test_a_repair_not_finished_cannot_be_confirmed(staff, stored, client, app):
    desk = staff(S)
    phone_in(desk)
    item = stored.request()
    page = client.get(status_path(item)).get_data(as_text=True)
    assert 'id="confirm-form"' not in page
    assert "派工后按紧急程度上门" in page and "紧急 2 小时内" in page
    response = owner_post(client, item, "confirm", {"fixed": "yes", "rating": "5"})
    assert response.status_code == 409 and "现在不能提交" in response.get_data(as_text=True)
    assert feedback_count(app) == 0
    assert client.post("/forms/service/status/nonsense/confirm").status_code in (400, 404)


def answered_complaint(staff, stored) -> ServiceRequest:
    desk = staff(S)
    request_id = phone_in(desk, "complaint")
    assert desk.step(request_id, "assign", {"department": "秩序维护部"}).status_code == 303
    assert desk.step(request_id, "answer", {"answer": "已加强夜间巡查。"}).status_code == 303
    return stored.request()


def test_a_complaint_is_rated_once_and_replied_to_once(staff, stored, client, app):
    stored.execute(placement(roles.SECURITY_LEAD, "security"))
    item = answered_complaint(staff, stored)
    [sms] = outbox(app, "service.answered")
    assert sms.text.endswith("#rate") and "回复一次" in sms.text
    page = client.get(status_path(item)).get_data(as_text=True)
    assert 'id="rate-form"' in page and 'id="reply-form"' in page

    refused = owner_post(client, item, "rate", {"rating": "2", "comment": ""})
    assert refused.status_code == 400 and "请填写不满意的原因。" in refused.get_data(as_text=True)
    assert feedback_count(app) == 0
    assert owner_post(client, item, "rate", {"rating": "4", "comment": "还行"}).status_code == 303
    assert owner_post(client, item, "rate", {"rating": "5"}).status_code == 409
    assert stored.request().state == states.AWAITING_VISIT

    empty = owner_post(client, item, "reply", {"reply": ""})
    assert empty.status_code == 400 and "请填写您的回复。" in empty.get_data(as_text=True)
    response = owner_post(client, item, "reply", {"reply": "昨晚仍有噪音到 12 点。"})
    assert response.status_code == 303
    item = stored.request()
    assert item.state == states.DISPATCHED and item.department == "秩序维护部"
    [alert] = outbox(app, "service.owner_replied")
    assert "秩序维护部" in alert.text and "昨晚仍有噪音" in alert.text
    assert "security_lead" in alert.text
    page = client.get(status_path(item)).get_data(as_text=True)
    assert "秩序维护部处理并答复您" in page and 'id="reply-form"' not in page

    # Answered again: the owner may not reply a second time.
    desk = staff(S)
    assert desk.step(item.id, "answer", {"answer": "已约谈装修户。"}).status_code == 303
    page = client.get(status_path(item)).get_data(as_text=True)
    assert 'id="reply-form"' not in page
    again = owner_post(client, item, "reply", {"reply": "还是不行"})
    assert again.status_code == 409 and "只能回复一次" in again.get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(select(OwnerFeedback.action).order_by(OwnerFeedback.id)).all()
    assert actions == ["rate", "reply"]


def test_the_status_page_has_a_copy_button_and_the_link(staff, stored, client):
    item = finished_repair(staff, stored)
    page = client.get(status_path(item)).get_data(as_text=True)
    assert re.search(r'<button[^>]*id="copy-link"[^>]*data-copy="status-url"', page)
    assert f'value="http://localhost{status_path(item)}"' in page
    assert "/static/copy_link.js" in page
