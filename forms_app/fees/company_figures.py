"""This domain's part of the company's figures (accounts/company.py): the month's 收缴率 (seed:
实现费用收缴率达标), both of them, from ``arrears.month_rates`` - the code of the community's own
收缴率 page. Their samples are money (元 due), so the company's rate weighs by it."""

from __future__ import annotations

from datetime import date

from flask import Flask

from ..accounts.company import Measure, register_company_figures
from .arrears import month_rates

DEFINITIONS = {
    "当月账单收缴率": ("fees.bill_rate", "当月账单已收 ÷（当月账单应收 − 当月账单减免）。"),
    "本月实收率": (
        "fees.cash_rate",
        "本月内实收（任何账期）÷（月初欠费 + 当月账单应收 − 本月减免）。",
    ),
}


def measures(first: date) -> list[Measure]:
    period = f"{first:%Y-%m}"
    found = []
    for rate in month_rates(period)["community"]:
        key, definition = DEFINITIONS[rate.label]
        found.append(
            Measure(
                key,
                rate.label,
                definition,
                rate.collected,
                max(rate.base, 0),
                "应收",
                f"{first.year} 年 {first.month} 月",
                money=True,
            )
        )
    return found


def register(app: Flask) -> None:
    register_company_figures(app, "fees", measures, position=30)
