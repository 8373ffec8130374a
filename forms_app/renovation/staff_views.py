"""The renovation back office: list, search, detail, workflow steps, patrols, downloads, export."""
from __future__ import annotations

import re
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
from sqlalchemy import case, func, or_, select

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.permissions import allowed
from ..clock import today
from ..community import current_community
from ..database import write_transaction
from ..exports import csv_response, xlsx_response
from ..extensions import db
from ..list_filters import ListFilters
from ..notifications.messages import MESSAGES
from ..notifications.outbox import messages_for
from ..paging import paginate
from ..typed_input import clean_line, select_number
from ..uploads import send_attachment
from . import rules, states
from .applications import resubmission_of
from .models import RenovationApplication, RenovationAttachment
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
    recorded_already,
    store_patrol,
)
from .workflow import (
    ON_SITE, STEPS_BY_ACTION, WorkflowError, advance, latest_end_date, steps_for,
)

bp = Blueprint("renovation_staff", __name__)

ROOM_QUERY = re.compile(r"^\s*(\d{1,3})\D+(\d{1,2})\D+(\d{2,5})\D*$")


def home_figures(_user, day: date) -> dict:
    """The staff home's renovation panel: the pipeline by state and today's patrols due."""
    counts = dict(db.session.execute(
        select(RenovationApplication.state, func.count())
        .group_by(RenovationApplication.state)).all())
    return {"pipeline": [(code, label, counts.get(code, 0)) for code, label in states.LABELS.items()],
            "due_count": len(patrols_due(day))}


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
    query = filters.values["q"][:50]
    if query:
        room = ROOM_QUERY.match(query)
        if room:
            filters.conditions.append((model.building == int(room.group(1)))
                                      & (model.unit == int(room.group(2)))
                                      & (model.room == room.group(3)))
        else:
            filters.conditions.append(or_(model.reference.contains(query.upper(), autoescape=True),
                                          model.owner_name.contains(query, autoescape=True),
                                          model.room == query))
    return filters


def _filtered(filters: ListFilters):
    return (select(RenovationApplication).where(*filters.conditions)
            .order_by(RenovationApplication.id.desc()))


@bp.get("/renovations")
@staff_required("renovation.view")
def renovations():
    """Applications with filters, search and pages; owner mobiles masked."""
    filters = read_filters(request.args)
    page = paginate(_filtered(filters), request.args.get("page"))
    return render_template("renovation/staff/list.html", page=page, filters=filters,
                           state_labels=states.LABELS, buildings=sorted(current_community().buildings),
                           can_export=allowed(current_staff().role, "renovation.export"))


def _application(application_id: int, lock: bool = False) -> RenovationApplication:
    """The application or 404. ``lock`` (inside a write transaction) holds its row until the
    commit, so two posts of one form take turns on PostgreSQL too (SQLite locks anyway)."""
    application = db.session.get(RenovationApplication, application_id,
                                 with_for_update=lock or None)
    if application is None:
        abort(404)
    return application


