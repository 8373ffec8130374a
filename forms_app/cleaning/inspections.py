"""Storing inspections, finding them again, and the monthly summary for 经理."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.audit import record_audit
from ..accounts.models import actor_label
from ..core.clock import local_time
from ..core.community import community_key
from ..core.database import write_transaction
from ..core.extensions import db
from ..files.uploads import StoredFiles
from ..web.exports import DATE, DATETIME, INTEGER, PERCENT, YES_NO, Column
from ..web.list_filters import ListFilters
from .checklist import Checklist
from .forms import CheckedInspection
from .models import (
    FOLLOW_UP_LABELS,
    RECTIFIED,
    CleaningFollowUp,
    CleaningFollowUpPhoto,
    CleaningInspection,
    CleaningPhoto,
    CleaningResult,
)
from .rectification import (
    LOOP_FILTERS,
    TO_RECHECK,
    TO_RECTIFY,
    Loop,
    loop_condition,
)
from .scoring import FAIL, PASS, Score, score


def find_by_nonce(nonce: str) -> CleaningInspection | None:
    return db.session.scalar(
        select(CleaningInspection).where(CleaningInspection.submission_nonce == nonce)
    )


def store_inspection(checked: CheckedInspection, inspector) -> tuple[int, bool]:
    """Store a checked inspection with its photos; returns (inspection id, created).

    A second POST of the same form (same nonce) is refused by the unique constraint and
    answers with the first inspection. Photos are written before the commit and removed
    again when the commit does not happen.
    """
    counts = score(_Row(i.result, i.area.key_area) for i in checked.items)
    try:
        with StoredFiles(checked.photos) as stored:
            names = iter(stored.names)
            with write_transaction() as session:
                inspection = CleaningInspection(
                    submission_nonce=checked.nonce,
                    inspected_on=checked.inspected_on,
                    building=checked.building,
                    spot=checked.spot,
                    inspector_id=inspector.id,
                    inspector_name=actor_label(inspector),
                    passed_count=counts.passed,
                    failed_count=counts.failed,
                    na_count=counts.not_applicable,
                    key_failed_count=counts.key_failures,
                )
                for position, item in enumerate(checked.items):
                    result = CleaningResult(
                        position=position,
                        area_id=item.area.id,
                        area_name=item.area.name,
                        key_area=item.area.key_area,
                        item_id=item.item.id,
                        item_text=item.item.text,
                        result=item.result,
                        note=item.note,
                    )
                    for photo in item.photos:
                        result.photos.append(
                            CleaningPhoto(
                                stored_name=next(names),
                                original_name=photo.original_name,
                                content_type=photo.content_type,
                                size=photo.size,
                            )
                        )
                    inspection.results.append(result)
                session.add(inspection)
                session.flush()
                record_audit(
                    "cleaning.inspect",
                    target=inspection.reference,
                    detail=f"{checked.inspected_on.isoformat()} {inspection.location}："
                    f"{inspection.area_names}，{counts.label}",
                )
            stored.keep()
            return inspection.id, True
    except IntegrityError:
        existing = find_by_nonce(checked.nonce)
        if existing is None:
            raise
        return existing.id, False


@dataclass(frozen=True)
class _Row:
    result: str
    key_area: bool


def read_filters(args, checklist: Checklist, inspectors: dict[int, str]) -> ListFilters:
    """Filters from the query string: date range, area, inspector, has failures, the state of
    the failed items' 整改 → 复检 loop."""
    names = ("date_from", "date_to", "area", "inspector", "failures", "rectification")
    filters = ListFilters(values={n: (args.get(n) or "").strip() for n in names})
    model = CleaningInspection
    filters.date_range(model.inspected_on)
    area = filters.values["area"]
    if area:
        if area in checklist.areas:
            filters.conditions.append(
                model.id.in_(
                    select(CleaningResult.inspection_id).where(CleaningResult.area_id == area)
                )
            )
        else:
            filters.errors["area"] = "请选择列表中的区域。"
    inspector = filters.values["inspector"]
    if inspector:
        chosen = {str(number): number for number in inspectors}.get(inspector)
        if chosen is not None:
            filters.conditions.append(model.inspector_id == chosen)
        else:
            filters.errors["inspector"] = "请选择列表中的检查人。"
    failures = filters.values["failures"]
    if failures == "yes":
        filters.conditions.append(model.failed_count > 0)
    elif failures == "no":
        filters.conditions.append(model.failed_count == 0)
    elif failures:
        filters.errors["failures"] = "请选择列表中的选项。"
    loop = filters.values["rectification"]
    if loop in LOOP_FILTERS:
        filters.conditions.append(loop_condition(loop))
    elif loop:
        filters.errors["rectification"] = "请选择列表中的整改状态。"
    return filters


