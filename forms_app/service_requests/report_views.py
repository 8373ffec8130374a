"""Figures for 客服 and 经理 (per week and per month, each with its definition), their export,
and the household visits (走访记录) with the seed's quotas shown as progress."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import select

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..core.clock import today
from ..core.community import current_community
from ..core.extensions import db
from ..core.tokens import is_nonce, new_nonce
from ..households.fields import room_choices, room_directory
from ..web.exports import csv_response, xlsx_response
from ..web.paging import paginate
from ..web.template_filters import format_rate
from . import settings, states
from .figures import (
    MONTH,
    WEEK,
    compute,
    month_of,
    overdue_counts,
    parse_period,
    visit_progress,
    week_of,
)
from .models import HouseholdVisit
from .staff_blueprint import bp
from .visits import VisitError, check_visit, store_visit

# How many periods the export lists, newest last.
EXPORT_PERIODS = 12


def shown(figure) -> str:
    """A figure as people read it: 92.5%, 14, 3.5 小时, or — when there is nothing to count."""
    if figure.unit == "rate":
        return format_rate(figure.value)
    if figure.value is None:
        return "—"
    if figure.unit == "hours":
        return f"{figure.value:.1f} 小时"
    return str(figure.value)


@bp.get("/figures")
@staff_required("service.figures")
def figures():
    """This week's (or the chosen week's or month's) figures with their definitions."""
    period, error = parse_period(request.args.get("period"))
    return render_template(
        "service_requests/staff/figures.html",
        period=period,
        error=error,
        figures=compute(period),
        shown=shown,
        overdue=overdue_counts(),
        previous=period.shifted(-1),
        following=period.shifted(1),
        this_week=week_of(today()),
        this_month=month_of(today()),
        target=current_community()["satisfaction"]["target_rate"],
        kinds=states.KIND_LABELS,
    )


EXPORT_HEADER = ("统计周期", "指标", "数值", "分子", "分母", "定义")


def _figure_rows(kind: str):
    last = week_of(today()) if kind == WEEK else month_of(today())
    for steps in range(EXPORT_PERIODS - 1, -1, -1):
        period = last.shifted(-steps)
        for figure in compute(period):
            value = figure.value
            if figure.unit == "rate" and value is not None:
                value = round(value * 100, 1)
            elif figure.unit == "hours" and value is not None:
                value = round(value, 1)
            name = figure.name + (
                "（%）" if figure.unit == "rate" else "（小时）" if figure.unit == "hours" else ""
            )
            yield (
                period.label,
                name,
                "" if value is None else value,
                "" if figure.numerator is None else figure.numerator,
                "" if figure.denominator is None else figure.denominator,
                figure.definition,
            )


@bp.get("/figures/export.<fmt>")
@staff_required("service.export")
def export_figures(fmt: str):
    """The last twelve weeks' (``by=week``) or months' (``by=month``) figures as .xlsx or CSV."""
    kind = request.args.get("by", WEEK)
    if fmt not in ("xlsx", "csv") or kind not in (WEEK, MONTH):
        abort(404)
    record_audit("export", target="客服统计", detail=f"{fmt}；{kind}")
    label = "周" if kind == WEEK else "月"
    filename = f"客服统计-按{label}-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, EXPORT_HEADER, stream_with_context(_figure_rows(kind)))
    return xlsx_response(filename, f"客服统计（按{label}）", EXPORT_HEADER, _figure_rows(kind))


def _visits_page(values: dict, errors: dict | None = None, status: int = 200):
    community = current_community()
    weekly, monthly = settings.visit_quota()
    query = select(HouseholdVisit).order_by(
        HouseholdVisit.visited_on.desc(), HouseholdVisit.id.desc()
    )
    return render_template(
        "service_requests/staff/visits.html",
        values=values,
        errors=errors or {},
        progress=visit_progress(today(), weekly, monthly),
        weekly=weekly,
        monthly=monthly,
        page=paginate(query, request.args.get("page")),
        kinds=states.VISIT_KIND_LABELS,
        choices=room_choices(community),
        rooms=room_directory(community),
        today=today(),
    ), status


@bp.get("/visits")
@staff_required("service.visits")
def visits():
    """走访记录: this week's and this month's progress against the quotas, the form, the list."""
    return _visits_page(
        {"visited_on": today().isoformat(), "kind": states.VISIT_REGULAR, "nonce": new_nonce()}
    )


@bp.post("/visits")
@staff_required("service.visits")
def record_visit():
    """Store a visit (once, whatever the number of taps) and show the list again."""
    try:
        values = check_visit(request.form)
    except VisitError as error:
        typed = request.form.to_dict()
        if not is_nonce(typed.get("nonce")):
            typed["nonce"] = new_nonce()
        return _visits_page(typed, error.errors, 400)
    visit, created = store_visit(values, current_staff())
    if created:
        record_audit("service.visit", target=visit.room_label, detail=visit.kind_label)
        flash(f"已记录对 {visit.room_label} 的{visit.kind_label}。", "success")
    else:
        flash("这条走访记录已经保存过，没有重复保存。", "success")
    return redirect(url_for(".visits"), code=303)


VISIT_HEADER = (
    "走访日期",
    "类型",
    "房屋",
    "受访人",
    "业主意见和建议",
    "跟进事项",
    "业主签字",
    "走访人",
)


def _visit_rows():
    query = (
        select(HouseholdVisit)
        .order_by(HouseholdVisit.visited_on, HouseholdVisit.id)
        .execution_options(yield_per=500)
    )
    for visit in db.session.scalars(query):
        yield (
            visit.visited_on,
            visit.kind_label,
            visit.room_label,
            visit.person,
            visit.opinion,
            visit.follow_up,
            visit.owner_signed,
            visit.visitor_name,
        )


@bp.get("/visits/export.<fmt>")
@staff_required("service.export")
def export_visits(fmt: str):
    """Every visit as .xlsx or CSV, for the monthly report to the 管理处负责人."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    record_audit("export", target="走访记录", detail=fmt)
    filename = f"走访记录-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, VISIT_HEADER, stream_with_context(_visit_rows()))
    return xlsx_response(filename, "走访记录", VISIT_HEADER, _visit_rows())
