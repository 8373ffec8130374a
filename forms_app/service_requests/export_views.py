"""The exports of repairs and complaints, in the one export standard (``web/exports``):
the register (报修投诉登记: the columns people read by default, every column on asking), the
figures (客服统计: one row per week or month, one column per figure with its sample size)
and the household visits (走访记录)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import func, select

from ..accounts.access import staff_required
from ..accounts.audit import record_audit
from ..core.clock import today, utcnow
from ..core.extensions import db
from ..web.exports import (
    COLUMN_SET_ERROR,
    COLUMN_SETS,
    DATE,
    DATETIME,
    FULL,
    INTEGER,
    NUMBER,
    PERCENT,
    YES_NO,
    Column,
    Table,
    column_set,
    local_moment,
    table_response,
)
from ..web.list_filters import ListFilters
from ..web.template_filters import local_minute
from . import settings, states
from .figures import MONTH, WEEK, compute, month_of, week_of
from .models import HouseholdVisit, ServiceFollowUp, ServiceRequest
from .staff_blueprint import bp
from .staff_views import read_filters

FORMATS = ("xlsx", "csv")
# How long the register's 内容摘要 is, in characters.
SUMMARY_LENGTH = 30
# How many periods the figures' export lists, newest last.
EXPORT_PERIODS = 12
ONE_DAY = timedelta(days=1)

# --- the register ----------------------------------------------------------------------

SHORT_COLUMNS = (
    Column("编号", width=16),
    Column("类型", width=6),
    Column("房屋", width=18),
    Column("内容摘要", width=40),
    Column("状态", width=12),
    Column("派工人员", width=14),
    Column("时限", DATETIME),
    Column("完成时间", DATETIME),
    Column("回访结果", width=10),
)
FULL_COLUMNS = (
    Column("编号", width=16),
    Column("类别", width=6),
    Column("来源", width=6),
    Column("登记时间", DATETIME),
    Column("登记人", width=12),
    Column("房屋", width=18),
    Column("联系人", width=10),
    Column("手机", width=13),
    Column("位置", width=18),
    Column("内容", width=40),
    Column("方便上门时间", width=14),
    Column("涉及部门", width=10),
    Column("希望处理", width=30),
    Column("状态", width=12),
    Column("紧急程度", width=8),
    Column("处理人", width=14),
    Column("派工时间", DATETIME),
    Column("应完成时间", DATETIME),
    Column("到场时间", DATETIME),
    Column("完工时间", DATETIME),
    Column("维修结果", width=30),
    Column("所用材料", width=20),
    Column("回执", width=24),
    Column("答复时间", DATETIME),
    Column("答复", width=30),
    Column("回访次数", INTEGER),
    Column("回访结果", width=10),
    Column("业主意见", width=30),
    Column("返修次数", INTEGER),
    Column("办结时间", DATETIME),
    Column("办结理由", width=24),
    Column("是否超时", YES_NO),
)


def summary(text: str) -> str:
    """The first words of a description, on one line."""
    line = " ".join(text.split())
    return line if len(line) <= SUMMARY_LENGTH else line[: SUMMARY_LENGTH - 1] + "…"


def _register_query(filters: ListFilters):
    """Each filtered request with its 回访 count and the last call's result, oldest first."""
    calls = (
        select(
            ServiceFollowUp.request_id,
            func.count().label("calls"),
            func.max(ServiceFollowUp.id).label("last_call"),
        )
        .group_by(ServiceFollowUp.request_id)
        .subquery()
    )
    last = select(ServiceFollowUp.satisfied).where(ServiceFollowUp.id == calls.c.last_call)
    return (
        select(ServiceRequest, calls.c.calls, last.scalar_subquery())
        .outerjoin(calls, calls.c.request_id == ServiceRequest.id)
        .where(*filters.conditions)
        .order_by(ServiceRequest.id)
        .execution_options(yield_per=500)
    )


def _call_result(satisfied) -> str:
    return "" if satisfied is None else ("满意" if satisfied else "不满意")


def _short_rows(filters: ListFilters):
    for item, _calls, satisfied in db.session.execute(_register_query(filters)):
        # Done: a repair when the work was finished, a complaint when it was answered.
        done = item.finished_at if item.is_repair else item.answered_at
        yield (
            item.reference,
            item.kind_label,
            item.room_label,
            summary(item.description),
            item.state_label,
            item.assignee_name,
            local_moment(item.due_at),
            local_moment(done),
            _call_result(satisfied),
        )


def _full_rows(filters: ListFilters):
    names = {u.id: u.name for u in settings.urgencies().values()}
    now = utcnow()
    for item, call_count, satisfied in db.session.execute(_register_query(filters)):
        receipt = states.RECEIPT_LABELS.get(item.receipt, "")
        yield (
            item.reference,
            item.kind_label,
            item.source_label,
            local_moment(item.created_at),
            item.recorded_by,
            item.room_label,
            item.owner_name,
            item.owner_mobile,
            item.where if item.is_repair else "",
            item.description,
            item.available_time,
            item.department,
            item.wish,
            item.state_label,
            names.get(item.urgency, ""),
            item.assignee_name,
            local_moment(item.dispatched_at),
            local_moment(item.due_at),
            local_moment(item.arrived_at),
            local_moment(item.finished_at),
            item.result,
            item.materials,
            receipt + (f"：{item.receipt_name}" if item.receipt_name else ""),
            local_moment(item.answered_at),
            item.answer,
            call_count or 0,
            _call_result(satisfied),
            item.owner_view,
            item.reopen_count,
            local_moment(item.closed_at),
            item.close_reason,
            item.overdue_at(now),
        )


