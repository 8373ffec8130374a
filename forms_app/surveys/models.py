"""Stored survey answers, invitations and the submission log used for throttling.

Answers are stored one row per answer (question id + numeric value / option / text) so that
results are GROUP BY queries. The survey slug and the half-year period are copied onto each
answer row: the results query then reads one covering index and never joins.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..core.community_scope import CommunityOwned
from ..core.extensions import db
from ..core.tokens import new_token


def period_of(day: date) -> str:
    """The half-year a local date falls in: '2026-H1' (上半年) or '2026-H2' (下半年)."""
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def period_label(period: str) -> str:
    year, half = period.split("-H")
    return f"{year}年{'上' if half == '1' else '下'}半年"


class SurveyInvitation(CommunityOwned, db.Model):
    """A personal link for one household (room) of the community to answer one survey once."""

    __tablename__ = "survey_invitation"
    __table_args__ = (
        # One per survey and room of a community (two communities both have 1-1-101).
        UniqueConstraint(
            "community",
            "survey",
            "building",
            "unit",
            "room",
            name="uq_survey_invitation_community_room",
        ),
        # How many were made and answered (the results page, the invitations page).
        Index("ix_survey_invitation_community", "community", "survey", "used_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey: Mapped[str] = mapped_column(String(40))
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    building: Mapped[int] = mapped_column(Integer)
    unit: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(60))
    # Day only: for anonymous surveys a precise time would tie the room to its answers.
    used_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    @property
    def room_label(self) -> str:
        return f"{self.building}号楼{self.unit}单元{self.room}室"


class SurveyResponse(CommunityOwned, db.Model):
    """One submitted questionnaire of a community's household. Anonymous surveys store no
    name, room or time of day."""

    __tablename__ = "survey_response"
    __table_args__ = (Index("ix_survey_response_community", "community", "survey", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    # One per rendered form: a double tap on 提交 stores the questionnaire once.
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    # Only for surveys that are not anonymous; the unique key is the invitation's second lock.
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitation.id", ondelete="SET NULL"), unique=True, nullable=True
    )
    building: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    room: Mapped[str | None] = mapped_column(String(8), nullable=True)
    respondent_name: Mapped[str | None] = mapped_column(String(30), nullable=True)


class SurveyAnswer(CommunityOwned, db.Model):
    """One answer: a scale value, one chosen option (one row per option) or a text. Keyed
    like its response: the results count the answers without the responses."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        # Covers the results GROUP BY of one community: survey, question, period, value, option.
        Index(
            "ix_survey_answer_community",
            "community",
            "survey",
            "question_id",
            "period",
            "value",
            "option",
        ),
        Index("ix_survey_answer_question_id", "survey", "question_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_response.id", ondelete="CASCADE"), index=True
    )
    survey: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    question_id: Mapped[str] = mapped_column(String(41))
    value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    option: Mapped[str | None] = mapped_column(String(100), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)


class SurveySubmission(CommunityOwned, db.Model):
    """When a browser address submitted a community's survey, for throttling across all
    workers.

    Holds a keyed hash of the address, never the address, and is pruned after a day.
    """

    __tablename__ = "survey_submission"
    __table_args__ = (
        Index("ix_survey_submission_community", "community", "survey", "client_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey: Mapped[str] = mapped_column(String(40))
    client_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
