"""This domain's part of the company's figures (accounts/company.py): the owners' satisfaction
in the surveys of the half-year (seed: 每年2次征询业主对物业服务的意见), every survey's
satisfaction answers pooled, from ``results.satisfaction_of``: the tallies and the pooling of
the community's own results page and staff home (``results.survey_results``), in one query
grouped by community."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import Flask

from ..accounts.company import Measure, register_company_figures
from .catalog import all_surveys
from .models import period_label, period_of
from .results import satisfaction_of

DEFINITION = (
    "本半年各调查中满意度题的回答里，“满意”和“非常满意”的次数 ÷ 满意度题的回答次数"
    "（各调查合并计算）。"
)


def measures(first: date, communities: Sequence[str]) -> dict[str, list[Measure]]:
    period = period_of(first)
    return {
        key: [
            Measure(
                "surveys.satisfaction",
                "业主满意率（调查）",
                DEFINITION,
                tally.satisfied,
                tally.value_count,
                "次满意度回答",
                period_label(period),
            )
        ]
        for key, tally in satisfaction_of(list(all_surveys().values()), period, communities).items()
    }


def register(app: Flask) -> None:
    register_company_figures(app, "surveys", measures, position=20)
