"""Writing messages into the outbox, inside the caller's write transaction.

A domain calls ``enqueue(session, kind, …)`` in the same ``write_transaction`` as the change
the message reports: the message is committed with the change or not at all, and the request
never waits for a delivery (the worker sends it). A path that holds the write lock while it
writes (filing an application) builds the rows with ``message_row`` and adds them with one
plain INSERT (``enqueue_rows``).
"""

from __future__ import annotations

import uuid

from flask import current_app, has_request_context, url_for
from sqlalchemy import func, select

from ..core.clock import utcnow
from ..core.community import community_key
from ..core.community_scope import all_communities
from ..core.public_urls import public_url
from .messages import render
from .models import FAILED, PENDING, Notification

INSERT_NOTIFICATION = Notification.__table__.insert()


def path_for(endpoint: str, **values) -> str:
    """The path of a page, also outside a request (the worker's scans, commands, scripts)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def message_row(
    kind: str,
    *,
    record_type: str = "",
    record_id: int | None = None,
    reference: str = "",
    recipient: str = "",
    link_path: str = "",
    dedupe_key: str | None = None,
    requested_by: str = "",
    audience: str | None = None,
    staff_id: int | None = None,
    addressee: str = "",
    **values,
) -> dict:
    """The outbox row of one message, its text rendered: the columns of a ``Notification``,
    of the request's community (the one whose event the message reports; a plain INSERT of
    the row is not given it by the ORM).

    ``link_path`` becomes the message's absolute ``{link}``. ``audience`` overrides the kind's
    (a personal staff alert sent by SMS); ``staff_id`` and ``addressee`` name the member of
    staff a personal alert is for (``staff_alerts.alert_staff`` sets the three).
    """
    values = {"reference": reference, "link": public_url(link_path) if link_path else "", **values}
    message, text, params = render(kind, values)
    now = utcnow()
    return {
        "community": community_key(),
        "kind": kind,
        "audience": audience or message.audience,
        "recipient": recipient,
        "staff_id": staff_id,
        "addressee": addressee,
        "record_type": record_type,
        "record_id": record_id,
        "reference": reference,
        "text": text,
        "params": params,
        "idempotency_key": uuid.uuid4().hex,
        "dedupe_key": dedupe_key,
        "secret": message.secret,
        "requested_by": requested_by,
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "last_error": "",
    }


def enqueue(session, kind: str, *, dedupe_key: str | None = None, **fields) -> Notification | None:
    """Add one message to the outbox in ``session``'s transaction.

    ``fields`` are those of ``message_row``. With a ``dedupe_key`` already in the outbox
    nothing is added and None is returned (a periodic scan seeing the same thing twice).
    """
    # A dedupe key is unique in the whole outbox (every community's): so is the look-up.
    if dedupe_key and session.scalar(
        all_communities(select(Notification.id).where(Notification.dedupe_key == dedupe_key))
    ):
        return None
    notification = Notification(**message_row(kind, dedupe_key=dedupe_key, **fields))
    session.add(notification)
    return notification


def enqueue_rows(connection, rows: list[dict]) -> None:
    """Add messages built with ``message_row`` with one plain INSERT, in the transaction of
    ``connection`` (a ``Connection``, or a ``Session``) that makes the change they report:
    for a write path that holds the write lock meanwhile (no ORM objects to flush). No
    ``dedupe_key`` check.
    """
    if rows:
        connection.execute(INSERT_NOTIFICATION, rows)


def messages_for(session, record_type: str, record_id: int) -> list[Notification]:
    """What was sent (or is being sent) about one record, oldest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.record_type == record_type, Notification.record_id == record_id)
            .order_by(Notification.id)
        )
    )


def messages_by_record(session, record_type: str, record_ids) -> dict[int, list[Notification]]:
    """``messages_for`` of many records in one query (a day's schedule)."""
    found: dict[int, list[Notification]] = {}
    ids = list(record_ids)
    if not ids:
        return found
    for notification in session.scalars(
        select(Notification)
        .where(Notification.record_type == record_type, Notification.record_id.in_(ids))
        .order_by(Notification.id)
    ):
        found.setdefault(notification.record_id, []).append(notification)
    return found


def failed_count(session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.state == FAILED)
        )
        or 0
    )