def inspectors() -> dict[int, str]:
    """Everyone who has recorded an inspection: id → name as recorded (latest)."""
    rows = db.session.execute(
        select(CleaningInspection.inspector_id, CleaningInspection.inspector_name)
        .where(CleaningInspection.inspector_id.is_not(None))
        .order_by(CleaningInspection.id)
    ).all()
    return dict(rows)


def filtered(filters: ListFilters):
    """Inspections matching the filters, newest first, results loaded for the area names."""
    return (
        select(CleaningInspection)
        .where(*filters.conditions)
        .options(selectinload(CleaningInspection.results))
        .order_by(CleaningInspection.inspected_on.desc(), CleaningInspection.id.desc())
    )


def _place(inspection: CleaningInspection) -> str:
    return f"{inspection.building}号楼" if inspection.building else "公共区域"


def _follow_ups(filters: ListFilters) -> dict[int, list[CleaningFollowUp]]:
    """Every 整改/复检 step of the filtered inspections' failed items, by result, in order."""
    query = (
        select(CleaningFollowUp)
        .join(CleaningResult, CleaningFollowUp.result_id == CleaningResult.id)
        .join(CleaningInspection, CleaningResult.inspection_id == CleaningInspection.id)
        .where(*filters.conditions, CleaningFollowUp.community == community_key())
        .order_by(CleaningFollowUp.result_id, CleaningFollowUp.step)
    )
    steps: dict[int, list[CleaningFollowUp]] = {}
    for row in db.session.scalars(query):
        steps.setdefault(row.result_id, []).append(row)
    return steps


def _local(moment):
    return local_time(moment).replace(tzinfo=None) if moment else None


def inspection_rows(filters: ListFilters):
    """One row per filtered inspection, oldest first: counts, the pass rate (a fraction) and
    how many failed items wait for 整改 and for 复检."""
    query = (
        select(CleaningInspection)
        .where(*filters.conditions)
        .options(selectinload(CleaningInspection.results))
        .order_by(CleaningInspection.inspected_on, CleaningInspection.id)
        .execution_options(yield_per=200)
    )
    steps = _follow_ups(filters)
    for inspection in db.session.scalars(query):
        counted = inspection.score
        states = [
            Loop(r, inspection, steps.get(r.id, [])).state
            for r in inspection.results
            if r.result == FAIL
        ]
        yield (
            inspection.reference,
            inspection.inspected_on,
            _place(inspection),
            inspection.spot,
            inspection.inspector_name,
            inspection.area_names,
            counted.passed,
            counted.failed,
            counted.not_applicable,
            counted.rate,
            counted.key_failures,
            states.count(TO_RECTIFY),
            states.count(TO_RECHECK),
        )


def _loop_cells(loop: Loop | None) -> tuple:
    """The item's 整改 → 复检 columns: state, deadline, the last 整改 and the last 复检."""
    if loop is None:
        return ("",) + (None,) + ("", "", None) + ("", "", "", None)
    rectified = [s for s in loop.steps if s.kind == RECTIFIED]
    rechecked = [s for s in loop.steps if s.kind != RECTIFIED]
    last_fix = rectified[-1] if rectified else None
    last_check = rechecked[-1] if rechecked else None
    return (
        loop.state_label,
        _local(loop.due),
        last_fix.note if last_fix else "",
        last_fix.actor_name if last_fix else "",
        _local(last_fix.created_at) if last_fix else None,
        FOLLOW_UP_LABELS[last_check.kind] if last_check else "",
        last_check.note if last_check else "",
        last_check.actor_name if last_check else "",
        _local(last_check.created_at) if last_check else None,
    )


