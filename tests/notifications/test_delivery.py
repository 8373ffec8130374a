"""The worker delivers through real loopback endpoints that speak the 企业微信 robot's and
Tencent Cloud SMS's API; faults end in retries with backoff, then a visible failure."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from forms_app.accounts import roles
from forms_app.core.database import write_transaction
from forms_app.notifications.channels import build_channels
from forms_app.notifications.models import DELIVERED, ERROR, FAILED, PENDING, SENT
from forms_app.notifications.outbox import enqueue
from forms_app.notifications.settings import notification_settings
from forms_app.notifications.worker import backoff_delay
from tests.support.endpoints import SMS_SECRET_ID

from .conftest import FAST, deliver_due, outbox

pytestmark = pytest.mark.one_app_per_module


def staff_alert(app, reference="ZX20261201-001"):
    with app.app_context():
        with write_transaction() as session:
            enqueue(
                session,
                "renovation.new",
                reference=reference,
                room="1号楼1单元101室",
                link_path="/forms/staff/renovations/1",
            )


def owner_notice(app, mobile="13800138000", kind="renovation.approved"):
    with app.app_context():
        with write_transaction() as session:
            enqueue(
                session,
                kind,
                reference="ZX20261201-001",
                recipient=mobile,
                record_type="renovation",
                record_id=1,
                link_path="/forms/renovation/status/abc",
            )


def deliver_until_settled(app, timeout=15.0):
    """Run worker passes, as often as the test worker polls, until no message is waiting
    (retries included) or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        deliver_due(app)
        rows = outbox(app)
        if all(m.state in (DELIVERED, FAILED) for m in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(FAST["NOTIFY_POLL_SECONDS"])


def test_staff_alerts_go_to_the_robot_as_text_with_an_idempotency_key(channels, robot):
    staff_alert(channels)
    deliver_due(channels)
    [message] = outbox(channels)
    assert message.state == DELIVERED and message.channel == "wecom"
    [request] = robot.received
    assert request.body == {"msgtype": "text", "text": {"content": message.text}}
    assert request.headers["X-Idempotency-Key"] == message.idempotency_key
    [attempt] = message.attempt_log
    assert attempt.outcome == SENT and attempt.finished_at and attempt.channel == "wecom"


def test_markdown_robot_messages(channels, robot):
    channels.config["STAFF_WEBHOOK_MSGTYPE"] = "markdown"
    staff_alert(channels)
    deliver_due(channels)
    assert robot.received[0].body["msgtype"] == "markdown"
    assert outbox(channels)[0].state == DELIVERED


def test_owner_messages_go_out_by_sms_through_the_sdk(channels, sms):
    owner_notice(channels)
    deliver_due(channels)
    [message] = outbox(channels)
    assert message.state == DELIVERED and message.channel == "sms", message.last_error
    [request] = sms.received
    # The fake checked the SDK's TC3-HMAC-SHA256 signature with the shared secret key.
    assert request.headers["Authorization"].startswith(
        f"TC3-HMAC-SHA256 Credential={SMS_SECRET_ID}/"
    )
    assert request.body["PhoneNumberSet"] == ["+8613800138000"]
    assert request.body["SignName"] == "示例物业" and request.body["TemplateId"] == "100001"
    assert request.body["TemplateParamSet"] == message.params
    assert message.params[0] == "ZX20261201-001" and message.params[1].endswith("/status/abc")
    assert request.body["SessionContext"] == message.idempotency_key
    assert "流水号" in message.attempt_log[0].detail


def test_a_communitys_own_sms_sign_goes_on_its_messages(channels, sms):
    """Issue 28: 馨园's file names its SMS sign; 山水花园's does not (the deployment's)."""
    from forms_app.core.community import acting_in, deployment_communities

    with channels.app_context():
        xinyuan = deployment_communities()["xinyuan"]
    with acting_in(xinyuan):
        owner_notice(channels, mobile="13900009999")
    owner_notice(channels)
    deliver_due(channels)
    signs = {r.body["PhoneNumberSet"][0]: r.body["SignName"] for r in sms.received}
    assert signs == {"+8613900009999": "馨园物业", "+8613800138000": "示例物业"}


def test_a_kind_without_an_sms_template_fails_visibly(channels, sms):
    channels.config["SMS_TEMPLATES"] = "renovation.received=100002"
    owner_notice(channels)
    rows = deliver_until_settled(channels)
    assert (
        rows[0].state == FAILED and "未配置「renovation.approved」的短信模板" in rows[0].last_error
    )
    assert sms.received == []


SLOW_TIMEOUT = 0.3  # the client's timeout in the "slow" cases: the answer comes after 2 s


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("down", "无法连接企业微信机器人"),
        ("slow", "秒内没有应答"),
        ("error", "errcode 93000"),
        ("http500", "HTTP 500"),
        ("garbage", "应答无法识别"),
    ],
)
def test_robot_faults_are_retried_then_shown_as_failed(channels, robot, mode, reason):
    if mode == "down":
        channels.config["STAFF_WEBHOOK_URL"] = closed_port()
    if mode == "slow":
        # Every attempt waits the whole timeout: a short one (the others keep FAST's second,
        # which a loaded machine's answers need).
        channels.config["NOTIFY_TIMEOUT_SECONDS"] = SLOW_TIMEOUT
    robot.mode, robot.delay = mode, 2.0
    staff_alert(channels)
    [message] = deliver_until_settled(channels)
    assert message.state == FAILED and reason in message.last_error
    assert message.attempts == FAST["NOTIFY_MAX_ATTEMPTS"]
    assert [a.outcome for a in message.attempt_log] == [ERROR] * FAST["NOTIFY_MAX_ATTEMPTS"]
    assert all(reason in a.detail for a in message.attempt_log)


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("error", "InsufficientBalanceInSmsPackage"),
        ("reject", "PhoneNumberDailyLimit"),
        ("http500", "短信平台出错"),
        ("garbage", "短信平台出错"),
        ("slow", "短信平台没有按时应答"),
    ],
)
def test_sms_faults_are_retried_then_shown_as_failed(channels, sms, mode, reason):
    if mode == "slow":
        channels.config["NOTIFY_TIMEOUT_SECONDS"] = SLOW_TIMEOUT
    sms.mode, sms.delay = mode, 2.0
    owner_notice(channels)
    [message] = deliver_until_settled(channels)
    assert message.state == FAILED and reason in message.last_error, message.last_error
    assert len(message.attempt_log) == FAST["NOTIFY_MAX_ATTEMPTS"]


