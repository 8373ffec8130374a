"""The register of repairs and complaints (报修维修记录本, 客户投诉记录本): list, phone and
walk-in intake, detail with the steps this role may take, photos (its export is in
``export_views``)."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.permissions import allowed
from ..core.clock import utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.security_headers import no_store
from ..core.tokens import new_nonce
from ..files.uploads import send_file_under
from ..notifications.messages import MESSAGES
from ..notifications.outbox import messages_for
from ..web.errors import render_error
from ..web.list_filters import ListFilters
from ..web.paging import paginate
from ..web.typed_input import clean_line
from . import (
    intake,
    settings,
    states,
    workflow,
)
from .figures import overdue_condition
from .forms import STAFF_FORMS
from .models import ServicePhoto, ServiceRequest
from .notices import RECORD_TYPE
from .scope import refusal
from .staff_blueprint import bp
from .workflow import WorkflowError

# A second post of the same step by the same person within this time is a double tap.
DOUBLE_TAP = timedelta(seconds=30)
FILTER_NAMES = ("kind", "state", "source", "overdue", "date_from", "date_to", "q")


def read_filters(args) -> ListFilters:
    """The register's filters: kind, state, source, overdue only, filing dates, search."""
    filters = ListFilters(values={n: clean_line(args.get(n) or "") for n in FILTER_NAMES})
    values, model = filters.values, ServiceRequest
    for name, known, message in (
        ("kind", states.KIND_LABELS, "请选择报修或投诉。"),
        ("state", dict(states.state_choices()), "请选择列表中的状态。"),
        ("source", states.SOURCE_LABELS, "请选择列表中的来源。"),
    ):
        if values[name]:
            if values[name] in known:
                filters.conditions.append(getattr(model, name) == values[name])
            else:
                filters.errors[name] = message
    if values["overdue"]:
        if values["overdue"] == "1":
            filters.conditions.append(overdue_condition(utcnow()))
        else:
            filters.errors["overdue"] = "请勾选或不勾选“只看超时”。"
    filters.date_range(model.filed_on)
    filters.household_search(model)
    return filters


@bp.get("/")
@staff_required("service.register")
def register():
    """Every request, newest first, with filters; owner mobiles masked; overdue marked."""
    filters = read_filters(request.args)
    query = select(ServiceRequest).where(*filters.conditions).order_by(ServiceRequest.id.desc())
    page = paginate(query, request.args.get("page"))
    return render_template(
        "service_requests/staff/register.html",
        page=page,
        filters=filters,
        kinds=states.KIND_LABELS,
        state_choices=states.state_choices(),
        sources=states.SOURCE_LABELS,
        now=utcnow(),
        can_export=allowed(current_staff().role, "service.export"),
    )


def _intake_page(kind: str, form, status: int = 200):
    return no_store(
        current_app.make_response(
            (
                render_template(
                    "service_requests/staff/new.html",
                    form=form,
                    kind=kind,
                    kinds=states.KIND_LABELS,
                    rooms=form.rooms,
                ),
                status,
            )
        )
    )


@bp.route("/new/<kind>", methods=["GET", "POST"])
@staff_required("service.intake")
def new(kind: str):
    """客服 records a phone call or a walk-in as a repair or a complaint."""
    if kind not in STAFF_FORMS:
        abort(404)
    form = STAFF_FORMS[kind]()
    if request.method == "GET":
        form.nonce.data = new_nonce()
        form.source.data = states.PHONE
        return _intake_page(kind, form)
    if form.nonce.data and (existing := intake.find_by_nonce(form.nonce.data)):
        flash(f"这份登记已经保存过（{existing.reference}），没有重复保存。", "success")
        return redirect(url_for(".detail", request_id=existing.id), code=303)
    if not form.validate_on_submit():
        return _intake_page(kind, form, 400)
    user = current_staff()
    filed, created = intake.file_request(
        kind,
        form.values(),
        form.checked_photos,
        form.nonce.data,
        source=form.source.data,
        actor=user,
    )
    if created:
        record_audit(
            "service.file",
            target=filed.reference,
            detail=f"{filed.kind_label}，{filed.source_label}登记",
        )
        flash(f"已登记{filed.kind_label} {filed.reference}。", "success")
    return redirect(url_for(".detail", request_id=filed.id), code=303)


def _item(request_id: int) -> ServiceRequest:
    """The request, if this member of staff may open it (scope.py): else 404 or 403 with
    the reason in Chinese, before anything of the request is shown."""
    item = db.session.get(ServiceRequest, request_id)
    if item is None:
        abort(404)
    if (reason := refusal(current_staff(), item)) is not None:
        abort(current_app.make_response(render_error(403, reason)))
    return item


def detail_page(item: ServiceRequest, status: int = 200, errors=None, values=None, page_error=None):
    user = current_staff()
    return render_template(
        "service_requests/staff/detail.html",
        item=item,
        steps=workflow.steps_for(item, user.role),
        errors=errors or {},
        values=values or {},
        page_error=page_error,
        now=utcnow(),
        workers=workflow.workers(),
        supervisors=workflow.supervisors(item),
        workload=workflow.open_jobs(),
        urgencies=settings.urgencies(),
        departments=settings.departments(),
        action_labels=workflow.ACTION_LABELS,
        may_work=item.assignee_id == user.id or allowed(user.role, "service.close"),
        state_label=states.label,
        sent=messages_for(db.session, RECORD_TYPE, item.id),
        message_labels=MESSAGES,
    ), status


