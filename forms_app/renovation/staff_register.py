"""The register of renovation applications: filters, search, pages, and its exports (Excel, CSV) with the patrols."""

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
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.permissions import allowed
from ..core.clock import local_time, today, utcnow
from ..core.community import current_community
from ..core.extensions import db
from ..web.exports import (
    DATE,
    DATETIME,
    INTEGER,
    YES_NO,
    Column,
    Table,
    table_csv_response,
    xlsx_tables_response,
)
from ..web.list_filters import ListFilters
from ..web.paging import paginate
from ..web.template_filters import local_minute
from ..web.typed_input import clean_line, select_number
from . import rules, states
from .models import RenovationApplication
from .patrol_checklist import FAIL
from .patrols import (
    FIX,
    OPEN,
    FindingPhoto,
    FindingStep,
    PatrolCheck,
    PatrolPhoto,
    RenovationPatrol,
)
from .staff_blueprint import bp


def read_filters(args) -> ListFilters:
    """Filters from the query string: state, building, filing-date range, free-text search."""
    names = ("state", "building", "date_from", "date_to", "q")
    filters = ListFilters(values={n: clean_line(args.get(n) or "") for n in names})
    model = RenovationApplication
    state = filters.values["state"]
    if state:
        if state in states.LABELS:
            filters.conditions.append(model.state == state)
        else:
            filters.errors["state"] = "请选择列表中的状态。"
    building = filters.values["building"]
    if building:
        if select_number(building) in current_community().buildings:
            filters.conditions.append(model.building == select_number(building))
        else:
            filters.errors["building"] = "请选择列表中的楼栋。"
    filters.date_range(model.filed_on)
    filters.household_search(model)
    return filters


def _filtered(filters: ListFilters):
    return (
        select(RenovationApplication)
        .where(*filters.conditions)
        .order_by(RenovationApplication.id.desc())
    )


@bp.get("/renovations")
@staff_required("renovation.view")
def renovations():
    """Applications with filters, search and pages; owner mobiles masked."""
    filters = read_filters(request.args)
    page = paginate(_filtered(filters), request.args.get("page"))
    return render_template(
        "renovation/staff/list.html",
        page=page,
        filters=filters,
        state_labels=states.LABELS,
        buildings=sorted(current_community().buildings),
        can_export=allowed(current_staff().role, "renovation.export"),
    )


REGISTER_COLUMNS = (
    Column("申请编号", width=16),
    Column("申请日期", DATE),
    Column("房屋", width=18),
    Column("业主", width=10),
    Column("业主手机", width=14),
    Column("装修公司", width=22),
    Column("现场负责人", width=12),
    Column("负责人手机", width=14),
    Column("施工人数", INTEGER),
    Column("开工日期", DATE),
    Column("竣工日期", DATE),
    Column("装修项目", width=30),
    Column("施工说明", width=40),
    Column("状态", width=10),
    Column("驳回理由", width=30),
    Column("巡查次数", INTEGER),
    Column("违规次数", INTEGER),
)
PATROL_COLUMNS = (
    Column("申请编号", width=16),
    Column("房屋", width=18),
    Column("巡查日期", DATE),
    Column("巡查类型", width=12),
    Column("巡查人", width=20),
    Column("巡查情况", width=40),
    Column("发现违规", YES_NO),
    Column("违规情况", width=40),
    Column("照片数", INTEGER),
)
# One row per 不合格 item of a checklist patrol, with where its 整改 → 复查 loop stands.
FINDING_COLUMNS = (
    Column("申请编号", width=16),
    Column("房屋", width=18),
    Column("巡查日期", DATE),
    Column("巡查类型", width=12),
    Column("巡查人", width=20),
    Column("检查项", width=30),
    Column("问题", width=40),
    Column("整改期限", DATE),
    Column("状态", width=14),
    Column("逾期天数", INTEGER),
    Column("整改完成时间", DATETIME),
    Column("整改情况", width=30),
    Column("整改记录人", width=20),
    Column("复查时间", DATETIME),
    Column("复查结果", width=12),
    Column("复查人", width=20),
    Column("复查情况", width=30),
    Column("照片数", INTEGER),
)
EXPORT_HEADER = tuple(column.label for column in REGISTER_COLUMNS)


def _register_rows(filters: ListFilters):
    """Rows of the renovation register, streamed from the database."""
    names = rules.work_item_names()
    counts = (
        select(
            RenovationPatrol.application_id,
            func.count().label("patrols"),
            func.sum(case((RenovationPatrol.violation, 1), else_=0)).label("violations"),
        )
        .group_by(RenovationPatrol.application_id)
        .subquery()
    )
    query = (
        select(RenovationApplication, counts.c.patrols, counts.c.violations)
        .outerjoin(counts, counts.c.application_id == RenovationApplication.id)
        .where(*filters.conditions)
        .order_by(RenovationApplication.id)
        .execution_options(yield_per=500)
    )
    for application, patrols, violations in db.session.execute(query):
        yield (
            application.reference,
            application.filed_on,
            application.room_label,
            application.owner_name,
            application.owner_mobile,
            application.contractor_company,
            application.site_lead_name,
            application.site_lead_mobile,
            application.workers,
            application.start_date,
            application.end_date,
            "、".join(names.get(i, i) for i in application.work_items),
            application.description,
            application.state_label,
            application.rejection_reason or "",
            patrols or 0,
            violations or 0,
        )


