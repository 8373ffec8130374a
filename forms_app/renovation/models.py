"""Renovation applications, their history and their attachments.

Timestamps are stored as naive UTC; ``local_time`` converts them for display.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import StaffUser
from ..core.clock import utcnow
from ..core.community_scope import CommunityOwned
from ..core.extensions import db
from ..core.tokens import new_token
from ..files.uploads import StoredFileColumns
from ..households.fields import HouseholdColumns
from . import states

# The record type other parts use for an application: messages, events, 我的办理.
RECORD_TYPE = "renovation"
# Partial unique index: at most one open application per room of a community (two communities
# both have 1-1-101), enforced by the database too.
# Only an application whose owner is verified holds the room: filed from a mobile registered
# as the room's owner (一户一档), or confirmed by staff in review. Anyone else's application
# never blocks the real owner's.
OPEN_ROOM_WHERE = text(
    "state NOT IN ('rejected', 'deposit_refunded') AND owner_verified IS NOT NULL"
)
# How the owner was verified.
OWNER_VERIFIED = {"registry": "手机号为登记业主", "staff": "员工审核时核实业主身份"}


class RenovationApplication(CommunityOwned, HouseholdColumns, db.Model):
    """One owner's application to renovate one room (装修申请), in the community of the room
    (``community``); its history and attachments are reached only through it."""

    __tablename__ = "renovation_application"
    # Few indexes on purpose: each one is another page written on every submission (the
    # owners' POST, scripts/bench_renovation.py). No index by community and state: a
    # community's applications are a few hundred a year, read by id (the register) and its
    # lists and counts scan them (bench_scale: the register of one of 50 communities in 16 ms).
    __table_args__ = (
        Index(
            "uq_renovation_application_open_room",
            "community",
            "building",
            "unit",
            "room",
            unique=True,
            sqlite_where=OPEN_ROOM_WHERE,
            postgresql_where=OPEN_ROOM_WHERE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # ZX<filed_on as YYYYMMDD>-<sequence of that day, 3 digits or more>.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    filed_on: Mapped[date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer)
    status_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # One per rendered form: a second POST of the same form finds the first application.
    submission_nonce: Mapped[str] = mapped_column(String(64), unique=True)

    contractor_company: Mapped[str] = mapped_column(String(60))
    site_lead_name: Mapped[str] = mapped_column(String(30))
    site_lead_mobile: Mapped[str] = mapped_column(String(11))
    workers: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # Ids of ``work_items`` in data/renovation_rules.yml.
    work_items: Mapped[list] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    wants_tarpaulin: Mapped[bool] = mapped_column(Boolean, default=False)
    wants_extinguisher: Mapped[bool] = mapped_column(Boolean, default=False)
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime)
    # "registry", "staff" or None (not verified yet: the mobile is not a registered owner's).
    owner_verified: Mapped[str | None] = mapped_column(String(16), nullable=True)

    # A resubmission after 驳回 names the rejected application it replaces (at most one).
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("renovation_application.id"), unique=True, nullable=True
    )

    state: Mapped[str] = mapped_column(String(32), default=states.PENDING)
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[RenovationEvent]] = relationship(
        back_populates="application",
        order_by="RenovationEvent.id",
        cascade="all, delete-orphan",
    )
    attachments: Mapped[list[RenovationAttachment]] = relationship(
        back_populates="application",
        order_by="RenovationAttachment.id",
        cascade="all, delete-orphan",
    )
    previous: Mapped[RenovationApplication | None] = relationship(
        remote_side=[id], foreign_keys=[previous_id]
    )

    @property
    def state_label(self) -> str:
        return states.label(self.state)

    @property
    def has_permit(self) -> bool:
        return self.state in states.PERMIT_STATES

    @property
    def duration_days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class RenovationEvent(db.Model):
    """One step in an application's history: who moved it from which state to which, when."""

    __tablename__ = "renovation_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("renovation_application.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_state: Mapped[str] = mapped_column(String(32))
    # 给业主的说明: shown to the owner on the status page.
    comment: Mapped[str] = mapped_column(Text, default="")
    # 内部备注: staff only, never on an owner's page.
    internal_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The staff migration (0003_staff) adds the foreign key to staff accounts.
    # The staff member who took the step (owners' steps: NULL).
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey(StaffUser.id, name="fk_renovation_event_actor_id_staff_user"), nullable=True
    )
    actor_name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The nonce of the staff form the step came from: a draft sent twice finds this step.
    submission_nonce: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    application: Mapped[RenovationApplication] = relationship(back_populates="events")

    @property
    def to_label(self) -> str:
        return states.label(self.to_state)


class RenovationAttachment(StoredFileColumns, db.Model):
    """A drawing or plan uploaded with an application, stored under a generated name."""

    __tablename__ = "renovation_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("renovation_application.id", ondelete="CASCADE"), index=True
    )

    application: Mapped[RenovationApplication] = relationship(back_populates="attachments")


def record_event(
    application: RenovationApplication,
    to_state: str,
    actor_id: int | None = None,
    actor_name: str = "业主",
    comment: str = "",
    internal_note: str = "",
) -> RenovationEvent:
    """Move the application to ``to_state`` and append the step to its history.

    Call it inside ``write_transaction()``; it does not commit. A rejection keeps its
    comment as the reason the owner sees.
    """
    if to_state not in states.LABELS:
        raise ValueError(f"unknown renovation state: {to_state}")
    event = RenovationEvent(
        from_state=application.state,
        to_state=to_state,
        comment=comment,
        internal_note=internal_note,
        actor_id=actor_id,
        actor_name=actor_name,
        created_at=utcnow(),
    )
    application.events.append(event)
    application.state = to_state
    if to_state == states.REJECTED:
        application.rejection_reason = comment
    application.updated_at = event.created_at
    return event