def export_rows(filters: ListFilters):
    """One row per checked item of the filtered inspections, oldest first (area and item in
    words, as inspected that day; no data ids), with the 整改 → 复检 state of failed items."""
    query = (
        select(CleaningInspection, CleaningResult)
        .join(CleaningResult, CleaningResult.inspection_id == CleaningInspection.id)
        .where(*filters.conditions)
        .order_by(CleaningInspection.inspected_on, CleaningInspection.id, CleaningResult.position)
    )
    photo_counts = (
        select(func.count(CleaningPhoto.id))
        .where(CleaningPhoto.result_id == CleaningResult.id)
        .scalar_subquery()
    )
    steps = _follow_ups(filters)
    for inspection, result, photos in db.session.execute(query.add_columns(photo_counts)):
        loop = Loop(result, inspection, steps.get(result.id, [])) if result.result == FAIL else None
        yield (
            inspection.reference,
            inspection.inspected_on,
            _place(inspection),
            inspection.spot,
            inspection.inspector_name,
            result.area_name,
            result.key_area,
            result.item_text,
            result.result_label,
            result.note,
            photos,
            *_loop_cells(loop),
        )


def follow_up_rows(filters: ListFilters):
    """Every 整改 and 复检 of the filtered inspections, in the order they happened."""
    photo_counts = (
        select(func.count(CleaningFollowUpPhoto.id))
        .where(CleaningFollowUpPhoto.follow_up_id == CleaningFollowUp.id)
        .scalar_subquery()
    )
    query = (
        select(CleaningInspection, CleaningResult, CleaningFollowUp, photo_counts)
        .join(CleaningResult, CleaningResult.inspection_id == CleaningInspection.id)
        .join(CleaningFollowUp, CleaningFollowUp.result_id == CleaningResult.id)
        .where(*filters.conditions, CleaningFollowUp.community == community_key())
        .order_by(CleaningFollowUp.created_at, CleaningFollowUp.id)
    )
    for inspection, result, step, photos in db.session.execute(query):
        yield (
            inspection.reference,
            inspection.inspected_on,
            _place(inspection),
            inspection.spot,
            result.area_name,
            result.item_text,
            result.note,
            step.label,
            step.note,
            photos,
            step.actor_name,
            _local(step.created_at),
        )


INSPECTION_COLUMNS = (
    Column("检查编号", width=11),
    Column("检查日期", DATE),
    Column("楼栋", width=10),
    Column("具体位置", width=16),
    Column("检查人", width=20),
    Column("检查区域", width=24),
    Column("合格项", INTEGER),
    Column("不合格项", INTEGER),
    Column("不适用项", INTEGER),
    Column("合格率", PERCENT),
    Column("重点区域不合格", INTEGER),
    Column("待整改", INTEGER),
    Column("待复检", INTEGER),
)
ITEM_COLUMNS = (
    Column("检查编号", width=11),
    Column("检查日期", DATE),
    Column("楼栋", width=10),
    Column("具体位置", width=16),
    Column("检查人", width=20),
    Column("区域", width=12),
    Column("重点区域", YES_NO),
    Column("检查项", width=48),
    Column("结果", width=8),
    Column("问题说明", width=30),
    Column("照片数", INTEGER),
    Column("整改状态", width=8),
    Column("整改时限", DATETIME),
    Column("整改说明", width=30),
    Column("整改人", width=20),
    Column("整改时间", DATETIME),
    Column("复检结果", width=10),
    Column("复检说明", width=30),
    Column("复检人", width=20),
    Column("复检时间", DATETIME),
)
FOLLOW_UP_COLUMNS = (
    Column("检查编号", width=11),
    Column("检查日期", DATE),
    Column("楼栋", width=10),
    Column("具体位置", width=16),
    Column("区域", width=12),
    Column("检查项", width=48),
    Column("问题说明", width=30),
    Column("环节", width=10),
    Column("说明", width=30),
    Column("照片数", INTEGER),
    Column("人员", width=20),
    Column("时间", DATETIME),
)
EXPORT_HEADER = tuple(column.label for column in ITEM_COLUMNS)


