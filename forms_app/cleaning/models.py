"""Stored inspections. Each result row keeps the area and item text as they were that day, so
an inspection still reads correctly after the standards file changes."""

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.community_scope import CommunityOwned
from ..core.extensions import db
from ..files.uploads import StoredFileColumns
from .scoring import RESULT_LABELS, Score, score


class CleaningInspection(CommunityOwned, db.Model):
    """One 保洁品质检查: who, when, where, and the counts its results score to. It belongs to the
    community inspected (``community``); its items and photos are that inspection's."""

    __tablename__ = "cleaning_inspection"
    __table_args__ = (
        Index("ix_cleaning_inspection_date", "inspected_on", "id"),
        Index("ix_cleaning_inspection_community", "community", "inspected_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One per rendered form: a second POST of the same form finds the first inspection.
    submission_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    building: Mapped[int | None] = mapped_column(Integer, nullable=True)
    spot: Mapped[str] = mapped_column(String(60), default="")
    inspector_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True, index=True
    )
    inspector_name: Mapped[str] = mapped_column(String(100))
    # Counted once when stored (results never change), so lists can filter on them.
    passed_count: Mapped[int] = mapped_column(Integer)
    failed_count: Mapped[int] = mapped_column(Integer)
    na_count: Mapped[int] = mapped_column(Integer)
    key_failed_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    results: Mapped[list[CleaningResult]] = relationship(
        back_populates="inspection",
        order_by="CleaningResult.position",
        cascade="all, delete-orphan",
    )

    @property
    def reference(self) -> str:
        return f"JC{self.id:05d}"

    @property
    def location(self) -> str:
        where = f"{self.building}号楼" if self.building else "公共区域"
        return f"{where} {self.spot}".strip()

    @property
    def score(self) -> Score:
        return Score(self.passed_count, self.failed_count, self.na_count, self.key_failed_count)

    def areas(self) -> list[tuple[str, str, bool, list[CleaningResult], Score]]:
        """(area id, name, key area, results, score) in the order inspected."""
        grouped: dict[str, list[CleaningResult]] = {}
        for row in self.results:
            grouped.setdefault(row.area_id, []).append(row)
        return [
            (area_id, rows[0].area_name, rows[0].key_area, rows, score(rows))
            for area_id, rows in grouped.items()
        ]

    @property
    def area_names(self) -> str:
        return "、".join(name for _id, name, *_rest in self.areas())


class CleaningResult(db.Model):
    """One checked item of one inspection, with the standard's wording of that day."""

    __tablename__ = "cleaning_result"
    __table_args__ = (
        UniqueConstraint("inspection_id", "item_id", name="uq_cleaning_result_inspection_item"),
        Index("ix_cleaning_result_area", "area_id", "result"),
        Index("ix_cleaning_result_item", "item_id", "result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("cleaning_inspection.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    area_id: Mapped[str] = mapped_column(String(40))
    area_name: Mapped[str] = mapped_column(String(40))
    key_area: Mapped[bool] = mapped_column(Boolean)
    item_id: Mapped[str] = mapped_column(String(60))
    item_text: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")

    inspection: Mapped[CleaningInspection] = relationship(back_populates="results")
    photos: Mapped[list[CleaningPhoto]] = relationship(
        back_populates="result", order_by="CleaningPhoto.id", cascade="all, delete-orphan"
    )

    @property
    def result_label(self) -> str:
        return RESULT_LABELS.get(self.result, self.result)


class CleaningPhoto(StoredFileColumns, db.Model):
    """A photo of a failed item, stored like a renovation attachment (generated name)."""

    __tablename__ = "cleaning_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(
        ForeignKey("cleaning_result.id", ondelete="CASCADE"), index=True
    )

    result: Mapped[CleaningResult] = relationship(back_populates="photos")


# The 整改 → 复检 loop of a failed item: what happened, one row per step, never edited.
RECTIFIED = "rectified"  # 整改: the 保洁 put it right
PASSED = "passed"  # 复检合格: closed
FAILED = "failed"  # 复检不合格: back to 整改
FOLLOW_UP_LABELS = {RECTIFIED: "整改", PASSED: "复检合格", FAILED: "复检不合格"}


class CleaningFollowUp(db.Model):
    """One step of a failed item's 整改 → 复检 loop, appended to its history.

    ``step`` counts the item's steps from 1; (community, result, step) is unique, so two people
    acting on the same state at once cannot both be stored, and the form's nonce makes a second
    POST of one form find the first row."""

    __tablename__ = "cleaning_follow_up"
    __table_args__ = (
        UniqueConstraint("community", "result_id", "step", name="uq_cleaning_follow_up_step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    submission_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    result_id: Mapped[int] = mapped_column(
        ForeignKey("cleaning_result.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Kept as text so the history still reads correctly after an account is renamed.
    actor_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    result: Mapped[CleaningResult] = relationship()
    photos: Mapped[list[CleaningFollowUpPhoto]] = relationship(
        back_populates="follow_up",
        order_by="CleaningFollowUpPhoto.id",
        cascade="all, delete-orphan",
    )

    @property
    def label(self) -> str:
        return FOLLOW_UP_LABELS.get(self.kind, self.kind)


class CleaningFollowUpPhoto(StoredFileColumns, db.Model):
    """A photo of a 整改 (the item put right), stored like the inspection's photos."""

    __tablename__ = "cleaning_follow_up_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("cleaning_follow_up.id", ondelete="CASCADE"), index=True
    )

    follow_up: Mapped[CleaningFollowUp] = relationship(back_populates="photos")
