"""Personal staff alerts (issue 27): the person a job goes to is alerted personally (the
企业微信 robot mentioning their mobile, or SMS per STAFF_ALERT_CHANNEL; no mobile: the group,
and the pages say so); overdue jobs and patrols escalate once per deadline to the 主管; an
owner's 改约 or cancellation reaches whoever is on duty, else the 主管."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from forms_app import create_app
from forms_app.accounts import roles
from forms_app.accounts.models import DutyShift, StaffUser
from forms_app.accounts.organisation import shifts_around
from forms_app.core.clock import local_time, utcnow
from forms_app.core.community import current_community
from forms_app.core.community_scope import all_communities
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.move_in.models import MoveInBooking
from forms_app.notifications.models import DELIVERED, STAFF, STAFF_SMS, Notification
from forms_app.notifications.worker import run_scans
from forms_app.renovation.models import RenovationEvent
from forms_app.renovation.patrol_alerts import escalate_overdue_patrols
from forms_app.renovation.states import IN_PROGRESS
from forms_app.service_requests.escalation import overdue_alerts
from forms_app.service_requests.models import ServiceRequest
from tests.move_in.conftest import MOVE_DAY, SLOTS, booking_fields
from tests.move_in.conftest import TODAY as MOVE_TODAY
from tests.move_in.conftest import Owner as MoveOwner
from tests.service_requests.conftest import Staff
from tests.service_requests.test_workflow import phone_in
from tests.support.forms import staff_csrf_token
from tests.support.renovation import file_application, walk
from tests.support.staff import place_staff

from .conftest import deliver_due, outbox

pytestmark = pytest.mark.one_app_per_module

S, SL, E, EL, G, GL, M = (
    roles.SERVICE,
    roles.SERVICE_LEAD,
    roles.ENGINEERING,
    roles.ENGINEERING_LEAD,
    roles.SECURITY,
    roles.SECURITY_LEAD,
    roles.MANAGER,
)
# Accounts are named after their role (the ``staff_accounts`` fixture).
MOBILES = {
    M: "13900000001",
    SL: "13900000002",
    S: "13900000003",
    EL: "13900000004",
    E: "13900000005",
    GL: "13900000006",
}
PLACES = {
    M: ("management", True),
    SL: ("service", True),
    S: ("service", False),
    EL: ("engineering", True),
    E: ("engineering", False),
    GL: ("security", True),
}


def place(app, username, department, head=False, mobile=None):
    with app.app_context(), write_transaction() as session:
        place_staff(session, username, department, head, mobile=mobile)


def organised(app, without_mobile=()):
    """The role accounts placed in their departments, each 主管 marked, mobiles on record."""
    for username, (department, head) in PLACES.items():
        place(
            app,
            username,
            department,
            head,
            None if username in without_mobile else MOBILES[username],
        )


def user_id(app, username) -> int:
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.username == username))


def on_duty_now(app, username, department):
    """Put the account on the rota for the shift running now."""
    with app.app_context():
        day, shift = shifts_around(local_time(utcnow()).replace(tzinfo=None))[0]
        with write_transaction() as session:
            session.add(
                DutyShift(
                    community=current_community().key,
                    department=department,
                    day=day,
                    shift=shift.id,
                    user_id=user_id(app, username),
                    created_by="测试",
                )
            )


def dispatched_repair(app, as_role, worker=E) -> int:
    desk = Staff(as_role(S))
    request_id = phone_in(desk)
    response = desk.step(
        request_id, "dispatch", {"assignee": str(user_id(app, worker)), "urgency": "urgent"}
    )
    assert response.status_code == 303
    return request_id


def due_passed(app, request_id, hours_ago=1) -> datetime:
    due = utcnow().replace(microsecond=0) - timedelta(hours=hours_ago)
    with app.app_context(), write_transaction() as session:
        session.execute(
            update(ServiceRequest).where(ServiceRequest.id == request_id).values(due_at=due)
        )
    return due


def scan(app, function, day=None) -> int:
    with app.app_context():
        return function(day or date.today())


def test_the_assigned_worker_is_mentioned_in_the_group(channels, robot, as_role):
    organised(channels)
    # The group's own alerts stay markdown; a mention needs the robot's text message.
    channels.config["STAFF_WEBHOOK_MSGTYPE"] = "markdown"
    request_id = dispatched_repair(channels, as_role)
    [job] = outbox(channels, kind="service.job")
    assert (job.audience, job.recipient, job.staff_id) == (
        STAFF,
        MOBILES[E],
        user_id(channels, E),
    )
    assert job.addressee == "engineering（工程）" and job.addressee in job.text
    deliver_due(channels)
    bodies = {r.body[r.body["msgtype"]]["content"]: r.body for r in robot.received}
    assert bodies[job.text] == {
        "msgtype": "text",
        "text": {"content": job.text, "mentioned_mobile_list": [MOBILES[E]]},
    }
    [new] = outbox(channels, kind="service.new")
    assert bodies[new.text] == {"msgtype": "markdown", "markdown": {"content": new.text}}
    # The desk sees on the request who was alerted and that it arrived.
    page = as_role(S).get(f"/forms/staff/service/{request_id}").get_data(as_text=True)
    assert "员工群 @engineering（工程） 139****0005" in page
    assert outbox(channels, kind="service.job")[0].state == DELIVERED and "已送达" in page


def test_with_the_sms_setting_the_worker_gets_an_sms(channels, robot, sms, as_role):
    organised(channels)
    channels.config["STAFF_ALERT_CHANNEL"] = "sms"
    request_id = dispatched_repair(channels, as_role)
    [job] = outbox(channels, kind="service.job")
    assert (job.audience, job.recipient) == (STAFF_SMS, MOBILES[E])
    deliver_due(channels)
    [request] = [r for r in sms.received if r.body["PhoneNumberSet"] == [f"+86{MOBILES[E]}"]]
    assert request.body["TemplateParamSet"] == job.params and job.params[1] == job.addressee
    assert outbox(channels, kind="service.job")[0].channel == "sms"
    # Only the group's own alert went to the robot.
    assert [r.body["text"]["content"] for r in robot.received] == [
        outbox(channels, kind="service.new")[0].text
    ]
    page = as_role(S).get(f"/forms/staff/service/{request_id}").get_data(as_text=True)
    assert "短信：engineering（工程） 139****0005" in page


def test_without_a_mobile_the_group_gets_it_and_the_pages_say_so(channels, robot, as_role):
    organised(channels, without_mobile={E})
    channels.config["STAFF_ALERT_CHANNEL"] = "sms"  # no mobile to send it to: the group
    request_id = dispatched_repair(channels, as_role)
    [job] = outbox(channels, kind="service.job")
    assert (job.audience, job.recipient, job.staff_id) == (STAFF, "", user_id(channels, E))
    deliver_due(channels)
    sent = [r.body for r in robot.received if r.body["text"]["content"] == job.text]
    assert sent == [{"msgtype": "text", "text": {"content": job.text}}]
    page = as_role(S).get(f"/forms/staff/service/{request_id}").get_data(as_text=True)
    assert "员工群（engineering（工程）未登记手机，未能@本人）" in page
    organisation = as_role(M).get("/forms/staff/organisation/").get_data(as_text=True)
    assert organisation.count("未登记手机") == 1


def test_complaints_and_second_visits_go_to_the_person_who_owes_the_work(app, as_role):
    organised(app)
    place(app, "cleaning_lead", "cleaning", False, None)  # 保洁部: nobody is its 主管
    desk = Staff(as_role(S))
    complaint = phone_in(desk, "complaint")
    assert desk.step(complaint, "assign", {"department": "工程部"}).status_code == 303
    [assigned] = outbox(app, kind="service.complaint_assigned")
    assert (assigned.staff_id, assigned.recipient) == (user_id(app, EL), MOBILES[EL])
    assert "工程部" in assigned.text and assigned.text.startswith("致engineering_lead（工程主管）")
    # A department without a 主管: the 管理处's 主管 is told.
    other = phone_in(desk, "complaint")
    assert desk.step(other, "assign", {"department": "保洁部"}).status_code == 303
    assert outbox(app, kind="service.complaint_assigned")[1].staff_id == user_id(app, M)
    # 回访不满意: the supervisor chosen to go in person is alerted.
    assert desk.step(complaint, "answer", {"answer": "已处理"}).status_code == 303
    response = desk.step(
        complaint,
        "follow_up",
        {"satisfied": "no", "owner_view": "没有改善", "supervisor": str(user_id(app, EL))},
    )
    assert response.status_code == 303
    [second] = outbox(app, kind="service.supervisor_job")
    assert second.staff_id == user_id(app, EL) and "没有改善" in second.text


def test_overdue_jobs_escalate_to_the_supervisor_once_per_deadline(app, as_role):
    organised(app)
    repair = dispatched_repair(app, as_role)
    complaint = phone_in(Staff(as_role(S)), "complaint")  # not passed on: the desk's 主管
    assert scan(app, overdue_alerts) == 0  # nothing is late yet
    due_passed(app, repair)
    first = due_passed(app, complaint, hours_ago=2)
    assert scan(app, overdue_alerts) == 2
    assert scan(app, overdue_alerts) == 0  # the worker scans again and again: nothing new
    alerts = {a.record_id: a for a in outbox(app, kind="service.overdue")}
    assert len(alerts) == 2
    assert (alerts[repair].staff_id, alerts[repair].recipient) == (user_id(app, EL), MOBILES[EL])
    assert "完成维修" in alerts[repair].text and "engineering（工程）" in alerts[repair].text
    assert alerts[complaint].staff_id == user_id(app, SL) and "答复业主" in alerts[complaint].text
    assert alerts[repair].dedupe_key.startswith(f"service.overdue:{repair}:")
    # A new deadline (sent back to the department) escalates again, once.
    due_passed(app, complaint, hours_ago=1)
    assert scan(app, overdue_alerts) == 1 and scan(app, overdue_alerts) == 0
    # A job held by a 主管 goes to the one the 主管 answers to (the 管理处's 主管).
    with app.app_context(), write_transaction() as session:
        session.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == repair)
            .values(assignee_id=user_id(app, EL), due_at=first)
        )
    assert scan(app, overdue_alerts) == 1
    assert outbox(app, kind="service.overdue")[-1].staff_id == user_id(app, M)
    # Done: nothing more.
    with app.app_context(), write_transaction() as session:
        session.execute(update(ServiceRequest).values(state="closed"))
    assert scan(app, overdue_alerts) == 0
    # Another community's overdue job: this community's scan leaves it; the worker's scans
    # (every community in turn) alert it once, the alert carrying that community's key.
    with app.app_context(), write_transaction() as session:
        session.execute(
            ServiceRequest.__table__.update()
            .where(ServiceRequest.id == repair)
            .values(community="xinyuan", state="dispatched", due_at=first - timedelta(hours=1))
        )
    assert scan(app, overdue_alerts) == 0
    with app.app_context():
        assert run_scans() == 1 and run_scans() == 0
        alert = db.session.scalars(
            all_communities(select(Notification).order_by(Notification.id.desc()))
        ).first()
    assert (alert.kind, alert.record_id, alert.community) == ("service.overdue", repair, "xinyuan")
    assert [a.record_id for a in outbox(app, kind="service.overdue")].count(repair) == 2


def test_overdue_patrols_escalate_to_the_patrolling_departments_heads_once(app, as_role):
    as_role(M)  # the accounts walk() acts with
    organised(app)
    today = date(2026, 5, 10)
    app.config["TODAY"] = today.isoformat()
    site = file_application(app, room="101")
    walk(app, site, "approve", "start")
    with app.app_context(), write_transaction() as session:
        session.execute(
            update(RenovationEvent)
            .where(RenovationEvent.application_id == site, RenovationEvent.to_state == IN_PROGRESS)
            .values(created_at=datetime(2026, 5, 7))
        )
    added = scan(app, escalate_overdue_patrols, today)
    alerts = outbox(app, kind="renovation.patrol_escalated")
    assert added == len(alerts) == 3
    told = {(a.text.split("的")[1].split("应于")[0], a.staff_id) for a in alerts}
    # 装修办 (客服, 工程): both 主管; 秩序维护部: its 主管.
    assert told == {
        ("装修办巡查", user_id(app, SL)),
        ("装修办巡查", user_id(app, EL)),
        ("秩序维护部巡查", user_id(app, GL)),
    }
    assert all("2026-05-07" in a.text and a.record_id == site for a in alerts)
    # Again the same day, and the next days while still not done: once per due date.
    assert scan(app, escalate_overdue_patrols, today) == 0
    assert scan(app, escalate_overdue_patrols, today + timedelta(days=1)) == 0
    # The renovation's page shows who was told.
    page = as_role(M).get(f"/forms/staff/renovations/{site}").get_data(as_text=True)
    assert "员工群 @security_lead（秩序维护主管）" in page


def test_owners_changes_reach_whoever_is_on_duty_else_the_supervisor(app, as_role, client):
    organised(app)
    app.config["TODAY"] = MOVE_TODAY.isoformat()
    owner = MoveOwner(client)
    _page, moved = owner.book()
    _page, cancelled = owner.book(booking_fields(room="1201"))
    _page, nobody = owner.book(booking_fields(room="1102"))
    owner.book(booking_fields(room="1101", slot=SLOTS[2]["id"]))
    csrf = owner.open_form()["csrf_token"]
    on_duty_now(app, S, "service")
    later = MOVE_DAY + timedelta(days=1)
    response = client.post(
        moved + "/move",
        data={
            "csrf_token": csrf,
            "move_date": later.isoformat(),
            "slot": SLOTS[1]["id"],
            "confirm": "yes",
        },
    )
    assert response.status_code == 303
    [change] = outbox(app, kind="move_in.owner_moved")
    assert (change.staff_id, change.recipient) == (user_id(app, S), MOBILES[S])
    assert (
        f"从{MOVE_DAY.isoformat()} {SLOTS[0]['label']}改到{later.isoformat()} {SLOTS[1]['label']}"
        in change.text
    )
    # Nobody on duty: the 客户服务中心's 主管.
    with app.app_context(), write_transaction() as session:
        session.execute(DutyShift.__table__.delete())
    cancel = {"csrf_token": csrf, "confirm": "yes"}
    assert client.post(cancelled + "/cancel", data=cancel).status_code == 303
    [told] = outbox(app, kind="move_in.owner_cancelled")
    assert told.staff_id == user_id(app, SL) and "1201" in told.text
    # No 主管 anywhere either: the group gets it, and says why.
    for username in PLACES:
        place(app, username, None)
    assert client.post(nobody + "/cancel", data=cancel).status_code == 303
    group = outbox(app, kind="move_in.owner_cancelled")[-1]
    assert (group.audience, group.recipient, group.staff_id) == (STAFF, "", None)
    assert "无人值班" in group.addressee and group.addressee in group.text
    # The desk cancelling itself tells no one on duty (the owner hears, as before).
    with app.app_context():
        booking_id = db.session.scalar(select(MoveInBooking.id).where(MoveInBooking.room == "1101"))
    desk = as_role(S)
    token = staff_csrf_token(desk)
    response = desk.post(
        f"/forms/staff/move-ins/{booking_id}/cancel", data={"csrf_token": token, "confirm": "yes"}
    )
    assert response.status_code == 303
    assert len(outbox(app, kind="move_in.cancelled")) == 3
    assert len(outbox(app, kind="move_in.owner_cancelled")) == 2
    # The day's schedule shows who was told of the change, and how far it got.
    schedule = desk.get(f"/forms/staff/move-ins/?date={later.isoformat()}").get_data(as_text=True)
    assert "业主改约 → service（客服）：等待发送" in schedule


def test_the_setting_is_checked_where_it_is_read(monkeypatch, tmp_path, app):
    from forms_app.notifications.settings import SettingsError, notification_settings

    with pytest.raises(SettingsError, match="STAFF_ALERT_CHANNEL=sms 需要"):
        notification_settings({**app.config, "STAFF_ALERT_CHANNEL": "sms"})
    with pytest.raises(SettingsError, match="wecom 或 sms"):
        notification_settings({**app.config, "STAFF_ALERT_CHANNEL": "fax"})
    assert app.config["STAFF_ALERT_CHANNEL"] == "wecom"  # the default
    monkeypatch.setenv("STAFF_ALERT_CHANNEL", "fax")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="STAFF_ALERT_CHANNEL 只能是 wecom 或 sms"):
        create_app({"TESTING": True})
