"""The figures on the staff home page: what a manager checks first thing in the morning.

Each domain keeps its own queries; this module only asks them for today's headline numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..community import current_community
from ..surveys import all_surveys
from ..surveys.models import period_label, period_of
from ..surveys.results import ALL, survey_results


@dataclass
class SatisfactionHeadline:
    """One survey's satisfaction rate this half-year and overall, against the target."""

    slug: str
    title: str
    period_label: str
    period_rate: float | None
    period_answers: int
    overall_rate: float | None
    target_rate: float

    def meets(self, rate: float | None) -> bool | None:
        return None if rate is None else rate >= self.target_rate


def satisfaction_headlines(day: date) -> list[SatisfactionHeadline]:
    """The satisfaction rate of every survey with satisfaction scales (SQL aggregates)."""
    community = current_community()
    target = float(community["satisfaction"]["target_rate"])
    period = period_of(day)
    headlines = []
    for survey in all_surveys().values():
        if not survey.satisfaction_questions:
            continue
        results = survey_results(survey, target)
        this_half = results.overall.get(period)
        overall = results.overall.get(ALL)
        headlines.append(SatisfactionHeadline(
            slug=survey.slug, title=survey.title, period_label=period_label(period),
            period_rate=this_half.satisfaction_rate if this_half else None,
            period_answers=results.responses.get(period, 0),
            overall_rate=overall.satisfaction_rate if overall else None,
            target_rate=target,
        ))
    return headlines
