"""Survey results computed in SQL: counts per question, period, value and option.

One GROUP BY over the answers' covering index gives every distribution; averages, shares and
satisfaction rates are arithmetic on those few grouped rows, so the cost does not grow with
what Python holds, only with what the database scans.

Definitions used on the results page:
- share: answers with that option / respondents who answered the question (for multiple
  choice the shares can add up to more than 100%);
- average: mean of the stored values (satisfaction 5 = 非常满意 … 1 = 非常不满意, or 0–10);
- satisfaction rate: share of 满意 + 非常满意 among the answers to satisfaction questions;
- periods: half-years (上半年 / 下半年), from the local submission date;
- respondents of a rate: the 答卷 with at least one answer it counts; below the community's
  ``satisfaction.verdict_min_answers`` a rate is shown with that count but not judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import distinct, exists, func, select

from ..core.extensions import db
from .definitions import (
    MULTIPLE,
    RECOMMENDATION,
    RECOMMENDATION_RANGE,
    SATISFACTION,
    SATISFACTION_SCALE,
    SATISFIED_MIN,
    Question,
    Survey,
)
from .models import SurveyAnswer, SurveyResponse, period_label

ALL = "all"


@dataclass
class Tally:
    """Counts of one question (or one category) in one period."""

    counts: dict = field(default_factory=lambda: defaultdict(int))
    answered: int = 0  # respondents who answered (for scales and single choice: answers)
    value_sum: int = 0
    value_count: int = 0
    satisfied: int = 0

    def add(self, key, count: int, value: int | None, satisfaction: bool) -> None:
        self.counts[key] += count
        if value is not None:
            self.value_sum += value * count
            self.value_count += count
            if satisfaction and value >= SATISFIED_MIN:
                self.satisfied += count

    def merge(self, other: Tally) -> None:
        for key, count in other.counts.items():
            self.counts[key] += count
        self.answered += other.answered
        self.value_sum += other.value_sum
        self.value_count += other.value_count
        self.satisfied += other.satisfied

    def share(self, key) -> float | None:
        return self.counts.get(key, 0) / self.answered if self.answered else None

    @property
    def average(self) -> float | None:
        return self.value_sum / self.value_count if self.value_count else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.value_count if self.value_count else None


@dataclass
class QuestionResult:
    question: Question
    periods: dict[str, Tally]  # period code or ALL -> tally

    def rows(self, period: str = ALL) -> list[tuple[str, int, float | None]]:
        """(label, count, share) per choice, in the questionnaire's order."""
        tally = self.periods.get(period) or Tally()
        q = self.question
        if q.type == SATISFACTION:
            keys = [(value, label) for value, label in SATISFACTION_SCALE]
        elif q.type == RECOMMENDATION:
            keys = [(value, str(value)) for value in RECOMMENDATION_RANGE]
        else:
            keys = [(option, option) for option in q.choices]
        return [(label, tally.counts.get(key, 0), tally.share(key)) for key, label in keys]


@dataclass
class CategoryResult:
    name: str
    periods: dict[str, Tally]
    respondents: dict[str, int] = field(default_factory=dict)  # period or ALL -> 答卷
    basis: str = ""  # the seed document it follows


# What a rate says about the target: met, missed, or too few answers to say.
MET, MISSED, TOO_FEW, NO_DATA = "met", "missed", "too_few", "no_data"


@dataclass
class SurveyResults:
    survey: Survey
    target_rate: float
    responses: dict[str, int]  # period or ALL -> number of responses
    questions: dict[str, QuestionResult]
    categories: list[CategoryResult]
    overall: dict[str, Tally]  # all satisfaction answers pooled, per period
    overall_respondents: dict[str, int] = field(default_factory=dict)
    min_answers: int = 1

    @property
    def periods(self) -> list[str]:
        return sorted(p for p in self.responses if p != ALL)

    @staticmethod
    def period_label(period: str) -> str:
        return "全部" if period == ALL else period_label(period)

    def meets_target(self, rate: float | None) -> bool | None:
        return None if rate is None else rate >= self.target_rate

    def verdict(self, rate: float | None, answers: int) -> str:
        """MET / MISSED against the target, TOO_FEW below the minimum sample, NO_DATA."""
        if rate is None or not answers:
            return NO_DATA
        if answers < self.min_answers:
            return TOO_FEW
        return MET if rate >= self.target_rate else MISSED

    @property
    def overall_question(self) -> QuestionResult | None:
        """The question of the 总体评价满意率, when the survey names one."""
        question_id = self.survey.overall_question
        return self.questions.get(question_id) if question_id else None


def _respondents(survey: Survey, question_ids: list[str]) -> dict[str, int]:
    """答卷 with at least one answer to these questions, per period and ALL (an EXISTS per
    response through the response index: a DISTINCT over every answer costs twice as much)."""
    rows = dict(
        db.session.execute(
            select(SurveyResponse.period, func.count())
            .where(
                SurveyResponse.survey == survey.slug,
                exists().where(
                    SurveyAnswer.response_id == SurveyResponse.id,
                    SurveyAnswer.question_id.in_(question_ids),
                    SurveyAnswer.value.is_not(None),
                ),
            )
            .group_by(SurveyResponse.period)
        ).all()
    )
    return {**rows, ALL: sum(rows.values())}