def describe_filters(filters: ListFilters, checklist: Checklist, inspectors: dict[int, str]) -> str:
    """The list's filters in words, for the audit log and the top of the export."""
    values = filters.values
    parts = []
    if values["date_from"] or values["date_to"]:
        parts.append(f"检查日期：{values['date_from'] or '不限'} 至 {values['date_to'] or '不限'}")
    if values["area"] in checklist.areas:
        parts.append(f"区域：{checklist.areas[values['area']].name}")
    if values["inspector"]:
        names = {str(number): name for number, name in inspectors.items()}
        parts.append(f"检查人：{names.get(values['inspector'], values['inspector'])}")
    if values["failures"]:
        parts.append("有不合格项" if values["failures"] == "yes" else "全部合格")
    if values["rectification"] in LOOP_FILTERS:
        parts.append(f"整改：{LOOP_FILTERS[values['rectification']]}")
    return "；".join(parts) or "全部检查"


@dataclass
class AreaSummary:
    area_id: str
    name: str
    key_area: bool
    inspections: int
    score: Score


@dataclass
class ItemFailures:
    item_id: str
    area_name: str
    text: str
    failed: int
    checked: int


@dataclass
class MonthSummary:
    inspections: int
    overall: Score
    areas: list[AreaSummary]
    most_failed: list[ItemFailures]
    key_failures: list[tuple[CleaningInspection, CleaningResult]]


def _current_text(checklist: Checklist, item_id: str, stored: str) -> str:
    """The standard's wording today, or as stored when the item has left the standards."""
    found = checklist.items.get(item_id)
    return found[1].text if found else stored


def month_summary(first: date, after: date, checklist: Checklist, top: int = 10) -> MonthSummary:
    """Pass rate per area, the most-failed items and every key-area failure of [first, after)."""
    in_month = (
        CleaningInspection.inspected_on >= first,
        CleaningInspection.inspected_on < after,
    )
    joined = (
        select()
        .select_from(CleaningResult)
        .join(CleaningInspection, CleaningResult.inspection_id == CleaningInspection.id)
        .where(*in_month)
    )
    passed = func.sum(case((CleaningResult.result == PASS, 1), else_=0))
    failed = func.sum(case((CleaningResult.result == FAIL, 1), else_=0))
    counted = func.count(CleaningResult.id)
    per_area = db.session.execute(
        joined.add_columns(
            CleaningResult.area_id,
            func.max(CleaningResult.area_name),
            func.max(case((CleaningResult.key_area, 1), else_=0)),
            func.count(func.distinct(CleaningResult.inspection_id)),
            passed,
            failed,
            counted,
        ).group_by(CleaningResult.area_id)
    ).all()
    order = {area_id: index for index, area_id in enumerate(checklist.areas)}
    areas = []
    for area_id, name, key, visits, area_passed, area_failed, total in per_area:
        current = checklist.areas.get(area_id)
        areas.append(
            AreaSummary(
                area_id,
                current.name if current else name,
                bool(current.key_area if current else key),
                visits,
                Score(area_passed, area_failed, total - area_passed - area_failed),
            )
        )
    areas.sort(key=lambda a: (order.get(a.area_id, len(order)), a.area_id))
    most_failed = [
        ItemFailures(
            item_id, area_name, _current_text(checklist, item_id, text), item_failed, item_total
        )
        for item_id, area_name, text, item_failed, item_total in db.session.execute(
            joined.add_columns(
                CleaningResult.item_id,
                func.max(CleaningResult.area_name),
                func.max(CleaningResult.item_text),
                failed,
                counted,
            )
            .group_by(CleaningResult.item_id)
            .having(failed > 0)
            .order_by(failed.desc(), CleaningResult.item_id)
            .limit(top)
        ).all()
    ]
    key_failures = db.session.execute(
        select(CleaningInspection, CleaningResult)
        .join(CleaningResult, CleaningResult.inspection_id == CleaningInspection.id)
        .where(*in_month, CleaningResult.key_area.is_(True), CleaningResult.result == FAIL)
        .order_by(
            CleaningInspection.inspected_on.desc(),
            CleaningInspection.id.desc(),
            CleaningResult.position,
        )
    ).all()
    count = db.session.scalar(select(func.count(CleaningInspection.id)).where(*in_month))
    overall = Score(
        sum(a.score.passed for a in areas),
        sum(a.score.failed for a in areas),
        sum(a.score.not_applicable for a in areas),
        len(key_failures),
    )
    return MonthSummary(count, overall, areas, most_failed, [tuple(r) for r in key_failures])