def _patrol_rows(filters: ListFilters):
    """The patrols of the filtered applications, by application and date."""
    photos = (
        select(func.count(PatrolPhoto.id))
        .where(PatrolPhoto.patrol_id == RenovationPatrol.id)
        .scalar_subquery()
    )
    finding_photos = (
        select(func.count(FindingPhoto.id))
        .join(PatrolCheck, PatrolCheck.id == FindingPhoto.check_id)
        .where(PatrolCheck.patrol_id == RenovationPatrol.id, FindingPhoto.step_id.is_(None))
        .scalar_subquery()
    )
    query = (
        select(RenovationPatrol, RenovationApplication, photos + finding_photos)
        .join(RenovationApplication, RenovationApplication.id == RenovationPatrol.application_id)
        .options(selectinload(RenovationPatrol.checks))
        .where(*filters.conditions)
        .order_by(RenovationApplication.id, RenovationPatrol.patrol_date, RenovationPatrol.id)
        .execution_options(yield_per=500)
    )
    for patrol, application, photo_count in db.session.execute(query):
        yield (
            application.reference,
            application.room_label,
            patrol.patrol_date,
            patrol.kind_name,
            patrol.inspector_name,
            patrol.summary,
            patrol.violation,
            patrol.violation_description,
            photo_count,
        )


def _finding_rows(filters: ListFilters):
    """The findings of the filtered applications' patrols: the last 整改 and the last 复查
    of each (the whole history is on the application's page)."""
    on = today()
    query = (
        select(PatrolCheck, RenovationPatrol, RenovationApplication)
        .join(RenovationPatrol, RenovationPatrol.id == PatrolCheck.patrol_id)
        .join(RenovationApplication, RenovationApplication.id == RenovationPatrol.application_id)
        .options(selectinload(PatrolCheck.steps), selectinload(PatrolCheck.photos))
        .where(PatrolCheck.result == FAIL, *filters.conditions)
        .order_by(RenovationApplication.id, RenovationPatrol.patrol_date, PatrolCheck.id)
        .execution_options(yield_per=500)
    )
    for check, patrol, application in db.session.execute(query):
        fixes = [step for step in check.steps if step.action == FIX]
        rechecks = [step for step in check.steps if step.action != FIX]
        fix = fixes[-1] if fixes else None
        recheck = rechecks[-1] if rechecks else None
        overdue = check.overdue_days(on)
        yield (
            application.reference,
            application.room_label,
            patrol.patrol_date,
            patrol.kind_name,
            patrol.inspector_name,
            check.item_text,
            check.note,
            check.deadline,
            "逾期未整改" if overdue else check.status_label,
            overdue if check.status == OPEN else None,
            _local(fix),
            fix.note if fix else "",
            fix.actor_name if fix else "",
            _local(recheck),
            recheck.label if recheck else "",
            recheck.actor_name if recheck else "",
            recheck.note if recheck else "",
            len(check.photos),
        )


def _local(step: FindingStep | None):
    return local_time(step.created_at).replace(tzinfo=None) if step else None


def describe_filters(filters: ListFilters) -> str:
    """The register's filters in words, for the audit log and the top of the export."""
    values = filters.values
    parts = []
    if values["state"]:
        parts.append(f"状态：{states.LABELS.get(values['state'], values['state'])}")
    if values["building"]:
        parts.append(f"楼栋：{values['building']}号楼")
    if values["date_from"] or values["date_to"]:
        parts.append(f"申请日期：{values['date_from'] or '不限'} 至 {values['date_to'] or '不限'}")
    if values["q"]:
        parts.append(f"搜索：{values['q']}")
    return "；".join(parts) or "全部申请"


@bp.get("/renovations/export.<fmt>")
@staff_required("renovation.export")
def export_register(fmt: str):
    """The renovation register as .xlsx (register, patrols and the patrols' findings with
    their 整改 and 复查, one sheet each) or CSV (the register, UTF-8 with BOM), with the list's
    filters written at the top."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    filters = read_filters(request.args)
    if filters.errors:
        flash("筛选条件有误，请修改后再导出。", "error")
        return redirect(url_for("renovation_staff.renovations", **filters.values), code=303)
    described = describe_filters(filters)
    record_audit("export", target="装修登记", detail=f"{fmt}；{described}")
    filename = f"装修登记-{today().isoformat()}.{fmt}"
    register = Table("装修登记", REGISTER_COLUMNS, _register_rows(filters), described)
    if fmt == "csv":
        register.rows = stream_with_context(register.rows)
        return table_csv_response(filename, register)
    patrols = Table("巡查记录", PATROL_COLUMNS, _patrol_rows(filters), described)
    findings = Table("巡查整改", FINDING_COLUMNS, _finding_rows(filters), described)
    return xlsx_tables_response(filename, [register, patrols, findings], local_minute(utcnow()))
