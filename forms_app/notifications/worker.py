"""The delivery worker: claims one due message at a time with a lease, sends it outside any
transaction, records the attempt, and retries with exponential backoff.

At-least-once: a message is marked delivered only after its channel accepted it. A worker
killed mid-delivery leaves the message ``sending`` with a lease; when the lease runs out
another worker (or the restarted one) claims it again, marks the unfinished attempt
interrupted and sends it again with the same idempotency key, so the receiver can drop the
second copy. A message is never dropped: it ends delivered, or failed and shown to staff.

Stopping (SIGTERM, SIGINT): the signal handler only raises a flag and writes a byte to a pipe
(``Stop``), so the message in hand is finished and recorded before the loop ends, and the idle
wait wakes on the pipe at once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from select import select as wait_readable

from flask import current_app
from sqlalchemy import and_, or_, select, update

from ..core.clock import today, utcnow
from ..core.community import acting_in, deployment_communities, served_communities
from ..core.community_scope import ALL_COMMUNITIES, all_communities, every_community
from ..core.database import write_transaction
from ..core.extensions import db
from .channels import DeliveryError, Outgoing, build_channels, channel_for, describe
from .messages import MESSAGES
from .models import (
    DELIVERED,
    ERROR,
    FAILED,
    INTERRUPTED,
    PENDING,
    SENDING,
    SENT,
    DeliveryAttempt,
    Notification,
)
from .scans import registered_scans
from .settings import notification_settings

logger = logging.getLogger("forms_app.notifications")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def backoff_delay(settings: dict, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: doubled each time, capped."""
    return min(settings["backoff"] * 2 ** max(attempts - 1, 0), settings["backoff_max"])


def _forget_secret(notification: Notification) -> None:
    """A one-time code is not kept once its message is done with."""
    if notification.secret:
        notification.text = f"{MESSAGES[notification.kind].label}（内容不保留）"
        notification.params = []


def _give_up(notification: Notification, reason: str) -> None:
    notification.state = FAILED
    notification.last_error = reason
    notification.lease_until = None
    notification.leased_by = None
    _forget_secret(notification)


