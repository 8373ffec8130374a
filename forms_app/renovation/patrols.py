"""Patrols of renovation sites (装修巡查) and the list of what is due today.

The kinds and their frequencies come from ``renovation.patrols`` in data/communities/<id>.yml
(seed: 装修办每日巡查一次, 护卫部每两天巡查一次). A site is on the list when its last patrol
of a kind is ``every_days`` old or older, or it was never patrolled since work started.

A patrol records the checklist of its kind (renovation/patrol_checklist.py, from
data/renovation_rules.yml) item by item: 合格, 不合格 or 不适用. Each 不合格 item is a finding
(``PatrolCheck`` with a status) with its note, photos and 整改 deadline; its 整改 and 复查 are
``FindingStep`` rows (renovation/findings.py). Patrols recorded before the checklist keep their
free text (``findings``, ``violation``) and show it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import actor_label
from ..accounts.permissions import TABLE, allowed
from ..core.clock import local_date, today, utcnow
from ..core.community import community_key, current_community
from ..core.community_scope import CommunityOwned
from ..core.extensions import db
from ..core.tokens import is_nonce
from ..files.uploads import (
    AttachmentError,
    CheckedUpload,
    StoredFileColumns,
    StoredFiles,
    check_upload,
    chosen_files,
    upload_limits,
)
from ..web.typed_input import UNREADABLE_MESSAGE, clean_text, is_unreadable
from .models import RenovationApplication, RenovationEvent
from .patrol_checklist import FAIL, NOT_APPLICABLE, PASS, RESULT_LABELS, CheckItem, all_items
from .patrol_checklist import items_for as checklist_for
from .states import IN_PROGRESS
from .workflow import ON_SITE

MAX_TEXT = 2000
MAX_NOTE = 500
MAX_PHOTOS_PER_ITEM = 3
# A 整改 deadline more than a year after the patrol is a typo of the year.
MAX_DEADLINE_DAYS = 366
PHOTO_TYPES = ("image/jpeg", "image/png")
ITEM_FIELD = re.compile(r"^(result|note|photos|deadline)-(.+)$")

# A 不合格 item's 整改: 待整改 → (整改 recorded) 待复查 → (复查 合格) 已关闭; 复查 不合格 sends it
# back to 待整改 with a new deadline.
OPEN, FIXED, CLOSED = "open", "fixed", "closed"
STATUS_LABELS = {OPEN: "待整改", FIXED: "已整改，待复查", CLOSED: "复查合格，已关闭"}


class RenovationPatrol(CommunityOwned, db.Model):
    """One patrol of one renovation site by one inspector, in the site's community; the photos
    of a patrol are reached through it."""

    __tablename__ = "renovation_patrol"
    # The last patrol of each kind of the community's sites (what is due today).
    __table_args__ = (
        Index(
            "ix_renovation_patrol_community", "community", "application_id", "kind", "patrol_date"
        ),
    )

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
    # Photos of patrols recorded before the checklist (photos of findings are on the finding).
    photos: Mapped[list[PatrolPhoto]] = relationship(
        back_populates="patrol", order_by="PatrolPhoto.id", cascade="all, delete-orphan"
    )
    checks: Mapped[list[PatrolCheck]] = relationship(
        back_populates="patrol", order_by="PatrolCheck.position", cascade="all, delete-orphan"
    )

    @property
    def kind_name(self) -> str:
        kind = patrol_kinds().get(self.kind)
        return kind["name"] if kind else self.kind

    @property
    def failed(self) -> list[PatrolCheck]:
        return [check for check in self.checks if check.result == FAIL]

    @property
    def summary(self) -> str:
        """For people and the export: the checklist's counts, or the free text of an old patrol."""
        if not self.checks:
            return self.findings
        counts = {code: 0 for code in RESULT_LABELS}
        for check in self.checks:
            counts[check.result] = counts.get(check.result, 0) + 1
        text = f"检查 {len(self.checks)} 项：{counts[PASS]} 项合格，{counts[FAIL]} 项不合格"
        if counts[NOT_APPLICABLE]:
            text += f"，{counts[NOT_APPLICABLE]} 项不适用"
        return text + (f"。其他情况：{self.findings}" if self.findings else "。")


class PatrolPhoto(StoredFileColumns, db.Model):
    """A photo taken on a patrol, stored like an application attachment."""

    __tablename__ = "renovation_patrol_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(
        ForeignKey("renovation_patrol.id", ondelete="CASCADE"), index=True
    )

    patrol: Mapped[RenovationPatrol] = relationship(back_populates="photos")


