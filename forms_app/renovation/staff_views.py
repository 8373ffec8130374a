"""One application in the back office: its page, the workflow steps, the status link sent again, its attachments and patrol photos."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.models import actor_label
from ..accounts.permissions import allowed
from ..core.clock import today
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.tokens import is_nonce, new_nonce
from ..files.uploads import send_file_under
from ..notifications.messages import MESSAGES
from ..notifications.outbox import messages_for
from ..web.drafts import (
    CONFLICT,
    DUPLICATE,
    INVALID,
    draft_reply,
    is_draft_request,
    saved_reply,
)
from . import rules, states
from .applications import resubmission_of
from .findings import findings_of, may_handle
from .models import RenovationApplication, RenovationAttachment, RenovationEvent
from .notices import RECORD_TYPE, notify_step, resend_status_link
from .patrol_checklist import RESULT_LABELS, fix_days, patrol_checklist
from .patrols import (
    PatrolPhoto,
    RenovationPatrol,
    item_key,
    kinds_for_role,
    patrol_kinds,
)
from .staff_blueprint import bp
from .workflow import (
    ON_SITE,
    STEPS_BY_ACTION,
    WorkflowError,
    advance,
    latest_end_date,
    steps_for,
)


def application_or_404(application_id: int, lock: bool = False) -> RenovationApplication:
    """The application or 404. ``lock`` (inside a write transaction) holds its row until the
    commit, so two posts of one form take turns on PostgreSQL too (SQLite locks anyway)."""
    application = db.session.get(
        RenovationApplication, application_id, with_for_update=lock or None
    )
    if application is None:
        abort(404)
    return application


def detail_page(
    application,
    status=200,
    step_errors=None,
    step_values=None,
    patrol_errors=None,
    patrol_values=None,
    page_error=None,
    finding_errors=None,
    finding_values=None,
):
    user = current_staff()
    on = today()
    patrols = (
        db.session.execute(
            select(RenovationPatrol)
            .options(selectinload(RenovationPatrol.checks), selectinload(RenovationPatrol.photos))
            .where(RenovationPatrol.application_id == application.id)
            .order_by(RenovationPatrol.patrol_date.desc(), RenovationPatrol.id.desc())
        )
        .scalars()
        .all()
    )
    kinds = kinds_for_role(user.role) if application.state in ON_SITE else []
    findings = findings_of(application.id)
    return render_template(
        "renovation/staff/detail.html",
        application=application,
        steps=steps_for(application, user.role),
        patrols=patrols,
        new_nonce=new_nonce,
        patrol_kinds=kinds,
        checklist=_checklist_for(kinds),
        kind_names={kind_id: kind["name"] for kind_id, kind in patrol_kinds().items()},
        default_deadline=on + timedelta(days=fix_days()),
        result_labels=RESULT_LABELS,
        item_key=item_key,
        fix_days=fix_days(),
        findings=findings,
        handles={check.id for check in findings if may_handle(user.role, check)},
        finding_errors=finding_errors or {},
        finding_values=finding_values or {},
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
        today=on,
        page_error=page_error,
        latest_end=latest_end_date(application),
        resubmission=resubmission_of(application) if application.state == states.REJECTED else None,
        sent=messages_for(db.session, RECORD_TYPE, application.id),
        message_labels=MESSAGES,
        may_resend=allowed(user.role, "notifications.resend"),
    ), status


def _checklist_for(kinds: list[dict]) -> list:
    """(group, items) of the checklist that the role's patrol kinds record; an item of one
    kind only is marked on the page and shown for that kind (patrol_form.js)."""
    kind_ids = [kind["id"] for kind in kinds]
    groups = []
    for group in patrol_checklist() if kinds else ():
        items = [item for item in group.items if any(item.for_kind(k) for k in kind_ids)]
        if items:
            groups.append((group, items))
    return groups


@bp.get("/renovations/<int:application_id>")
@staff_required("renovation.view")
def renovation(application_id: int):
    """One application: details with the mobile masked (revealed by call_owner, audited),
    attachments, history, patrols, actions."""
    return detail_page(application_or_404(application_id))


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
    owner_confirmed = request.form.get("owner_confirmed") == "yes"
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
            return detail_page(
                application_or_404(application_id),
                400,
                {action: {"end_date": "日期格式应为 年-月-日。"}},
                values,
            )
    try:
        with write_transaction():
            application = application_or_404(application_id, lock=True)
            event = advance(
                application,
                action,
                user,
                comment,
                new_end_date=new_end,
                internal_note=internal_note,
                confirmed=confirmed,
                owner_confirmed=owner_confirmed,
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
        application = application_or_404(application_id)
        if error.field is None:
            return detail_page(application, 409, page_error=error.message)
        return detail_page(application, 400, {action: {error.field: error.message}}, values)
    except IntegrityError:
        # The same form committed by another worker meanwhile (two sends of one draft).
        db.session.rollback()
        if not _step_taken(application_id, nonce):
            raise
        return saved_reply(f"「{step.label}」已经办理过，没有重复办理。", detail, DUPLICATE)
    return saved_reply(f"已{step.label}。", detail)


def _step_taken(application_id: int, nonce: str) -> bool:
    """A step of this community's application came from the form ``nonce`` (the step has no
    community key of its own: its application's decides)."""
    return (
        db.session.scalar(
            select(RenovationEvent.id)
            .join(RenovationEvent.application)
            .where(
                RenovationEvent.application_id == application_id,
                RenovationEvent.submission_nonce == nonce,
            )
        )
        is not None
    )


@bp.post("/renovations/<int:application_id>/call")
@staff_required("renovation.call_owner")
def call_owner(application_id: int):
    """The owner's whole mobile as a tap-to-call link; the reveal goes into the audit log."""
    application = application_or_404(application_id)
    record_audit(
        "renovation.call_owner", target=application.reference, detail=application.room_label
    )
    return render_template("renovation/staff/call.html", application=application)


@bp.post("/renovations/<int:application_id>/resend-link")
@staff_required("notifications.resend")
def resend_link(application_id: int):
    """Send the owner the status link again (a lost SMS, a new phone); audited."""
    user = current_staff()
    with write_transaction() as session:
        application = application_or_404(application_id, lock=True)
        resend_status_link(session, application, actor_label(user))
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


@bp.get("/renovations/<int:application_id>/attachments/<int:attachment_id>")
@staff_required("renovation.view")
def attachment(application_id: int, attachment_id: int):
    """An application's attachment, only for logged-in staff and only under its application
    (of this community: the attachment itself carries no community key)."""
    application_or_404(application_id)
    return send_file_under(
        RenovationAttachment, attachment_id, application_id, lambda a: a.application_id
    )


@bp.get("/renovations/<int:application_id>/patrol-photos/<int:photo_id>")
@staff_required("renovation.view")
def patrol_photo(application_id: int, photo_id: int):
    """A patrol photo, checked against the application in the URL (of this community: the
    photo itself carries no community key)."""
    application_or_404(application_id)
    return send_file_under(PatrolPhoto, photo_id, application_id, lambda p: p.patrol.application_id)
