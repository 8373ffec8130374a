"""整改 → 复检: what happens to a failed item after the inspection.

The inspection is the record and never changes. Each failed item then goes round a loop whose
steps are appended to its history (``CleaningFollowUp``): the 保洁 of its area records the
整改 (a note, photos if any), then whoever may inspect re-checks it (复检) — 合格 closes it,
不合格 sends it back to 整改 with a note. Its state is the last step's:

    no step yet, or 复检不合格  → 待整改
    整改                       → 待复检
    复检合格                   → 已合格

A 整改 deadline is shown only when the community sets ``cleaning.rectify_hours`` (areas.py):
counted from when the item went (back) to 整改 — the inspection's recording, or the 复检
that failed it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload
from werkzeug.datastructures import MultiDict

from ..accounts.audit import record_audit
from ..accounts.models import actor_label
from ..core.clock import utcnow
from ..core.community import community_key
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.refusals import Refused
from ..core.tokens import is_nonce
from ..files.uploads import AttachmentError, CheckedUpload, StoredFiles, chosen_files
from ..web.typed_input import UNREADABLE_MESSAGE, clean_text, is_unreadable
from .areas import Scope, area_words, settings
from .forms import MAX_NOTE, check_photos
from .models import (
    FAILED,
    FOLLOW_UP_LABELS,
    PASSED,
    RECTIFIED,
    CleaningFollowUp,
    CleaningFollowUpPhoto,
    CleaningInspection,
    CleaningResult,
)
from .scoring import FAIL

TO_RECTIFY, TO_RECHECK, CLOSED = "rectify", "recheck", "closed"
STATE_LABELS = {TO_RECTIFY: "待整改", TO_RECHECK: "待复检", CLOSED: "已合格"}
# The inspections list's filter on the loop (「整改」).
LOOP_FILTERS = {
    "open": "有未关闭的不合格项（待整改或待复检）",
    TO_RECTIFY: "有待整改的项",
    TO_RECHECK: "有待复检的项",
    CLOSED: "不合格项已全部复检合格",
}
# The open items a list shows at most (oldest first: they are the most urgent).
MAX_OPEN_SHOWN = 200


def state_after(kind: str | None) -> str:
    """The state an item is in after its last step (None: no step yet)."""
    if kind == RECTIFIED:
        return TO_RECHECK
    if kind == PASSED:
        return CLOSED
    return TO_RECTIFY


def _due(opened_at: datetime) -> datetime | None:
    hours = settings().rectify_hours
    return opened_at + timedelta(hours=hours) if hours else None


class _OpenItemFacts:
    """What a failed item's state means to a person: its label, while 待整改 its deadline
    (from ``opened_at``) and whether it has passed, and whose area it is in."""

    result: CleaningResult
    inspection: CleaningInspection
    state: str
    opened_at: datetime

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def due(self) -> datetime | None:
        return _due(self.opened_at) if self.state == TO_RECTIFY else None

    @property
    def overdue(self) -> bool:
        due = self.due
        return due is not None and utcnow() > due

    @property
    def areas(self) -> str:
        return area_words(self.inspection.building, self.result.area_id)


@dataclass
class Loop(_OpenItemFacts):
    """One failed item's loop: its history, its state and, while 待整改, its deadline."""

    result: CleaningResult
    inspection: CleaningInspection
    steps: list[CleaningFollowUp] = field(default_factory=list)

    @property
    def last(self) -> CleaningFollowUp | None:
        return self.steps[-1] if self.steps else None

    @property
    def step_count(self) -> int:
        return self.last.step if self.last else 0

    @property
    def state(self) -> str:
        return state_after(self.last.kind if self.last else None)

    @property
    def rectifier_id(self) -> int | None:
        """Who recorded the 整改 now waiting for 复检 (they do not re-check it themselves)."""
        last = self.last
        return last.actor_id if last and last.kind == RECTIFIED else None

    @property
    def opened_at(self) -> datetime:
        last = self.last
        if last is not None and last.kind == FAILED:
            return last.created_at
        return self.inspection.created_at


