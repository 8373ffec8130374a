"""This domain's part of the company's figures (accounts/company.py): the seed's weekly
客户满意率, 工程报修维修合格率 and 客户投诉回访率, for a month, from ``figures.rate_figures`` - the
code of the community's own 客服统计 page (``figures.compute``), asked once for every community."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import Flask

from ..accounts.company import Measure, register_company_figures
from . import figures

# The figure's name in figures.compute: its key on the company page, what its sample counts.
FIGURES = {
    "客户满意率": ("service.satisfaction", "次回访"),
    "工程报修维修合格率": ("service.repair_ok", "单首次判定的报修"),
    "客户投诉回访率": ("service.complaint_calls", "件首次答复的投诉"),
}


def measures(first: date, communities: Sequence[str]) -> dict[str, list[Measure]]:
    period = figures.month_of(first)
    found = {}
    for community, rates in figures.rate_figures(period, communities).items():
        by_name = {f.name: f for f in rates}
        found[community] = [
            Measure(
                key,
                name,
                by_name[name].definition,
                by_name[name].numerator or 0,
                by_name[name].denominator or 0,
                unit,
                period.label,
            )
            for name, (key, unit) in FIGURES.items()
        ]
    return found


def register(app: Flask) -> None:
    register_company_figures(app, "service_requests", measures, position=10)
