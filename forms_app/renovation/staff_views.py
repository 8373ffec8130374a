"""The renovation back office: list, search, detail, workflow steps, patrols, downloads, export."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.permissions import allowed
from ..core.clock import today, utcnow
from ..core.community import current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.tokens import is_nonce, new_nonce
from ..files.uploads import send_attachment
from ..notifications.messages import MESSAGES
from ..notifications.outbox import messages_for
from ..web.drafts import (
    CONFLICT,
    DUPLICATE,
    INVALID,
    SAVED,
    draft_reply,
    is_draft_request,
    saved_reply,
)
from ..web.errors import render_error
from ..web.exports import (
    DATE,
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
from .applications import resubmission_of
from .models import RenovationApplication, RenovationAttachment, RenovationEvent
from .notices import RECORD_TYPE, notify_step, resend_status_link
from .patrols import (
    PatrolError,
    PatrolPhoto,
    RenovationPatrol,
    check_patrol_form,
    kinds_for_role,
    patrol_kinds,
    patrols_due,
    photo_store,
    store_patrol,
)
from .patrols import (
    find_by_nonce as find_patrol,
)
from .workflow import (
    ON_SITE,
    STEPS_BY_ACTION,
    WorkflowError,
    advance,
    latest_end_date,
    steps_for,
)

bp = Blueprint("renovation_staff", __name__)


HOME_LIST = 8  # items a home panel lists before "查看全部"


def home_figures(_user, day: date) -> dict:
    """The staff home's overview: the number of applications in each state."""
    counts = dict(
        db.session.execute(
            select(RenovationApplication.state, func.count()).group_by(RenovationApplication.state)
        ).all()
    )
    return {
        "pipeline": [(code, label, counts.get(code, 0)) for code, label in states.LABELS.items()]
    }


def patrols_due_for(role: str, day: date):
    """Today's due patrols of the kinds this role records (a guard never sees 装修办 items)."""
    kinds = {kind["id"] for kind in kinds_for_role(role)}
    return [item for item in patrols_due(day) if item.kind["id"] in kinds]


def patrol_home_figures(user, day: date) -> dict | None:
    """Today's patrols due for the user's patrol kinds; None for roles that record none."""
    if not kinds_for_role(user.role):
        return None
    due = patrols_due_for(user.role, day)
    return {"due": due[:HOME_LIST], "due_count": len(due)}


def _oldest_in(state: str) -> dict:
    query = select(RenovationApplication).where(RenovationApplication.state == state)
    count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(query.order_by(RenovationApplication.id).limit(HOME_LIST)).all()
    return {"items": items, "count": count, "state": state, "label": states.label(state)}


def review_home_figures(_user, _day: date) -> dict:
    """Applications waiting for review (待审核), oldest first: the 客服's work."""
    return _oldest_in(states.PENDING)


def acceptance_home_figures(_user, _day: date) -> dict:
    """Applications waiting for acceptance (待验收), oldest first: the 工程's work."""
    return _oldest_in(states.AWAITING_ACCEPTANCE)


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


def _application(application_id: int, lock: bool = False) -> RenovationApplication:
    """The application or 404. ``lock`` (inside a write transaction) holds its row until the
    commit, so two posts of one form take turns on PostgreSQL too (SQLite locks anyway)."""
    application = db.session.get(
        RenovationApplication, application_id, with_for_update=lock or None
    )
    if application is None:
        abort(404)
    return application


