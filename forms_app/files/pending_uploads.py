"""Attachments kept across a form's validation errors, stored against the form's nonce.

An owner who picks files and then gets an error (a missing field, a date in the past) does
not pick them again: the files that passed the content check are written to the upload folder
at once and recorded here under the form's kind and nonce. The re-rendered form lists them as
already attached, each with a remove button, and names them back in ``kept_upload`` fields.
A successful submission claims the rows it names (deleting them in its own write
transaction, so its attachment rows take over the files); rows nobody claims are swept after
``PENDING_UPLOAD_MAX_AGE_HOURS`` by ``flask --app forms_app files sweep-uploads`` and on every
successful submission that claims kept files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app, has_request_context, request
from flask.cli import with_appcontext
from sqlalchemy import Index, Integer, String, bindparam, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.community import community_key
from ..core.community_scope import CommunityOwned, all_communities
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.refusals import Refused
from .store import file_store
from .uploads import CheckedUpload, StoredFileColumns, StoredFiles, new_stored_name

PENDING_TABLE = "pending_upload"


class PendingUpload(CommunityOwned, StoredFileColumns, db.Model):
    """A checked file waiting for its form (of a community's page) to be submitted."""

    __tablename__ = PENDING_TABLE
    __table_args__ = (Index("ix_pending_upload_community", "community", "form", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Which form kept it ("renovation"): a nonce from another form finds nothing here.
    form: Mapped[str] = mapped_column(String(30))
    nonce: Mapped[str] = mapped_column(String(64))
    # The client address that sent it: kept bytes are bounded per address (and in total).
    address: Mapped[str] = mapped_column(String(64), default="", server_default="")


# The sweep selects on the age only.
Index("ix_pending_upload_created_at", PendingUpload.created_at)
Index("ix_pending_upload_address", PendingUpload.address)


class KeepRefused(Refused):
    """Keeping these files would pass a bound: the form's, the address's or the total."""

    default_field = "attachments"


def client_address() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


def _check_bounds(session, form: str, nonce: str, address: str, count: int, size: int) -> None:
    """Refuse (nothing kept) files beyond the form's, the address's or the total bound."""
    config = current_app.config
    max_files = config["UPLOAD_MAX_FILES"]
    on_form = session.scalar(
        select(func.count()).where(PendingUpload.form == form, PendingUpload.nonce == nonce)
    )
    if on_form + count > max_files:
        raise KeepRefused(
            f"这份表单已暂存 {on_form} 个附件，最多 {max_files} 个，新选的附件未保存。"
            "请先移除不需要的附件，或提交时重新选择。"
        )
    since = utcnow() - max_age()
    # The address's and the total bound are the deployment's (one upload folder, one disk):
    # they count every community's kept files.
    kept_bytes = all_communities(
        select(func.coalesce(func.sum(PendingUpload.size), 0)).where(
            PendingUpload.created_at >= since
        )
    )
    by_address = session.scalar(kept_bytes.where(PendingUpload.address == address))
    if by_address + size > config["PENDING_UPLOAD_MAX_BYTES_PER_ADDRESS"]:
        raise KeepRefused(
            "您所在的网络暂存的附件已达上限，新选的附件未保存。请填好表单其余内容后，"
            "在提交时重新选择附件。"
        )
    if session.scalar(kept_bytes) + size > config["PENDING_UPLOAD_MAX_TOTAL_BYTES"]:
        raise KeepRefused(
            "系统暂存的附件已达上限，新选的附件未保存。请填好表单其余内容后，在提交时重新选择附件。"
        )


# The deletes of a submission and of the sweeps, built once and run as plain DELETEs on the
# table: they run under the write lock, where the ORM's bulk delete would first evaluate them
# against the session's rows. Plain statements on the table are not scoped by the session's
# community hook (core/community_scope.py): a form's files are looked up with the request's
# community key given as a parameter; files too old are swept in every community (one upload
# folder for the deployment).
_PENDING = PendingUpload.__table__
_TOO_OLD = _PENDING.c.created_at < bindparam("before")
_THIS_FORM = (
    (_PENDING.c.community == bindparam("community"))
    & (_PENDING.c.form == bindparam("form"))
    & (_PENDING.c.nonce == bindparam("nonce"))
)
_EXPIRE_OLD = delete(_PENDING).where(_TOO_OLD).returning(_PENDING.c.stored_name)
_EXPIRE_OLD_AND_NONCE = (
    delete(_PENDING).where(_TOO_OLD | _THIS_FORM).returning(_PENDING.c.stored_name)
)
_CLAIM = (
    delete(_PENDING)
    .where(
        _PENDING.c.community == bindparam("community"),
        _PENDING.c.form == bindparam("form"),
        _PENDING.c.nonce == bindparam("nonce"),
        _PENDING.c.id.in_(bindparam("ids", expanding=True)),
    )
    .returning(
        _PENDING.c.id,
        _PENDING.c.stored_name,
        _PENDING.c.original_name,
        _PENDING.c.content_type,
        _PENDING.c.size,
    )
)


@dataclass(frozen=True)
class KeptFile:
    """What the form shows of a kept file (a plain copy: the row may go while it is shown)."""

    id: int
    original_name: str
    size: int

    @classmethod
    def of(cls, row: PendingUpload) -> KeptFile:
        return cls(row.id, row.original_name, row.size)


class PendingUploadGone(Exception):
    """A kept file the form names is no longer there (swept, removed, or never this form's)."""


def max_age() -> timedelta:
    return timedelta(hours=current_app.config["PENDING_UPLOAD_MAX_AGE_HOURS"])


def kept_for(form: str, nonce: str, ids: list[int]) -> tuple[list[KeptFile], int]:
    """The kept files the posted form names, in the order they were kept, and how many of
    the named ones are gone (row missing, another form's, or its file missing on disk)."""
    wanted = set(ids)
    if not wanted:
        return [], 0
    rows = db.session.scalars(
        select(PendingUpload)
        .where(
            PendingUpload.form == form,
            PendingUpload.nonce == nonce,
            PendingUpload.id.in_(sorted(wanted)),
        )
        .order_by(PendingUpload.id)
    ).all()
    store = file_store()
    present = [KeptFile.of(row) for row in rows if store.exists(row.stored_name)]
    return present, len(wanted) - len(present)


def keep(form: str, nonce: str, uploads: list[CheckedUpload]) -> list[KeptFile]:
    """Write checked uploads to the upload folder and record them against the nonce; raises
    ``KeepRefused`` (nothing kept, the written files removed) beyond a bound."""
    if not uploads:
        return []
    now = utcnow()
    address = client_address()
    with StoredFiles(uploads) as stored:
        with write_transaction() as session:
            _check_bounds(session, form, nonce, address, len(uploads), sum(u.size for u in uploads))
            rows = [
                PendingUpload(
                    form=form,
                    nonce=nonce,
                    address=address,
                    stored_name=name,
                    original_name=upload.original_name,
                    content_type=upload.content_type,
                    size=upload.size,
                    created_at=now,
                )
                for upload, name in zip(uploads, stored.names, strict=True)
            ]
            session.add_all(rows)
            session.flush()
            kept = [KeptFile.of(row) for row in rows]
        stored.keep()
    return kept


def copy_to_pending(form: str, nonce: str, files: list[StoredFileColumns]) -> list[KeptFile]:
    """Copies of already stored files (a rejected application's attachments) kept against a
    new form's nonce, so the resubmitted form starts with them attached. Files missing on
    disk are left out; beyond a bound (``KeepRefused``) none are copied."""
    store = file_store()
    now = utcnow()
    address = client_address()
    with db.session.no_autoflush:
        _check_bounds(db.session, form, nonce, address, len(files), sum(f.size for f in files))
    rows, written = [], []
    try:
        for source in files:
            name = new_stored_name(Path(source.stored_name).suffix)
            written.append(name)
            if not store.copy(source.stored_name, name):
                written.pop()
                continue
            rows.append(
                PendingUpload(
                    form=form,
                    nonce=nonce,
                    address=address,
                    stored_name=name,
                    original_name=source.original_name,
                    content_type=source.content_type,
                    size=source.size,
                    created_at=now,
                )
            )
        kept = []
        if rows:
            with write_transaction() as session:
                session.add_all(rows)
                session.flush()
                kept = [KeptFile.of(row) for row in rows]
    except BaseException:
        remove_files(written)
        raise
    return kept


def remove(form: str, nonce: str, upload_id: int) -> bool:
    """Remove one kept file of this form; False when it is not (or no longer) there."""
    with write_transaction() as session:
        names = session.scalars(
            delete(PendingUpload)
            .where(
                PendingUpload.id == upload_id,
                PendingUpload.form == form,
                PendingUpload.nonce == nonce,
            )
            .returning(PendingUpload.stored_name)
        ).all()
    remove_files(names)
    return bool(names)


def claim(connection, form: str, nonce: str, ids: list[int]) -> list[dict]:
    """Take the named kept files for a submission, inside its write transaction
    (``connection``: a ``Connection`` or ``Session`` in it).

    The rows are deleted with RETURNING, so a sweep or a second submission racing for the
    same rows cannot both have them: whoever deletes a row owns its file. Raises
    ``PendingUploadGone`` when any named row or file is missing (the transaction then rolls
    back and the rows stay).
    """
    if not ids:
        return []
    claimed = (
        connection.execute(
            _CLAIM,
            {"community": community_key(), "form": form, "nonce": nonce, "ids": sorted(set(ids))},
        )
        .mappings()
        .all()
    )
    if len(claimed) != len(set(ids)) or not all(
        file_store().exists(row["stored_name"]) for row in claimed
    ):
        raise PendingUploadGone()
    return [dict(row) for row in sorted(claimed, key=lambda row: row["id"])]


def expire(connection, form: str | None = None, nonce: str | None = None) -> list[str]:
    """Inside a write transaction (``connection``: a ``Connection`` or ``Session`` in it):
    delete the rows of kept files older than the maximum age (and, when given, every kept
    file of one form's nonce, which its submission no longer needs). Returns the stored names
    to remove with ``remove_files`` after the commit."""
    params = {"before": utcnow() - max_age()}
    statement = _EXPIRE_OLD
    if nonce is not None:
        params.update(community=community_key(), form=form, nonce=nonce)
        statement = _EXPIRE_OLD_AND_NONCE
    return list(connection.scalars(statement, params).all())


def remove_files(names: list[str]) -> None:
    store = file_store()
    for name in names:
        store.delete(name)


def sweep() -> int:
    """Remove every kept file older than the maximum age; returns how many went."""
    with write_transaction() as session:
        names = expire(session)
    remove_files(names)
    return len(names)


@click.command("sweep-uploads")
@with_appcontext
def sweep_command():
    """Remove attachments kept for forms that were never submitted (older than a day)."""
    count = sweep()
    click.echo(
        f"已清除 {count} 个超过 {current_app.config['PENDING_UPLOAD_MAX_AGE_HOURS']} "
        "小时未提交的暂存附件。"
    )
