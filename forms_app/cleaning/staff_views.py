"""The inspection screens: new inspection (phone-first), list with filters, detail (with each
failed item's 整改 → 复检 loop), photos, the monthly summary for 经理, exports."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.datastructures import MultiDict

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.permissions import allowed
from ..core.clock import today, utcnow
from ..core.community import current_community, served_communities
from ..core.extensions import db
from ..core.tokens import is_nonce, new_nonce
from ..files.uploads import send_file_under
from ..web.drafts import DUPLICATE, INVALID, draft_reply, is_draft_request, saved_reply
from ..web.errors import render_error
from ..web.exports import Table, table_csv_response, xlsx_tables_response
from ..web.paging import paginate
from ..web.template_filters import format_rate, local_minute
from ..web.typed_input import select_number
from . import inspections, rectification
from .areas import Scope, load_settings, scope_of, settings
from .checklist import checklist
from .forms import (
    MAX_NOTE,
    MAX_PHOTOS_PER_ITEM,
    MAX_SPOT,
    InspectionError,
    check_inspection,
    item_key,
)
from .models import CleaningInspection, CleaningPhoto
from .scoring import FAIL, NOT_APPLICABLE, PASS, RESULT_LABELS

bp = Blueprint("cleaning_staff", __name__)

# Months the summary pages through (its 上个月 / 下个月 links must stay valid dates).
FIRST_YEAR, LAST_YEAR = 2000, 2099


@bp.record_once
def _check_standards(state) -> None:
    """Build the checklist and read the community's cleaning settings at start-up: a broken
    standards file or setting stops the app, naming the file."""
    checklist()
    for community in served_communities(state.app):
        load_settings(community)


def _buildings() -> list[int]:
    return sorted(current_community().buildings)


def _form_page(values: MultiDict, errors: dict | None = None, status: int = 200):
    return render_template(
        "cleaning/staff/new.html",
        checklist=checklist(),
        values=values,
        errors=errors or {},
        buildings=_buildings(),
        today=today(),
        item_key=item_key,
        labels=RESULT_LABELS,
        PASS=PASS,
        FAIL=FAIL,
        NOT_APPLICABLE=NOT_APPLICABLE,
        max_note=MAX_NOTE,
        max_spot=MAX_SPOT,
        max_item_photos=MAX_PHOTOS_PER_ITEM,
    ), status


@bp.get("/new")
@staff_required("cleaning.inspect")
def new():
    """The inspection form: every area as a section; tick an area to check its items.

    ``building`` (from the 检查下一处 button after saving) starts the form on that building."""
    values = MultiDict({"inspected_on": today().isoformat(), "nonce": new_nonce()})
    building = select_number(request.args.get("building") or "")
    if building in current_community().buildings:
        values["building"] = str(building)
    return _form_page(values)


@bp.post("/new")
@staff_required("cleaning.inspect")
def create():
    """Check and store an inspection, then show it (POST → redirect → GET)."""
    try:
        checked = check_inspection(request.form, request.files, checklist(), _buildings(), today())
    except InspectionError as error:
        if is_draft_request():
            earlier = inspections.find_by_nonce(request.form.get("nonce", ""))
            if earlier is not None:  # sent before, since refused (the standards changed)
                return saved_reply(
                    "这份检查表已经提交过，没有重复保存。",
                    url_for(".detail", inspection_id=earlier.id),
                    DUPLICATE,
                )
            return draft_reply(
                INVALID,
                "检查表有需要修改的地方：" + "；".join(error.errors.values()),
                errors=error.errors,
                status=400,
            )
        values = request.form.copy()
        if not is_nonce(values.get("nonce")):
            values["nonce"] = new_nonce()
        return _form_page(values, error.errors, 400)
    inspection_id, created = inspections.store_inspection(checked, current_staff())
    location = url_for(".detail", inspection_id=inspection_id, saved=1)
    if created:
        return saved_reply("检查记录已保存。", location)
    return saved_reply("这份检查表已经提交过，没有重复保存。", location, DUPLICATE)


def _inspection(inspection_id: int) -> CleaningInspection:
    inspection = db.session.get(CleaningInspection, inspection_id)
    if inspection is None:  # another community's is not there either (the scope hook)
        abort(404)
    return inspection


def out_of_scope(scope: Scope):
    """The 403 for a 保洁 opening an inspection of someone else's area."""
    mine = "、".join(scope.names) or "尚未设置（请联系保洁主管或经理在组织架构中设置）"
    return render_error(403, f"这次检查不在您负责的区域，不能查看。您负责的区域：{mine}。")


def visible_inspection(inspection_id: int) -> tuple[CleaningInspection, Scope]:
    """The inspection and the user's scope; a 404 when missing, a 403 outside their areas."""
    inspection = _inspection(inspection_id)
    scope = scope_of(current_staff())
    if not scope.everything and not rectification.in_scope(inspection, scope):
        abort(make_response(out_of_scope(scope)))
    return inspection, scope


def _filters():
    inspectors = inspections.inspectors()
    return inspections.read_filters(request.args, checklist(), inspectors), inspectors


