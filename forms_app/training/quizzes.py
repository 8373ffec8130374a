"""Taking a quiz: reading the posted answers, scoring them, storing the attempt.

The page carries its draw (``draws.py``): the questions it asked and each one's options in the
order shown. Each question's options are posted by their index on the page (``q-<question id>``
= ``0``, ``1`` …). A post without a draw this app signed, naming a question the draw did not
ask, or an option it did not offer, is refused whole: nothing is scored or stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.database import write_transaction
from ..core.extensions import db
from .definitions import ANSWER_PREFIX, MULTIPLE, Question, Quiz
from .draws import Draw, Drawn
from .models import TrainingAnswer, TrainingAttempt

_INDEX = re.compile(r"[0-9]{1,2}")


class QuizError(ValueError):
    """A post the quiz refuses: ``errors`` maps question ids (or "form") to Chinese messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Graded:
    question: Question
    chosen: tuple[str, ...]

    @property
    def correct(self) -> bool:
        return frozenset(self.chosen) == self.question.answers


def _chosen(drawn: Drawn, values: list[str]) -> tuple[str, ...] | str:
    """The options chosen, in the quiz's order; or the Chinese reason they cannot be."""
    question = drawn.question
    if not values or values == [""]:
        return "请作答。" if question.kind != MULTIPLE else "请选择至少一项。"
    indexes = set()
    for value in values:
        if (
            not isinstance(value, str)
            or not _INDEX.fullmatch(value)
            or int(value) >= len(question.options)
        ):
            return "所选答案不是本题的选项，请重新选择。"
        indexes.add(drawn.order[int(value)])
    if question.kind != MULTIPLE and len(indexes) > 1:
        return "本题只能选一项。"
    return tuple(question.options[i] for i in sorted(indexes))


def grade(quiz: Quiz, draw: Draw | None, form) -> list[Graded]:
    """The posted answers of ``draw``, checked; QuizError with every problem."""
    if draw is None:
        raise QuizError({"form": "页面已失效，请刷新页面后重新作答。"})
    errors: dict[str, str] = {}
    known = {d.question.field for d in draw.items}
    if any(name.startswith(ANSWER_PREFIX) and name not in known for name in form.keys()):
        errors["form"] = "答卷中有本测验没有的题目（测验可能已更新），请刷新页面后重新作答。"
    graded = []
    for drawn in draw.items:
        chosen = _chosen(drawn, form.getlist(drawn.question.field))
        if isinstance(chosen, str):
            errors[drawn.question.id] = chosen
        else:
            graded.append(Graded(drawn.question, chosen))
    if errors:
        raise QuizError(errors)
    return graded


def find_by_nonce(nonce: str) -> TrainingAttempt | None:
    return db.session.scalar(
        select(TrainingAttempt).where(TrainingAttempt.submission_nonce == nonce)
    )


def store_attempt(quiz: Quiz, graded: list[Graded], user, nonce: str) -> tuple[int, bool]:
    """Store a scored attempt; (attempt id, created). The same page posted twice is one attempt."""
    correct = sum(1 for g in graded if g.correct)
    total = len(graded)
    try:
        with write_transaction() as session:
            attempt = TrainingAttempt(
                submission_nonce=nonce,
                user_id=user.id,
                quiz_id=quiz.id,
                quiz_title=quiz.title,
                correct=correct,
                total=total,
                pass_mark=quiz.pass_mark,
                passed=100 * correct >= quiz.pass_mark * total,
            )
            for position, item in enumerate(graded):
                question = item.question
                attempt.answers.append(
                    TrainingAnswer(
                        position=position,
                        question_id=question.id,
                        question_text=question.text,
                        chosen="、".join(item.chosen),
                        right_answer=question.answer_text,
                        correct=item.correct,
                        section_key=question.section.key,
                        section_title=question.section.label,
                    )
                )
            session.add(attempt)
            session.flush()
            return attempt.id, True
    except IntegrityError:
        existing = find_by_nonce(nonce)
        if existing is None:
            raise
        return existing.id, False
