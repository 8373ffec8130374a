"""收费: the community's fee standards published (``core/fee_standards.py``, data/fees/), monthly
bills from the household registry, meter readings, payments and gap-free receipts, the
append-only 收费台帐 with banking and the three-day reconciliation, arrears chased as the seed
says (电话催交 → 书面通知 → 上门收款), 收缴率, and a household's bills in 我的办理.

Renovation's 退还押金 reaches the ledger through the domain-event hook: renovation never
imports fees.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, url_prefix: str) -> None:
    from . import section

    section.init_app(app, url_prefix)
    from . import company_figures

    company_figures.register(app)
