"""Every change an owner cares about, and every new application or booking staff must see,
writes its message in the same transaction as the change; nothing is sent by the request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forms_app.accounts import roles
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.notifications.models import OWNER, PENDING, STAFF, Notification
from forms_app.notifications.outbox import enqueue
from forms_app.renovation.models import RenovationApplication
from tests.move_in.conftest import BOOK_URL, booking_fields
from tests.move_in.conftest import nonce_from as booking_nonce
from tests.support.forms import csrf_token_from
from tests.support.renovation import Owner, application_fields

from .conftest import outbox

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module


def take_step(client, application_id: int, action: str, comment: str = "", **extra):
    """A step as its form posts it, an irreversible one confirmed."""
    page = client.get(f"/forms/staff/renovations/{application_id}").get_data(as_text=True)
    return client.post(
        f"/forms/staff/renovations/{application_id}/steps/{action}",
        data={
            "csrf_token": csrf_token_from(page),
            "comment": comment,
            "confirm": "yes",
            "owner_confirmed": "yes",
            **extra,
        },
    )


def end_date(app, number: int):
    with app.app_context():
        return db.session.get(RenovationApplication, number).end_date


def application_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(RenovationApplication.id))


def test_an_application_tells_the_owner_and_alerts_staff_without_sending_anything(
    app, client, robot
):
    app.config["STAFF_WEBHOOK_URL"] = robot.url
    Owner(client).submit_ok(application_fields(owner_mobile="139 1234 5678"))
    received, alert = outbox(app)
    assert (received.kind, received.audience, received.recipient) == (
        "renovation.received",
        OWNER,
        "13912345678",
    )
    assert received.reference.startswith("ZX") and received.reference in received.text
    assert "/forms/renovation/status/" in received.text and received.text.startswith("您的装修申请")
    assert (alert.kind, alert.audience, alert.recipient) == ("renovation.new", STAFF, "")
    assert "1号楼1单元101室" in alert.text and "/forms/staff/renovations/" in alert.text
    # The request only wrote the outbox: the worker has not run, the robot heard nothing.
    assert {received.state, alert.state} == {PENDING} and robot.received == []
    assert received.idempotency_key != alert.idempotency_key


def test_a_refused_application_writes_no_message(app, client):
    response = Owner(client).submit(application_fields(owner_mobile="12345"))
    assert response.status_code == 400
    assert outbox(app) == []


def test_each_workflow_step_the_owner_cares_about_writes_its_message(app, client, as_role):
    Owner(client).submit_ok()
    manager = as_role(roles.MANAGER)
    number = application_id(app)
    steps = [
        ("approve", "", "renovation.approved"),
        ("start", "", "renovation.started"),
        ("extend", "工期调整", None),
        ("complete", "", None),
        ("fail_acceptance", "卫生间闭水试验渗漏，需整改", "renovation.acceptance_failed"),
        ("complete", "", None),
        ("accept", "", "renovation.accepted"),
        ("refund_deposit", "", "renovation.deposit_refunded"),
    ]
    for action, comment, kind in steps:
        before = len(outbox(app))
        extra = (
            {"end_date": (end_date(app, number) + timedelta(days=1)).isoformat()}
            if action == "extend"
            else {}
        )
        assert take_step(manager, number, action, comment, **extra).status_code == 303, action
        added = outbox(app)[before:]
        assert [m.kind for m in added] == ([kind] if kind else []), action
    failed = outbox(app, kind="renovation.acceptance_failed")[0]
    assert "卫生间闭水试验渗漏，需整改" in failed.text and failed.recipient == "13800138000"


def test_a_rejection_carries_the_reason(app, client, as_role):
    Owner(client).submit_ok()
    reason = "拆改承重墙属于禁止事项，请修改装修方案后重新申请。" * 3
    assert (
        take_step(as_role(roles.SERVICE), application_id(app), "reject", reason).status_code == 303
    )
    [rejected] = outbox(app, kind="renovation.rejected")
    assert "拆改承重墙属于禁止事项" in rejected.text and rejected.text.count("…") == 1
    assert rejected.params[1].startswith("拆改承重墙") and len(rejected.params[1]) <= 60


def test_a_refused_step_writes_no_message(app, client, as_role):
    Owner(client).submit_ok()
    before = len(outbox(app))
    assert take_step(as_role(roles.SERVICE), application_id(app), "reject", "").status_code == 400
    assert take_step(as_role(roles.SERVICE), application_id(app), "accept").status_code in (
        403,
        409,
    )
    assert len(outbox(app)) == before


def book(client, **fields):
    form = client.get(BOOK_URL).get_data(as_text=True)
    return client.post(
        BOOK_URL,
        data={
            "csrf_token": csrf_token_from(form),
            "nonce": booking_nonce(form),
            **booking_fields(**fields),
        },
    )


@pytest.fixture
def today_fixed(app):
    from tests.move_in.conftest import TODAY

    app.config["TODAY"] = TODAY.isoformat()


def test_a_booking_is_confirmed_to_the_owner_and_cancelling_it_too(app, client, today_fixed):
    response = book(client)
    assert response.status_code == 303
    confirmed, alert = outbox(app)
    assert confirmed.kind == "move_in.confirmed" and confirmed.recipient == "13800138000"
    assert confirmed.reference.startswith("BJ") and "/forms/move-in/booking/" in confirmed.text
    assert alert.kind == "move_in.new" and "5号楼2单元1202室" in alert.text
    cancel_page = client.get(response.location).get_data(as_text=True)
    client.post(
        response.location + "/cancel",
        data={"csrf_token": csrf_token_from(cancel_page), "confirm": "yes"},
    )
    [cancelled] = outbox(app, kind="move_in.cancelled")
    assert cancelled.reference == confirmed.reference and "已取消" in cancelled.text


def test_moving_a_booking_tells_the_owner_the_new_time(app, client, today_fixed):
    from tests.move_in.conftest import MOVE_DAY, SLOTS

    response = book(client)
    [confirmed] = outbox(app, kind="move_in.confirmed")
    later = MOVE_DAY + timedelta(days=2)
    move_page = client.get(response.location + "/move").get_data(as_text=True)
    moved = client.post(
        response.location + "/move",
        data={
            "csrf_token": csrf_token_from(move_page),
            "move_date": later.isoformat(),
            "slot": SLOTS[3]["id"],
            "confirm": "yes",
        },
    )
    assert moved.status_code == 303
    [changed] = outbox(app, kind="move_in.changed")
    assert changed.record_id == confirmed.record_id and changed.recipient == "13800138000"
    assert later.isoformat() in changed.text and SLOTS[3]["label"] in changed.text
    # A refused move (the same time again) tells nobody.
    client.post(
        response.location + "/move",
        data={
            "csrf_token": csrf_token_from(move_page),
            "move_date": later.isoformat(),
            "slot": SLOTS[3]["id"],
            "confirm": "yes",
        },
    )
    assert len(outbox(app, kind="move_in.changed")) == 1


def test_staff_cancelling_a_booking_tells_the_owner(app, client, as_role, today_fixed):
    book(client)
    [confirmed] = outbox(app, kind="move_in.confirmed")
    desk = as_role(roles.SERVICE)
    from tests.move_in.conftest import MOVE_DAY

    page = desk.get(f"/forms/staff/move-ins/?date={MOVE_DAY.isoformat()}").get_data(as_text=True)
    assert "预约已确认：等待发送" in page
    assert (
        desk.post(
            f"/forms/staff/move-ins/{confirmed.record_id}/cancel",
            data={"csrf_token": csrf_token_from(page), "confirm": "yes"},
        ).status_code
        == 303
    )
    [cancelled] = outbox(app, kind="move_in.cancelled")
    assert cancelled.record_id == confirmed.record_id and cancelled.recipient == "13800138000"
    # Completing a move tells nobody.
    book(client, room="1201")
    [_, second] = outbox(app, kind="move_in.confirmed")
    desk.post(
        f"/forms/staff/move-ins/{second.record_id}/complete",
        data={"csrf_token": csrf_token_from(page)},
    )
    assert len(outbox(app, kind="move_in.cancelled")) == 1


def test_a_message_rolls_back_with_its_change(app):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with write_transaction() as session:
                enqueue(session, "renovation.new", reference="ZX20261201-001", room="1号楼")
                raise RuntimeError("the change failed")
        assert db.session.scalar(select(Notification.id)) is None


def test_a_dedupe_key_adds_an_alert_once(app):
    with app.app_context():
        for _ in range(2):
            with write_transaction() as session:
                enqueue(
                    session,
                    "renovation.patrol_overdue",
                    reference="ZX20261201-001",
                    dedupe_key="patrol:1:office:2026-12-01",
                    room="1号楼1单元101室",
                    patrol="装修办巡查",
                    due_on="2026-11-30",
                    days=1,
                )
    assert len(outbox(app)) == 1
