"""All responses of a survey as table rows (one row per response), streamed from the database.

Two ordered queries read side by side — responses, and their answers through the response
index — so memory stays flat and each response's time is parsed once, not once per answer.

Anonymous surveys are not listed in the order they arrived (with an access log, the order and
the numbers would tie a row to a visitor): their rows follow the random one-time nonce of each
form and are numbered 1, 2, 3 … in that order, never by their database id.
"""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from ..clock import local_time
from ..extensions import db
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


def export_header(survey: Survey) -> list[str]:
    header = ["编号", "提交日期" if survey.anonymous else "提交时间", "期间"]
    if not survey.anonymous:
        header += ["楼栋", "单元", "房号", "称呼"]
    return header + [f"{i}. {q.text}" for i, q in enumerate(survey.questions, 1)]


def export_rows(survey: Survey) -> Iterator[list]:
    """One list per response, in the order of ``export_header``."""
    columns = {q.id: (i, _cell_for(q.type), q.type == MULTIPLE)
               for i, q in enumerate(survey.questions)}
    time_format = "%Y-%m-%d" if survey.anonymous else "%Y-%m-%d %H:%M"
    order = SurveyResponse.nonce if survey.anonymous else SurveyResponse.id
    periods: dict[str, str] = {}
    # Plain Core rows from the session's connection: ORM row handling would cost 2-3x here.
    connection = db.session.connection()
    responses = connection.execute(
        select(SurveyResponse.id, SurveyResponse.submitted_at, SurveyResponse.period,
               SurveyResponse.building, SurveyResponse.unit, SurveyResponse.room,
               SurveyResponse.respondent_name)
        .where(SurveyResponse.survey == survey.slug)
        .order_by(order)
        .execution_options(yield_per=BATCH)
    )
    answers = iter(connection.execute(
        select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.value,
               SurveyAnswer.option, SurveyAnswer.text)
        .join(SurveyResponse, SurveyAnswer.response_id == SurveyResponse.id)
        .where(SurveyResponse.survey == survey.slug)
        .order_by(order, SurveyAnswer.id)
        .execution_options(yield_per=BATCH * 8)
    ))
    pending = next(answers, None)
    for number, (response_id, submitted_at, period, building, unit, room, name) in enumerate(
            responses, 1):
        if period not in periods:
            periods[period] = period_label(period)
        row = [number if survey.anonymous else response_id, local_time(submitted_at).strftime(time_format), periods[period]]
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
