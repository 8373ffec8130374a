"""The outbox: one row per message to send, one row per attempt to send it.

A message is written in the same transaction as the change it reports, so it exists exactly
when the change does. Timestamps are naive UTC (``clock.utcnow``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.community_scope import CommunityOwned
from ..core.extensions import db

PENDING = "pending"  # waiting for its (next) attempt
SENDING = "sending"  # claimed by a worker until ``lease_until``
DELIVERED = "delivered"  # the channel accepted it
FAILED = "failed"  # every attempt failed: shown to staff
STATE_LABELS = {PENDING: "等待发送", SENDING: "发送中", DELIVERED: "已送达", FAILED: "发送失败"}

OWNER = "owner"  # to an owner's mobile (SMS)
STAFF = "staff"  # to the staff group (企业微信 robot), mentioning ``recipient`` when one is set
STAFF_SMS = "staff_sms"  # to a member of staff's own mobile by SMS (STAFF_ALERT_CHANNEL=sms)

# Outcomes of one attempt.
SENT = "delivered"
ERROR = "error"
INTERRUPTED = "interrupted"  # the worker died while sending; the lease ran out
OUTCOME_LABELS = {SENT: "成功", ERROR: "失败", INTERRUPTED: "中断（发送进程退出）", None: "进行中"}


class Notification(CommunityOwned, db.Model):
    """One message to an owner or to the staff group, of the community whose event made it
    (``community``). The delivery worker sends every community's (``all_communities``); the
    back office's outbox shows its own community's only. Its attempts are its own."""

    __tablename__ = "notification"
    __table_args__ = (
        # The worker's claim, across every community, and a community's outbox by state (the
        # staff home's counts of failed messages). No index led by the community: each owner's
        # filing writes two messages, and every index is another page written then
        # (scripts/bench_renovation.py); the outbox list reads by id.
        Index("ix_notification_due", "state", "next_attempt_at"),
        Index("ix_notification_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    audience: Mapped[str] = mapped_column(String(10))
    # The owner's mobile; for a personal staff alert the person's mobile (the robot mentions
    # it, or the SMS goes to it); empty for the staff group.
    recipient: Mapped[str] = mapped_column(String(20), default="")
    # A personal staff alert (staff_alerts.py): the account it is for and how people read it
    # (王芳（工程）); with no account, why nobody could be named (客户服务中心无人值班，也未设主管).
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    addressee: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # The record the message is about (a domain's name and row id) and its reference number.
    record_type: Mapped[str] = mapped_column(String(30), default="")
    record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reference: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text)
    # Values of the SMS template's parameters, in the template's order.
    params: Mapped[list] = mapped_column(JSON, default=list)
    # Sent with every attempt: the receiver can drop a second copy of the same message.
    idempotency_key: Mapped[str] = mapped_column(String(40), unique=True)
    # Alerts found by a periodic scan carry one, so a second scan adds no second alert.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    # A one-time code: its text is blanked once delivered or given up.
    secret: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[str] = mapped_column(String(64), default="")

    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    leased_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="notification", order_by="DeliveryAttempt.id", cascade="all, delete-orphan"
    )

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def recipient_label(self) -> str:
        """Who it went to, as the back office shows it (mobiles masked)."""
        if self.audience == STAFF_SMS:
            return f"短信：{self.addressee} {_masked(self.recipient)}"
        if self.audience != STAFF:
            return _masked(self.recipient)
        if self.recipient:
            return f"员工群 @{self.addressee} {_masked(self.recipient)}"
        if self.staff_id is not None:
            return f"员工群（{self.addressee}未登记手机，未能@本人）"
        if self.addressee:
            return f"员工群（{self.addressee}）"
        return "员工群"

    @property
    def unmentioned(self) -> bool:
        """A personal alert that reached only the group: the person has no mobile on record."""
        return self.audience == STAFF and self.staff_id is not None and not self.recipient


def _masked(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) == 11 else mobile


class DeliveryAttempt(db.Model):
    """One try to hand a message to its channel, with what came of it."""

    __tablename__ = "notification_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")

    notification: Mapped[Notification] = relationship(back_populates="attempt_log")

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome or "")
