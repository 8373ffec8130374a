"""Double taps on PostgreSQL, where a write transaction takes no database-wide lock: the second
tap arrives while the first is still uncommitted. It gets the first one's answer, not a 500,
and the attempt or the sign-in is stored once. Runs on a throw-away PostgreSQL server."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from forms_app.accounts import roles
from forms_app.core.extensions import db
from tests.support.forms import csrf_token_from
from tests.support.postgres import app_on_postgres
from tests.support.staff import create_staff, login

from .conftest import HOME, TODAY, Paper, nonce_from, quiz_answers, sign_in_code


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(postgres_url, tmp_path / "instance", monkeypatch, TODAY=TODAY) as app:
        for role in (roles.SERVICE, roles.SERVICE_LEAD):
            create_staff(app, role, role)
        yield app


def logged_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def second_tap_while_first_uncommitted(app, insert: str, values: dict, tap) -> list[int]:
    """Hold ``insert`` uncommitted in another connection while ``tap()`` runs; its statuses."""
    statuses: list[int] = []
    engine = create_engine(app.config["PG_URL"])
    with engine.connect() as first_tap:
        first_tap.execute(text(insert), values)
        second = threading.Thread(target=lambda: statuses.append(tap().status_code))
        second.start()
        time.sleep(1.0)  # the second tap waits on the unique constraint
        first_tap.commit()
    second.join(timeout=30)
    engine.dispose()
    return statuses


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(
            text("SELECT id FROM staff_user WHERE username = :u"), {"u": username}
        ).scalar_one()


def test_a_quiz_tapped_twice_is_one_attempt(pg_app):
    from forms_app.training.definitions import current_training

    client = logged_in(pg_app, "service")
    with pg_app.app_context():
        quiz = current_training().quizzes["service-code"]
    paper = Paper(client.get(f"{HOME}quizzes/{quiz.id}").get_data(as_text=True))
    fields = {**paper, **quiz_answers(quiz, paper)}
    statuses = second_tap_while_first_uncommitted(
        pg_app,
        "INSERT INTO training_attempt (submission_nonce, user_id, quiz_id, quiz_title, correct,"
        " total, pass_mark, passed, created_at) VALUES (:nonce, :user, 'service-code', 'x', 7, 7,"
        " 80, true, now())",
        {"nonce": paper.nonce, "user": user_id(pg_app, "service")},
        lambda: client.post(f"{HOME}quizzes/{quiz.id}", data=fields),
    )
    assert statuses == [303]
    with pg_app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM training_attempt")).scalar() == 1
        assert db.session.execute(text("SELECT count(*) FROM training_answer")).scalar() == 0
    # Everyone's progress, grouped in SQL, reads the attempt on PostgreSQL too.
    people = logged_in(pg_app, "service_lead").get(HOME + "people/").get_data(as_text=True)
    row = people.split(">service<")[1].split("</tr>")[0]
    assert "通过 1/" in row


def test_signing_in_twice_is_one_attendance(pg_app):
    lead = logged_in(pg_app, "service_lead")
    html = lead.get(HOME + "sessions/new").get_data(as_text=True)
    response = lead.post(
        HOME + "sessions/new",
        data={
            "csrf_token": csrf_token_from(html),
            "nonce": nonce_from(html),
            "held_on": TODAY.isoformat(),
            "starts_at": "00:00",
            "topic": "每周客服培训",
            "trainer": str(user_id(pg_app, "service_lead")),
        },
    )
    assert response.status_code == 303
    session_id = int(response.location.rsplit("/", 1)[1])
    staff = logged_in(pg_app, "service")
    url = f"{HOME}sessions/{session_id}/sign-in"
    attend = f"{HOME}sessions/{session_id}/attend"
    token = csrf_token_from(staff.get(url).get_data(as_text=True))
    statuses = second_tap_while_first_uncommitted(
        pg_app,
        "INSERT INTO training_attendance (session_id, user_id, user_name, how, at)"
        " VALUES (:session, :user, 'service（客服）', 'signed', now())",
        {"session": session_id, "user": user_id(pg_app, "service")},
        lambda: staff.post(
            attend, data={"csrf_token": token, "code": sign_in_code(pg_app, session_id)}
        ),
    )
    assert statuses == [303]
    assert "您已经签到过了" in staff.get(url).get_data(as_text=True)
    with pg_app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM training_attendance")).scalar() == 1
