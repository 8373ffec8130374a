"""Patrols of renovation sites (装修巡查) and the list of what is due today.

The kinds and their frequencies come from ``renovation.patrols`` in data/community.yml
(seed: 装修办每日巡查一次, 护卫部每两天巡查一次). A site is on the list when its last patrol
of a kind is ``every_days`` old or older, or it was never patrolled since work started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import actor_label
from ..accounts.permissions import TABLE, allowed
from ..core.clock import local_date, today, utcnow
from ..core.community import current_community
from ..core.extensions import db
from ..core.tokens import is_nonce
from ..files.uploads import (
    AttachmentError,
    StoredFileColumns,
    StoredFiles,
    check_upload,
    chosen_files,
    upload_limits,
)
from ..web.typed_input import UNREADABLE_MESSAGE, clean_text, is_unreadable
from .models import RenovationApplication, RenovationEvent
from .states import IN_PROGRESS
from .workflow import ON_SITE

MAX_TEXT = 2000
PHOTO_TYPES = ("image/jpeg", "image/png")


class RenovationPatrol(db.Model):
    """One patrol of one renovation site by one inspector."""

    __tablename__ = "renovation_patrol"
    __table_args__ = (Index("ix_renovation_patrol_due", "application_id", "kind", "patrol_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("renovation_application.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    patrol_date: Mapped[date] = mapped_column(Date)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    inspector_name: Mapped[str] = mapped_column(String(50))
    findings: Mapped[str] = mapped_column(Text)
    violation: Mapped[bool] = mapped_column(Boolean, default=False)
    violation_description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The nonce of the form it came from: a draft sent twice finds the first patrol.
    submission_nonce: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    application: Mapped[RenovationApplication] = relationship()
    photos: Mapped[list[PatrolPhoto]] = relationship(
        back_populates="patrol", order_by="PatrolPhoto.id", cascade="all, delete-orphan"
    )

    @property
    def kind_name(self) -> str:
        kind = patrol_kinds().get(self.kind)
        return kind["name"] if kind else self.kind


class PatrolPhoto(StoredFileColumns, db.Model):
    """A photo taken on a patrol, stored like an application attachment."""

    __tablename__ = "renovation_patrol_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(
        ForeignKey("renovation_patrol.id", ondelete="CASCADE"), index=True
    )

    patrol: Mapped[RenovationPatrol] = relationship(back_populates="photos")


def patrol_kinds() -> dict[str, dict]:
    """The patrol kinds of the community file, by id, in file order."""
    community = current_community()
    return {kind["id"]: kind for kind in community.renovation["patrols"]}


@dataclass
class DuePatrol:
    application: RenovationApplication
    kind: dict
    due_on: date
    last_on: date | None
    on: date

    @property
    def overdue_days(self) -> int:
        return (self.on - self.due_on).days


def _started_on(application_ids) -> dict[int, date]:
    """The local date each application's work started (its first step to 施工中)."""
    rows = db.session.execute(
        select(RenovationEvent.application_id, func.min(RenovationEvent.created_at))
        .where(
            RenovationEvent.to_state == IN_PROGRESS,
            RenovationEvent.application_id.in_(application_ids),
        )
        .group_by(RenovationEvent.application_id)
    ).all()
    return {app_id: local_date(moment) for app_id, moment in rows}


def patrols_due(on: date) -> list[DuePatrol]:
    """Every on-site renovation whose patrol of any kind is due or overdue on ``on``, oldest first."""
    applications = (
        db.session.execute(
            select(RenovationApplication).where(RenovationApplication.state.in_(ON_SITE))
        )
        .scalars()
        .all()
    )
    if not applications:
        return []
    ids = [application.id for application in applications]
    last = {
        (app_id, kind): when
        for app_id, kind, when in db.session.execute(
            select(
                RenovationPatrol.application_id,
                RenovationPatrol.kind,
                func.max(RenovationPatrol.patrol_date),
            )
            .where(RenovationPatrol.application_id.in_(ids))
            .group_by(RenovationPatrol.application_id, RenovationPatrol.kind)
        ).all()
    }
    started = _started_on(ids)
    due = []
    for application in applications:
        for kind in patrol_kinds().values():
            last_on = last.get((application.id, kind["id"]))
            if last_on:
                due_on = last_on + timedelta(days=int(kind["every_days"]))
            else:
                due_on = started.get(application.id, application.start_date)
            if due_on <= on:
                due.append(DuePatrol(application, kind, due_on, last_on, on))
    order = list(patrol_kinds())
    due.sort(key=lambda d: (d.due_on, d.application.reference, order.index(d.kind["id"])))
    return due


