"""Double clicks on PostgreSQL, where a write transaction does not take a database-wide lock.

SQLite's BEGIN IMMEDIATE serializes every write; PostgreSQL's READ COMMITTED lets two requests
read 待审核 at once. Here a separate connection holds the application's row while two staff
post the same step, so both requests are in flight together; only one may take effect.
Runs on a throw-away PostgreSQL server (tests/support/postgres.py).
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.community import community_key, load_community
from forms_app.core.extensions import db
from forms_app.move_in.models import MoveInBooking
from forms_app.renovation.models import RenovationEvent
from forms_app.renovation.patrols import RenovationPatrol
from forms_app.surveys.catalog import all_surveys
from forms_app.surveys.models import SurveyInvitation
from tests.move_in.conftest import TODAY as MOVE_IN_TODAY
from tests.move_in.conftest import Owner
from tests.support.forms import csrf_token_from, staff_csrf_token
from tests.support.postgres import app_on_postgres, wait_for_blocked
from tests.support.renovation import checklist_answers, file_application, walk
from tests.support.staff import PASSWORD, create_staff, login

TODAY = date(2026, 5, 10)


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(
        postgres_url, tmp_path / "instance", monkeypatch, TODAY=TODAY.isoformat()
    ) as app:
        for role in roles.ROLES:
            create_staff(app, role, role, PASSWORD)
        yield app


def twice_while_the_row_is_held(app, table: str, row_id: int, url: str, data: dict) -> list[int]:
    """Post the same form from two logged-in managers while another connection holds the
    row, then let go: both requests run at the same time."""
    clients = []
    for _ in range(2):
        client = app.test_client()
        assert login(client, roles.MANAGER, PASSWORD).status_code == 302
        page = client.get("/forms/staff/").get_data(as_text=True)
        clients.append((client, csrf_token_from(page)))
    statuses = []

    def post(client, token):
        statuses.append(client.post(url, data={**data, "csrf_token": token}).status_code)

    engine = create_engine(app.config["PG_URL"])
    with engine.connect() as holder:
        holder.execute(text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id})
        threads = [threading.Thread(target=post, args=pair) for pair in clients]
        for thread in threads:
            thread.start()
        wait_for_blocked(holder, 2)  # both requests are queued behind the held row
        holder.rollback()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    return sorted(statuses)


def test_a_step_posted_twice_at_once_is_taken_once(pg_app):
    application_id = file_application(pg_app)
    statuses = twice_while_the_row_is_held(
        pg_app,
        "renovation_application",
        application_id,
        f"/forms/staff/renovations/{application_id}/steps/approve",
        {"confirm": "yes", "owner_confirmed": "yes"},
    )
    assert statuses == [303, 409]
    with pg_app.app_context():
        states = (
            db.session.execute(
                select(RenovationEvent.to_state).where(
                    RenovationEvent.application_id == application_id
                )
            )
            .scalars()
            .all()
        )
    assert states == ["pending", "approved"]


def test_a_patrol_posted_twice_at_once_is_stored_once(pg_app):
    application_id = file_application(pg_app)
    walk(pg_app, application_id, "approve", "start")
    with pg_app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text("UPDATE renovation_event SET created_at = :at"), {"at": TODAY - timedelta(days=2)}
        )
    statuses = twice_while_the_row_is_held(
        pg_app,
        "renovation_application",
        application_id,
        f"/forms/staff/renovations/{application_id}/patrols",
        {
            "nonce": "one-form-posted-twice-at-once",
            "kind": "office",
            "patrol_date": TODAY.isoformat(),
            "findings": "正常\x00",
            **checklist_answers("office"),
        },
    )
    assert statuses == [303, 303]
    with pg_app.app_context():
        assert db.session.scalar(select(func.count(RenovationPatrol.id))) == 1


def test_a_booking_closed_twice_at_once_is_closed_and_audited_once(pg_app):
    pg_app.config["TODAY"] = MOVE_IN_TODAY.isoformat()
    response = Owner(pg_app.test_client()).submit()
    assert response.status_code == 303
    with pg_app.app_context():
        booking_id = db.session.scalar(select(MoveInBooking.id))
    statuses = twice_while_the_row_is_held(
        pg_app, "move_in_booking", booking_id, f"/forms/staff/move-ins/{booking_id}/complete", {}
    )
    assert statuses == [303, 303]  # the second is sent back with "已是「已完成」"
    with pg_app.app_context():
        closed = db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "move_in.close")
        )
    assert closed == 1


def test_invitations_created_twice_at_once_do_not_fail(pg_app):
    """Two 生成邀请链接 at once: the later one finds the earlier one's links and skips them."""
    with pg_app.app_context():
        slug = next(iter(all_surveys()))
        building = load_community().buildings[1]
        households = building.units * len(building.rooms())
        first_room = building.rooms()[0]
        community = community_key()
    manager = pg_app.test_client()
    assert login(manager, roles.MANAGER, PASSWORD).status_code == 302
    token = staff_csrf_token(manager)
    statuses = []
    engine = create_engine(pg_app.config["PG_URL"])
    with engine.connect() as other:  # the other click, its links not yet committed
        other.execute(
            SurveyInvitation.__table__.insert().values(
                community=community,
                survey=slug,
                token="t" * 40,
                building=1,
                unit=1,
                room=first_room,
                created_at=datetime(2026, 5, 10),
                created_by="other",
            )
        )
        thread = threading.Thread(
            target=lambda: statuses.append(
                manager.post(
                    f"/forms/staff/surveys/{slug}/invitations",
                    data={"csrf_token": token, "building": "1", "whom": "all"},
                ).status_code
            )
        )
        thread.start()
        wait_for_blocked(other, 1)  # the click waits on the uncommitted links
        other.commit()
    thread.join(timeout=30)
    engine.dispose()
    assert statuses == [302]
    with pg_app.app_context():
        assert db.session.scalar(select(func.count(SurveyInvitation.id))) == households


def test_memberships_hold_behind_the_row_level_wall(pg_app):
    """Staff in several communities on PostgreSQL, whose wall shows a statement only its
    community's rows: an account's memberships are its own (read across communities), so the
    refusal names where it works, and the role counts per community (issue 28)."""
    xinyuan = "http://xinyuan.localhost"
    runner = pg_app.test_cli_runner()
    made = runner.invoke(
        args=["accounts", "grant", roles.SERVICE, "--role", "经理", "--community", "xinyuan"]
    )
    assert made.exit_code == 0, made.output
    refused = login(pg_app.test_client(), roles.MANAGER, PASSWORD, base_url=xinyuan)
    assert refused.status_code == 403
    assert "您的账号属于山水花园（经理）" in refused.get_data(as_text=True)
    both = pg_app.test_client()
    assert login(both, roles.SERVICE, PASSWORD, base_url=xinyuan).status_code == 302
    assert both.get("/forms/staff/accounts/", base_url=xinyuan).status_code == 200
    assert login(both, roles.SERVICE, PASSWORD).status_code == 302
    assert both.get("/forms/staff/accounts/").status_code == 403
    create_staff(pg_app, "company-qa", roles.QUALITY, PASSWORD)
    reader = pg_app.test_client()
    assert login(reader, "company-qa", PASSWORD).status_code == 302
    page = reader.get("/forms/staff/company/figures").get_data(as_text=True)
    # Training: 山水花园's ten role accounts, 馨园's one (the 客服 who is 经理 there).
    assert "n = 10 名在职员工" in page and "n = 1 名在职员工" in page
