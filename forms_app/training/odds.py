"""The exact probability that answering a quiz at random passes it.

"At random" is uniform: one of a single-choice question's options, 对 or 错, any non-empty set of
a multiple-choice question's options. An attempt draws ``quiz.draw`` questions of the bank, each
set of that size equally likely; the probability is the average over those sets of the chance
of at least the pass mark, computed with fractions (no rounding) by one pass over the bank.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from math import ceil, comb

from .definitions import MULTIPLE, Question, Quiz

# A quiz that random answers pass this often is refused when the app starts.
MAX_RANDOM_PASS = Fraction(5, 100)


def guess_probability(question: Question) -> Fraction:
    count = len(question.options)
    return Fraction(1, 2**count - 1) if question.kind == MULTIPLE else Fraction(1, count)


def needed(pass_mark: int, total: int) -> int:
    """Right answers needed to pass (``100 * correct >= pass_mark * total``)."""
    return ceil(pass_mark * total / 100)


@lru_cache(maxsize=32)
def random_pass_probability(quiz: Quiz) -> Fraction:
    """Chance that random answers pass one attempt (exact; cached: every app checks it at start)."""
    size = quiz.draw
    # ways[j][c]: over the sets of j questions seen so far, the summed chance of c right.
    ways = [[Fraction(0)] * (size + 1) for _ in range(size + 1)]
    ways[0][0] = Fraction(1)
    for question in quiz.questions:
        p = guess_probability(question)
        for j in range(size - 1, -1, -1):
            for c in range(j, -1, -1):
                value = ways[j][c]
                if value:
                    ways[j + 1][c] += value * (1 - p)
                    ways[j + 1][c + 1] += value * p
    passing = sum(ways[size][needed(quiz.pass_mark, size) :], Fraction(0))
    return passing / comb(len(quiz.questions), size)


def percent_text(probability: Fraction) -> str:
    value = float(probability) * 100
    return "低于 0.01%" if value < 0.01 else f"{value:.2f}%"
