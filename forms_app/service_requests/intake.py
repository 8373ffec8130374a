"""Filing a repair or complaint: online by the owner, or by 客服 from a phone call or a visit.

One write transaction: the day's reference (BX…/TS…), the request, its first history step and
its photos. The nonce of the rendered form makes a double tap one request.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import actor_label
from ..core.clock import today, utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.references import next_reference
from ..core.tokens import is_nonce, is_token, new_token
from ..files import pending_uploads
from ..files.uploads import CheckedUpload, StoredFiles
from . import settings, states
from .models import ServiceEvent, ServicePhoto, ServiceRequest
from .notices import notify_filed

# A concurrent writer on PostgreSQL can take the same reference number; try again then.
ATTEMPTS = 5
REQUESTS = ServiceRequest.__table__

FIELDS = (
    "building",
    "unit",
    "room",
    "owner_name",
    "owner_mobile",
    "location",
    "place",
    "available_time",
    "description",
    "department",
    "wish",
)


def find_by_nonce(nonce: str) -> ServiceRequest | None:
    if not is_nonce(nonce):
        return None
    return db.session.scalar(select(ServiceRequest).where(ServiceRequest.submission_nonce == nonce))


def find_by_token(token: str) -> ServiceRequest | None:
    if not is_token(token):
        return None
    return db.session.scalar(select(ServiceRequest).where(ServiceRequest.token == token))


def file_request(
    kind: str,
    values: dict,
    uploads: list[CheckedUpload],
    nonce: str,
    source: str = states.ONLINE,
    actor=None,
    kept_ids: list[int] = (),
) -> tuple[ServiceRequest, bool]:
    """Store a checked request; returns (request, created). The same nonce twice returns the
    first request; photos are written before the commit and removed if it does not happen.
    ``kept_ids`` name photos an earlier try of the same owner form kept on the server
    (``files.pending_uploads``): claimed in the same transaction, ``PendingUploadGone`` if
    one has gone."""
    for _attempt in range(ATTEMPTS):
        existing = find_by_nonce(nonce)
        if existing:
            return existing, False
        try:
            return _insert(kind, values, uploads, nonce, source, actor, list(kept_ids)), True
        except IntegrityError:
            db.session.rollback()
    raise RuntimeError(f"no free reference number after {ATTEMPTS} attempts")


def pending_form(kind: str) -> str:
    """The name photos of an owner form are kept under (``files.pending_uploads``)."""
    return f"service_{kind}"


def _insert(kind, values, uploads, nonce, source, actor, kept_ids) -> ServiceRequest:
    now, filed_on = utcnow(), today()
    recorded_by = actor_label(actor) if actor else "业主"
    swept: list[str] = []
    with StoredFiles(uploads) as stored:
        with write_transaction() as session:
            kept = []
            if kept_ids:
                kept = pending_uploads.claim(session, pending_form(kind), nonce, kept_ids)
                swept = pending_uploads.expire(session, pending_form(kind), nonce)
            sequence, reference = next_reference(
                session.connection(), REQUESTS, states.PREFIXES[kind], filed_on
            )
            request = ServiceRequest(
                kind=kind,
                reference=reference,
                filed_on=filed_on,
                sequence=sequence,
                token=new_token(),
                submission_nonce=nonce,
                source=source,
                recorded_by=recorded_by,
                state=states.NEW,
                created_at=now,
                updated_at=now,
                **{name: values.get(name, "") for name in FIELDS},
            )
            if kind == states.COMPLAINT:
                request.due_at = now + timedelta(hours=settings.complaint_answer_hours())
            how = (
                "业主在线提交" if source == states.ONLINE else f"{states.SOURCE_LABELS[source]}登记"
            )
            request.events.append(
                ServiceEvent(
                    action="file",
                    from_state=None,
                    to_state=states.NEW,
                    comment=how,
                    actor_id=actor.id if actor else None,
                    actor_name=recorded_by,
                    created_at=now,
                )
            )
            for row in kept:
                request.photos.append(
                    ServicePhoto(
                        stage="report",
                        stored_name=row["stored_name"],
                        original_name=row["original_name"],
                        content_type=row["content_type"],
                        size=row["size"],
                        created_at=now,
                    )
                )
            for upload, stored_name in zip(uploads, stored.names, strict=True):
                request.photos.append(
                    ServicePhoto(
                        stage="report",
                        stored_name=stored_name,
                        original_name=upload.original_name,
                        content_type=upload.content_type,
                        size=upload.size,
                        created_at=now,
                    )
                )
            session.add(request)
            notify_filed(session, request)
        stored.keep()
    pending_uploads.remove_files(swept)
    return request
