"""Arrears and figures in the back office: the aging list with the chase (电话催交 with a
tap-to-call that is audited, a printable 书面通知, 上门收款, 拒不交纳), the 经理's list of those
who refuse, 收缴率 per month by building, and the weekly 物管费收缴情况."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.models import actor_label
from ..accounts.permissions import allowed
from ..accounts.registry import HomePanel, NavLink
from ..accounts.roles import MANAGER, SERVICE, SERVICE_LEAD
from ..core.clock import today, utcnow
from ..core.community import current_community
from ..core.fee_standards import yuan_text
from ..web.exports import (
    INTEGER,
    NUMBER,
    PERCENT,
    TEXT,
    Column,
    Table,
    table_response,
)
from ..web.template_filters import local_minute
from ..web.typed_input import select_number
from . import arrears as reports
from .models import CHASE_STEPS

bp = Blueprint("fees_report", __name__)

AUDIT = {"fees.call": "查看欠费住户完整手机号（电话催交）", "fees.chase": "记录催交"}


def _figures_home(_user, day: date):
    """This month's 收缴率 for the 经理 and the 客服主管's home."""
    period = f"{day.year:04d}-{day.month:02d}"
    # The community's figure alone: its sums are not split by building (no join to the rooms).
    rate = reports.month_rates(period, by_building=False)["community"][0]
    if rate.billed == 0:
        return None
    return {"period": period, "rate": rate}


NAV = (NavLink("欠费催交", "fees_report.arrears", "fees.arrears"),)
HOME = (
    HomePanel(
        "fees/staff/_rates_home.html",
        _figures_home,
        "fees.figures",
        today_for=frozenset({MANAGER, SERVICE_LEAD}),
    ),
)


def money(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _period(text: str | None) -> str:
    """A YYYY-MM month as asked, else the current one."""
    day = today()
    if text and len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
        year, month = int(text[:4]), int(text[5:])
        if 2000 <= year <= 2099 and 1 <= month <= 12:
            return f"{year:04d}-{month:02d}"
    return f"{day.year:04d}-{day.month:02d}"


def _shift(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _arrears_table(entries, building) -> Table:
    return Table(
        "欠费账龄",
        [
            Column("房屋", TEXT, 20),
            Column("主要联系人", TEXT),
            Column("欠费账单数", INTEGER),
            Column("最早账期", TEXT),
            *[Column(f"{label}（元）", NUMBER) for label in reports.BUCKETS.values()],
            Column("合计（元）", NUMBER),
            Column("最近催交", TEXT, 30),
        ],
        [
            [
                entry.room.label,
                entry.contact_name,
                entry.bills,
                entry.oldest_period,
                *[money(entry.buckets[b]) for b in reports.BUCKETS],
                money(entry.total),
                (
                    f"{entry.last_chase.step_label} {entry.last_chase.created_at:%Y-%m-%d}"
                    if entry.last_chase
                    else ""
                ),
            ]
            for entry in entries
        ],
        described=f"{building}号楼" if building else "全部楼栋",
    )


@bp.get("/arrears")
@staff_required("fees.arrears")
def arrears():
    """Every household with something due, by age, worst first, with its last chase."""
    building = select_number(request.args.get("building"))
    if building not in current_community().buildings:
        building = None
    # Overdue only unless 含当期 is asked: a bill not yet due is not 欠费.
    overdue_only = request.args.get("all") != "1"
    entries = reports.aging(building=building, overdue_only=overdue_only)
    fmt = request.args.get("fmt")
    if fmt in ("xlsx", "csv"):
        record_audit("export", target="欠费账龄", detail=fmt)
        table = _arrears_table(entries, building)
        return table_response(fmt, f"欠费账龄.{fmt}", [table], local_minute(utcnow()))
    totals = {b: sum(e.buckets[b] for e in entries) for b in reports.BUCKETS}
    return render_template(
        "fees/staff/arrears.html",
        entries=entries[:500],
        shown=min(500, len(entries)),
        count=len(entries),
        totals=totals,
        total=sum(totals.values()),
        buckets=reports.BUCKETS,
        building=building,
        overdue_only=overdue_only,
        may_figures=allowed(current_staff().role, "fees.figures"),
        yuan=yuan_text,
    )


def _room_or_404(room_id: int):
    found = reports.room_arrears(room_id)
    if found is None:
        abort(404)
    return found


@bp.get("/arrears/<int:room_id>")
@staff_required("fees.arrears")
def household(room_id: int):
    """One household's arrears, its chase so far and the next step."""
    entry = _room_or_404(room_id)
    return render_template(
        "fees/staff/arrears_room.html",
        entry=entry,
        bills=reports.room_open_bills(room_id),
        chases=reports.chases_of(room_id),
        steps=CHASE_STEPS,
        buckets=reports.BUCKETS,
        yuan=yuan_text,
        errors={},
        typed={},
    )