@bp.get("/")
@staff_required("cleaning.inspect")
def index():
    """Inspections, newest first, with filters: dates, area, inspector, failures, 整改."""
    filters, inspectors = _filters()
    page = paginate(inspections.filtered(filters), request.args.get("page"))
    return render_template(
        "cleaning/staff/index.html",
        page=page,
        filters=filters,
        inspectors=inspectors,
        checklist=checklist(),
        loop_filters=rectification.LOOP_FILTERS,
        loop_counts=rectification.state_counts(i.id for i in page.items),
        states=rectification.STATE_LABELS,
    )


def detail_page(
    inspection: CleaningInspection,
    scope: Scope,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    page_error: str | None = None,
):
    """The inspection with each failed item's loop and the forms the user may send: 整改 on
    an item of their area waiting for it, 复检 on one waiting for it (not their own 整改)."""
    user = current_staff()
    loops = rectification.loops_of(inspection)
    rectifies = allowed(user.role, "cleaning.rectify")
    rechecks = allowed(user.role, "cleaning.recheck")
    may = {
        result_id: {
            "rectify": rectifies
            and loop.state == rectification.TO_RECTIFY
            and scope.covers(inspection.building, loop.result.area_id),
            "recheck": rechecks
            and loop.state == rectification.TO_RECHECK
            and rectification.may_recheck(loop, user),
            "own_work": rechecks
            and loop.state == rectification.TO_RECHECK
            and not rectification.may_recheck(loop, user),
        }
        for result_id, loop in loops.items()
    }
    return render_template(
        "cleaning/staff/detail.html",
        inspection=inspection,
        FAIL=FAIL,
        just_saved=request.args.get("saved") == "1",
        loops=loops,
        may=may,
        errors=errors or {},
        values=values or {},
        page_error=page_error,
        new_nonce=new_nonce,
        states=rectification,
        max_note=MAX_NOTE,
        max_item_photos=MAX_PHOTOS_PER_ITEM,
        rectify_hours=settings().rectify_hours,
    ), status


@bp.get("/<int:inspection_id>")
@staff_required("cleaning.view")
def detail(inspection_id: int):
    """One inspection: score, per-area scores, every item with its result and photos, and
    each failed item's 整改 → 复检 loop."""
    inspection, scope = visible_inspection(inspection_id)
    return detail_page(inspection, scope)


@bp.get("/<int:inspection_id>/photos/<int:photo_id>")
@staff_required("cleaning.view")
def photo(inspection_id: int, photo_id: int):
    """A photo of a failed item, checked against the inspection in the URL."""
    visible_inspection(inspection_id)
    return send_file_under(CleaningPhoto, photo_id, inspection_id, lambda p: p.result.inspection_id)


def _month_arg() -> tuple[date, str | None]:
    """The first day of the month asked for (``2026-05``), default this month."""
    raw = (request.args.get("month") or "").strip()
    this_month = today().replace(day=1)
    if not raw:
        return this_month, None
    try:
        first = date.fromisoformat(raw + "-01")
    except ValueError:
        return this_month, "月份格式应为 年-月，例如 2026-05；已显示本月。"
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        return this_month, f"只能查看 {FIRST_YEAR}—{LAST_YEAR} 年的月份；已显示本月。"
    return first, None


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@bp.get("/summary")
@staff_required("cleaning.summary")
def summary():
    """The month's pass rate per area (with a chart), most-failed items, key-area failures."""
    first, error = _month_arg()
    after = _add_months(first, 1)
    result = inspections.month_summary(first, after, checklist())
    bars = [
        (
            ("★" if a.key_area else "") + a.name,
            a.score.rate,
            f"{format_rate(a.score.rate)}（{a.score.passed}/{a.score.applicable}）",
        )
        for a in result.areas
    ]
    return render_template(
        "cleaning/staff/summary.html",
        summary=result,
        first=first,
        error=error,
        bars=bars,
        previous=_add_months(first, -1),
        following=after,
        last_day=date.fromordinal(after.toordinal() - 1),
    )


@bp.get("/export.<fmt>")
@staff_required("cleaning.inspect")
def export(fmt: str):
    """The filtered inspections as .xlsx (inspections and checked items, one sheet each) or
    CSV (the checked items, UTF-8 with BOM), the filters written at the top."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    filters, inspectors = _filters()
    if filters.errors:
        flash("筛选条件有误，请修改后再导出。", "error")
        return redirect(url_for(".index", **filters.values), code=303)
    described = inspections.describe_filters(filters, checklist(), inspectors)
    record_audit("export", target="保洁品质检查", detail=f"{fmt}；{described}")
    filename = f"保洁品质检查-{today().isoformat()}.{fmt}"
    items = Table("检查明细", inspections.ITEM_COLUMNS, inspections.export_rows(filters), described)
    if fmt == "csv":
        items.rows = stream_with_context(items.rows)
        return table_csv_response(filename, items)
    summary = Table(
        "检查记录", inspections.INSPECTION_COLUMNS, inspections.inspection_rows(filters), described
    )
    steps = Table(
        "整改与复检", inspections.FOLLOW_UP_COLUMNS, inspections.follow_up_rows(filters), described
    )
    return xlsx_tables_response(filename, [summary, items, steps], local_minute(utcnow()))
