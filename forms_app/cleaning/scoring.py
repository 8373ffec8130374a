"""How an inspection is scored: the share of applicable items that passed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..web.template_filters import format_rate

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "na"
RESULT_LABELS = {PASS: "合格", FAIL: "不合格", NOT_APPLICABLE: "不适用"}


def pass_rate(passed: int, failed: int) -> float | None:
    """The scoring rule: passed items divided by applicable items (合格 + 不合格).

    不适用 items count neither way. With no applicable item there is no score (None), rather
    than a 0% or 100% that would say something nobody checked.
    """
    applicable = passed + failed
    return passed / applicable if applicable else None


@dataclass(frozen=True)
class Score:
    """Counts of one inspection, one area or one period, and their pass rate."""

    passed: int = 0
    failed: int = 0
    not_applicable: int = 0
    key_failures: int = 0

    @property
    def applicable(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float | None:
        return pass_rate(self.passed, self.failed)

    @property
    def counts(self) -> str:
        """For people: '6/7 项合格', or '无适用项'."""
        return f"{self.passed}/{self.applicable} 项合格" if self.applicable else "无适用项"

    @property
    def label(self) -> str:
        """For people: '85.7%（6/7 项合格）', or '无适用项'."""
        if self.rate is None:
            return self.counts
        return f"{format_rate(self.rate)}（{self.counts}）"


def score(results: Iterable) -> Score:
    """Count results (anything with ``result`` and ``key_area``) into a Score."""
    passed = failed = not_applicable = key_failures = 0
    for row in results:
        if row.result == PASS:
            passed += 1
        elif row.result == FAIL:
            failed += 1
            key_failures += bool(row.key_area)
        else:
            not_applicable += 1
    return Score(passed, failed, not_applicable, key_failures)