def loops_of(inspection: CleaningInspection) -> dict[int, Loop]:
    """The loop of every failed item of an inspection, by result id."""
    failed = [r for r in inspection.results if r.result == FAIL]
    loops = {r.id: Loop(r, inspection) for r in failed}
    if loops:
        rows = db.session.scalars(
            select(CleaningFollowUp)
            .where(
                CleaningFollowUp.community == community_key(),
                CleaningFollowUp.result_id.in_(list(loops)),
            )
            .options(selectinload(CleaningFollowUp.photos))
            .order_by(CleaningFollowUp.result_id, CleaningFollowUp.step)
        )
        for row in rows:
            loops[row.result_id].steps.append(row)
    return loops


# --- the state in SQL, for lists and filters ------------------------------------------------


def _state_columns():
    """(subquery of each result's last step number, the last step's row, its state) to join."""
    community = community_key()
    latest = (
        select(CleaningFollowUp.result_id, func.max(CleaningFollowUp.step).label("steps"))
        .where(CleaningFollowUp.community == community)
        .group_by(CleaningFollowUp.result_id)
        .subquery()
    )
    last = aliased(CleaningFollowUp)
    state = case(
        (last.kind == RECTIFIED, TO_RECHECK),
        (last.kind == PASSED, CLOSED),
        else_=TO_RECTIFY,
    )
    return latest, last, state


def _with_state(query, latest, last):
    return query.outerjoin(latest, latest.c.result_id == CleaningResult.id).outerjoin(
        last,
        and_(
            last.community == community_key(),
            last.result_id == CleaningResult.id,
            last.step == latest.c.steps,
        ),
    )


def _open_items(columns, scope, latest, last, state):
    """``columns`` over the failed items of ``scope`` waiting for 整改 or 复检."""
    return _with_state(
        columns.select_from(CleaningResult).join(
            CleaningInspection, CleaningResult.inspection_id == CleaningInspection.id
        ),
        latest,
        last,
    ).where(
        CleaningResult.result == FAIL,
        state.in_([TO_RECTIFY, TO_RECHECK]),
        scope.result_condition(),
    )


def failed_in_state(states) -> object:
    """SQL: ids of the inspections with a failed item in one of ``states``."""
    latest, last, state = _state_columns()
    query = (
        select(CleaningResult.inspection_id)
        .select_from(CleaningResult)
        .where(CleaningResult.result == FAIL)
    )
    return _with_state(query, latest, last).where(state.in_(list(states)))


def loop_condition(value: str):
    """The inspections list's condition for a 「整改」 filter value (LOOP_FILTERS)."""
    model = CleaningInspection
    if value == "open":
        return model.id.in_(failed_in_state((TO_RECTIFY, TO_RECHECK)))
    if value in (TO_RECTIFY, TO_RECHECK):
        return model.id.in_(failed_in_state((value,)))
    return (model.failed_count > 0) & model.id.not_in(failed_in_state((TO_RECTIFY, TO_RECHECK)))


def state_counts(inspection_ids) -> dict[int, Counter]:
    """For each inspection, how many of its failed items are in each state."""
    ids = list(inspection_ids)
    if not ids:
        return {}
    latest, last, _state = _state_columns()
    # Grouped by the last step's kind, not by the state's CASE: PostgreSQL does not match a
    # GROUP BY expression with bound parameters to the same expression in the SELECT.
    query = (
        select(CleaningResult.inspection_id, last.kind, func.count())
        .select_from(CleaningResult)
        .where(CleaningResult.result == FAIL, CleaningResult.inspection_id.in_(ids))
    )
    rows = db.session.execute(
        _with_state(query, latest, last).group_by(CleaningResult.inspection_id, last.kind)
    ).all()
    counts: dict[int, Counter] = {}
    for inspection_id, kind, count in rows:
        counts.setdefault(inspection_id, Counter())[state_after(kind)] += count
    return counts


@dataclass
class OpenItem(_OpenItemFacts):
    """A failed item not closed yet, for the lists: where, what, its state and deadline."""

    result: CleaningResult
    inspection: CleaningInspection
    state: str
    last_kind: str | None
    last_at: datetime | None
    last_note: str

    @property
    def opened_at(self) -> datetime:
        return self.last_at if self.last_kind == FAILED else self.inspection.created_at


