"""Training fixtures: staff of every role in the test client, the shipped paths and quizzes,
a trainee who reads, answers and signs in, and what the database holds."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import StaffUser
from forms_app.core.extensions import db
from forms_app.training.definitions import current_training
from forms_app.training.models import (
    TrainingAnswer,
    TrainingAttempt,
    TrainingAttendance,
    TrainingReadMark,
    TrainingSession,
)
from tests.support.forms import csrf_token_from

HOME = "/forms/staff/training/"
TODAY = date(2026, 12, 10)
NONCE_INPUT = re.compile(r'name="nonce" value="([^"]+)"')
ATTEMPT_PATH = re.compile(r"/forms/staff/training/attempts/(\d+)$")
SESSION_PATH = re.compile(r"/forms/staff/training/sessions/(\d+)$")


def nonce_from(html: str) -> str:
    match = NONCE_INPUT.search(html)
    assert match, "no nonce on the form"
    return match.group(1)


@pytest.fixture
def app(app):
    """The app with a fixed today (sessions and sign-in are per day)."""
    app.config["TODAY"] = TODAY
    return app


@pytest.fixture
def training(app):
    with app.app_context():
        return current_training()


QUESTION_BLOCK = re.compile(
    r'<fieldset class="card question[^"]*" id="question-([^"]+)">(.*?)</fieldset>', re.S
)
OPTION = re.compile(r'<label class="option"><input [^>]*value="(\d+)"[^>]*> (.*?)</label>', re.S)
DRAW_INPUT = re.compile(r'name="draw" value="([^"]+)"')


class Paper(dict):
    """A quiz page as drawn: its hidden fields (``csrf_token``, ``draw``) as the dict, the
    questions it asks with their options in the order shown (``shown``) and the draw's nonce."""

    def __init__(self, html: str):
        import html as html_lib

        from itsdangerous import URLSafeSerializer

        draw = html_lib.unescape(DRAW_INPUT.search(html).group(1))
        super().__init__(csrf_token=csrf_token_from(html), draw=draw)
        self.shown = {
            qid: [html_lib.unescape(text).strip() for _, text in OPTION.findall(block)]
            for qid, block in QUESTION_BLOCK.findall(html)
        }
        self.nonce = URLSafeSerializer("").loads_unsafe(draw)[1]["n"]

    def index(self, question_id: str, option: str) -> str:
        return str(self.shown[question_id].index(option))


def quiz_answers(quiz, paper: Paper, wrong=()) -> dict:
    """Form fields answering every question of the paper right, except the ids in ``wrong``."""
    fields = {}
    for question_id, shown in paper.shown.items():
        question = quiz.question(question_id)
        right = [str(i) for i, o in enumerate(shown) if o in question.answers]
        if question.id in wrong:
            fields[question.field] = next(
                str(i) for i, o in enumerate(shown) if o not in question.answers
            )
        else:
            fields[question.field] = right if len(right) > 1 else right[0]
    return fields


def sign_in_code(app, session_id: int) -> str:
    """The code the trainer's screen shows now for a session."""
    from forms_app.training.sessions import sign_in_code as code

    with app.test_request_context():
        return code(session_id)


class Trainee:
    """A logged-in staff member in the test client, on their training pages."""

    def __init__(self, client, role: str):
        self.client, self.role = client, role

    def html(self, url: str = HOME) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)

    def csrf(self) -> str:
        return csrf_token_from(self.html())

    def mark_read(self, section, digest: str | None = None):
        return self.client.post(
            HOME + "read",
            data={
                "csrf_token": self.csrf(),
                "section": section.key,
                "digest": section.digest if digest is None else digest,
            },
        )

    def open_quiz(self, quiz_id: str) -> Paper:
        return Paper(self.html(f"{HOME}quizzes/{quiz_id}"))

    def post_quiz(self, quiz_id: str, fields: dict, paper: Paper):
        return self.client.post(f"{HOME}quizzes/{quiz_id}", data={**paper, **fields})

    def paper_with(self, quiz, question_ids) -> Paper:
        """A draw asking every question of ``question_ids`` (opened again until one does)."""
        for _ in range(100):
            paper = self.open_quiz(quiz.id)
            if set(question_ids) <= set(paper.shown):
                return paper
        raise AssertionError(f"no draw of {quiz.id} asked {sorted(question_ids)}")

    def take(self, quiz, wrong=(), paper: Paper | None = None) -> tuple[str, int]:
        """Answer a quiz and follow to the result; (its html, the attempt id)."""
        paper = paper or self.paper_with(quiz, wrong)
        response = self.post_quiz(quiz.id, quiz_answers(quiz, paper, wrong), paper)
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        attempt_id = int(ATTEMPT_PATH.search(response.location).group(1))
        return self.html(response.location), attempt_id


@pytest.fixture
def trainee(as_role):
    """``trainee(role)``: a Trainee logged in with that role's account."""
    return lambda role=roles.SERVICE: Trainee(as_role(role), role)


class Stored:
    """What the database holds, read in the app's context."""

    def __init__(self, app):
        self.app = app

    def count(self, model) -> int:
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))

    def totals(self) -> dict:
        return {
            m.__name__: self.count(m)
            for m in (
                TrainingReadMark,
                TrainingAttempt,
                TrainingAnswer,
                TrainingSession,
                TrainingAttendance,
            )
        }

    def user(self, username: str) -> StaffUser:
        with self.app.app_context():
            user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
            db.session.expunge(user)
            return user

    def attendances(self, session_id: int) -> dict[str, str]:
        """username → how, for one session."""
        with self.app.app_context():
            rows = db.session.execute(
                select(StaffUser.username, TrainingAttendance.how)
                .join(TrainingAttendance, TrainingAttendance.user_id == StaffUser.id)
                .where(TrainingAttendance.session_id == session_id)
            ).all()
            return dict(rows)


@pytest.fixture
def stored(app):
    return Stored(app)
