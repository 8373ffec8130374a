"""The back office's outbox: every message with its state and attempts; failed ones retried."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..accounts.access import staff_required
from ..accounts.audit import record_audit
from ..core.clock import utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..web.paging import paginate
from .messages import MESSAGES
from .models import FAILED, PENDING, STATE_LABELS, Notification

bp = Blueprint("notifications_staff", __name__)


def home_figures(_user, _day: date) -> dict:
    """The staff home's panel: messages waiting and messages that failed."""
    counts = dict(
        db.session.execute(
            select(Notification.state, func.count()).group_by(Notification.state)
        ).all()
    )
    return {"failed": counts.get(FAILED, 0), "pending": counts.get(PENDING, 0)}


@bp.get("/")
@staff_required("notifications.view")
def outbox():
    """Every message, newest first, optionally only one state (发送失败 first of all)."""
    state = request.args.get("state", "")
    query = select(Notification).order_by(Notification.id.desc())
    if state in STATE_LABELS:
        query = query.where(Notification.state == state)
    else:
        state = ""
    page = paginate(query, request.args.get("page"))
    return render_template(
        "notifications/staff/outbox.html",
        page=page,
        state=state,
        state_labels=STATE_LABELS,
        messages=MESSAGES,
    )


@bp.post("/<int:notification_id>/retry")
@staff_required("notifications.resend")
def retry(notification_id: int):
    """Send a failed message again from the start (after fixing the channel's settings)."""
    with write_transaction():
        notification = db.session.get(Notification, notification_id, with_for_update=True)
        if notification is None:
            abort(404)
        if notification.state != FAILED or notification.secret:
            flash("只有发送失败的通知可以重试（验证码不重发，请业主重新获取）。", "error")
            return redirect(url_for(".outbox"), code=303)
        notification.state = PENDING
        notification.attempts = 0
        notification.next_attempt_at = utcnow()
        record_audit(
            "notifications.retry",
            target=notification.reference or f"#{notification.id}",
            detail=MESSAGES[notification.kind].label,
        )
    flash("已重新排队发送。", "success")
    return redirect(url_for(".outbox", state=FAILED), code=303)