class PatrolCheck(db.Model):
    """One checklist item of one patrol, with the wording of that day. A 不合格 item is a
    finding: its note, 整改 deadline and status (待整改, 待复查, 已关闭) live here, its 整改
    and 复查 in ``FindingStep``."""

    __tablename__ = "renovation_patrol_check"
    __table_args__ = (
        UniqueConstraint("patrol_id", "item_id", name="uq_renovation_patrol_check_item"),
        Index("ix_renovation_patrol_check_status", "community", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    # Looked up through uq_renovation_patrol_check_item (patrol_id first): no index of its own.
    patrol_id: Mapped[int] = mapped_column(ForeignKey("renovation_patrol.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    group_name: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[str] = mapped_column(String(40))
    item_text: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    # Findings only (不合格): the date 整改 is due by, and where the loop stands.
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    patrol: Mapped[RenovationPatrol] = relationship(back_populates="checks")
    steps: Mapped[list[FindingStep]] = relationship(
        back_populates="check", order_by="FindingStep.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[FindingPhoto]] = relationship(
        back_populates="check", order_by="FindingPhoto.id", cascade="all, delete-orphan"
    )

    @property
    def result_label(self) -> str:
        return RESULT_LABELS.get(self.result, self.result)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status or "", "")

    @property
    def patrol_photos(self) -> list[FindingPhoto]:
        """The photos taken at the patrol (not those of a 整改 or 复查)."""
        return [photo for photo in self.photos if photo.step_id is None]

    def overdue_days(self, on: date) -> int:
        """Days past the deadline with 整改 still not done (0 when not overdue)."""
        if self.status != OPEN or self.deadline is None or self.deadline >= on:
            return 0
        return (on - self.deadline).days


class FindingStep(db.Model):
    """One step of a finding's loop: 整改 recorded (``fix``), or a 复查 that passed
    (``recheck_pass``, closing it) or failed (``recheck_fail``, with a new deadline)."""

    __tablename__ = "renovation_finding_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    check_id: Mapped[int] = mapped_column(
        ForeignKey("renovation_patrol_check.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    # recheck_fail: the new 整改 deadline.
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The nonce of the form it came from: a draft sent twice finds this step.
    submission_nonce: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    check: Mapped[PatrolCheck] = relationship(back_populates="steps")
    photos: Mapped[list[FindingPhoto]] = relationship(
        back_populates="step", order_by="FindingPhoto.id"
    )

    @property
    def label(self) -> str:
        return STEP_LABELS.get(self.action, self.action)


FIX, RECHECK_PASS, RECHECK_FAIL = "fix", "recheck_pass", "recheck_fail"
STEP_LABELS = {FIX: "整改完成", RECHECK_PASS: "复查合格", RECHECK_FAIL: "复查不合格"}


class FindingPhoto(StoredFileColumns, db.Model):
    """A photo of a finding: taken at the patrol (``step_id`` NULL), or with its 整改 or 复查."""

    __tablename__ = "renovation_finding_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    check_id: Mapped[int] = mapped_column(
        ForeignKey("renovation_patrol_check.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("renovation_finding_step.id", ondelete="CASCADE"), nullable=True, index=True
    )

    check: Mapped[PatrolCheck] = relationship(back_populates="photos")
    step: Mapped[FindingStep | None] = relationship(back_populates="photos")


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


@dataclass
class CheckedItem:
    """One checklist item as the patrol form gave it, checked."""

    item: CheckItem
    result: str
    note: str = ""
    deadline: date | None = None
    photos: list[CheckedUpload] = field(default_factory=list)


def item_key(item_id: str) -> str:
    """The error key (and page anchor) of one checklist item."""
    return f"item-{item_id}"


def check_photos(uploads) -> list[CheckedUpload]:
    """At most MAX_PHOTOS_PER_ITEM JPEG or PNG photos; AttachmentError with the reason."""
    uploads = chosen_files(uploads)
    if len(uploads) > MAX_PHOTOS_PER_ITEM:
        raise AttachmentError(f"每项照片最多 {MAX_PHOTOS_PER_ITEM} 张。")
    photos = []
    for upload in uploads:
        checked = check_upload(upload)
        if checked.content_type not in PHOTO_TYPES:
            raise AttachmentError(f"「{checked.original_name}」不是 JPG 或 PNG 照片。")
        photos.append(checked)
    return photos


def check_note(raw, missing: str | None, label: str) -> tuple[str, str | None]:
    """The note of a finding, 整改 or 复查: (cleaned text, Chinese error or None). Required
    unless ``missing`` (the message for an empty note) is None."""
    note = clean_text(raw or "")
    if not note:
        return note, missing
    if len(note) > MAX_NOTE:
        return note, f"{label}不超过 {MAX_NOTE} 字。"
    if is_unreadable(note):
        return note, UNREADABLE_MESSAGE
    return note, None


def check_deadline(raw, earliest: date | None, from_label: str) -> tuple[date | None, str | None]:
    """A 整改 deadline: a date on or after ``earliest``, within MAX_DEADLINE_DAYS of it."""
    try:
        deadline = date.fromisoformat((raw or "").strip())
    except ValueError:
        return None, "请填写整改期限（年-月-日）。"
    if earliest is not None:
        if deadline < earliest:
            return None, f"整改期限不能早于{from_label}（{earliest.isoformat()}）。"
        if deadline > earliest + timedelta(days=MAX_DEADLINE_DAYS):
            return None, f"整改期限不能晚于{from_label}后 {MAX_DEADLINE_DAYS} 天，请核对年份。"
    return deadline, None


def _checked_item(item: CheckItem, form, files, patrol_date, errors) -> CheckedItem | None:
    key = item_key(item.id)
    result = form.get(f"result-{item.id}", "")
    if result not in item.results:
        if result == NOT_APPLICABLE:
            errors[key] = "此项不能选「不适用」，请选择合格或不合格。"
        elif item.not_applicable:
            errors[key] = "请选择合格、不合格或不适用。"
        else:
            errors[key] = "请选择合格或不合格。"
        return None
    if result != FAIL:
        # Note, deadline and photos show only for 不合格; anything left in them is not meant.
        return CheckedItem(item, result)
    note, problem = check_note(
        form.get(f"note-{item.id}"), "不合格时请写明问题（位置、情况）。", "问题说明"
    )
    if problem:
        errors[key] = problem
        return None
    deadline, problem = check_deadline(form.get(f"deadline-{item.id}"), patrol_date, "巡查日期")
    if problem:
        errors[key] = problem
        return None
    try:
        photos = check_photos(files.getlist(f"photos-{item.id}"))
    except AttachmentError as error:
        errors[key] = str(error)
        return None
    return CheckedItem(item, result, note, deadline, photos)


def _forged_fields(form, files) -> bool:
    """True when the post names a checklist item the data file does not have."""
    known = all_items()
    for name in list(form.keys()) + list(files.keys()):
        match = ITEM_FIELD.match(name)
        if match and match.group(2) not in known:
            return True
    return False


def check_patrol_form(application: RenovationApplication, role: str, form, files) -> dict:
    """Validate a patrol form; the cleaned values, or PatrolError with every problem.

    ``files`` is the request's files (a MultiDict): photos come per 不合格 item. Items of
    another kind than the one chosen are ignored; fields naming items the checklist does not
    have are refused (a form from before the data file changed)."""
    errors: dict[str, str] = {}
    nonce = form.get("nonce", "")
    if not is_nonce(nonce):
        errors["form"] = "表单已失效，请刷新页面后重新填写。"
    if _forged_fields(form, files):
        errors["form"] = "表单中有不存在的检查项（检查项可能已更新），请刷新页面后重新填写。"
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
            patrol_date = None
        elif started and patrol_date < started:
            errors["patrol_date"] = f"巡查日期不能早于开工日期 {started.isoformat()}。"
            patrol_date = None
    findings = clean_text(form.get("findings") or "")
    if len(findings) > MAX_TEXT:
        errors["findings"] = f"其他情况不超过 {MAX_TEXT} 字。"
    elif is_unreadable(findings):
        errors["findings"] = UNREADABLE_MESSAGE
    checked = []
    if kind in kinds:
        for item in checklist_for(kind):
            result = _checked_item(item, form, files, patrol_date, errors)
            if result:
                checked.append(result)
    photos = [photo for item in checked for photo in item.photos]
    max_photos = upload_limits().max_files
    if len(photos) > max_photos:
        errors["photos"] = f"一次巡查的照片合计最多 {max_photos} 张。"
    if errors:
        raise PatrolError(errors)
    return {
        "nonce": nonce,
        "kind": kind,
        "patrol_date": patrol_date,
        "findings": findings,
        "checks": checked,
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
    """Add the checked patrol, its checklist and the findings' already-written photos (inside
    a write transaction). ``violation`` says whether any item was 不合格, for the register."""
    community = community_key()
    failed = [c for c in values["checks"] if c.result == FAIL]
    patrol = RenovationPatrol(
        application_id=application.id,
        kind=values["kind"],
        patrol_date=values["patrol_date"],
        inspector_id=actor.id,
        inspector_name=actor_label(actor),
        findings=values["findings"],
        violation=bool(failed),
        violation_description="；".join(f"{c.item.text}：{c.note}" for c in failed),
        submission_nonce=values["nonce"],
    )
    names = iter(stored.names)
    for position, checked in enumerate(values["checks"]):
        check = PatrolCheck(
            community=community,
            position=position,
            group_name=checked.item.group,
            item_id=checked.item.id,
            item_text=checked.item.text,
            result=checked.result,
            note=checked.note,
            deadline=checked.deadline,
            status=OPEN if checked.result == FAIL else None,
        )
        for upload in checked.photos:
            check.photos.append(finding_photo(community, upload, next(names)))
        patrol.checks.append(check)
    session.add(patrol)
    return patrol


def finding_photo(community: str, upload: CheckedUpload, stored_name: str) -> FindingPhoto:
    return FindingPhoto(
        community=community,
        stored_name=stored_name,
        original_name=upload.original_name,
        content_type=upload.content_type,
        size=upload.size,
    )


def photo_store(values: dict) -> StoredFiles:
    """Write the findings' photos beside the application attachments; kept only after commit."""
    return StoredFiles(values["photos"])
