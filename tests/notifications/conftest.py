"""Notification fixtures: loopback robot and SMS endpoints, the worker run in-process, and the
outbox as the database holds it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forms_app.core.extensions import db
from forms_app.notifications.models import Notification
from forms_app.notifications.worker import run
from tests.support.endpoints import (
    SMS_SECRET_ID,
    SMS_SECRET_KEY,
    FakeRobot,
    FakeTencentSms,
    sms_config,
)

# Quick retries for tests: 0.2 s, 0.4 s, … and a short HTTP timeout.
FAST = {
    "NOTIFY_TIMEOUT_SECONDS": 1.0,
    "NOTIFY_BACKOFF_SECONDS": 0.2,
    "NOTIFY_BACKOFF_MAX_SECONDS": 1.0,
    "NOTIFY_MAX_ATTEMPTS": 3,
    "NOTIFY_POLL_SECONDS": 0.1,
}


@pytest.fixture
def stop_later():
    """Kill (at the end of the test) the worker processes given to it that still run."""
    started = []
    yield started.append
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def robot():
    with FakeRobot() as endpoint:
        yield endpoint


@pytest.fixture
def sms():
    with FakeTencentSms(SMS_SECRET_ID, SMS_SECRET_KEY) as endpoint:
        yield endpoint


@pytest.fixture
def channels(app, robot, sms):
    """Point both channels at the loopback endpoints, with fast retries."""
    app.config.update(
        FAST, STAFF_WEBHOOK_URL=robot.url + "/cgi-bin/webhook/send?key=test", **sms_config(sms)
    )
    return app


def deliver_due(app) -> None:
    """One pass of the worker in this process: scans, then every message due now."""
    with app.app_context():
        run(app, once=True)


def outbox(app, **where) -> list[Notification]:
    """The outbox's rows (detached copies), oldest first, optionally filtered by column."""
    with app.app_context():
        query = select(Notification).order_by(Notification.id)
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        rows = db.session.scalars(query).all()
        for row in rows:
            _ = row.attempt_log  # load before the session closes
        db.session.expunge_all()
        return rows
