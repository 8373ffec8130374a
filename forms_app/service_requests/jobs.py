"""The worker's side: their open jobs, and the staff home's panels built from the register."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..accounts.permissions import allowed
from ..core.clock import utcnow
from ..core.extensions import db
from . import settings, states
from .figures import overdue_counts, visit_progress
from .models import ServiceRequest
from .scope import visible


def open_jobs(user) -> list[ServiceRequest]:
    """Repairs assigned to this worker and not yet finished, the most urgent first; a 经理
    sees every open job, a department's 主管 the department's (scope.py)."""
    query = select(ServiceRequest).where(
        ServiceRequest.kind == states.REPAIR, ServiceRequest.state.in_(states.JOB_STATES)
    )
    if not allowed(user.role, "service.close"):
        query = query.where(visible(user))
    return list(db.session.scalars(query.order_by(ServiceRequest.due_at, ServiceRequest.id)))


def register_panel(_user, day: date) -> dict:
    """The staff home's panel for 客服 and 经理: what waits, what is late, visits."""
    waiting = dict(
        db.session.execute(
            select(ServiceRequest.state, func.count())
            .where(ServiceRequest.state.in_([states.NEW, states.AWAITING_VISIT, states.REOPENED]))
            .group_by(ServiceRequest.state)
        ).all()
    )
    weekly, monthly = settings.visit_quota()
    return {
        "waiting": waiting,
        "overdue": overdue_counts(),
        "visits": visit_progress(day, weekly, monthly),
    }


def jobs_panel(user, _day: date) -> dict:
    """The staff home's panel for a worker: their open jobs and how many are late."""
    jobs = open_jobs(user)
    now = utcnow()
    return {"jobs": len(jobs), "late": sum(job.overdue_at(now) for job in jobs)}
