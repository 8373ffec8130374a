"""Filing an application: one write transaction, idempotent, one open application per room."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import write_transaction
from ..extensions import db
from . import states
from .clock import local_today, utcnow
from .models import RenovationApplication, RenovationAttachment, RenovationEvent
from .uploads import CheckedUpload, StoredFiles, upload_dir

# A concurrent writer on PostgreSQL can take the same reference number; try again then.
ATTEMPTS = 3

APPLICATION_FIELDS = (
    "building", "unit", "room", "owner_name", "owner_mobile", "contractor_company",
    "site_lead_name", "site_lead_mobile", "workers", "start_date", "end_date", "work_items",
    "description", "wants_tarpaulin", "wants_extinguisher",
)


class RoomHasOpenApplication(Exception):
    """The room already has an application that is not finished."""

    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference


def new_nonce() -> str:
    """A one-time value for one rendered form, so its second POST finds the first result."""
    return secrets.token_urlsafe(24)


def find_by_nonce(nonce: str) -> RenovationApplication | None:
    return db.session.scalar(
        select(RenovationApplication).where(RenovationApplication.submission_nonce == nonce)
    )


def find_by_token(token: str) -> RenovationApplication | None:
    return db.session.scalar(
        select(RenovationApplication).where(RenovationApplication.status_token == token)
    )


def open_application_for(building: int, unit: int, room: str) -> RenovationApplication | None:
    """The room's unfinished application, if any."""
    return db.session.scalar(
        select(RenovationApplication).where(
            RenovationApplication.building == building,
            RenovationApplication.unit == unit,
            RenovationApplication.room == room,
            RenovationApplication.state.in_(states.OPEN_STATES),
        )
    )


def next_reference(filed_on) -> tuple[int, str]:
    """The day's next sequence number and its reference, e.g. ZX20261127-003.

    Safe inside ``write_transaction``: on SQLite the write lock is already held, so no
    other process can take the same number; the unique constraint guards PostgreSQL.
    """
    last = db.session.scalar(
        select(func.max(RenovationApplication.sequence)).where(
            RenovationApplication.filed_on == filed_on
        )
    )
    sequence = (last or 0) + 1
    return sequence, f"ZX{filed_on:%Y%m%d}-{sequence:03d}"


def submit_application(
    values: dict, uploads: list[CheckedUpload], nonce: str
) -> tuple[RenovationApplication, bool]:
    """Store a validated application with its attachments; returns (application, created).

    A second submission of the same form (same nonce) returns the first application. Files
    are written before the commit and removed again if the commit does not happen.
    """
    for attempt in range(ATTEMPTS):
        try:
            return _submit_once(values, uploads, nonce)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _submit_once(values, uploads, nonce):
    with StoredFiles(uploads, upload_dir()) as stored:
        with write_transaction() as session:
            existing = find_by_nonce(nonce)
            if existing:
                return existing, False
            blocking = open_application_for(values["building"], values["unit"], values["room"])
            if blocking:
                raise RoomHasOpenApplication(blocking.reference)
            now = utcnow()
            filed_on = local_today()
            sequence, reference = next_reference(filed_on)
            application = RenovationApplication(
                reference=reference, filed_on=filed_on, sequence=sequence,
                submission_nonce=nonce, state=states.PENDING, acknowledged_at=now,
                created_at=now, updated_at=now,
                **{name: values[name] for name in APPLICATION_FIELDS},
            )
            application.events.append(RenovationEvent(
                from_state=None, to_state=states.PENDING, comment="在线提交装修申请",
                actor_name="业主", created_at=now,
            ))
            for upload, stored_name in zip(uploads, stored.names):
                application.attachments.append(RenovationAttachment(
                    stored_name=stored_name, original_name=upload.original_name,
                    content_type=upload.content_type, size=upload.size, created_at=now,
                ))
            session.add(application)
        stored.keep()
        return application, True
