"""Taking a quiz: score against the pass mark, each wrong answer linked to its section, retakes;
answers that cannot be scored are refused and nothing is stored."""

from __future__ import annotations

import math

import pytest

from forms_app.accounts import roles
from forms_app.training.models import TrainingAnswer, TrainingAttempt

from .conftest import HOME, quiz_answers

pytestmark = pytest.mark.one_app_per_module


def test_all_right_passes(trainee, training, stored):
    cleaner = trainee(roles.CLEANER)
    quiz = training.quizzes["cleaning"]
    page, _attempt = cleaner.take(quiz)
    assert f"答对 {quiz.draw}/{quiz.draw} 题" in page  # the questions drawn, not the bank
    assert "100 分" in page and "通过" in page and "全部答对" in page
    assert stored.count(TrainingAnswer) == quiz.draw
    assert "已通过" in cleaner.html()


def test_wrong_answers_link_to_the_section_that_explains_them(trainee, training):
    guard = trainee(roles.SECURITY)
    quiz = training.quizzes["renovation"]
    page, _attempt = guard.take(quiz, wrong={"passes", "guard-patrol", "protection"})
    total = quiz.draw
    assert f"答对 {total - 3}/{total} 题" in page
    wrong = page.split('id="wrong-answers"')[1]
    assert wrong.count('class="card"') == 3
    assert (
        "所有装修人员出入实行什么管理？" in wrong
        and '正确答案：<strong class="right">双证管理</strong>' in wrong
    )
    assert 'href="/staff/renovation-control/#人员出入证件办理"' in wrong
    assert 'href="/staff/renovation-control/#装修巡查"' in wrong and "每两天一次" in wrong
    assert 'href="/staff/renovation-control/#成品保护"' in wrong
    assert "再测一次" in page


def test_the_pass_mark_decides_and_a_retake_is_a_new_attempt(trainee, training, stored):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["customer-service"]
    assert quiz.pass_mark == 80
    total = quiz.draw
    allowed_wrong = total - math.ceil(total * quiz.pass_mark / 100)
    ids = [q.id for q in quiz.questions]
    failing, _ = staff.take(quiz, wrong=set(ids[: allowed_wrong + 1]))
    assert "未通过" in failing and "80% 及格" in failing
    passing, _ = staff.take(quiz, wrong=set(ids[:allowed_wrong]))
    assert '<span class="badge ok">通过</span>' in passing
    assert stored.count(TrainingAttempt) == 2
    home = staff.html()
    assert "已测 2 次" in home and "已通过" in home


def test_the_same_answers_posted_twice_are_one_attempt(trainee, training, stored):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["service-code"]
    paper = staff.open_quiz(quiz.id)
    first = staff.post_quiz(quiz.id, quiz_answers(quiz, paper), paper)
    second = staff.post_quiz(quiz.id, quiz_answers(quiz, paper, wrong={"ready"}), paper)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert "这份答卷已经提交过，没有重复计分" in staff.html(second.location)
    assert stored.count(TrainingAttempt) == 1


def test_a_quiz_not_assigned_to_the_role_is_refused(trainee, training, stored):
    cleaner = trainee(roles.CLEANER)
    quiz = training.quizzes["renovation"]
    assert roles.CLEANER not in quiz.roles
    response = cleaner.client.get(f"{HOME}quizzes/renovation")
    assert response.status_code == 403
    assert "这份测验不在您的培训内容中" in response.get_data(as_text=True)
    paper = trainee(roles.SERVICE).open_quiz("renovation")
    response = cleaner.client.post(
        f"{HOME}quizzes/renovation",
        data={**quiz_answers(quiz, paper), "draw": paper["draw"], "csrf_token": cleaner.csrf()},
    )
    assert response.status_code == 403
    assert stored.count(TrainingAttempt) == 0


def test_unknown_quizzes_are_not_found(trainee):
    staff = trainee(roles.SERVICE)
    for quiz_id in ("nope", "service-code.yml", "..%2Fpaths", "%00"):
        assert staff.client.get(f"{HOME}quizzes/{quiz_id}").status_code == 404, quiz_id


def test_unanswered_questions_are_marked_and_the_answers_kept(trainee, training, stored):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["service-code"]
    paper = staff.paper_with(quiz, {"ready", "smile", "viewing"})
    fields = quiz_answers(quiz, paper)
    del fields["q-ready"], fields["q-smile"]
    response = staff.post_quiz(quiz.id, fields, paper)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<p class="field-error" id="ready-error">请作答。</p>' in page
    assert '<p class="field-error" id="smile-error">请选择至少一项。</p>' in page
    kept = fields["q-viewing"]
    assert f'name="q-viewing" value="{kept}" checked' in page  # what was chosen stays chosen
    assert f'value="{paper["draw"]}"' in page  # the same draw, in the same order
    assert stored.count(TrainingAttempt) == 0


def test_answers_that_are_not_the_quizs_are_refused_whole(trainee, training, stored):
    staff = trainee(roles.SERVICE)
    quiz = training.quizzes["service-code"]
    cases = [
        ({"q-no-such-question": "0"}, "答卷中有本测验没有的题目"),
        ({"q-ready": "9"}, "所选答案不是本题的选项"),
        ({"q-ready": "-1"}, "所选答案不是本题的选项"),
        ({"q-ready": ["0", "1"]}, "本题只能选一项"),
        ({"q-viewing": ["0", "1"]}, "本题只能选一项"),
        ({"q-smile": ["0", "x"]}, "所选答案不是本题的选项"),
    ]
    for extra, message in cases:
        paper = staff.paper_with(quiz, {"ready", "viewing", "smile"})
        response = staff.post_quiz(quiz.id, {**quiz_answers(quiz, paper), **extra}, paper)
        assert response.status_code == 400, extra
        assert message in response.get_data(as_text=True), extra
    assert stored.count(TrainingAttempt) == 0


def test_someone_elses_attempt_is_not_found_but_the_manager_sees_it(trainee, training):
    staff = trainee(roles.SERVICE)
    _page, attempt_id = staff.take(training.quizzes["service-code"], wrong={"eye"})
    url = f"{HOME}attempts/{attempt_id}"
    assert trainee(roles.ENGINEERING).client.get(url).status_code == 404
    assert trainee(roles.SERVICE).client.get(f"{HOME}attempts/999999").status_code == 404
    page = trainee(roles.MANAGER).html(url)
    assert "service（客服）" in page and "← service 的培训记录" in page
    assert 'href="/staff/service-code/#eeye关注"' in page
