"""This domain's part of the company's figures (accounts/company.py): the owners' satisfaction
in the surveys of the half-year (seed: 每年2次征询业主对物业服务的意见), every survey's
satisfaction answers pooled, from ``dashboard.satisfaction_headlines`` - the code of the
community's own results and staff home."""

from __future__ import annotations

from datetime import date

from flask import Flask

from ..accounts.company import Measure, register_company_figures
from .dashboard import satisfaction_headlines
from .models import period_label, period_of

DEFINITION = (
    "本半年各调查中满意度题的回答里，“满意”和“非常满意”的次数 ÷ 满意度题的回答次数"
    "（各调查合并计算）。"
)


def measures(first: date) -> list[Measure]:
    period = period_of(first)
    part = sample = 0
    for headline in satisfaction_headlines(first):
        tally = headline.results.overall.get(period)
        if tally is not None:
            part += tally.satisfied
            sample += tally.value_count
    return [
        Measure(
            "surveys.satisfaction",
            "业主满意率（调查）",
            DEFINITION,
            part,
            sample,
            "次满意度回答",
            period_label(period),
        )
    ]


def register(app: Flask) -> None:
    register_company_figures(app, "surveys", measures, position=20)
