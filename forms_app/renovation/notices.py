"""What owners and staff are told about renovation applications, and the owner's list entry.

Each function adds its messages inside the caller's write transaction (the outbox), so a
message exists exactly when the change it reports was committed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..core.database import write_transaction
from ..core.extensions import db
from ..households.records import (
    UNMATCHED_LIMIT,
    HouseholdRecord,
    UnmatchedRecord,
    no_registry_room,
    with_unmatched,
)
from ..notifications.messages import short_reason
from ..notifications.outbox import enqueue, enqueue_rows, message_row, path_for
from . import states
from .models import RECORD_TYPE, RenovationApplication
from .patrols import patrols_due

RECORD_LABEL = "装修申请"

# Workflow step → what the owner is told (steps not named here tell the owner nothing).
STEP_MESSAGES = {
    "approve": "renovation.approved",
    "reject": "renovation.rejected",
    "start": "renovation.started",
    "fail_acceptance": "renovation.acceptance_failed",
    "accept": "renovation.accepted",
    "refund_deposit": "renovation.deposit_refunded",
}


def _status_path(token: str) -> str:
    return path_for("renovation.status", token=token)


def _room(building, unit, room) -> str:
    return f"{building}号楼{unit}单元{room}室"


def notify_received(
    connection, application_id: int, reference: str, values: dict, status_token: str
) -> None:
    """A new application: the owner gets the reference and link, the staff group an alert.

    Written with one plain INSERT on the filing transaction's ``connection``, which holds the
    write lock meanwhile.
    """
    enqueue_rows(
        connection,
        [
            message_row(
                "renovation.received",
                record_type=RECORD_TYPE,
                record_id=application_id,
                reference=reference,
                recipient=values["owner_mobile"],
                link_path=_status_path(status_token),
            ),
            message_row(
                "renovation.new",
                record_type=RECORD_TYPE,
                record_id=application_id,
                reference=reference,
                link_path=path_for("renovation_staff.renovation", application_id=application_id),
                room=_room(values["building"], values["unit"], values["room"]),
            ),
        ],
    )


def notify_step(
    session, application: RenovationApplication, action: str, comment: str = ""
) -> None:
    """A workflow step the owner cares about (approved, rejected with the reason, …)."""
    kind = STEP_MESSAGES.get(action)
    if kind is None:
        return
    enqueue(
        session,
        kind,
        record_type=RECORD_TYPE,
        record_id=application.id,
        reference=application.reference,
        recipient=application.owner_mobile,
        link_path=_status_path(application.status_token),
        reason=short_reason(comment),
    )


def resend_status_link(session, application: RenovationApplication, staff_name: str) -> None:
    enqueue(
        session,
        "status_link",
        record_type=RECORD_TYPE,
        record_id=application.id,
        reference=application.reference,
        recipient=application.owner_mobile,
        link_path=_status_path(application.status_token),
        record_label=RECORD_LABEL,
        requested_by=staff_name,
    )


def overdue_patrol_alerts(day: date) -> int:
    """Alert the staff group once per overdue patrol (site and kind) per day."""
    added = 0
    with write_transaction() as session:
        for due in patrols_due(day):
            if due.overdue_days <= 0:
                continue
            application = due.application
            if enqueue(
                session,
                "renovation.patrol_overdue",
                record_type=RECORD_TYPE,
                record_id=application.id,
                reference=application.reference,
                link_path=path_for("renovation_staff.renovation", application_id=application.id),
                dedupe_key=f"renovation.patrol_overdue:{application.id}:"
                f"{due.kind['id']}:{day.isoformat()}",
                room=application.room_label,
                patrol=due.kind["name"],
                due_on=due.due_on.isoformat(),
                days=due.overdue_days,
            ):
                added += 1
    return added


def _staff_path(application_id: int) -> str:
    return path_for("renovation_staff.renovation", application_id=application_id)


def unmatched_household_records() -> list[UnmatchedRecord]:
    """Applications whose room the household registry does not have (staff correct them)."""
    rows = db.session.scalars(
        select(RenovationApplication)
        .where(
            no_registry_room(
                RenovationApplication.building,
                RenovationApplication.unit,
                RenovationApplication.room,
            )
        )
        .order_by(RenovationApplication.filed_on.desc(), RenovationApplication.id.desc())
        .limit(UNMATCHED_LIMIT)
    )
    return [
        UnmatchedRecord(
            RECORD_LABEL,
            a.reference,
            a.building,
            a.unit,
            a.room,
            states.label(a.state),
            a.filed_on,
            _staff_path(a.id),
        )
        for a in rows
    ]


@with_unmatched(unmatched_household_records)
def household_records(building: int, unit: int, room: str) -> list[HouseholdRecord]:
    """The room's renovation applications for "我的办理" and 一户一档."""
    rows = db.session.scalars(
        select(RenovationApplication).where(
            RenovationApplication.building == building,
            RenovationApplication.unit == unit,
            RenovationApplication.room == room,
        )
    )
    return [
        HouseholdRecord(
            RECORD_LABEL,
            a.reference,
            states.label(a.state),
            _status_path(a.status_token),
            a.filed_on,
            a.owner_mobile,
            _staff_path(a.id),
        )
        for a in rows
    ]
