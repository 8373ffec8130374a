"""Odd values in every field of the training forms: never a 500, never stored, a Chinese
message; nothing odd reaches the database as a lookup."""

from __future__ import annotations

import pytest

from forms_app.accounts import roles
from tests.support.forms import csrf_token_from
from tests.support.fuzz import NOT_UTF8, ODD_DATE, ODD_NUMBER, ODD_TEXT, odd_post

from .conftest import HOME, TODAY, nonce_from, quiz_answers

# Hundreds of small tests: one app object for them all, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

ODD_CHOICE = ["", "\x00", "x" * 5000, NOT_UTF8, ["0", "0", "0"], "٣", "²", "1.0", " 1"]


@pytest.fixture
def lead(trainee):
    return trainee(roles.SERVICE_LEAD)


def quiz_cases(quiz):
    return [(q.field, v) for q in quiz.questions[:3] for v in ODD_CHOICE + [None]]


def test_odd_quiz_answers_are_refused(trainee, training, stored, nul_sent_to_database):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["service-code"]
    asked = {q.id for q in quiz.questions[:3]}  # one of each kind
    paper = staff.paper_with(quiz, asked)
    for field, value in quiz_cases(quiz) + [("q-\x00", "0"), ("q-" + "x" * 5000, "0")]:
        fields = {**paper, **quiz_answers(quiz, paper)}
        response = odd_post(staff.client, f"{HOME}quizzes/{quiz.id}", fields, field, value)
        if value == ["0", "0", "0"]:
            # The same option three times is one choice: scored, not an error; the draw is
            # used up, so the next answers go to a new one.
            assert response.status_code == 303
            paper = staff.paper_with(quiz, asked)
            continue
        assert response.status_code == 400, (field, value)
        page = response.get_data(as_text=True)
        assert "field-error" in page or "error-summary" in page
    assert nul_sent_to_database == []


@pytest.mark.parametrize("value", ["", "\x00", "short", "x" * 5000, NOT_UTF8, None])
def test_odd_quiz_draw_is_refused(trainee, training, stored, nul_sent_to_database, value):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["service-code"]
    paper = staff.open_quiz(quiz.id)
    fields = {**paper, **quiz_answers(quiz, paper)}
    response = odd_post(staff.client, f"{HOME}quizzes/{quiz.id}", fields, "draw", value)
    assert response.status_code == 400
    assert "请刷新页面后重新作答" in response.get_data(as_text=True)
    assert stored.totals()["TrainingAttempt"] == 0
    assert nul_sent_to_database == []


def session_form(lead, stored) -> dict:
    html = lead.html(HOME + "sessions/new")
    return {
        "csrf_token": csrf_token_from(html),
        "nonce": nonce_from(html),
        "held_on": TODAY.isoformat(),
        "starts_at": "09:00",
        "topic": "培训",
        "trainer": str(stored.user("manager").id),
        "sections": "service-code#ssmile微笑",
        "quiz": "service-code",
        "attendees": str(stored.user("service").id),
        "note": "",
    }


SESSION_CASES = (
    [("held_on", v) for v in ODD_DATE + [None]]
    + [("topic", v) for v in ODD_TEXT + [None]]
    + [(f, v) for f in ("trainer",) for v in ODD_NUMBER + [None]]
    + [(f, v) for f in ("attendees",) for v in ODD_NUMBER if v != ""]
    + [("sections", v) for v in ["\x00", "x" * 5000, NOT_UTF8, "#", "service-code#"]]
    + [("quiz", v) for v in ["\x00", "x" * 5000, NOT_UTF8, "../paths"]]
    + [("note", v) for v in ["x" * 5000, NOT_UTF8]]
    + [("nonce", v) for v in ["", "\x00", "short", NOT_UTF8, None]]
)


@pytest.mark.parametrize(
    "field, value", SESSION_CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(SESSION_CASES)]
)
def test_odd_session_values_are_refused_beside_their_field(
    lead, stored, nul_sent_to_database, field, value
):
    response = odd_post(
        lead.client, HOME + "sessions/new", session_form(lead, stored), field, value
    )
    assert response.status_code == 400, response.status_code
    page = response.get_data(as_text=True)
    key = "form" if field == "nonce" else field
    assert f'id="{key}-error">' in page or f'id="{key}">' in page
    assert stored.totals()["TrainingSession"] == 0
    assert nul_sent_to_database == []


@pytest.mark.parametrize(
    "path",
    [
        "attempts/%00",
        "attempts/" + "9" * 30,
        "people/" + "9" * 30,
        "sessions/" + "9" * 12,
        "attempts/" + "9" * 5000,
        "people/%ff",
        "sessions/%00",
        "sessions/" + "9" * 30 + "/sign-in",
        "quizzes/%00",
        "quizzes/" + "x" * 5000,
        "people/export.%00",
        "sessions/export.xls",
    ],
)
def test_junk_urls_are_a_chinese_404(trainee, path, nul_sent_to_database):
    response = trainee(roles.MANAGER).client.get(HOME + path)
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    assert nul_sent_to_database == []


def test_markup_in_a_topic_is_escaped(lead, stored):
    fields = {**session_form(lead, stored), "topic": '"><script>alert(1)</script>'}
    response = lead.client.post(HOME + "sessions/new", data=fields)
    page = lead.html(response.location)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