@bp.get("/<int:request_id>")
@staff_required("service.view")
def detail(request_id: int):
    """One request: what, where, who; the mobile masked (revealed by call_owner, audited);
    photos; history; 回访 calls; steps."""
    return detail_page(_item(request_id))


def take_step(request_id: int, action: str, run, page=detail_page, back=None):
    """Run one workflow step on the locked row inside a write transaction and audit it.

    A refused step re-renders ``page`` with the message beside its field (400), or at the
    top when the request's state no longer allows it (409: another member of staff was
    quicker, or it is closed). Always a response object: callers read its status."""
    step = workflow.STEPS_BY_ACTION[action]
    values = {"action": action, **request.form.to_dict()}
    _item(request_id)  # out of this person's scope: 403 before anything is tried or shown
    try:
        with write_transaction():
            item = workflow.locked(request_id)
            if item is None:
                abort(404)
            run(item, current_staff())
            record_audit(
                "service.step", target=item.reference, detail=f"{step.label}：{item.state_label}"
            )
    except WorkflowError as error:
        item = _item(request_id)
        if error.field is None and _just_done_by(item, action, current_staff()):
            # A double tap: the first tap took the step; the second changes nothing.
            flash(f"已{step.label}（重复提交，未重复记录）。", "success")
            return redirect(back or url_for(".detail", request_id=request_id), code=303)
        if error.field is None:
            return current_app.make_response(page(item, 409, page_error=error.message))
        return current_app.make_response(
            page(item, 400, errors={action: {error.field: error.message}}, values=values)
        )
    flash(f"已{step.label}。", "success")
    return redirect(back or url_for(".detail", request_id=request_id), code=303)


def _just_done_by(item: ServiceRequest, action: str, user) -> bool:
    """Whether this user's own last step on the request was this very action, just now."""
    last = item.events[-1] if item.events else None
    return (
        last is not None
        and last.action == action
        and last.actor_id == user.id
        and utcnow() - last.created_at < DOUBLE_TAP
    )


@bp.post("/<int:request_id>/call")
@staff_required("service.call_owner")
def call_owner(request_id: int):
    """The owner's whole mobile as a tap-to-call link, for a request in this person's scope;
    the reveal goes into the audit log."""
    item = _item(request_id)
    record_audit("service.call_owner", target=item.reference, detail=item.room_label)
    user = current_staff()
    back = (
        url_for(".job", request_id=item.id)
        if item.is_repair and not allowed(user.role, "service.register")
        else url_for(".detail", request_id=item.id)
    )
    if item.state == states.AWAITING_VISIT and back.endswith(f"/{item.id}"):
        back += "#step-follow_up"  # the call was the 回访: back to the form that records it
    return render_template("service_requests/staff/call.html", item=item, back=back)


@bp.post("/<int:request_id>/dispatch")
@staff_required("service.dispatch")
def dispatch(request_id: int):
    """派工单: assignee and urgency; the due time follows from the urgency's hours."""
    form = request.form
    return take_step(
        request_id,
        "dispatch",
        lambda item, user: workflow.dispatch(
            item, user, form.get("assignee"), form.get("urgency"), form.get("comment")
        ),
    )


@bp.post("/<int:request_id>/assign")
@staff_required("service.dispatch")
def assign(request_id: int):
    """A complaint to the department concerned."""
    form = request.form
    return take_step(
        request_id,
        "assign",
        lambda item, user: workflow.assign(item, user, form.get("department"), form.get("comment")),
    )


@bp.post("/<int:request_id>/answer")
@staff_required("service.answer")
def answer(request_id: int):
    """The answer to a complaint, as given to the owner."""
    return take_step(
        request_id,
        "answer",
        lambda item, user: workflow.answer(item, user, request.form.get("answer")),
    )


@bp.post("/<int:request_id>/follow-up")
@staff_required("service.follow_up")
def follow_up(request_id: int):
    """回访: satisfied closes; not satisfied reopens to the supervisor chosen here."""
    form = request.form
    return take_step(
        request_id,
        "follow_up",
        lambda item, user: workflow.follow_up(
            item, user, form.get("satisfied"), form.get("owner_view"), form.get("supervisor")
        ),
    )


@bp.post("/<int:request_id>/close")
@staff_required("service.close")
def close(request_id: int):
    """The 经理 closes an open request with a reason."""
    return take_step(
        request_id,
        "close",
        lambda item, user: workflow.close(item, user, request.form.get("reason")),
    )


@bp.get("/<int:request_id>/photos/<int:photo_id>")
@staff_required("service.view")
def photo(request_id: int, photo_id: int):
    """A photo, only under its own request, always as a download."""
    _item(request_id)
    return send_file_under(ServicePhoto, photo_id, request_id, lambda p: p.request_id)