def claim(name: str, settings: dict, channels: dict) -> tuple[Outgoing, int, object] | None:
    """Take the next due message: (message, attempt id, channel), or None when none is due.

    A due message is pending and past its ``next_attempt_at``, or ``sending`` with an
    expired lease (its worker died). Rows locked by another worker are skipped on
    PostgreSQL; on SQLite the write lock serialises claims. The worker delivers the whole
    deployment's outbox: every community's messages (``all_communities``).
    """
    while True:
        now = utcnow()
        with write_transaction() as session:
            notification = session.scalars(
                all_communities(
                    select(Notification)
                    .where(
                        or_(
                            and_(
                                Notification.state == PENDING,
                                Notification.next_attempt_at <= now,
                            ),
                            and_(Notification.state == SENDING, Notification.lease_until < now),
                        )
                    )
                    .order_by(Notification.next_attempt_at, Notification.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if notification is None:
                return None
            if notification.state == SENDING:
                session.execute(
                    update(DeliveryAttempt)
                    .where(
                        DeliveryAttempt.notification_id == notification.id,
                        DeliveryAttempt.outcome.is_(None),
                    )
                    .values(
                        outcome=INTERRUPTED,
                        finished_at=now,
                        detail="发送进程在发送途中退出，租约到期后重新发送",
                    )
                )
                if notification.attempts >= settings["max_attempts"]:
                    _give_up(notification, "多次发送途中进程退出，已停止重试")
                    continue
            channel = channel_for(notification.audience, channels)
            notification.state = SENDING
            notification.attempts += 1
            notification.lease_until = now + timedelta(seconds=settings["lease"])
            notification.leased_by = name
            attempt = DeliveryAttempt(
                notification_id=notification.id,
                number=notification.attempts,
                worker=name,
                channel=channel.name,
                started_at=now,
                detail="",
            )
            session.add(attempt)
            session.flush()
            outgoing = Outgoing(
                notification.id,
                notification.kind,
                notification.audience,
                notification.recipient,
                notification.text,
                tuple(notification.params or ()),
                notification.idempotency_key,
                _sign_name(notification.community),
            )
            return outgoing, attempt.id, channel


def _sign_name(community_key: str) -> str:
    """The SMS sign a community's file names (``sms_sign_name``), else ""."""
    community = deployment_communities().get(community_key)
    return str(community.get("sms_sign_name") or "") if community else ""


def finish(
    name: str,
    settings: dict,
    message: Outgoing,
    attempt_id: int,
    channel,
    error: str | None,
    detail: str,
) -> None:
    """Record what came of one attempt and decide the message's next state."""
    now = utcnow()
    with write_transaction() as session:
        attempt = session.get(DeliveryAttempt, attempt_id)
        attempt.finished_at = now
        attempt.outcome = ERROR if error else SENT
        attempt.detail = error or detail
        notification = session.get(
            Notification,
            message.id,
            with_for_update=True,
            populate_existing=True,
            execution_options={ALL_COMMUNITIES: True},
        )
        if notification.state == DELIVERED:
            return
        if error is None:
            # Accepted, even if our lease ran out meanwhile: a copy sent by another worker
            # carries the same key.
            notification.state = DELIVERED
            notification.delivered_at = now
            notification.channel = channel.name
            notification.last_error = ""
            notification.lease_until = None
            notification.leased_by = None
            _forget_secret(notification)
            return
        notification.last_error = error
        notification.channel = channel.name
        if notification.state != SENDING or notification.leased_by != name:
            return  # another worker holds it now and will decide
        if notification.attempts >= settings["max_attempts"]:
            _give_up(notification, error)
            return
        notification.state = PENDING
        notification.lease_until = None
        notification.leased_by = None
        notification.next_attempt_at = now + timedelta(
            seconds=backoff_delay(settings, notification.attempts)
        )


def deliver_next(name: str, settings: dict, channels: dict) -> bool:
    """Claim and send one message of any community; False when nothing was due."""
    with every_community(OUTBOX_REASON):
        return _deliver_next(name, settings, channels)


# The worker delivers the whole deployment's outbox: its claim and its record of each attempt
# read and write every community's messages (on PostgreSQL, past row-level security too).
OUTBOX_REASON = "通知发送：整个部署的发件箱"


def _deliver_next(name: str, settings: dict, channels: dict) -> bool:
    claimed = claim(name, settings, channels)
    if claimed is None:
        return False
    message, attempt_id, channel = claimed
    error, detail = None, ""
    try:
        detail = channel.send(message)
    except DeliveryError as failure:
        error = str(failure)
    except Exception as failure:  # a channel bug must not stop the worker or lose the message
        logger.exception("channel %s failed on notification %s", channel.name, message.id)
        error = f"发送出错：{type(failure).__name__}"
    finish(name, settings, message, attempt_id, channel, error, detail)
    if error:
        logger.warning("通知 #%s 发送失败：%s", message.id, error)
    return True


def run_scans() -> int:
    """Run every registered periodic scan once in each community the app serves, as that
    community's (its records, its settings, its staff); a failing scan is logged, not fatal."""
    added = 0
    for community in served_communities(current_app):
        with acting_in(community):
            for scan_name, scan in registered_scans().items():
                try:
                    added += scan(today()) or 0
                except Exception:
                    db.session.rollback()
                    logger.exception("notification scan %s failed in %s", scan_name, community.key)
    return added


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stop:
    """A request to stop the worker, safe to make from a signal handler.

    ``request`` stores a flag and writes a byte to a non-blocking pipe; it takes no lock, so it
    may run again while it runs (a second signal while the first handler is running) and may
    interrupt anything. ``threading.Event.set`` takes the event's lock: a second signal handled
    while the first handler (or the loop's ``Event.wait``) held it waited on it forever. The
    idle wait (``wait``) sleeps in ``select`` on the pipe's read end, so a request wakes it.
    """

    def __init__(self) -> None:
        self.requested = False
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    @property
    def wake_fd(self) -> int:
        return self._write

    def request(self, _signum=None, _frame=None) -> None:
        """Ask the loop to stop (also the signal handler): finish the message in hand, then end."""
        self.requested = True
        fd = self._write
        if fd is None:
            return
        try:
            os.write(fd, b"\0")
        except BlockingIOError:
            pass  # the pipe is full: a wake-up is waiting already

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, less if a stop is requested; True once it is."""
        if not self.requested:
            wait_readable([self._read], [], [], timeout)
            self._drain()
        return self.requested

    def _drain(self) -> None:
        try:
            while os.read(self._read, 512):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        # The write end is forgotten before it is closed: a handler running late writes
        # nowhere rather than into whatever file reuses the number.
        write, self._write = self._write, None
        if write is not None:
            os.close(write)
            os.close(self._read)

    def __enter__(self) -> Stop:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


@contextmanager
def stop_on_signals() -> Iterator[Stop]:
    """SIGTERM and SIGINT request a stop for the duration of the block (main thread only).

    The pipe is also the interpreter's wake-up fd (``signal.set_wakeup_fd``): its C-level
    handler writes to it the moment a signal arrives, even when the kernel delivered the
    signal to another thread, so the idle wait wakes at once either way.

    After a stop was requested the signals are ignored, not given back to their previous
    handlers, while the process exits: ``make run`` sends SIGINT and SIGTERM together, and the
    second one must not kill a worker that is already ending cleanly (exit status 0). Without
    a stop (``--once`` done, an error, a test invoking the command) the previous handlers are
    put back.
    """
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        with stop:
            yield stop
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    previous_fd = signal.set_wakeup_fd(stop.wake_fd, warn_on_full_buffer=False)
    try:
        for signum in STOP_SIGNALS:
            signal.signal(signum, stop.request)
        yield stop
    finally:
        for signum, handler in previous.items():
            if stop.requested:
                handler = signal.SIG_IGN
            elif handler is None:  # not set from Python: the default is the best we can do
                handler = signal.SIG_DFL
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_fd)
        stop.close()


def run(app, once: bool = False, stop: Stop | None = None) -> None:
    """Deliver until ``stop`` is requested, finishing the message in hand first (the command
    gives a ``Stop`` that SIGTERM/SIGINT request, see ``stop_on_signals``).

    ``once``: run the scans, deliver what is due now, and return.
    """
    if stop is None:
        with Stop() as own:
            run(app, once=once, stop=own)
        return
    settings = notification_settings(app.config)
    channels = build_channels(settings)
    name = worker_name()
    # The ready line: from here on a stop signal ends the worker cleanly.
    logger.info("通知发送进程 %s 已启动：%s", name, describe(settings))
    next_scan = 0.0
    while not stop.requested:
        if time.monotonic() >= next_scan:
            run_scans()
            next_scan = time.monotonic() + settings["scan"]
        try:
            handled = deliver_next(name, settings, channels)
        except Exception:
            # The database away for a moment: wait, then carry on; nothing is lost.
            logger.exception("notification worker cycle failed")
            db.session.rollback()
            handled = False
        db.session.remove()
        if once and not handled:
            break
        if not handled:
            stop.wait(settings["poll"])
    logger.info("通知发送进程 %s 已停止", name)
