"""Patrol findings in the back office: recording 整改 and 复查 on the application's page, and
the findings' photos."""

from __future__ import annotations

from flask import abort, request, url_for
from sqlalchemy.exc import IntegrityError

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..core.database import write_transaction
from ..core.extensions import db
from ..files.uploads import send_file_under
from ..web.drafts import (
    CONFLICT,
    DUPLICATE,
    INVALID,
    draft_reply,
    is_draft_request,
    saved_reply,
)
from ..web.errors import render_error
from .findings import (
    check_step_form,
    conflict,
    finding_of,
    may_handle,
    step_by_nonce,
    step_store,
    store_step,
)
from .patrols import FIX, RECHECK_FAIL, FindingPhoto, PatrolError
from .staff_blueprint import bp
from .staff_views import application_or_404, detail_page

AUDIT = {FIX: "renovation.finding_fix", "recheck": "renovation.finding_recheck"}


@bp.post("/renovations/<int:application_id>/findings/<int:finding_id>/fix")
@staff_required("renovation.view")
def fix_finding(application_id: int, finding_id: int):
    """Record that a 不合格 item was put right (整改), with a note and photos: 待复查 next."""
    return _record_step(application_id, finding_id, FIX)


@bp.post("/renovations/<int:application_id>/findings/<int:finding_id>/recheck")
@staff_required("renovation.view")
def recheck_finding(application_id: int, finding_id: int):
    """复查 after 整改: 合格 closes the finding; 不合格 sends it back with a new deadline."""
    return _record_step(application_id, finding_id, "recheck")


def _record_step(application_id: int, finding_id: int, step: str):
    user = current_staff()
    application = application_or_404(application_id)
    check = finding_of(application_id, finding_id)
    if check is None:
        abort(404)
    if not may_handle(user.role, check):
        return render_error(403, f"「{check.patrol.kind_name}」的整改和复查不由您的角色记录。")
    # Saved, back to the list of what is due and open (the next finding one tap away), as
    # after a patrol; a draft sent from this page then loads a page of its own too.
    anchor = url_for("renovation_staff.patrols_due", _anchor="findings-heading")
    earlier = step_by_nonce(request.form.get("nonce", ""))
    if earlier is not None and earlier.check_id == finding_id:
        return saved_reply(
            f"「{check.item_text}」的这条记录已经保存过，没有重复保存。", anchor, DUPLICATE
        )
    problem = conflict(check, step)
    if problem:
        return _conflict(application, problem)
    try:
        values = check_step_form(step, request.form, request.files)
    except PatrolError as error:
        if is_draft_request():
            return draft_reply(
                INVALID,
                error.errors.get("form") or "整改或复查记录有需要修改的地方，请打开表单查看。",
                errors=error.errors,
                status=400,
            )
        return detail_page(
            application,
            400,
            finding_errors={finding_id: {"step": step, **error.errors}},
            finding_values={finding_id: request.form.to_dict()},
            page_error=error.errors.get("form"),
        )
    try:
        with step_store(values) as stored:
            with write_transaction() as session:
                check = finding_of(application_id, finding_id, lock=True)
                problem = conflict(check, step)
                if problem:
                    return _conflict(application_or_404(application_id), problem)
                recorded = store_step(session, check, user, values, stored)
                record_audit(
                    AUDIT[step],
                    target=application.reference,
                    detail=f"{check.item_text}：{recorded.label}"
                    + (
                        f"，新整改期限 {recorded.deadline}"
                        if recorded.action == RECHECK_FAIL
                        else ""
                    ),
                )
            stored.keep()
    except IntegrityError:
        # The same nonce committed by another worker meanwhile (two sends of one draft).
        db.session.rollback()
        if step_by_nonce(values["nonce"]) is None:
            raise
        return saved_reply(
            f"「{check.item_text}」的这条记录已经保存过，没有重复保存。", anchor, DUPLICATE
        )
    return saved_reply(f"已记录「{check.item_text}」{recorded.label}。", anchor)


def _conflict(application, message: str):
    if is_draft_request():
        return draft_reply(CONFLICT, message, status=409)
    return detail_page(application, 409, page_error=message)


@bp.get("/renovations/<int:application_id>/finding-photos/<int:photo_id>")
@staff_required("renovation.view")
def finding_photo(application_id: int, photo_id: int):
    """A photo of a finding (at the patrol, 整改 or 复查), checked against the application
    (of this community)."""
    application_or_404(application_id)
    return send_file_under(
        FindingPhoto, photo_id, application_id, lambda p: p.check.patrol.application_id
    )
