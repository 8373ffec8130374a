"""Two staff at once on PostgreSQL, where a write transaction takes no database-wide lock:
two dispatches of one job, or a dispatch and the 经理's close, and only one takes effect; the
other is told. A separate connection holds the row while both requests are sent."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, func, select, text

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog, StaffUser
from forms_app.core.extensions import db
from forms_app.service_requests.models import ServiceEvent, ServiceRequest
from tests.support.forms import staff_csrf_token
from tests.support.postgres import app_on_postgres, wait_for_blocked
from tests.support.staff import create_staff, login

from .conftest import STAFF, Owner

PASSWORD = "correct-horse-9"


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(postgres_url, tmp_path / "instance", monkeypatch) as app:
        for role in roles.ROLES:
            create_staff(app, role, role, PASSWORD)
        yield app


def at_once(app, posts: list[tuple[str, str, dict]], request_id: int) -> list:
    """Send each (username, path, data) from its own logged-in client while another connection
    holds the request's row, then let go: the requests run at the same time."""
    clients = []
    for username, path, data in posts:
        client = app.test_client()
        assert login(client, username, PASSWORD).status_code == 302
        token = staff_csrf_token(client)
        clients.append((client, path, {**data, "csrf_token": token}))
    responses = {}

    def post(index, client, path, data):
        responses[index] = client.post(path, data=data)

    engine = create_engine(app.config["PG_URL"])
    with engine.connect() as holder:
        holder.execute(
            text("SELECT id FROM service_request WHERE id = :id FOR UPDATE"), {"id": request_id}
        )
        threads = [threading.Thread(target=post, args=(i, *c)) for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        wait_for_blocked(holder, len(clients))  # every request is queued behind the held row
        holder.rollback()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    return [responses[i] for i in range(len(clients))]


def filed(app) -> int:
    Owner(app.test_client()).file()
    with app.app_context():
        return db.session.scalar(select(ServiceRequest.id))


def test_two_dispatches_at_once_one_wins_the_other_is_told(pg_app):
    request_id = filed(pg_app)
    with pg_app.app_context():
        worker = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "engineering"))
    path = f"{STAFF}/{request_id}/dispatch"
    responses = at_once(
        pg_app,
        [
            ("service", path, {"assignee": str(worker), "urgency": "urgent"}),
            ("manager", path, {"assignee": str(worker), "urgency": "planned"}),
        ],
        request_id,
    )
    assert sorted(r.status_code for r in responses) == [303, 409]
    loser = next(r for r in responses if r.status_code == 409).get_data(as_text=True)
    assert "已于" in loser and "不能再「派工」" in loser
    with pg_app.app_context():
        dispatches = db.session.scalar(
            select(func.count(ServiceEvent.id)).where(ServiceEvent.action == "dispatch")
        )
        audited = db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "service.step")
        )
    assert dispatches == 1 and audited == 1


def test_two_follow_up_calls_at_once_record_one_call(pg_app):
    request_id = filed(pg_app)
    with pg_app.app_context():
        worker = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "engineering"))
        lead = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "manager"))
    staff = {}
    for username in ("service", "engineering"):
        client = pg_app.test_client()
        login(client, username, PASSWORD)
        staff[username] = (
            client,
            staff_csrf_token(client),
        )
    desk, desk_token = staff["service"]
    hands, hands_token = staff["engineering"]
    assert (
        desk.post(
            f"{STAFF}/{request_id}/dispatch",
            data={"csrf_token": desk_token, "assignee": str(worker), "urgency": "normal"},
        ).status_code
        == 303
    )
    assert (
        hands.post(
            f"{STAFF}/jobs/{request_id}/arrive", data={"csrf_token": hands_token}
        ).status_code
        == 303
    )
    assert (
        hands.post(
            f"{STAFF}/jobs/{request_id}/finish",
            data={"csrf_token": hands_token, "result": "好了", "receipt": "absent"},
        ).status_code
        == 303
    )
    path = f"{STAFF}/{request_id}/follow-up"
    responses = at_once(
        pg_app,
        [
            ("service", path, {"satisfied": "yes", "owner_view": "满意"}),
            (
                "manager",
                path,
                {"satisfied": "no", "owner_view": "不满意", "supervisor": str(lead)},
            ),
        ],
        request_id,
    )
    assert sorted(r.status_code for r in responses) == [303, 409]
    with pg_app.app_context():
        item = db.session.get(ServiceRequest, request_id)
        assert len(item.follow_ups) == 1
        assert item.state == ("closed" if item.follow_ups[0].satisfied else "reopened")
