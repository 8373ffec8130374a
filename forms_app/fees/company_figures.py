"""This domain's part of the company's figures (accounts/company.py): the month's 收缴率 (seed:
实现费用收缴率达标), both of them, from ``arrears.month_rates_of`` - the code of the community's own
收缴率 page, asked once for every community. Their samples are money (元 due), so the company's
rate weighs by it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import Flask

from ..accounts.company import Measure, register_company_figures
from .arrears import month_rates_of

DEFINITIONS = {
    "当月账单收缴率": ("fees.bill_rate", "当月账单已收 ÷（当月账单应收 − 当月账单减免）。"),
    "本月实收率": (
        "fees.cash_rate",
        "本月内实收（任何账期）÷（月初欠费 + 当月账单应收 − 本月减免）。",
    ),
}


def measures(first: date, communities: Sequence[str]) -> dict[str, list[Measure]]:
    period = f"{first:%Y-%m}"
    return {
        key: [_measure(first, rate) for rate in rates["community"]]
        for key, rates in month_rates_of(period, communities, by_building=False).items()
    }


def _measure(first: date, rate) -> Measure:
    key, definition = DEFINITIONS[rate.label]
    return Measure(
        key,
        rate.label,
        definition,
        rate.collected,
        max(rate.base, 0),
        "应收",
        f"{first.year} 年 {first.month} 月",
        money=True,
    )


def register(app: Flask) -> None:
    register_company_figures(app, "fees", measures, position=30)