def _detail(application, status=200, step_errors=None, step_values=None, patrol_errors=None,
            patrol_values=None, page_error=None):
    user = current_staff()
    patrols = db.session.execute(
        select(RenovationPatrol).where(RenovationPatrol.application_id == application.id)
        .order_by(RenovationPatrol.patrol_date.desc(), RenovationPatrol.id.desc())).scalars().all()
    return render_template(
        "renovation/staff/detail.html", application=application,
        steps=steps_for(application, user.role), patrols=patrols,
        patrol_kinds=kinds_for_role(user.role) if application.state in ON_SITE else [],
        work_items=rules.work_item_names(), step_errors=step_errors or {},
        step_values=step_values or {}, patrol_errors=patrol_errors or {},
        patrol_values=patrol_values or {"patrol_date": today().isoformat()}, today=today(),
        page_error=page_error,
        resubmission=resubmission_of(application) if application.state == states.REJECTED
        else None, latest_end=latest_end_date(application),
        sent=messages_for(db.session, RECORD_TYPE, application.id), message_labels=MESSAGES,
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
    """Take one workflow step; the table in renovation/workflow.py decides who may."""
    user = current_staff()
    step = STEPS_BY_ACTION.get(action)
    if step is None:
        abort(404)
    comment = request.form.get("comment", "")
    internal_note = request.form.get("internal_note", "")
    confirmed = request.form.get("confirm") == "yes"
    raw_end = (request.form.get("end_date") or "").strip()
    values = {"action": action, "comment": comment, "internal_note": internal_note,
              "end_date": raw_end}
    new_end = None
    if step.action == "extend" and raw_end:
        try:
            new_end = date.fromisoformat(raw_end)
        except ValueError:
            return _detail(_application(application_id), 400,
                           {action: {"end_date": "日期格式应为 年-月-日。"}}, values)
    try:
        with write_transaction():
            application = _application(application_id, lock=True)
            advance(application, action, user, comment, new_end_date=new_end,
                    internal_note=internal_note, confirmed=confirmed)
            notify_step(db.session(), application, action, comment)
            record_audit("renovation.action", target=application.reference,
                         detail=f"{step.label}：{states.label(application.state)}")
    except WorkflowError as error:
        if error.forbidden:
            abort(403)
        application = _application(application_id)
        if error.field is None:
            return _detail(application, 409, page_error=error.message)
        return _detail(application, 400, {action: {error.field: error.message}}, values)
    flash(f"已{step.label}。", "success")
    return redirect(url_for("renovation_staff.renovation", application_id=application_id), code=303)


@bp.post("/renovations/<int:application_id>/resend-link")
@staff_required("notifications.resend")
def resend_link(application_id: int):
    """Send the owner the status link again (a lost SMS, a new phone); audited."""
    user = current_staff()
    with write_transaction() as session:
        application = _application(application_id, lock=True)
        resend_status_link(session, application, user.username)
        record_audit("notifications.resend", target=application.reference,
                     detail=f"进度链接发给业主手机 {application.owner_mobile[:3]}****"
                            f"{application.owner_mobile[-4:]}")
    flash("已安排重新发送进度链接，发送结果见下方「通知记录」。", "success")
    return redirect(url_for("renovation_staff.renovation", application_id=application_id) + "#messages",
                    code=303)


@bp.post("/renovations/<int:application_id>/patrols")
@staff_required("renovation.view")
def record_patrol(application_id: int):
    """Record a patrol with optional photos; files are kept only if the row is committed."""
    user = current_staff()
    application = _application(application_id)
    if not kinds_for_role(user.role):
        abort(403)
    try:
        values = check_patrol_form(application, user.role, request.form,
                                   request.files.getlist("photos"))
    except PatrolError as error:
        return _detail(application, 400, patrol_errors=error.errors,
                       patrol_values=request.form.to_dict(), page_error=error.errors.get("form"))
    with photo_store(values) as stored:
        with write_transaction() as session:
            application = _application(application_id, lock=True)
            if application.state not in ON_SITE:
                return _detail(application, 409, page_error=(
                    f"申请当前状态为「{application.state_label}」，不能再记录巡查。"))
            if recorded_already(session, application, user, values):
                # Returning before keep(): the second copy's photos are removed again.
                flash("这条巡查记录已经保存过，没有重复保存。", "success")
                return redirect(url_for("renovation_staff.renovation", application_id=application_id),
                                code=303)
            patrol = store_patrol(session, application, user, values, stored)
            record_audit("renovation.patrol", target=application.reference,
                         detail=f"{patrol.kind_name} {values['patrol_date']}"
                                + ("，发现违规" if values["violation"] else ""))
        stored.keep()
    flash("巡查记录已保存。", "success")
    return redirect(url_for("renovation_staff.renovation", application_id=application_id), code=303)


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
    return render_template("renovation/staff/patrols_due.html", due=patrols_due(on), today=on,
                           kinds=list(patrol_kinds().values()))


EXPORT_HEADER = ("申请编号", "申请日期", "房屋", "业主", "业主手机", "装修公司", "现场负责人",
                 "负责人手机", "施工人数", "开工日期", "竣工日期", "装修项目", "施工说明", "状态",
                 "驳回理由", "巡查次数", "违规次数")


def _register_rows(filters: ListFilters):
    """Rows of the renovation register, streamed from the database."""
    names = rules.work_item_names()
    counts = (select(RenovationPatrol.application_id,
                     func.count().label("patrols"),
                     func.sum(case((RenovationPatrol.violation, 1), else_=0)).label("violations"))
              .group_by(RenovationPatrol.application_id).subquery())
    query = (select(RenovationApplication, counts.c.patrols, counts.c.violations)
             .outerjoin(counts, counts.c.application_id == RenovationApplication.id)
             .where(*filters.conditions).order_by(RenovationApplication.id)
             .execution_options(yield_per=500))
    for application, patrols, violations in db.session.execute(query):
        yield (application.reference, application.filed_on, application.room_label,
               application.owner_name, application.owner_mobile, application.contractor_company,
               application.site_lead_name, application.site_lead_mobile, application.workers,
               application.start_date, application.end_date,
               "、".join(names.get(i, i) for i in application.work_items),
               application.description, application.state_label,
               application.rejection_reason or "", patrols or 0, violations or 0)


@bp.get("/renovations/export.<fmt>")
@staff_required("renovation.export")
def export_register(fmt: str):
    """The renovation register as .xlsx or CSV (UTF-8 with BOM), with the list's filters."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    filters = read_filters(request.args)
    if filters.errors:
        flash("筛选条件有误，请修改后再导出。", "error")
        return redirect(url_for("renovation_staff.renovations", **filters.values), code=303)
    record_audit("export", target="装修登记", detail=f"{fmt}；" + "；".join(
        f"{k}={v}" for k, v in filters.values.items() if v))
    filename = f"装修登记-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, EXPORT_HEADER, stream_with_context(_register_rows(filters)))
    return xlsx_response(filename, "装修登记", EXPORT_HEADER, _register_rows(filters))