def describe_filters(filters: ListFilters) -> str:
    """The register's filters in words, for the audit log and the top of the export."""
    values = filters.values
    parts = []
    if values["kind"]:
        parts.append(f"类别：{states.KIND_LABELS[values['kind']]}")
    if values["state"]:
        parts.append(f"状态：{dict(states.state_choices())[values['state']]}")
    if values["source"]:
        parts.append(f"来源：{states.SOURCE_LABELS[values['source']]}")
    if values["overdue"]:
        parts.append("只看超时")
    if values["date_from"] or values["date_to"]:
        parts.append(f"登记日期：{values['date_from'] or '不限'} 至 {values['date_to'] or '不限'}")
    if values["q"]:
        parts.append(f"搜索：{values['q']}")
    return "；".join(parts) or "全部登记"


@bp.get("/export.<fmt>")
@staff_required("service.export")
def export(fmt: str):
    """The register as .xlsx or CSV (UTF-8 with BOM), with the list's filters: the columns
    people read (``columns=short``, the default) or every column (``columns=full``)."""
    if fmt not in FORMATS:
        abort(404)
    filters = read_filters(request.args)
    columns = column_set(request.args)
    if filters.errors or columns is None:
        flash("筛选条件有误，请修改后再导出。" if filters.errors else COLUMN_SET_ERROR, "error")
        return redirect(url_for(".register", **filters.values), code=303)
    described = describe_filters(filters)
    record_audit(
        "export", target="报修投诉登记", detail=f"{fmt}；{COLUMN_SETS[columns]}；{described}"
    )
    filename = f"报修投诉登记-{today().isoformat()}.{fmt}"
    if columns == FULL:
        table = Table("报修投诉登记", FULL_COLUMNS, _full_rows(filters), described)
    else:
        table = Table("报修投诉登记", SHORT_COLUMNS, _short_rows(filters), described)
    return table_response(fmt, filename, [table], local_minute(utcnow()))


# --- the figures -----------------------------------------------------------------------


def _figure_columns(figures) -> list[Column]:
    """统计周期 and its days, then each figure, a rate or an average followed by its sample."""
    columns = [Column("统计周期", width=30), Column("开始日期", DATE), Column("结束日期", DATE)]
    for figure in figures:
        if figure.unit == "rate":
            columns.append(Column(figure.name, PERCENT))
        elif figure.unit == "hours":
            columns.append(Column(f"{figure.name}（小时）", NUMBER))
            columns.append(Column(f"{figure.name}中位数（小时）", NUMBER))
        else:
            columns.append(Column(figure.name, INTEGER))
        if figure.unit in ("rate", "hours"):
            columns.append(Column(f"{figure.name}样本数", INTEGER))
    return columns


def _rounded(hours: float | None) -> float | None:
    return None if hours is None else round(hours, 2)


def _figure_rows(computed) -> list[list]:
    rows = []
    for period, figures in computed:
        row = [period.label, period.first, period.after - ONE_DAY]
        for figure in figures:
            if figure.unit == "hours":
                row += [_rounded(figure.value), _rounded(figure.median)]
            else:
                row.append(figure.value)
            if figure.unit in ("rate", "hours"):
                row.append(figure.sample_size)
        rows.append(row)
    return rows


@bp.get("/figures/export.<fmt>")
@staff_required("service.export")
def export_figures(fmt: str):
    """The last twelve weeks' (``by=week``) or months' (``by=month``) figures as .xlsx (with
    a sheet of the figures' definitions) or CSV: one row per period."""
    kind = request.args.get("by", WEEK)
    if fmt not in FORMATS or kind not in (WEEK, MONTH):
        abort(404)
    label = "周" if kind == WEEK else "月"
    last = week_of(today()) if kind == WEEK else month_of(today())
    periods = [last.shifted(-steps) for steps in range(EXPORT_PERIODS - 1, -1, -1)]
    computed = [(period, compute(period)) for period in periods]
    span = f"{EXPORT_PERIODS} 周" if kind == WEEK else f"{EXPORT_PERIODS} 个月"
    described = f"按{label}统计，近 {span}：{periods[0].label} 至 {last.label}"
    record_audit("export", target="客服统计", detail=f"{fmt}；{kind}")
    latest = computed[-1][1]
    figures_table = Table(
        f"客服统计（按{label}）", _figure_columns(latest), _figure_rows(computed), described
    )
    definitions = Table(
        "指标定义",
        [Column("指标", width=20), Column("计算方法", width=90)],
        [(figure.name, figure.definition) for figure in latest],
        described,
    )
    filename = f"客服统计-按{label}-{today().isoformat()}.{fmt}"
    return table_response(fmt, filename, [figures_table, definitions], local_minute(utcnow()))


# --- the household visits --------------------------------------------------------------

VISIT_COLUMNS = (
    Column("走访日期", DATE),
    Column("类型", width=10),
    Column("房屋", width=18),
    Column("受访人", width=10),
    Column("业主意见和建议", width=40),
    Column("跟进事项", width=30),
    Column("业主签字", YES_NO),
    Column("走访人", width=14),
    Column("记录时间", DATETIME),
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
            local_moment(visit.created_at),
        )


@bp.get("/visits/export.<fmt>")
@staff_required("service.export")
def export_visits(fmt: str):
    """Every visit as .xlsx or CSV, for the monthly report to the 管理处负责人."""
    if fmt not in FORMATS:
        abort(404)
    record_audit("export", target="走访记录", detail=fmt)
    filename = f"走访记录-{today().isoformat()}.{fmt}"
    table = Table("走访记录", VISIT_COLUMNS, _visit_rows(), "全部走访记录")
    return table_response(fmt, filename, [table], local_minute(utcnow()))