def open_items(scope: Scope, limit: int = MAX_OPEN_SHOWN) -> tuple[list[OpenItem], int]:
    """The failed items of ``scope`` not closed yet — 待整改 first, then 待复检, each oldest
    first — at most ``limit`` of them, and how many there are in all."""
    latest, last, state = _state_columns()
    query = _open_items(
        select(CleaningResult, CleaningInspection, state, last.kind, last.created_at, last.note),
        scope,
        latest,
        last,
        state,
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(
            case((state == TO_RECTIFY, 0), else_=1),
            CleaningInspection.inspected_on,
            CleaningInspection.id,
            CleaningResult.position,
        ).limit(limit)
    ).all()
    return [OpenItem(*row[:5], row[5] or "") for row in rows], total


def scope_inspections(scope: Scope):
    """SQL: the inspections with an item in ``scope``, newest first."""
    query = select(CleaningInspection).options(selectinload(CleaningInspection.results))
    if not scope.everything:
        query = query.where(
            CleaningInspection.id.in_(
                select(CleaningResult.inspection_id)
                .join(CleaningInspection, CleaningResult.inspection_id == CleaningInspection.id)
                .where(scope.result_condition())
            )
        )
    return query.order_by(CleaningInspection.inspected_on.desc(), CleaningInspection.id.desc())


def in_scope(inspection: CleaningInspection, scope: Scope) -> bool:
    return any(scope.covers(inspection.building, r.area_id) for r in inspection.results)


def waiting_counts(scope: Scope) -> Counter:
    """How many failed items of ``scope`` are 待整改 (and of them ``overdue``) and 待复检: the
    home panel's figures."""
    latest, last, state = _state_columns()
    opened = case((last.kind == FAILED, last.created_at), else_=CleaningInspection.created_at)
    hours = settings().rectify_hours
    late = opened < utcnow() - timedelta(hours=hours) if hours else false()
    query = _open_items(
        select(last.kind, func.count(), func.sum(case((late, 1), else_=0))),
        scope,
        latest,
        last,
        state,
    )
    counts: Counter = Counter()
    for kind, count, overdue in db.session.execute(query.group_by(last.kind)):
        state_now = state_after(kind)
        counts[state_now] += count
        if state_now == TO_RECTIFY:
            counts["overdue"] += overdue or 0
    return counts


# --- recording a step --------------------------------------------------------------------------


