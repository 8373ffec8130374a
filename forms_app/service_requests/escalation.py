"""Overdue repairs and complaints escalate to the 主管 (a periodic scan the worker runs).

A request is overdue past its ``due_at`` while work on it is still owed (``figures.
overdue_condition``): a repair not finished within its urgency's hours, a complaint not
answered within ``complaint_answer_hours``, the supervisor's second visit after 回访不满意 not
made in time. The deadlines are the community's settings, set when the step was taken.

Whom it goes to: whom the person holding the job answers to (``organisation.supervisor_of``:
the department's 主管; for a 主管, the 管理处's); a complaint nobody holds yet: the 主管 of the
department it was passed to, or, not passed on yet, of the 客服 desk. Once per request and
deadline (the outbox's ``dedupe_key``): a new deadline (a reopened request) escalates again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..accounts import organisation, roles
from ..accounts.models import StaffUser
from ..core.clock import utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..notifications.outbox import path_for
from ..notifications.staff_alerts import (
    Recipients,
    alert_staff,
    heads_of_role,
    supervisors_of,
    unsent,
)
from . import states
from .figures import overdue_condition
from .models import ServiceRequest
from .notices import RECORD_TYPE, department_id, due_label

KIND = "service.overdue"


def _duty(item: ServiceRequest) -> str:
    if item.state == states.REOPENED:
        return "亲自上门重新服务"
    return "完成维修" if item.is_repair else "答复业主"


def _handler(item: ServiceRequest) -> str:
    if item.assignee_name:
        return item.assignee_name
    if item.department:
        return item.department
    return "未派工" if item.is_repair else "尚未转交部门"


def escalate_to(session, item: ServiceRequest) -> Recipients:
    """The 主管 an overdue request goes to."""
    holder = session.get(StaffUser, item.assignee_id) if item.assignee_id else None
    if holder is not None:
        # An account not placed in a department yet answers to its role's department.
        placed = holder.department or next(
            (d.id for d in organisation.organisation().department_of_role(holder.role)), None
        )
        return supervisors_of(session, holder, placed)
    if not item.is_repair and item.state != states.NEW and item.department:
        return supervisors_of(session, None, department_id(item.department))
    return heads_of_role(session, roles.ENGINEERING if item.is_repair else roles.SERVICE)


def _key(item: ServiceRequest) -> str:
    return f"{KIND}:{item.id}:{item.due_at:%Y%m%d%H%M%S}"


def overdue_alerts(_day: date) -> int:
    """Alert the 主管 of every overdue request once per deadline; the alerts added.

    Read first: the write lock is taken only when a deadline has passed unalerted."""
    now = utcnow()
    overdue = db.session.scalars(select(ServiceRequest).where(overdue_condition(now))).all()
    fresh = unsent(db.session, KIND, RECORD_TYPE, {_key(item): item.id for item in overdue})
    if not fresh:
        return 0
    ids = [item.id for item in overdue]
    added = 0
    with write_transaction() as session:
        items = session.scalars(
            select(ServiceRequest)
            .where(overdue_condition(now), ServiceRequest.id.in_(ids))
            .order_by(ServiceRequest.id)
        ).all()
        for item in items:
            if _key(item) not in fresh:
                continue  # alerted already, or its deadline changed meanwhile
            added += len(
                alert_staff(
                    session,
                    KIND,
                    escalate_to(session, item),
                    dedupe_key=_key(item),
                    record_type=RECORD_TYPE,
                    record_id=item.id,
                    reference=item.reference,
                    what=item.kind_label,
                    where=item.where if item.is_repair else item.room_label,
                    due=due_label(item),
                    duty=_duty(item),
                    handler=_handler(item),
                    link_path=path_for("service_requests_staff.detail", request_id=item.id),
                )
            )
    return added
