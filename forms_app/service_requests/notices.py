"""What owners and staff are told about repairs and complaints, and the owner's list entry
in 我的办理.

Called inside the write transaction of the change (filing in ``intake``, every step in
``workflow.record_step``), so each message is committed with its change or not at all. The
person a job goes to hears of it personally (``staff_alerts``): the worker of a 派工单, the
主管 of the department a complaint is passed to, the supervisor who goes in person after
回访不满意.
"""

from __future__ import annotations

from sqlalchemy import select

from ..accounts import organisation
from ..core.clock import local_time
from ..core.extensions import db
from ..households.records import (
    UNMATCHED_LIMIT,
    HouseholdRecord,
    UnmatchedRecord,
    no_registry_room,
    with_unmatched,
)
from ..notifications.messages import short_reason
from ..notifications.outbox import enqueue, path_for
from ..notifications.staff_alerts import alert_staff, heads_of, person
from . import states
from .models import ServiceRequest

RECORD_TYPE = "service_request"


def _status_path(item: ServiceRequest) -> str:
    return path_for("service_requests.status", token=item.token)


def _about(item: ServiceRequest) -> dict:
    return {
        "record_type": RECORD_TYPE,
        "record_id": item.id,
        "reference": item.reference,
        "what": item.kind_label,
    }


def _to_owner(session, kind: str, item: ServiceRequest, **values) -> None:
    values.setdefault("link_path", _status_path(item))
    enqueue(session, kind, recipient=item.owner_mobile, **_about(item), **values)


def notify_filed(session, item: ServiceRequest) -> None:
    """A new request: the owner gets its link (also when 客服 took it by phone), the staff
    group an alert."""
    session.flush()  # the request's id
    _to_owner(session, "service.received", item)
    enqueue(
        session,
        "service.new",
        source=item.source_label,
        room=item.room_label,
        link_path=path_for("service_requests_staff.detail", request_id=item.id),
        **_about(item),
    )


def department_id(name: str) -> str | None:
    """The organisation's id of a department a complaint names (it stores the name)."""
    return next(
        (d.id for d in organisation.organisation().departments.values() if d.name == name), None
    )


def due_label(item: ServiceRequest) -> str:
    return f"{local_time(item.due_at):%m-%d %H:%M}" if item.due_at else ""


def work_path(item: ServiceRequest) -> str:
    """Where the person doing the work opens it: a repair's 派工单, a complaint's page."""
    if item.is_repair:
        return path_for("service_requests_staff.job", request_id=item.id)
    return path_for("service_requests_staff.detail", request_id=item.id)


def notify_step(session, item: ServiceRequest, action: str) -> None:
    """After a step: what the owner hears, and the personal alert of whoever the work went to."""
    due = due_label(item)
    if action == "dispatch":
        _to_owner(session, "service.dispatched", item, due=due)
        alert_staff(
            session,
            "service.job",
            person(session, item.assignee_id),
            assignee=item.assignee_name,
            where=item.where,
            due=due,
            link_path=work_path(item),
            **_about(item),
        )
    elif action == "assign":
        alert_staff(
            session,
            "service.complaint_assigned",
            heads_of(session, department_id(item.department)),
            room=item.room_label,
            department=item.department,
            due=due,
            link_path=work_path(item),
            **_about(item),
        )
    elif action == "finish":
        # The link opens the status page at the owner's confirmation form.
        _to_owner(session, "service.finished", item, link_path=_status_path(item) + "#confirm")
    elif action == "answer":
        _to_owner(session, "service.answered", item, link_path=_status_path(item) + "#rate")
    elif item.state == states.REOPENED:
        _to_owner(session, "service.reopened", item)
        if action == "follow_up":
            alert_staff(
                session,
                "service.supervisor_job",
                person(session, item.assignee_id),
                where=item.where,
                due=due,
                comment=short_reason(item.owner_view),
                link_path=work_path(item),
                **_about(item),
            )
    elif item.state == states.CLOSED:
        _to_owner(session, "service.closed", item)


def _staff_path(item: ServiceRequest) -> str:
    return path_for("service_requests_staff.detail", request_id=item.id)


def unmatched_household_records() -> list[UnmatchedRecord]:
    """Repairs and complaints whose room the household registry does not have."""
    rows = db.session.scalars(
        select(ServiceRequest)
        .where(no_registry_room(ServiceRequest.building, ServiceRequest.unit, ServiceRequest.room))
        .order_by(ServiceRequest.filed_on.desc(), ServiceRequest.id.desc())
        .limit(UNMATCHED_LIMIT)
    )
    return [
        UnmatchedRecord(
            item.kind_label,
            item.reference,
            item.building,
            item.unit,
            item.room,
            item.state_label,
            item.filed_on,
            _staff_path(item),
        )
        for item in rows
    ]


@with_unmatched(unmatched_household_records)
def household_records(building: int, unit: int, room: str) -> list[HouseholdRecord]:
    """The room's repairs and complaints for "我的办理" and 一户一档."""
    rows = db.session.scalars(
        select(ServiceRequest).where(
            ServiceRequest.building == building,
            ServiceRequest.unit == unit,
            ServiceRequest.room == room,
        )
    )
    return [
        HouseholdRecord(
            item.kind_label,
            item.reference,
            item.state_label,
            _status_path(item),
            item.filed_on,
            item.owner_mobile,
            _staff_path(item),
        )
        for item in rows
    ]
