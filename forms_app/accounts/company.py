"""The company's figures side by side (品质部): each community's 客户满意率, 工程报修维修合格率,
客户投诉回访率, 收缴率 and training completion, each with its sample size, and the company's.

The accounts layer imports no domain: each domain registers the figures it computes for its own
pages (``register_company_figures``: a provider that answers, for a month and the keys of the
communities, each community's ``Measure`` of each figure - numerator and sample - by the
domain's own code: the grouped queries its community's pages take their own entry of). The page
runs every provider once, for every community together, inside ``every_community`` (a few
queries per figure, grouped by community, however many communities), and the company's figure
is the pooled one over the same data: the sum of the numerators over the sum of the samples (so
a community weighs by its sample: its 回访, its 应收 in 元, its people). No target is shown: the
communities' own pages judge against their settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Flask, abort, current_app, render_template, request

from ..core.clock import today, utcnow
from ..core.community import deployment_communities
from ..core.community_scope import every_community
from ..core.fee_standards import yuan_text
from ..web.exports import NUMBER, PERCENT, Column, Table, table_response
from ..web.template_filters import local_minute
from .access import staff_required
from .audit import record_audit
from .blueprint import bp
from .registry import NavLink, StaffSection, register_section

EXTENSION_KEY = "company_figures"
FIRST_YEAR, LAST_YEAR = 2000, 2099
MONTH_ERROR = "月份格式应为 2026-11（年-月），且在 2000—2099 年之间；已显示本月。"


@dataclass(frozen=True)
class Measure:
    """One figure of one community (or of the company) for a period: ``part`` of ``sample``.

    ``money``: both in 分 (a 收缴率: collected of what was due); otherwise counts (回访, 单,
    人). ``sample_unit`` says what the sample counts, for the reader: "次回访", "名员工"."""

    key: str
    name: str
    definition: str
    part: int
    sample: int
    sample_unit: str
    period: str
    money: bool = False

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.part) / Decimal(self.sample) if self.sample > 0 else None

    @property
    def sample_text(self) -> str:
        if self.money:
            return f"{yuan_text(self.sample)} 元{self.sample_unit}"
        return f"{self.sample} {self.sample_unit}"


# A domain's figures for the month starting on the given day, for each community of the keys
# given: {key: [Measure]}, every key (a community without records: its measures of no sample).
# Called inside ``every_community``: the provider names the communities in its queries.
Provider = Callable[[date, Sequence[str]], dict[str, list[Measure]]]
REASON = "公司指标：各小区的指标并列（品质部，只读）"


@dataclass(frozen=True)
class _Registered:
    name: str
    provider: Provider
    position: int


def register_company_figures(app: Flask, name: str, provider: Provider, position: int) -> None:
    """Add a domain's figures; ``position`` orders them on the page (the seed's order)."""
    providers = app.extensions.setdefault(EXTENSION_KEY, [])
    if any(p.name == name for p in providers):
        raise ValueError(f"company figures {name!r} registered twice")
    providers.append(_Registered(name, provider, position))
    providers.sort(key=lambda p: p.position)


def figures_of(first: date, communities: Sequence[str]) -> dict[str, list[Measure]]:
    """Every registered figure of the month starting ``first``, for each of ``communities``
    (keys), in the page's order: each provider asked once for them all, across the wall."""
    found: dict[str, list[Measure]] = {key: [] for key in communities}
    with every_community(REASON):
        for registered in current_app.extensions.get(EXTENSION_KEY, []):
            measures = registered.provider(first, list(communities))
            for key in communities:
                found[key].extend(measures[key])
    return found


def pooled(measures: list[Measure]) -> Measure:
    """The company's figure from the communities' measures of one figure: numerators and
    samples summed."""
    first = measures[0]
    periods = sorted({m.period for m in measures})
    return Measure(
        first.key,
        first.name,
        first.definition,
        sum(m.part for m in measures),
        sum(m.sample for m in measures),
        first.sample_unit,
        "、".join(periods),
        first.money,
    )


