"""What owners and staff are told about repairs and complaints, and the owner's list entry
in 我的办理.

Called inside the write transaction of the change (filing in ``intake``, every step in
``workflow.record_step``), so each message is committed with its change or not at all.
"""

from __future__ import annotations

from sqlalchemy import select

from ..core.clock import local_time
from ..core.extensions import db
from ..households.records import (
    UNMATCHED_LIMIT,
    HouseholdRecord,
    UnmatchedRecord,
    no_registry_room,
    with_unmatched,
)
from ..notifications.outbox import enqueue, path_for
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


def notify_step(session, item: ServiceRequest, action: str) -> None:
    """After a step: what the owner hears, and the 派工单 alert for the worker's group."""
    due = f"{local_time(item.due_at):%m-%d %H:%M}" if item.due_at else ""
    if action == "dispatch":
        _to_owner(session, "service.dispatched", item, due=due)
        enqueue(
            session,
            "service.job",
            assignee=item.assignee_name,
            where=item.where,
            due=due,
            link_path=path_for("service_requests_staff.job", request_id=item.id),
            **_about(item),
        )
    elif action == "finish":
        # The link opens the status page at the owner's confirmation form.
        _to_owner(session, "service.finished", item, link_path=_status_path(item) + "#confirm")
    elif action == "answer":
        _to_owner(session, "service.answered", item, link_path=_status_path(item) + "#rate")
    elif item.state == states.REOPENED:
        _to_owner(session, "service.reopened", item)
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
