"""Storing inspections, finding them again, and the monthly summary for 经理."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.audit import record_audit
from ..accounts.models import actor_label
from ..core.database import write_transaction
from ..core.extensions import db
from ..files.uploads import StoredFiles
from ..web.exports import DATE, INTEGER, PERCENT, YES_NO, Column
from ..web.list_filters import ListFilters
from .checklist import Checklist
from .forms import CheckedInspection
from .models import CleaningInspection, CleaningPhoto, CleaningResult
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
    """Filters from the query string: date range, area, inspector, has failures."""
    names = ("date_from", "date_to", "area", "inspector", "failures")
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


def inspection_rows(filters: ListFilters):
    """One row per filtered inspection, oldest first: counts and the pass rate (a fraction)."""
    query = (
        select(CleaningInspection)
        .where(*filters.conditions)
        .options(selectinload(CleaningInspection.results))
        .order_by(CleaningInspection.inspected_on, CleaningInspection.id)
        .execution_options(yield_per=200)
    )
    for inspection in db.session.scalars(query):
        counted = inspection.score
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
        )


def export_rows(filters: ListFilters):
    """One row per checked item of the filtered inspections, oldest first (area and item in
    words, as inspected that day; no data ids)."""
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
    for inspection, result, photos in db.session.execute(query.add_columns(photo_counts)):
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
    in_month = (CleaningInspection.inspected_on >= first, CleaningInspection.inspected_on < after)
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
