"""Filing an application: one write transaction, idempotent, one open application per room."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.clock import today, utcnow
from ..core.community import community_key
from ..core.database import write_connection
from ..core.extensions import db
from ..core.references import next_reference
from ..core.tokens import is_token, new_token
from ..files import pending_uploads
from ..files.uploads import CheckedUpload, StoredFiles
from ..households.registry import registered_owner_marker, registered_owner_params
from . import states
from .models import (
    RenovationApplication,
    RenovationAttachment,
    RenovationEvent,
)
from .notices import notify_received

# A concurrent writer on PostgreSQL can take the same reference number; try again then.
ATTEMPTS = 5

# Core tables: filing an application is three plain INSERTs, without the ORM's unit of work.
# Core statements are not scoped by the session's community hook (core/community_scope.py):
# the application names its community itself; its first step and its attachments are reached
# only through it. The day's reference numbers run across the deployment (the reference is
# unique), so the sequence look-up reads every community's.
APPLICATIONS = RenovationApplication.__table__
EVENTS = RenovationEvent.__table__
ATTACHMENTS = RenovationAttachment.__table__

# Statements built once; each submission only binds its values.
# The owner is verified when the mobile is a registered owner's of the room (一户一档),
# decided inside the INSERT: the filing path reads nothing before its write.
INSERT_APPLICATION = APPLICATIONS.insert().values(
    owner_verified=registered_owner_marker("registry")
)
INSERT_EVENT = EVENTS.insert()
INSERT_ATTACHMENT = ATTACHMENTS.insert()

APPLICATION_FIELDS = (
    "building",
    "unit",
    "room",
    "owner_name",
    "owner_mobile",
    "contractor_company",
    "site_lead_name",
    "site_lead_mobile",
    "workers",
    "start_date",
    "end_date",
    "work_items",
    "description",
    "wants_tarpaulin",
    "wants_extinguisher",
)


# The kind under which this form's kept attachments are recorded.
PENDING_FORM = "renovation"


class AlreadyResubmitted(Exception):
    """The rejected application was already replaced by a resubmission."""


class RoomHasOpenApplication(Exception):
    """The room already has an application that is not finished."""

    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference


def find_by_nonce(nonce: str) -> RenovationApplication | None:
    return db.session.scalar(
        select(RenovationApplication).where(RenovationApplication.submission_nonce == nonce)
    )


def find_by_token(token: str) -> RenovationApplication | None:
    if not is_token(token):
        return None
    return db.session.scalar(
        select(RenovationApplication).where(RenovationApplication.status_token == token)
    )


def open_application_for(building: int, unit: int, room: str) -> RenovationApplication | None:
    """The room's unfinished application of a verified owner, if any (the one that holds the
    room)."""
    return db.session.scalar(
        select(RenovationApplication).where(
            RenovationApplication.building == building,
            RenovationApplication.unit == unit,
            RenovationApplication.room == room,
            RenovationApplication.state.in_(sorted(states.OPEN_STATES)),
            RenovationApplication.owner_verified.is_not(None),
        )
    )


def resubmission_of(application: RenovationApplication) -> RenovationApplication | None:
    """The application that replaced this rejected one, if the owner resubmitted it."""
    return db.session.scalar(
        select(RenovationApplication).where(RenovationApplication.previous_id == application.id)
    )


def submit_application(
    values: dict,
    uploads: list[CheckedUpload],
    nonce: str,
    kept_ids: list[int] = (),
    previous_id: int | None = None,
) -> tuple[str, bool]:
    """Store a validated application with its attachments; returns (status token, created).

    ``uploads`` are files sent with this POST; ``kept_ids`` name files kept against the nonce
    by earlier tries of the same form (``pending_uploads``), claimed in the same transaction
    (``PendingUploadGone`` if one has gone). ``previous_id`` links a resubmission to the
    rejected application it replaces; a second resubmission of it raises
    ``AlreadyResubmitted``.

    The database's unique constraints decide the races: a second submission of the same form
    (same nonce) returns the first application's token, a second open application for the
    room raises ``RoomHasOpenApplication``, and a reference number taken by a concurrent
    writer (possible on PostgreSQL) is tried again. Files are written before the commit and
    removed again if the commit does not happen.
    """
    for _attempt in range(ATTEMPTS):
        try:
            token = _insert(values, uploads, nonce, list(kept_ids), previous_id)
        except IntegrityError:
            db.session.rollback()
            existing = find_by_nonce(nonce)
            if existing:
                return existing.status_token, False
            blocking = open_application_for(values["building"], values["unit"], values["room"])
            if blocking:
                raise RoomHasOpenApplication(blocking.reference) from None
            if previous_id is not None and db.session.scalar(
                select(RenovationApplication.id).where(
                    RenovationApplication.previous_id == previous_id
                )
            ):
                raise AlreadyResubmitted() from None
        else:
            return token, True
    raise RuntimeError(f"no free reference number after {ATTEMPTS} attempts")


def _insert(
    values: dict,
    uploads: list[CheckedUpload],
    nonce: str,
    kept_ids: list[int],
    previous_id: int | None,
) -> str:
    """Insert the application, its first history step and its attachments.

    Everything is prepared before the write lock is taken and written with plain INSERTs
    (the outbox's messages too) on a connection of its own (``write_connection``), so the
    lock is held only for the reference look-up, the inserts and the commit; and, when the
    form kept files on earlier tries, for claiming them and sweeping the kept files nobody
    claims.
    """
    now = utcnow()
    filed_on = today()
    status_token = new_token()
    application = {
        **{name: values[name] for name in APPLICATION_FIELDS},
        "community": community_key(),
        "filed_on": filed_on,
        "status_token": status_token,
        "submission_nonce": nonce,
        "previous_id": previous_id,
        **registered_owner_params(
            values["building"], values["unit"], values["room"], values["owner_mobile"]
        ),
        "state": states.PENDING,
        "acknowledged_at": now,
        "created_at": now,
        "updated_at": now,
    }
    event = {
        "from_state": None,
        "to_state": states.PENDING,
        "comment": "驳回后修改并重新提交装修申请" if previous_id else "在线提交装修申请",
        "actor_id": None,
        "actor_name": "业主",
        "created_at": now,
    }
    with StoredFiles(uploads) as stored:
        attachments = [
            {
                "stored_name": stored_name,
                "original_name": upload.original_name,
                "content_type": upload.content_type,
                "size": upload.size,
                "created_at": now,
            }
            for upload, stored_name in zip(uploads, stored.names, strict=True)
        ]
        swept = []
        with write_connection() as connection:
            if kept_ids:
                kept = pending_uploads.claim(connection, PENDING_FORM, nonce, kept_ids)
                # This form's unclaimed kept files go too, and those of forms nobody submitted.
                # A form that kept nothing skips the sweep: it runs under the write lock, and
                # ``sweep-uploads`` removes the old ones anyway.
                swept = pending_uploads.expire(connection, PENDING_FORM, nonce)
                attachments = [
                    {
                        name: row[name]
                        for name in ("stored_name", "original_name", "content_type", "size")
                    }
                    | {"created_at": now}
                    for row in kept
                ] + attachments
            sequence, reference = next_reference(connection, APPLICATIONS, "ZX", filed_on)
            application_id = connection.execute(
                INSERT_APPLICATION, {**application, "sequence": sequence, "reference": reference}
            ).inserted_primary_key[0]
            connection.execute(INSERT_EVENT, {**event, "application_id": application_id})
            if attachments:
                connection.execute(
                    INSERT_ATTACHMENT,
                    [{**row, "application_id": application_id} for row in attachments],
                )
            notify_received(connection, application_id, reference, values, status_token)
        stored.keep()
    pending_uploads.remove_files(swept)
    return status_token
