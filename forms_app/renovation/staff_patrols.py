"""Patrols (装修巡查) in the back office: recording one on an application, and the list of patrols due today."""

from __future__ import annotations

from flask import (
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import IntegrityError

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..core.clock import today
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.tokens import is_nonce, new_nonce
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
from .findings import open_findings
from .patrols import (
    PatrolError,
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
from .staff_blueprint import bp
from .staff_home import patrols_due_for
from .staff_views import application_or_404, detail_page
from .workflow import (
    ON_SITE,
)


@bp.post("/renovations/<int:application_id>/patrols")
@staff_required("renovation.view")
def record_patrol(application_id: int):
    """Record a patrol with optional photos; files are kept only if the row is committed.

    The form's nonce makes a second send (a double tap, a draft replayed from the phone)
    find the first patrol. After saving, the list of what is still due is one tap away."""
    user = current_staff()
    application = application_or_404(application_id)
    if not kinds_for_role(user.role):
        return render_error(403, "您的角色不记录装修巡查。")
    earlier = find_patrol(db.session, request.form.get("nonce"))
    if earlier is not None and earlier.application_id == application_id:
        return _patrol_saved(user, earlier, DUPLICATE)
    try:
        values = check_patrol_form(application, user.role, request.form, request.files)
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
        return detail_page(
            application,
            400,
            patrol_errors=error.errors,
            patrol_values=values,
            page_error=error.errors.get("form"),
        )
    try:
        with photo_store(values) as stored:
            with write_transaction() as session:
                application = application_or_404(application_id, lock=True)
                if application.state not in ON_SITE:
                    message = f"申请当前状态为「{application.state_label}」，不能再记录巡查。"
                    if is_draft_request():
                        return draft_reply(CONFLICT, message, status=409)
                    return detail_page(application, 409, page_error=message)
                patrol = store_patrol(session, application, user, values, stored)
                record_audit(
                    "renovation.patrol",
                    target=application.reference,
                    detail=f"{patrol.kind_name} {values['patrol_date']}：{patrol.summary}",
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


@bp.get("/patrols/due", endpoint="patrols_due")
@staff_required("renovation.view")
def patrols_due_page():
    """今日待巡查: every on-site renovation whose patrol is due or overdue, oldest first; then
    the findings waiting for 整改 or 复查, overdue ones first."""
    on = today()
    role = current_staff().role
    kinds = kinds_for_role(role)
    # Roles that record no patrol (none today) see every kind, to know what is outstanding.
    due = patrols_due_for(role, on) if kinds else patrols_due(on)
    findings = open_findings(on, [kind["id"] for kind in kinds] if kinds else None)
    return render_template(
        "renovation/staff/patrols_due.html",
        due=due,
        findings=findings,
        today=on,
        kinds=kinds or list(patrol_kinds().values()),
        records=bool(kinds),
    )