class LoopRefused(Refused):
    """A 整改 or 复检 that cannot be recorded now: the message, and the form field or None."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message, field)
        self.status = status


@dataclass
class CheckedStep:
    kind: str
    note: str
    photos: list[CheckedUpload]
    nonce: str
    seen_step: int


def _note(raw, required_message: str) -> str:
    note = clean_text(raw or "")
    if not note:
        raise LoopRefused(required_message, "note")
    if len(note) > MAX_NOTE:
        raise LoopRefused(f"说明不超过 {MAX_NOTE} 字。", "note")
    if is_unreadable(note):
        raise LoopRefused(UNREADABLE_MESSAGE, "note")
    return note


def _seen(form: MultiDict) -> tuple[str, int]:
    nonce = form.get("nonce", "")
    raw = form.get("step", "")
    if not is_nonce(nonce) or not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise LoopRefused("表单已失效，请刷新页面后重新填写。", None, 400)
    return nonce, int(raw)


def check_rectification(form: MultiDict, files: MultiDict) -> CheckedStep:
    """A posted 整改: a note of what was done (required), photos if any (JPG/PNG, ≤ 3)."""
    nonce, seen = _seen(form)
    note = _note(form.get("note"), "请写明整改情况（做了什么、现在怎样）。")
    try:
        photos = check_photos(chosen_files(files.getlist("photos")))
    except AttachmentError as error:
        raise LoopRefused(str(error), "photos") from None
    return CheckedStep(RECTIFIED, note, photos, nonce, seen)


def check_recheck(form: MultiDict) -> CheckedStep:
    """A posted 复检: 合格 (a note if any) or 不合格 (a note of what is still wrong)."""
    nonce, seen = _seen(form)
    outcome = form.get("outcome", "")
    if outcome not in (PASSED, FAILED):
        raise LoopRefused("请选择复检结果：合格或不合格。", "outcome")
    if outcome == FAILED:
        note = _note(form.get("note"), "复检不合格时请写明仍存在的问题，退回整改。")
    else:
        note = clean_text(form.get("note") or "")
        if note:
            note = _note(note, "")
    return CheckedStep(outcome, note, [], nonce, seen)


def find_by_nonce(nonce: str) -> CleaningFollowUp | None:
    if not is_nonce(nonce):
        return None
    return db.session.scalar(
        select(CleaningFollowUp).where(CleaningFollowUp.submission_nonce == nonce)
    )


def _last_step(session, result_id: int) -> CleaningFollowUp | None:
    return session.scalar(
        select(CleaningFollowUp)
        .where(
            CleaningFollowUp.community == community_key(),
            CleaningFollowUp.result_id == result_id,
        )
        .order_by(CleaningFollowUp.step.desc())
        .limit(1)
    )


def may_recheck(loop: Loop, user) -> bool:
    """Not the one whose 整改 it is: nobody re-checks their own work."""
    return loop.rectifier_id is None or loop.rectifier_id != user.id


def _check_state(last: CleaningFollowUp | None, checked: CheckedStep, user) -> None:
    """Refuse a step the item's state (read inside the write transaction) does not allow."""
    state = state_after(last.kind if last else None)
    rechecking = checked.kind in (PASSED, FAILED)
    if state == CLOSED:
        message = "此项已复检合格，整改已结束" + ("，不能再复检。" if rechecking else "。")
        raise LoopRefused(message, None, 409)
    if (last.step if last else 0) != checked.seen_step:
        raise LoopRefused(
            "此项刚刚有了新的记录（可能是他人同时处理），页面已刷新，请查看后再操作。", None, 409
        )
    if not rechecking and state != TO_RECTIFY:
        raise LoopRefused("此项已记录整改，正等待复检。", None, 409)
    if rechecking:
        if state != TO_RECHECK:
            raise LoopRefused("此项还没有记录整改，整改后才能复检。", None, 409)
        if last is not None and last.actor_id == user.id:
            raise LoopRefused(
                "整改是您记录的，不能由您本人复检：请由检查人或保洁主管复检。", None, 403
            )


def record_step(
    inspection: CleaningInspection, result: CleaningResult, checked: CheckedStep, user
) -> tuple[int, bool]:
    """Append a 整改 or 复检 to the item's history; (its id, created). A second POST of the same
    form (same nonce) answers with the first; a state changed meanwhile raises LoopRefused."""
    community = community_key()
    try:
        with StoredFiles(checked.photos) as stored:
            names = iter(stored.names)
            with write_transaction() as session:
                last = _last_step(session, result.id)
                _check_state(last, checked, user)
                row = CleaningFollowUp(
                    community=community,
                    submission_nonce=checked.nonce,
                    result_id=result.id,
                    step=(last.step if last else 0) + 1,
                    kind=checked.kind,
                    note=checked.note,
                    actor_id=user.id,
                    actor_name=actor_label(user),
                )
                for photo in checked.photos:
                    row.photos.append(
                        CleaningFollowUpPhoto(
                            community=community,
                            stored_name=next(names),
                            original_name=photo.original_name,
                            content_type=photo.content_type,
                            size=photo.size,
                        )
                    )
                session.add(row)
                session.flush()
                action = "cleaning.rectify" if checked.kind == RECTIFIED else "cleaning.recheck"
                record_audit(
                    action,
                    target=inspection.reference,
                    detail=f"{result.area_name}：{result.item_text[:40]}——"
                    f"{FOLLOW_UP_LABELS[checked.kind]}"
                    + (f"：{checked.note[:60]}" if checked.note else ""),
                )
            stored.keep()
            return row.id, True
    except IntegrityError:
        db.session.rollback()
        existing = find_by_nonce(checked.nonce)
        if existing is not None:
            return existing.id, False
        # Another step of the same item was stored at the same moment.
        raise LoopRefused(
            "此项刚刚有了新的记录（可能是他人同时处理），页面已刷新，请查看后再操作。", None, 409
        ) from None