def test_a_failure_waits_longer_each_time_and_a_recovery_delivers(channels, robot):
    robot.mode = "error"
    staff_alert(channels)
    deliver_due(channels)
    [first] = outbox(channels)
    assert first.state == PENDING and first.attempts == 1
    assert (
        abs(
            (first.next_attempt_at - first.attempt_log[0].finished_at).total_seconds()
            - FAST["NOTIFY_BACKOFF_SECONDS"]
        )
        < 0.1
    )
    settings = notification_settings(channels.config)
    assert [backoff_delay(settings, n) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.0]
    robot.mode = "ok"
    [message] = deliver_until_settled(channels)
    assert message.state == DELIVERED and message.last_error == ""
    assert [a.outcome for a in message.attempt_log] == [ERROR, SENT]
    assert len(set(robot.keys())) == 1


def test_failures_show_on_the_record_and_in_the_outbox_and_can_be_retried(channels, robot, as_role):
    robot.mode = "error"
    staff_alert(channels)
    deliver_until_settled(channels)
    desk = as_role(roles.SERVICE)
    home = desk.get("/forms/staff/").get_data(as_text=True)
    assert "有 <strong>1</strong> 条通知发送失败" in home
    page = desk.get("/forms/staff/notifications/?state=failed").get_data(as_text=True)
    assert "发送失败" in page and "errcode 93000" in page and "新装修申请" in page
    from tests.support.forms import csrf_token_from

    [message] = outbox(channels)
    robot.mode = "ok"
    response = desk.post(
        f"/forms/staff/notifications/{message.id}/retry", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 303
    deliver_due(channels)
    assert outbox(channels)[0].state == DELIVERED
    audit = as_role(roles.MANAGER).get("/forms/staff/audit").get_data(as_text=True)
    assert "重试发送失败的通知" in audit


def test_engineering_cannot_open_the_outbox(channels, as_role):
    assert as_role(roles.ENGINEERING).get("/forms/staff/notifications/").status_code == 403


def test_without_settings_everything_goes_to_the_log_and_no_host_is_contacted(app, caplog):
    assert set(build_channels(notification_settings(app.config))) == {"log"}
    owner_notice(app)
    staff_alert(app)
    with caplog.at_level(logging.INFO, logger="forms_app.notifications"):
        deliver_due(app)
    rows = outbox(app)
    assert {m.state for m in rows} == {DELIVERED} and {m.channel for m in rows} == {"log"}
    logged = caplog.text
    assert "发给 13800138000" in logged and "发给 员工群" in logged
    assert rows[0].text in logged


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({"SMS_SECRET_ID": "x"}, "短信设置不完整"),
        ({"STAFF_WEBHOOK_URL": "ftp://robot"}, "STAFF_WEBHOOK_URL"),
        ({"STAFF_WEBHOOK_MSGTYPE": "image"}, "text 或 markdown"),
        ({"NOTIFY_LEASE_SECONDS": 5.0, "NOTIFY_TIMEOUT_SECONDS": 10.0}, "NOTIFY_LEASE_SECONDS"),
    ],
)
def test_the_worker_refuses_settings_it_cannot_work_with(app, runner, settings, problem):
    app.config.update(settings)
    result = runner.invoke(args=["notifications-worker", "--once"])
    assert result.exit_code != 0 and "通知设置有误" in result.output and problem in result.output


