"""A quiz attempt's draw: which questions of the quiz's bank this attempt asks (``quiz.draw``
of them, in a random order) and each one's options in a random order, so that no fixed habit
(always the first option) passes, and a retake is a fresh draw.

The draw travels in the quiz page as a signed token (the app's key, its own salt): it names the
questions and the order of their options, never the answers. The attempt's nonce is inside it,
so one draw is scored once (posting it again finds the same attempt).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..core.tokens import is_nonce, new_nonce
from .definitions import TRUE_FALSE, Question, Quiz

SALT = "training-draw"
_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Drawn:
    question: Question
    order: tuple[int, ...]  # the question's option indexes, in the order shown

    @property
    def options(self) -> list[str]:
        return [self.question.options[i] for i in self.order]

    def option(self, shown: int) -> str:
        return self.question.options[self.order[shown]]


@dataclass(frozen=True)
class Draw:
    nonce: str
    items: tuple[Drawn, ...]

    @property
    def token(self) -> str:
        return _serializer().dumps(
            {"n": self.nonce, "q": [[d.question.id, list(d.order)] for d in self.items]}
        )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def new_draw(quiz: Quiz) -> Draw:
    """``quiz.draw`` questions of the bank in a random order, options shuffled (对/错 stay in
    their order: shuffling two options changes nothing for a guess and slows a reader)."""
    questions = _random.sample(list(quiz.questions), quiz.draw)
    items = []
    for question in questions:
        order = list(range(len(question.options)))
        if question.kind != TRUE_FALSE:
            _random.shuffle(order)
        items.append(Drawn(question, tuple(order)))
    return Draw(new_nonce(), tuple(items))


def read_draw(quiz: Quiz, token) -> Draw | None:
    """The draw a quiz page carried; None when it is not one this app signed for this quiz."""
    if not isinstance(token, str) or len(token) > 4000:
        return None
    try:
        raw = _serializer().loads(token)
        nonce, entries = raw["n"], raw["q"]
        items = []
        for question_id, order in entries:
            question = quiz.question(question_id)
            if question is None or sorted(order) != list(range(len(question.options))):
                return None
            items.append(Drawn(question, tuple(order)))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if (
        not is_nonce(nonce)
        or len(items) != quiz.draw
        or len({d.question.id for d in items}) != len(items)
    ):
        return None
    return Draw(nonce, tuple(items))