def _detail(
    application,
    status=200,
    step_errors=None,
    step_values=None,
    patrol_errors=None,
    patrol_values=None,
    page_error=None,
):
    user = current_staff()
    patrols = (
        db.session.execute(
            select(RenovationPatrol)
            .where(RenovationPatrol.application_id == application.id)
            .order_by(RenovationPatrol.patrol_date.desc(), RenovationPatrol.id.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "renovation/staff/detail.html",
        application=application,
        steps=steps_for(application, user.role),
        patrols=patrols,
        new_nonce=new_nonce,
        patrol_kinds=kinds_for_role(user.role) if application.state in ON_SITE else [],
        work_items=rules.work_item_names(),
        step_errors=step_errors or {},
        step_values=step_values or {},
        patrol_errors=patrol_errors or {},
        patrol_values=patrol_values
        or {
            "patrol_date": today().isoformat(),
            "nonce": new_nonce(),
            "kind": request.args.get("kind", ""),
        },
        today=today(),
        page_error=page_error,
        latest_end=latest_end_date(application),
        resubmission=resubmission_of(application) if application.state == states.REJECTED else None,
        sent=messages_for(db.session, RECORD_TYPE, application.id),
        message_labels=MESSAGES,
        may_resend=allowed(user.role, "notifications.resend"),
    ), status


@bp.get("/renovations/<int:application_id>")
@staff_required("renovation.view")
def renovation(application_id: int):
    """One application: details with the whole mobile, attachments, history, patrols, actions."""
    return _detail(_application(application_id))


@bp.post("/renovations/<int:application_id>/steps/<action>")
@staff_required("renovation.view")
def take_step(application_id: int, action: str):
    """Take one workflow step; the table in renovation/workflow.py decides who may.

    The form's nonce (kept with the step) makes a second send of one form — a double tap,
    a draft replayed from the phone — find the step instead of being refused."""
    user = current_staff()
    step = STEPS_BY_ACTION.get(action)
    if step is None:
        abort(404)
    detail = url_for("renovation_staff.renovation", application_id=application_id)
    nonce = request.form.get("nonce", "")
    if is_nonce(nonce) and _step_taken(application_id, nonce):
        return saved_reply(f"「{step.label}」已经办理过，没有重复办理。", detail, DUPLICATE)
    comment = request.form.get("comment", "")
    internal_note = request.form.get("internal_note", "")
    confirmed = request.form.get("confirm") == "yes"
    raw_end = (request.form.get("end_date") or "").strip()
    values = {
        "action": action,
        "comment": comment,
        "internal_note": internal_note,
        "end_date": raw_end,
    }
    new_end = None
    if step.action == "extend" and raw_end:
        try:
            new_end = date.fromisoformat(raw_end)
        except ValueError:
            if is_draft_request():
                return draft_reply(INVALID, "日期格式应为 年-月-日。", status=400)
            return _detail(
                _application(application_id),
                400,
                {action: {"end_date": "日期格式应为 年-月-日。"}},
                values,
            )
    try:
        with write_transaction():
            application = _application(application_id, lock=True)
            event = advance(
                application,
                action,
                user,
                comment,
                new_end_date=new_end,
                internal_note=internal_note,
                confirmed=confirmed,
            )
            if is_nonce(nonce):
                event.submission_nonce = nonce
            notify_step(db.session(), application, action, comment)
            record_audit(
                "renovation.action",
                target=application.reference,
                detail=f"{step.label}：{states.label(application.state)}",
            )
    except WorkflowError as error:
        if error.forbidden:
            abort(403)
        if is_draft_request():
            outcome, status = (CONFLICT, 409) if error.field is None else (INVALID, 400)
            return draft_reply(outcome, error.message, status=status)
        application = _application(application_id)
        if error.field is None:
            return _detail(application, 409, page_error=error.message)
        return _detail(application, 400, {action: {error.field: error.message}}, values)
    except IntegrityError:
        # The same form committed by another worker meanwhile (two sends of one draft).
        db.session.rollback()
        if not _step_taken(application_id, nonce):
            raise
        return saved_reply(f"「{step.label}」已经办理过，没有重复办理。", detail, DUPLICATE)
    return saved_reply(f"已{step.label}。", detail)


def _step_taken(application_id: int, nonce: str) -> bool:
    return (
        db.session.scalar(
            select(RenovationEvent.id).where(
                RenovationEvent.application_id == application_id,
                RenovationEvent.submission_nonce == nonce,
            )
        )
        is not None
    )


@bp.post("/renovations/<int:application_id>/resend-link")
@staff_required("notifications.resend")
def resend_link(application_id: int):
    """Send the owner the status link again (a lost SMS, a new phone); audited."""
    user = current_staff()
    with write_transaction() as session:
        application = _application(application_id, lock=True)
        resend_status_link(session, application, user.username)
        record_audit(
            "notifications.resend",
            target=application.reference,
            detail=f"进度链接发给业主手机 {application.owner_mobile[:3]}****"
            f"{application.owner_mobile[-4:]}",
        )
    flash("已安排重新发送进度链接，发送结果见下方「通知记录」。", "success")
    return redirect(
        url_for("renovation_staff.renovation", application_id=application_id) + "#messages",
        code=303,
    )


@bp.post("/renovations/<int:application_id>/patrols")
@staff_required("renovation.view")
def record_patrol(application_id: int):
    """Record a patrol with optional photos; files are kept only if the row is committed.

    The form's nonce makes a second send (a double tap, a draft replayed from the phone)
    find the first patrol. After saving, the list of what is still due is one tap away."""
    user = current_staff()
    application = _application(application_id)
    if not kinds_for_role(user.role):
        return render_error(403, "您的角色不记录装修巡查。")
    earlier = find_patrol(db.session, request.form.get("nonce"))
    if earlier is not None and earlier.application_id == application_id:
        return _patrol_saved(user, earlier, DUPLICATE)
    try:
        values = check_patrol_form(
            application, user.role, request.form, request.files.getlist("photos")
        )
    except PatrolError as error:
        if is_draft_request():
            outcome = CONFLICT if application.state not in ON_SITE else INVALID
            return draft_reply(
                outcome,
                error.errors.get("form") or "巡查记录有需要修改的地方，请打开表单查看。",
                errors=error.errors,
                status=409 if outcome == CONFLICT else 400,
            )
        values = request.form.to_dict()
        if not is_nonce(values.get("nonce")):
            values["nonce"] = new_nonce()
        return _detail(
            application,
            400,
            patrol_errors=error.errors,
            patrol_values=values,
            page_error=error.errors.get("form"),
        )
    try:
        with photo_store(values) as stored:
            with write_transaction() as session:
                application = _application(application_id, lock=True)
                if application.state not in ON_SITE:
                    message = f"申请当前状态为「{application.state_label}」，不能再记录巡查。"
                    if is_draft_request():
                        return draft_reply(CONFLICT, message, status=409)
                    return _detail(application, 409, page_error=message)
                patrol = store_patrol(session, application, user, values, stored)
                record_audit(
                    "renovation.patrol",
                    target=application.reference,
                    detail=f"{patrol.kind_name} {values['patrol_date']}"
                    + ("，发现违规" if values["violation"] else ""),
                )
            stored.keep()
    except IntegrityError:
        # The same nonce committed by another worker meanwhile (two sends of one draft).
        db.session.rollback()
        earlier = find_patrol(db.session, values["nonce"])
        if earlier is None:
            raise
        return _patrol_saved(user, earlier, DUPLICATE)
    return _patrol_saved(user, patrol, SAVED)


def _patrol_saved(user, patrol: RenovationPatrol, outcome: str):
    """Back to what is still due for this role (the next item is the list's first row)."""
    reference = patrol.application.reference
    if outcome == DUPLICATE:
        message = f"这条巡查记录（{reference} {patrol.kind_name}）已经保存过，没有重复保存。"
    else:
        message = f"巡查记录已保存：{reference} {patrol.kind_name}。"
    return saved_reply(message, url_for("renovation_staff.patrols_due"), outcome)


@bp.get("/renovations/<int:application_id>/attachments/<int:attachment_id>")
@staff_required("renovation.view")
def attachment(application_id: int, attachment_id: int):
    """An application's attachment, only for logged-in staff and only under its application."""
    found = db.session.get(RenovationAttachment, attachment_id)
    if found is None or found.application_id != application_id:
        abort(404)
    return send_attachment(found)


@bp.get("/renovations/<int:application_id>/patrol-photos/<int:photo_id>")
@staff_required("renovation.view")
def patrol_photo(application_id: int, photo_id: int):
    """A patrol photo, checked against the application in the URL."""
    photo = db.session.get(PatrolPhoto, photo_id)
    if photo is None or photo.patrol.application_id != application_id:
        abort(404)
    return send_attachment(photo)


@bp.get("/patrols/due", endpoint="patrols_due")
@staff_required("renovation.view")
def patrols_due_page():
    """今日待巡查: every on-site renovation whose patrol is due or overdue, oldest first."""
    on = today()
    role = current_staff().role
    kinds = kinds_for_role(role)
    # Roles that record no patrol (none today) see every kind, to know what is outstanding.
    due = patrols_due_for(role, on) if kinds else patrols_due(on)
    return render_template(
        "renovation/staff/patrols_due.html",
        due=due,
        today=on,
        kinds=kinds or list(patrol_kinds().values()),
        records=bool(kinds),
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
    query = (
        select(RenovationPatrol, RenovationApplication, photos)
        .join(RenovationApplication, RenovationApplication.id == RenovationPatrol.application_id)
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
            patrol.findings,
            patrol.violation,
            patrol.violation_description,
            photo_count,
        )


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
    """The renovation register as .xlsx (register and patrols, one sheet each) or CSV
    (the register, UTF-8 with BOM), with the list's filters written at the top."""
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
    return xlsx_tables_response(filename, [register, patrols], local_minute(utcnow()))