def test_every_notification_setting_has_its_default_in_config(tmp_path, monkeypatch):
    from forms_app.core.config import build_config

    for name in ("STAFF_WEBHOOK_URL", "SMS_SECRET_ID", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = build_config(str(tmp_path))
    checked = notification_settings(settings)
    assert checked["webhook_url"] == "" and checked["sms"] is None
    assert checked["lease"] == 3 * settings["NOTIFY_TIMEOUT_SECONDS"] + 10
    assert settings["SMS_ENDPOINT"] == "https://sms.tencentcloudapi.com"
    assert all(
        f"MY_{name}" in settings
        for name in (
            "CODE_MINUTES",
            "CODE_INTERVAL_SECONDS",
            "CODES_PER_MOBILE_PER_HOUR",
            "CODES_PER_ADDRESS_PER_HOUR",
            "MAX_WRONG_CODES",
            "WRONG_CODES_PER_ADDRESS",
            "LOCK_MINUTES",
            "SESSION_MINUTES",
        )
    )


def test_the_worker_delivers_every_communitys_messages_the_back_office_shows_its_own(
    channels, robot, as_role
):
    """Issue 28: a message carries the community whose event made it. The worker delivers
    the whole deployment's outbox (all_communities), while this community's outbox page,
    its counts and its retry neither show nor touch another community's message."""
    from sqlalchemy import select

    from forms_app.core.community_scope import all_communities
    from forms_app.core.extensions import db
    from forms_app.notifications.models import Notification
    from forms_app.notifications.outbox import enqueue_rows, message_row

    staff_alert(channels, "ZX20261201-001")
    with channels.app_context():
        row = message_row(
            "renovation.new",
            reference="ZX20261201-002",
            room="1号楼1单元101室",
            link_path="/forms/staff/renovations/2",
        )
        failed = {**row, "reference": "ZX20261201-003", "idempotency_key": "f" * 32}
        failed.update(state=FAILED, last_error="外小区的失败")
        with write_transaction() as session:
            enqueue_rows(session, [{**row, "community": "other"}, {**failed, "community": "other"}])
    deliver_due(channels)
    with channels.app_context():
        every = db.session.scalars(all_communities(select(Notification).order_by(Notification.id)))
        assert [(m.reference, m.community == "other", m.state) for m in every] == [
            ("ZX20261201-001", False, DELIVERED),
            ("ZX20261201-002", True, DELIVERED),
            ("ZX20261201-003", True, FAILED),
        ]
        theirs_failed = db.session.scalars(
            all_communities(select(Notification.id).where(Notification.state == FAILED))
        ).one()
    assert sum("ZX20261201-00" in text for text in robot.texts()) == 2
    desk = as_role(roles.SERVICE)
    assert "条通知发送失败" not in desk.get("/forms/staff/").get_data(as_text=True)
    for state in ("", "failed"):
        page = desk.get(f"/forms/staff/notifications/?state={state}").get_data(as_text=True)
        assert "ZX20261201-002" not in page and "ZX20261201-003" not in page
        assert ("ZX20261201-001" in page) == (state == "")
    from tests.support.forms import csrf_token_from

    refused = desk.post(
        f"/forms/staff/notifications/{theirs_failed}/retry",
        data={"csrf_token": csrf_token_from(page)},
    )
    assert refused.status_code == 404
    assert [m.reference for m in outbox(channels)] == ["ZX20261201-001"]
    with channels.app_context():
        assert (
            db.session.scalar(
                all_communities(select(Notification.state).where(Notification.id == theirs_failed))
            )
            == FAILED
        )