@dataclass(frozen=True)
class CompanyFigures:
    month: str
    figures: list[tuple[str, str, str]]  # (key, name, definition), in the page's order
    rows: list[tuple[str, dict[str, Measure]]]  # (community name, {key: measure})
    company: dict[str, Measure]


def company_figures(first: date) -> CompanyFigures:
    """Each served community's figures of the month starting ``first``, and the company's."""
    communities = deployment_communities()
    found = figures_of(first, list(communities))
    rows = [
        (community.name, {m.key: m for m in found[key]}) for key, community in communities.items()
    ]
    order: dict[str, Measure] = {}
    for _, measures in rows:
        for key, measure in measures.items():
            order.setdefault(key, measure)
    company = {
        key: pooled([measures[key] for _, measures in rows if key in measures]) for key in order
    }
    return CompanyFigures(
        f"{first:%Y-%m}",
        [(key, m.name, m.definition) for key, m in order.items()],
        rows,
        company,
    )


def parse_month(raw: str | None) -> tuple[date, str | None]:
    """The first day of a ``YYYY-MM`` month (default this month), and a message when the
    text names no month the page goes through."""
    this_month = today().replace(day=1)
    raw = (raw or "").strip()
    if not raw:
        return this_month, None
    try:
        year, month = raw.split("-")
        if not (len(year) == 4 and len(month) == 2):
            raise ValueError(raw)
        first = date(int(year), int(month), 1)
    except ValueError:
        return this_month, MONTH_ERROR
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        return this_month, MONTH_ERROR
    return first, None


def _shift(first: date, months: int) -> str:
    index = first.year * 12 + first.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


COLUMNS = (
    Column("小区", width=14),
    Column("指标", width=18),
    Column("统计期", width=18),
    Column("比率", PERCENT),
    Column("分子", NUMBER),
    Column("样本量 n", NUMBER),
    Column("样本单位", width=12),
    Column("口径", width=48),
)


def _cell(measure: Measure, value: int):
    return Decimal(value) / 100 if measure.money else value


def export_rows(found: CompanyFigures):
    everyone = [*found.rows, ("公司合计", found.company)]
    for name, measures in everyone:
        for key, _label, _definition in found.figures:
            measure = measures.get(key)
            if measure is None:
                continue
            yield (
                name,
                measure.name,
                measure.period,
                float(measure.rate) if measure.rate is not None else None,
                _cell(measure, measure.part),
                _cell(measure, measure.sample),
                ("元" if measure.money else "") + measure.sample_unit,
                measure.definition,
            )


@bp.get("/company/figures")
@staff_required("company.figures")
def company_figures_page():
    """Each community's figures and the company's, side by side, each with its sample."""
    first, problem = parse_month(request.args.get("month"))
    return render_template(
        "accounts/company_figures.html",
        found=company_figures(first),
        problem=problem,
        previous=_shift(first, -1),
        following=_shift(first, 1),
    )


@bp.get("/company/figures.<fmt>")
@staff_required("company.figures")
def company_figures_export(fmt: str):
    """The same figures as a workbook (or CSV): one row per community and figure."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    first, _problem = parse_month(request.args.get("month"))
    found = company_figures(first)
    record_audit("export", target=f"公司指标 {found.month}", detail=fmt)
    table = Table(
        f"公司指标 {found.month}",
        COLUMNS,
        list(export_rows(found)),
        described=f"月份：{found.month}；各小区及公司合计",
    )
    return table_response(fmt, f"公司指标-{found.month}.{fmt}", [table], local_minute(utcnow()))


def register_company_section(app: Flask) -> None:
    """The page in the navigation of those who may open it."""
    register_section(
        app,
        StaffSection(
            name="company",
            nav=(NavLink("公司指标", "accounts.company_figures_page", "company.figures"),),
        ),
    )