class PatrolError(ValueError):
    """Patrol input the form refuses: ``errors`` maps field names to Chinese messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def kinds_for_role(role: str) -> list[dict]:
    """The patrol kinds this role may record."""
    return [
        k
        for k in patrol_kinds().values()
        if f"renovation.patrol.{k['id']}" in TABLE and allowed(role, f"renovation.patrol.{k['id']}")
    ]


def check_patrol_form(application: RenovationApplication, role: str, form, files) -> dict:
    """Validate a patrol form; the cleaned values, or PatrolError with every problem."""
    errors: dict[str, str] = {}
    nonce = form.get("nonce", "")
    if not is_nonce(nonce):
        errors["form"] = "表单已失效，请刷新页面后重新填写。"
    kinds = {k["id"]: k for k in kinds_for_role(role)}
    kind = form.get("kind", "")
    if kind not in kinds:
        errors["kind"] = "请选择您可以记录的巡查类型。"
    if application.state not in ON_SITE:
        errors["form"] = f"申请当前状态为「{application.state_label}」，只有施工中的装修需要巡查。"
    raw_date = (form.get("patrol_date") or "").strip()
    patrol_date = None
    try:
        patrol_date = date.fromisoformat(raw_date)
    except ValueError:
        errors["patrol_date"] = "请填写巡查日期（年-月-日）。"
    if patrol_date:
        started = _started_on([application.id]).get(application.id)
        if patrol_date > today():
            errors["patrol_date"] = "巡查日期不能晚于今天。"
        elif started and patrol_date < started:
            errors["patrol_date"] = f"巡查日期不能早于开工日期 {started.isoformat()}。"
    findings = clean_text(form.get("findings") or "")
    if not findings:
        errors["findings"] = "请填写巡查情况。"
    elif len(findings) > MAX_TEXT:
        errors["findings"] = f"巡查情况不超过 {MAX_TEXT} 字。"
    elif is_unreadable(findings):
        errors["findings"] = UNREADABLE_MESSAGE
    violation_answer = form.get("violation", "")
    if violation_answer not in ("yes", "no"):
        errors["violation"] = "请选择是否发现违规。"
    violation = violation_answer == "yes"
    description = clean_text(form.get("violation_description") or "")
    if violation and not description:
        errors["violation_description"] = "发现违规时请写明违规情况。"
    elif len(description) > MAX_TEXT:
        errors["violation_description"] = f"违规情况不超过 {MAX_TEXT} 字。"
    elif is_unreadable(description):
        errors["violation_description"] = UNREADABLE_MESSAGE
    photos = []
    chosen = chosen_files(files)
    max_photos = upload_limits().max_files
    if len(chosen) > max_photos:
        errors["photos"] = f"照片最多 {max_photos} 张。"
    else:
        try:
            for upload in chosen:
                checked = check_upload(upload)
                if checked.content_type not in PHOTO_TYPES:
                    raise AttachmentError(f"「{checked.original_name}」不是 JPG 或 PNG 照片。")
                photos.append(checked)
        except AttachmentError as error:
            errors["photos"] = str(error)
    if errors:
        raise PatrolError(errors)
    return {
        "nonce": nonce,
        "kind": kind,
        "patrol_date": patrol_date,
        "findings": findings,
        "violation": violation,
        "violation_description": description if violation else "",
        "photos": photos,
    }


def find_by_nonce(session, nonce: str) -> RenovationPatrol | None:
    """The patrol recorded from the form with this nonce (a double click, a draft sent again)."""
    if not is_nonce(nonce):
        return None
    return session.scalar(
        select(RenovationPatrol).where(RenovationPatrol.submission_nonce == nonce)
    )


def store_patrol(
    session, application: RenovationApplication, actor, values: dict, stored: StoredFiles
) -> RenovationPatrol:
    """Add the checked patrol and its already-written photos (inside a write transaction)."""
    patrol = RenovationPatrol(
        application_id=application.id,
        kind=values["kind"],
        patrol_date=values["patrol_date"],
        inspector_id=actor.id,
        inspector_name=actor_label(actor),
        findings=values["findings"],
        violation=values["violation"],
        violation_description=values["violation_description"],
        submission_nonce=values["nonce"],
    )
    for upload, stored_name in zip(values["photos"], stored.names, strict=True):
        patrol.photos.append(
            PatrolPhoto(
                stored_name=stored_name,
                original_name=upload.original_name,
                content_type=upload.content_type,
                size=upload.size,
            )
        )
    session.add(patrol)
    return patrol


def photo_store(values: dict) -> StoredFiles:
    """Write the patrol's photos beside the application attachments; kept only after commit."""
    return StoredFiles(values["photos"])
