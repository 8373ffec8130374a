"""A quiz cannot be passed by habit or luck: each attempt is a fresh draw of the bank with the
options shuffled, the answer key never in the page, one draw scored once, and the exact chance
that random answers pass stays under 5 % for every quiz (shown to the training admin)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from forms_app.accounts import roles
from forms_app.training import odds
from forms_app.training.definitions import MULTIPLE, Question, Quiz
from forms_app.training.models import TrainingAttempt

from .conftest import HOME, quiz_answers


def test_every_quiz_is_hard_to_pass_at_random(training):
    for quiz in training.quizzes.values():
        assert odds.random_pass_probability(quiz) < Fraction(5, 100), quiz.id


def test_every_quiz_draws_from_a_bank_bigger_than_one_attempt(training):
    for quiz in training.quizzes.values():
        assert quiz.draw < len(quiz.questions), quiz.id
        # Drawn together, no question's text gives away another's answer (a phrase, not a
        # short word such as an area's name that several questions share).
        for question in quiz.questions:
            phrases = ["".join(a.split()) for a in question.answers if len(a) >= 6]
            for other in quiz.questions:
                if other is not question and question.kind != "true_false":
                    text = "".join(other.text.split())
                    assert not any(phrase in text for phrase in phrases), (
                        quiz.id,
                        question.id,
                        other.id,
                    )


def test_the_odds_are_exact():
    section = object()

    def question(i, kind, count):
        options = tuple(str(n) for n in range(count))
        return Question(f"q{i}", kind, "?", options, frozenset({"0"}), section, "")

    # Two true/false questions, both needed (100 %): 1/4.
    both = Quiz(
        "x", "x", "", frozenset(), 100, (question(1, "true_false", 2), question(2, "true_false", 2))
    )
    assert odds.random_pass_probability(both) == Fraction(1, 4)
    # A multiple choice of 3 options: one of the 7 non-empty sets.
    multi = Quiz("m", "m", "", frozenset(), 100, (question(1, MULTIPLE, 3),))
    assert odds.random_pass_probability(multi) == Fraction(1, 7)
    # Draw 1 of a true/false and a 4-option single choice: (1/2 + 1/4) / 2.
    drawn = Quiz(
        "d", "d", "", frozenset(), 100, (question(1, "true_false", 2), question(2, "single", 4)), 1
    )
    assert odds.random_pass_probability(drawn) == Fraction(3, 8)


def test_a_retake_is_a_fresh_draw_with_shuffled_options(trainee, training):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["renovation"]
    assert quiz.draw < len(quiz.questions)
    papers = [staff.open_quiz(quiz.id) for _ in range(12)]
    assert all(len(p.shown) == quiz.draw for p in papers)
    assert len({frozenset(p.shown) for p in papers}) > 1  # different questions drawn
    orders = {
        (qid, tuple(p.shown[qid]))
        for p in papers
        for qid in p.shown
        if quiz.question(qid).kind != "true_false"
    }
    first_right = [
        p.shown[qid][0] in quiz.question(qid).answers
        for p in papers
        for qid in p.shown
        if quiz.question(qid).kind == "single"
    ]
    assert len(orders) > len(papers)  # the same question shown in more than one order
    assert 0 < sum(first_right) < len(first_right)  # "always the first option" is not a key
    # The answer key is not in the page.
    html = staff.html(f"{HOME}quizzes/{quiz.id}")
    assert "answer" not in html.lower() and "正确答案" not in html


def test_always_the_first_option_does_not_pass(trainee, training, stored):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["service-code"]
    passed = 0
    for _ in range(10):
        paper = staff.open_quiz(quiz.id)
        response = staff.post_quiz(quiz.id, {f"q-{qid}": "0" for qid in paper.shown}, paper)
        assert response.status_code == 303
        passed += "已通过" in staff.html(response.location)
    attempts = stored.count(TrainingAttempt)
    assert attempts == 10 and passed < 5


@pytest.mark.parametrize("forged", ["", "eyJuIjoiYSJ9.x", "x" * 5000])
def test_a_draw_not_signed_by_the_app_is_refused(trainee, training, stored, forged):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["service-code"]
    paper = staff.open_quiz(quiz.id)
    fields = {**quiz_answers(quiz, paper), "csrf_token": paper["csrf_token"], "draw": forged}
    response = staff.client.post(f"{HOME}quizzes/{quiz.id}", data=fields)
    assert response.status_code == 400
    assert "请刷新页面后重新作答" in response.get_data(as_text=True)
    assert stored.count(TrainingAttempt) == 0


def test_the_admin_sees_each_quizs_odds(trainee, training):
    page = trainee(roles.SERVICE_LEAD).html(HOME + "people/")
    assert "随机作答及格的概率" in page
    for quiz in training.quizzes.values():
        assert quiz.title in page
