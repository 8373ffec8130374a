"""This domain's part of the company's figures (accounts/company.py): training completion, the
share of the community's active staff who have read their whole path and passed their quizzes,
from ``records.everyone_of`` - the code of the community's own 培训进度 page, asked once for
every community. A record is the person's; its path is their role's in the community."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import Flask

from ..accounts.company import Measure, register_company_figures
from ..core.clock import today
from ..core.community import deployment_communities
from .records import everyone_of

DEFINITION = "本小区在职员工中，本角色的阅读路径全部已读（内容更新后已重读）且测验全部通过的人数 ÷ 在职员工人数。"


def measures(_first: date, communities: Sequence[str]) -> dict[str, list[Measure]]:
    served = deployment_communities()
    period = f"截至 {today().isoformat()}"
    return {
        key: [
            Measure(
                "training.completion",
                "培训完成率",
                DEFINITION,
                sum(1 for r in records if not r.behind),
                len(records),
                "名在职员工",
                period,
            )
        ]
        for key, records in everyone_of([served[key] for key in communities]).items()
    }


def register(app: Flask) -> None:
    register_company_figures(app, "training", measures, position=40)
