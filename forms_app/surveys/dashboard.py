"""The figures on the staff home page: what a manager checks first thing in the morning.

Each domain keeps its own queries; this module only asks them for today's headline numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..core.community import current_community
from .catalog import all_surveys
from .models import period_label, period_of
from .results import ALL, SurveyResults, survey_results


@dataclass
class SatisfactionHeadline:
    """One survey's 综合满意率 this half-year and overall, with the 答卷 each rests on."""

    slug: str
    title: str
    period_label: str
    period_rate: float | None
    period_answers: int
    overall_rate: float | None
    overall_answers: int
    target_rate: float
    min_answers: int
    results: SurveyResults

    def verdict(self, rate: float | None, answers: int) -> str:
        return self.results.verdict(rate, answers)


def satisfaction_headlines(day: date) -> list[SatisfactionHeadline]:
    """The satisfaction rate of every survey with satisfaction scales (SQL aggregates)."""
    community = current_community()
    target = float(community["satisfaction"]["target_rate"])
    minimum = int(community["satisfaction"].get("verdict_min_answers", 1))
    period = period_of(day)
    headlines = []
    for survey in all_surveys().values():
        if not survey.satisfaction_questions:
            continue
        results = survey_results(survey, target, minimum)
        this_half = results.overall.get(period)
        overall = results.overall.get(ALL)
        headlines.append(
            SatisfactionHeadline(
                slug=survey.slug,
                title=survey.title,
                period_label=period_label(period),
                period_rate=this_half.satisfaction_rate if this_half else None,
                period_answers=results.overall_respondents.get(period, 0),
                overall_rate=overall.satisfaction_rate if overall else None,
                overall_answers=results.overall_respondents.get(ALL, 0),
                target_rate=target,
                min_answers=results.min_answers,
                results=results,
            )
        )
    return headlines
