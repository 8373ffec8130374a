"""A survey's export: every response as a row (streamed from the database), and the
satisfaction rates per category and period as a second table.

Two ordered queries read side by side — responses, and their answers through the response
index — so memory stays flat and each response's time is parsed once, not once per answer.

Anonymous surveys are not listed in the order they arrived (with an access log, the order and
the numbers would tie a row to a visitor): their rows follow the random one-time nonce of each
form and are numbered 1, 2, 3 … in that order, never by their database id.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from ..core.clock import local_time
from ..core.community import community_key
from ..core.extensions import db
from ..web.exports import DATE, DATETIME, INTEGER, NUMBER, PERCENT, TEXT, Column
from .definitions import (
    MULTIPLE,
    OTHER_OPTION,
    RECOMMENDATION,
    SATISFACTION,
    SATISFACTION_LABELS,
    Survey,
)
from .models import SurveyAnswer, SurveyResponse, period_label

BATCH = 2000


def _cell_for(question_type: str):
    """How one stored answer of a question type reads in the spreadsheet."""
    if question_type == SATISFACTION:
        return lambda value, option, text: SATISFACTION_LABELS.get(value)
    if question_type == RECOMMENDATION:
        return lambda value, option, text: value

    def chosen_or_typed(value, option, text):
        if option is None:
            return text
        return f"{option}：{text}" if option == OTHER_OPTION and text else option

    return chosen_or_typed


def export_columns(survey: Survey) -> list[Column]:
    """The responses table: a column per question after the response's own."""
    columns = [
        Column("编号", INTEGER),
        Column("提交日期", DATE) if survey.anonymous else Column("提交时间", DATETIME),
        Column("期间", width=14),
    ]
    if not survey.anonymous:
        columns += [
            Column("楼栋", INTEGER),
            Column("单元", INTEGER),
            Column("房号", width=8),
            Column("称呼", width=10),
        ]
    return columns + [
        Column(
            f"{i}. {q.text}",
            INTEGER if q.type == RECOMMENDATION else TEXT,
            width=12 if q.is_scale else 30,
        )
        for i, q in enumerate(survey.questions, 1)
    ]


def export_header(survey: Survey) -> list[str]:
    return [column.label for column in export_columns(survey)]


SUMMARY_COLUMNS = (
    Column("服务类别", width=22),
    Column("期间", width=14),
    Column("答卷数", INTEGER),
    Column("平均分（5 分制）", NUMBER),
    Column("满意率", PERCENT),
    Column("是否达标", width=18),
    Column("依据的文件", width=48),
)
VERDICT_LABELS = {
    "met": "达标",
    "missed": "未达标",
    "too_few": "样本不足，暂不判定",
    "no_data": "无数据",
}


def summary_rows(results) -> Iterator[tuple]:
    """Rates per category and period, then the 综合 and 总体评价 rates (results.py)."""
    from .results import ALL

    def row(name, period, tally, answers, basis=""):
        rate = tally.satisfaction_rate if tally else None
        return (
            name,
            results.period_label(period),
            answers,
            tally.average if tally else None,
            rate,
            VERDICT_LABELS[results.verdict(rate, answers)],
            basis,
        )

    periods = results.periods + [ALL]
    for category in results.categories:
        for period in periods:
            yield row(
                category.name,
                period,
                category.periods.get(period),
                category.respondents.get(period, 0),
                category.basis,
            )
    for period in periods:
        yield row(
            "综合满意率（全部评分题）",
            period,
            results.overall.get(period),
            results.overall_respondents.get(period, 0),
        )
    headline = results.overall_question
    if headline:
        for period in periods:
            tally = headline.periods.get(period)
            yield row(
                f"总体评价满意率（{headline.question.text}）",
                period,
                tally,
                tally.answered if tally else 0,
            )


def export_rows(survey: Survey) -> Iterator[list]:
    """One list per response, in the order of ``export_header``."""
    columns = {
        q.id: (i, _cell_for(q.type), q.type == MULTIPLE) for i, q in enumerate(survey.questions)
    }
    order = SurveyResponse.nonce if survey.anonymous else SurveyResponse.id
    periods: dict[str, str] = {}
    # Plain Core rows from the session's connection: ORM row handling would cost 2-3x here.
    # The session's community hook does not see them: they name the community themselves.
    here = SurveyResponse.community == community_key()
    connection = db.session.connection()
    responses = connection.execute(
        select(
            SurveyResponse.id,
            SurveyResponse.submitted_at,
            SurveyResponse.period,
            SurveyResponse.building,
            SurveyResponse.unit,
            SurveyResponse.room,
            SurveyResponse.respondent_name,
        )
        .where(here, SurveyResponse.survey == survey.slug)
        .order_by(order)
        .execution_options(yield_per=BATCH)
    )
    answers = iter(
        connection.execute(
            select(
                SurveyAnswer.response_id,
                SurveyAnswer.question_id,
                SurveyAnswer.value,
                SurveyAnswer.option,
                SurveyAnswer.text,
            )
            .join(SurveyResponse, SurveyAnswer.response_id == SurveyResponse.id)
            .where(here, SurveyResponse.survey == survey.slug)
            .order_by(order, SurveyAnswer.id)
            .execution_options(yield_per=BATCH * 8)
        )
    )
    pending = next(answers, None)
    for number, (response_id, submitted_at, period, building, unit, room, name) in enumerate(
        responses, 1
    ):
        if period not in periods:
            periods[period] = period_label(period)
        moment = local_time(submitted_at).replace(tzinfo=None)
        row = [
            number if survey.anonymous else response_id,
            moment.date() if survey.anonymous else moment,
            periods[period],
        ]
        if not survey.anonymous:
            row += [building, unit, room, name]
        cells: list = [None] * len(columns)
        while pending is not None and pending[0] == response_id:
            _, question_id, value, option, text = pending
            column = columns.get(question_id)
            if column is not None:
                index, cell, multiple = column
                shown = cell(value, option, text)
                cells[index] = f"{cells[index]}；{shown}" if multiple and cells[index] else shown
            pending = next(answers, None)
        yield row + cells