@bp.post("/arrears/<int:room_id>/chase")
@staff_required("fees.arrears")
def chase(room_id: int):
    entry = _room_or_404(room_id)
    step = request.form.get("step", "")
    outcome = request.form.get("outcome", "")
    try:
        reports.record_chase(room_id, step, outcome, actor_label(current_staff()))
    except reports.ChaseRefused as refused:
        return (
            render_template(
                "fees/staff/arrears_room.html",
                entry=entry,
                bills=reports.room_open_bills(room_id),
                chases=reports.chases_of(room_id),
                steps=CHASE_STEPS,
                buckets=reports.BUCKETS,
                yuan=yuan_text,
                errors={refused.field or "form": refused.message},
                typed={"step": step, "outcome": outcome},
            ),
            400,
        )
    record_audit("fees.chase", target=entry.room.label, detail=CHASE_STEPS[step])
    flash(f"已记录{CHASE_STEPS[step]}。", "success")
    return redirect(url_for(".household", room_id=room_id), code=303)


@bp.get("/arrears/<int:room_id>/call")
@staff_required("fees.arrears")
def call(room_id: int):
    """The 主要联系人's whole mobile as a tap-to-call link; each reveal is audited."""
    entry = _room_or_404(room_id)
    if not entry.contact_mobile:
        abort(404)
    record_audit("fees.call", target=entry.room.label, detail=entry.contact_name)
    return render_template("fees/staff/arrears_call.html", entry=entry)


@bp.get("/arrears/<int:room_id>/letter")
@staff_required("fees.arrears")
def letter(room_id: int):
    """The 书面通知 with the amounts, to print (A4) and deliver; record it as sent after."""
    entry = _room_or_404(room_id)
    bills = reports.room_open_bills(room_id)
    if not bills:
        abort(404)
    return render_template(
        "fees/staff/arrears_letter.html",
        entry=entry,
        bills=bills,
        total=sum(int(b.due) for b in bills),
        yuan=yuan_text,
        day=today(),
    )


@bp.get("/refused")
@staff_required("fees.figures")
def refused():
    """Households who refuse to pay and still owe (the seed: 及时向有关领导汇报)."""
    return render_template(
        "fees/staff/refused.html",
        entries=reports.refusing(),
        buckets=reports.BUCKETS,
        yuan=yuan_text,
    )


def _rates_table(period: str, rates: dict) -> Table:
    rows = []
    for key, (bill_rate, cash_rate) in rates.items():
        label = "全小区" if key == "community" else f"{key}号楼"
        rows.append(
            [
                label,
                money(bill_rate.billed),
                money(bill_rate.waived),
                money(bill_rate.collected),
                bill_rate.rate,
                money(cash_rate.billed),
                money(cash_rate.collected),
                cash_rate.rate,
            ]
        )
    return Table(
        f"{period} 收缴率",
        [
            Column("范围", TEXT),
            Column("当月账单应收（元）", NUMBER),
            Column("其中减免（元）", NUMBER),
            Column("当月账单已收（元）", NUMBER),
            Column("当月账单收缴率", PERCENT),
            Column("本月应收含月初欠费（元）", NUMBER),
            Column("本月实收（元）", NUMBER),
            Column("本月实收率", PERCENT),
        ],
        rows,
        described=period,
    )


@bp.get("/rates")
@staff_required("fees.figures")
def rates():
    """收缴率 of a month for the community and each building, with the definitions."""
    period = _period(request.args.get("month"))
    figures = reports.month_rates(period)
    fmt = request.args.get("fmt")
    if fmt in ("xlsx", "csv"):
        record_audit("export", target=f"收缴率 {period}", detail=fmt)
        table = _rates_table(period, figures)
        return table_response(fmt, f"收缴率{period}.{fmt}", [table], local_minute(utcnow()))
    return render_template(
        "fees/staff/rates.html",
        period=period,
        previous=_shift(period, -1),
        following=_shift(period, 1),
        figures=figures,
        yuan=yuan_text,
    )


@bp.get("/weekly")
@staff_required("fees.figures")
def weekly():
    """The week's 物管费收缴情况 (seed: 每周统计一次)."""
    day = today()
    text = request.args.get("week") or ""
    try:
        chosen = datetime.strptime(text, "%Y-%m-%d").date() if text else day
        if not date(2000, 1, 1) <= chosen <= date(2099, 12, 31):
            chosen = day
    except ValueError:
        chosen = day
    monday = chosen - timedelta(days=chosen.weekday())
    from .models import METHODS

    return render_template(
        "fees/staff/weekly.html",
        figures=reports.week_figures(monday),
        previous=(monday - timedelta(days=7)).isoformat(),
        following=(monday + timedelta(days=7)).isoformat(),
        methods=METHODS,
        buckets=reports.BUCKETS,
        yuan=yuan_text,
    )


# The desk's chase list is the 客服's working day too.
HOME = (
    *HOME,
    HomePanel(
        "fees/staff/_arrears_home.html",
        lambda _user, day: _arrears_home(day),
        "fees.arrears",
        today_for=frozenset({SERVICE}),
    ),
)


def _arrears_home(day: date):
    entries = reports.aging(day, overdue_only=True)
    if not entries:
        return None
    return {
        "households": len(entries),
        "overdue": sum(e.overdue for e in entries),
        "refusing": sum(1 for e in entries if e.last_chase and e.last_chase.step == "refused"),
    }
