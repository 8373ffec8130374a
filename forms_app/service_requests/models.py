"""The register of repairs and complaints (报修维修记录本, 客户投诉记录本), its history, photos,
回访 calls (客户回访记录本) and household visits (走访记录).

Timestamps are stored as naive UTC; pages and figures use China's local time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
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


class ServiceRequest(CommunityOwned, HouseholdColumns, db.Model):
    """One repair (报修) or complaint (投诉), from an owner online or recorded by 客服. It
    belongs to its community (``community``); its history and photos are its own."""

    __tablename__ = "service_request"
    __table_args__ = (
        Index("ix_service_request_created", "created_at"),
        Index("ix_service_request_closed", "closed_at"),
        # What waits and what is late (the staff home, the overdue scan), per community.
        Index("ix_service_request_community", "community", "state", "due_at"),
        Index("ix_service_request_assignee", "assignee_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # BX/TS<filed_on as YYYYMMDD>-<sequence of that day>: numbers run across the deployment
    # (like renovation's and move-in's), so a reference names one request anywhere.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    filed_on: Mapped[date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # One per rendered form: a second POST of the same form finds the first request.
    submission_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(100))

    # Repairs: where (室内 or a public place) and when the owner is at home.
    location: Mapped[str] = mapped_column(String(16), default="")
    place: Mapped[str] = mapped_column(String(60), default="")
    available_time: Mapped[str] = mapped_column(String(60), default="")
    # What is broken, or what the complaint is about.
    description: Mapped[str] = mapped_column(Text)
    # Complaints: the department concerned and what the owner wants.
    department: Mapped[str] = mapped_column(String(30), default="")
    wish: Mapped[str] = mapped_column(Text, default="")

    state: Mapped[str] = mapped_column(String(20), default=states.NEW)
    urgency: Mapped[str] = mapped_column(String(16), default="")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey(StaffUser.id, ondelete="SET NULL"), nullable=True
    )
    assignee_name: Mapped[str] = mapped_column(String(100), default="")
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Repairs: dispatch + the urgency's hours; complaints: filing + the answer deadline.
    due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    receipt: Mapped[str] = mapped_column(String(16), default="")
    receipt_name: Mapped[str] = mapped_column(String(30), default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    owner_view: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    events: Mapped[list[ServiceEvent]] = relationship(
        back_populates="request", order_by="ServiceEvent.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[ServicePhoto]] = relationship(
        back_populates="request", order_by="ServicePhoto.id", cascade="all, delete-orphan"
    )
    follow_ups: Mapped[list[ServiceFollowUp]] = relationship(
        back_populates="request", order_by="ServiceFollowUp.id", cascade="all, delete-orphan"
    )
    feedback: Mapped[list[OwnerFeedback]] = relationship(
        back_populates="request", order_by="OwnerFeedback.id", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        return states.KIND_LABELS[self.kind]

    @property
    def state_label(self) -> str:
        return states.label(self.kind, self.state)

    @property
    def source_label(self) -> str:
        return states.SOURCE_LABELS.get(self.source, self.source)

    @property
    def is_repair(self) -> bool:
        return self.kind == states.REPAIR

    @property
    def where(self) -> str:
        """Where a repair is: the room, or the public place the owner named."""
        if self.location == states.PUBLIC:
            return f"公共区域：{self.place}"
        return self.room_label

    def overdue_at(self, now: datetime) -> bool:
        """Past its due time while someone still owes work on it."""
        return (
            self.due_at is not None
            and self.state in states.WORK_STATES[self.kind]
            and self.due_at < now
        )


class ServiceEvent(db.Model):
    """One step of a request's history: who did what, from which state to which, when."""

    __tablename__ = "service_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_request.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey(StaffUser.id, ondelete="SET NULL"), nullable=True
    )
    actor_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    request: Mapped[ServiceRequest] = relationship(back_populates="events")


class ServicePhoto(StoredFileColumns, db.Model):
    """A photo of the fault sent by the owner (``report``) or taken by the worker (``work``)."""

    __tablename__ = "service_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_request.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(10))

    request: Mapped[ServiceRequest] = relationship(back_populates="photos")


class ServiceFollowUp(CommunityOwned, db.Model):
    """One 回访 call (客户回访记录本): satisfied or not, and what the owner said. Keyed like its
    request: the weekly figures count the calls without the request."""

    __tablename__ = "service_follow_up"
    __table_args__ = (Index("ix_service_follow_up_community", "community", "called_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_request.id", ondelete="CASCADE"), index=True
    )
    # Copied from the request so that the weekly figures read one table.
    kind: Mapped[str] = mapped_column(String(16))
    # The request's first 回访 (the 维修合格率 counts repairs good at the first call).
    first: Mapped[bool] = mapped_column(Boolean)
    satisfied: Mapped[bool] = mapped_column(Boolean)
    owner_view: Mapped[str] = mapped_column(Text)
    caller_id: Mapped[int | None] = mapped_column(
        ForeignKey(StaffUser.id, ondelete="SET NULL"), nullable=True
    )
    caller_name: Mapped[str] = mapped_column(String(100))
    called_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    request: Mapped[ServiceRequest] = relationship(back_populates="follow_ups")


class OwnerFeedback(CommunityOwned, db.Model):
    """What the owner said online about a finished repair or an answered complaint.

    A repair: ``confirm`` rows (fixed or not, a rating 1–5, a comment), one per completion.
    A complaint: a ``rate`` row (rating and comment) and at most one ``reply`` row (the
    owner's answer to the answer, which sent the complaint back to its department).
    ``first`` marks a repair's first judgment (made before any 回访): the 维修合格率 uses it.
    """

    __tablename__ = "service_owner_feedback"
    __table_args__ = (Index("ix_service_owner_feedback_created", "community", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_request.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(12))
    fixed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    first: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    request: Mapped[ServiceRequest] = relationship(back_populates="feedback")

    @property
    def good(self) -> bool:
        """Fixed (repairs) and rated 3 or more: the owner is not dissatisfied."""
        return self.fixed is not False and (self.rating or 0) >= states.SATISFIED_FROM


class HouseholdVisit(CommunityOwned, db.Model):
    """One visit to a household by 客服 (走访记录): who, when, what the owner said, follow-up;
    in the community of the household visited."""

    __tablename__ = "household_visit"
    __table_args__ = (Index("ix_household_visit_community", "community", "visited_on", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    visited_on: Mapped[date] = mapped_column(Date)
    building: Mapped[int] = mapped_column(Integer)
    unit: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(8))
    person: Mapped[str] = mapped_column(String(30))
    opinion: Mapped[str] = mapped_column(Text)
    follow_up: Mapped[str] = mapped_column(Text, default="")
    owner_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    visitor_id: Mapped[int | None] = mapped_column(
        ForeignKey(StaffUser.id, ondelete="SET NULL"), nullable=True
    )
    visitor_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def room_label(self) -> str:
        return f"{self.building}号楼{self.unit}单元{self.room}室"

    @property
    def kind_label(self) -> str:
        return states.VISIT_KIND_LABELS.get(self.kind, self.kind)