def _answer_counts(*conditions, by=()) -> list:
    """(*by, question id, period, value, option, count) of the answers ``conditions`` pick,
    grouped: every distribution of the results in one GROUP BY over the answers' index."""
    columns = (
        *by,
        SurveyAnswer.question_id,
        SurveyAnswer.period,
        SurveyAnswer.value,
        SurveyAnswer.option,
    )
    return db.session.execute(
        select(*columns, func.count()).where(*conditions).group_by(*columns)
    ).all()


def _tallies(survey: Survey, grouped) -> dict[str, dict[str, Tally]]:
    """question id → period → tally, from (question id, period, value, option, count) rows."""
    tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for question_id, period, value, option, count in grouped:
        question = survey.question(question_id)
        if question is None:  # a question removed from the file since
            continue
        key = option if option is not None else value
        tally = tallies[question_id][period]
        tally.add(key, count, value, question.type == SATISFACTION)
        if question.type != MULTIPLE:
            tally.answered += count
    return tallies


def pooled_satisfaction(survey: Survey, tallies) -> dict[str, Tally]:
    """Period → every satisfaction answer of the survey pooled (the results' ``overall``),
    from question id → period → tally."""
    overall: dict[str, Tally] = defaultdict(Tally)
    for question in survey.satisfaction_questions:
        for period, tally in tallies.get(question.id, {}).items():
            overall[period].merge(tally)
    return overall


def satisfaction_of(
    surveys: list[Survey], period: str, communities: Sequence[str]
) -> dict[str, Tally]:
    """For each of ``communities`` (keys, every one given): the satisfaction answers of the
    half-year ``period`` in every survey of ``surveys``, pooled - the sum over the surveys of
    the tally their results page shows as its overall rate (``survey_results``), from the same
    tallies, in one GROUP BY by community (the company's figures ask for every community at
    once, inside ``every_community``)."""
    keys = list(communities)
    found = {key: Tally() for key in keys}
    rated = {s.slug: s for s in surveys if s.satisfaction_questions}
    if not rated or not keys:
        return found
    rows = _answer_counts(
        SurveyAnswer.community.in_(keys),
        SurveyAnswer.survey.in_(sorted(rated)),
        SurveyAnswer.question_id.in_(
            sorted({q.id for s in rated.values() for q in s.satisfaction_questions})
        ),
        SurveyAnswer.period == period,
        by=(SurveyAnswer.community, SurveyAnswer.survey),
    )
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for community, slug, *row in rows:
        grouped[community, slug].append(row)
    for (community, slug), survey_rows in grouped.items():
        tally = pooled_satisfaction(rated[slug], _tallies(rated[slug], survey_rows)).get(period)
        if tally is not None and community in found:
            found[community].merge(tally)
    return found


def survey_results(survey: Survey, target_rate: float, min_answers: int = 1) -> SurveyResults:
    """Every number of the results page, from a few GROUP BY queries."""
    response_counts = dict(
        db.session.execute(
            select(SurveyResponse.period, func.count())
            .where(SurveyResponse.survey == survey.slug)
            .group_by(SurveyResponse.period)
        ).all()
    )
    responses = {**response_counts, ALL: sum(response_counts.values())}

    tallies = _tallies(survey, _answer_counts(SurveyAnswer.survey == survey.slug))

    multiple = [q.id for q in survey.questions if q.type == MULTIPLE]
    if multiple:
        for question_id, period, respondents in db.session.execute(
            select(
                SurveyAnswer.question_id,
                SurveyAnswer.period,
                func.count(distinct(SurveyAnswer.response_id)),
            )
            .where(SurveyAnswer.survey == survey.slug, SurveyAnswer.question_id.in_(multiple))
            .group_by(SurveyAnswer.question_id, SurveyAnswer.period)
        ):
            tallies[question_id][period].answered = respondents

    questions = {}
    for question in survey.questions:
        per_period = dict(tallies.get(question.id, {}))
        total = Tally()
        for tally in per_period.values():
            total.merge(tally)
        per_period[ALL] = total
        questions[question.id] = QuestionResult(question, per_period)

    categories: dict[str, CategoryResult] = {}
    overall = pooled_satisfaction(survey, {q: r.periods for q, r in questions.items()})
    for question in survey.satisfaction_questions:
        category = categories.setdefault(
            question.category,
            CategoryResult(
                question.category,
                defaultdict(Tally),
                basis=survey.category_basis.get(question.category, ""),
            ),
        )
        for period, tally in questions[question.id].periods.items():
            category.periods[period].merge(tally)
    for category in categories.values():
        ids = [q.id for q in survey.satisfaction_questions if q.category == category.name]
        category.respondents = (
            {p: t.answered for p, t in questions[ids[0]].periods.items()}
            if len(ids) == 1
            else _respondents(survey, ids)
        )
    rated = survey.satisfaction_questions
    if any(q.required for q in rated):
        # The form takes no response without its required questions: every 答卷 rated.
        overall_respondents = responses
    else:
        overall_respondents = _respondents(survey, [q.id for q in rated]) if rated else {}
    return SurveyResults(
        survey,
        target_rate,
        responses,
        questions,
        list(categories.values()),
        overall,
        overall_respondents,
        max(1, int(min_answers)),
    )


def latest_texts(survey: Survey, question: Question, period: str, limit: int) -> list[str]:
    """The newest typed answers of a text question (walks the question index backwards)."""
    query = (
        select(SurveyAnswer.text)
        .where(SurveyAnswer.survey == survey.slug, SurveyAnswer.question_id == question.id)
        .order_by(SurveyAnswer.id.desc())
        .limit(limit)
    )
    if period != ALL:
        query = query.where(SurveyAnswer.period == period)
    return list(db.session.execute(query).scalars())
