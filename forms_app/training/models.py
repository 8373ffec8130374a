"""Training records: read marks, quiz attempts with their answers, training sessions (培训记录)
and who attended them.

A read mark keeps the digest of the section's text it was made against: when the handbook
changes that section, the mark no longer matches and the section shows as to re-read. Attempts
and sessions keep the texts and names of their day, so they read correctly after the quiz
files, the handbook or an account's name change.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.community_scope import CommunityOwned
from ..core.extensions import db

HOW_TICKED, HOW_SIGNED = "ticked", "signed"
HOW_LABELS = {HOW_TICKED: "主持人勾选", HOW_SIGNED: "本人签到"}


class TrainingReadMark(db.Model):
    """A staff member has read a handbook section, in the version with ``digest``."""

    __tablename__ = "training_read_mark"
    __table_args__ = (
        UniqueConstraint("user_id", "section_key", name="uq_training_read_mark_user_section"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    section_key: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    read_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TrainingAttempt(db.Model):
    """One quiz taken by one staff member: its score against the pass mark of that day."""

    __tablename__ = "training_attempt"
    __table_args__ = (Index("ix_training_attempt_user_quiz", "user_id", "quiz_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One per rendered quiz: a second POST of the same page finds the first attempt.
    submission_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    quiz_id: Mapped[str] = mapped_column(String(60))
    quiz_title: Mapped[str] = mapped_column(String(100))
    correct: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    answers: Mapped[list[TrainingAnswer]] = relationship(
        back_populates="attempt", order_by="TrainingAnswer.position", cascade="all, delete-orphan"
    )

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.total) if self.total else 0


class TrainingAnswer(db.Model):
    """One question of an attempt: what was asked, chosen and right, and where it is explained."""

    __tablename__ = "training_answer"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id", name="uq_training_answer_attempt_question"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("training_attempt.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(60))
    question_text: Mapped[str] = mapped_column(Text)
    chosen: Mapped[str] = mapped_column(Text)  # the options chosen, "、"-joined
    right_answer: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    section_key: Mapped[str] = mapped_column(String(200))
    section_title: Mapped[str] = mapped_column(String(200))

    attempt: Mapped[TrainingAttempt] = relationship(back_populates="answers")


class TrainingSession(CommunityOwned, db.Model):
    """A training session (培训记录): date, topic, trainer, what it covered, who attended. It is
    held in one community (``community``); the records of who trained belong to the person,
    wherever they trained."""

    __tablename__ = "training_session"
    __table_args__ = (
        Index("ix_training_session_held_on", "held_on", "id"),
        Index("ix_training_session_community", "community", "held_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    held_on: Mapped[date] = mapped_column(Date)
    # When it starts (local time): who signs in after it is recorded late. None: recorded
    # before start times were asked for.
    starts_at: Mapped[time | None] = mapped_column(Time, nullable=True)
    topic: Mapped[str] = mapped_column(String(100))
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    trainer_name: Mapped[str] = mapped_column(String(100))
    # Section keys ("page#anchor") and their titles of that day, one per line each.
    section_keys: Mapped[str] = mapped_column(Text, default="")
    section_titles: Mapped[str] = mapped_column(Text, default="")
    quiz_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    quiz_title: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    recorded_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    attendances: Mapped[list[TrainingAttendance]] = relationship(
        back_populates="session", order_by="TrainingAttendance.id", cascade="all, delete-orphan"
    )

    @property
    def reference(self) -> str:
        return f"PX{self.id:05d}"

    @property
    def covered(self) -> list[tuple[str, str]]:
        """(section key, title) of the sections the session covered."""
        keys = [k for k in self.section_keys.split("\n") if k]
        titles = self.section_titles.split("\n")
        return [(key, titles[i] if i < len(titles) else key) for i, key in enumerate(keys)]


class TrainingAttendance(db.Model):
    """One staff member at one session: ticked by the trainer or signed in on their phone."""

    __tablename__ = "training_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_training_attendance_session_user"),
        Index("ix_training_attendance_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(String(100))
    how: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Signed in this many minutes after the start (0: on time); None when ticked by the trainer
    # or the session has no start time.
    late_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)

    session: Mapped[TrainingSession] = relationship(back_populates="attendances")

    @property
    def how_label(self) -> str:
        return HOW_LABELS.get(self.how, self.how)
