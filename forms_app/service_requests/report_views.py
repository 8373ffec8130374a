"""Figures for 客服 and 经理 (per week and per month, each with its definition) and the
household visits (走访记录) with the seed's quotas shown as progress; their exports are in
``export_views``."""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..core.clock import today
from ..core.community import current_community
from ..core.tokens import is_nonce, new_nonce
from ..households.fields import room_choices, room_directory
from ..web.paging import paginate
from ..web.template_filters import format_rate
from . import settings, states
from .figures import (
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


def shown(figure) -> str:
    """A figure as people read it: 92.5%, 14, 3.5 小时, or — when there is nothing to count."""
    if figure.unit == "rate":
        return format_rate(figure.value)
    if figure.value is None:
        return "—"
    if figure.unit == "hours":
        return f"{figure.value:.1f} 小时（中位数 {figure.median:.1f} 小时）"
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
