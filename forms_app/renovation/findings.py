"""Findings of patrols (巡查不合格项) and their loop: 整改 recorded with a note and photos, then a
复查 that closes the finding or sends it back with a new deadline; the list of open findings
for the 装修办's patrol list, overdue ones first.

Who may record 整改 and 复查 of a finding: whoever may record patrols of its patrol's kind
(``renovation.patrol.<kind>``), so the 装修办 handles its own findings and the guards theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..accounts.models import actor_label
from ..accounts.permissions import TABLE, allowed
from ..core.clock import today, utcnow
from ..core.community import community_key
from ..core.extensions import db
from ..core.tokens import is_nonce
from ..files.uploads import AttachmentError, StoredFiles
from .models import RenovationApplication
from .patrol_checklist import FAIL, PASS
from .patrols import (
    CLOSED,
    FIX,
    FIXED,
    OPEN,
    RECHECK_FAIL,
    RECHECK_PASS,
    FindingStep,
    PatrolCheck,
    PatrolError,
    RenovationPatrol,
    check_deadline,
    check_note,
    check_photos,
    finding_photo,
)


@dataclass
class OpenFinding:
    """A finding still open (待整改 or 待复查) with its patrol and application."""

    check: PatrolCheck
    patrol: RenovationPatrol
    application: RenovationApplication
    on: date

    @property
    def overdue_days(self) -> int:
        return self.check.overdue_days(self.on)

    @property
    def kind_name(self) -> str:
        return self.patrol.kind_name


def open_findings(on: date, kinds: Iterable[str] | None = None) -> list[OpenFinding]:
    """Open findings of the community (of ``kinds`` only, when given): overdue ones first, the
    longest overdue at the top, then by deadline."""
    query = (
        select(PatrolCheck, RenovationPatrol, RenovationApplication)
        .join(RenovationPatrol, RenovationPatrol.id == PatrolCheck.patrol_id)
        .join(RenovationApplication, RenovationApplication.id == RenovationPatrol.application_id)
        .where(
            PatrolCheck.community == community_key(),
            PatrolCheck.status.in_((OPEN, FIXED)),
        )
    )
    if kinds is not None:
        query = query.where(RenovationPatrol.kind.in_(list(kinds)))
    found = [
        OpenFinding(check, patrol, application, on)
        for check, patrol, application in db.session.execute(query)
    ]
    found.sort(key=lambda f: (f.overdue_days == 0, f.check.deadline or on, f.check.id))
    return found


def findings_of(application_id: int) -> list[PatrolCheck]:
    """Every finding of one application, the newest patrol's first."""
    return list(
        db.session.scalars(
            select(PatrolCheck)
            .join(RenovationPatrol, RenovationPatrol.id == PatrolCheck.patrol_id)
            .where(RenovationPatrol.application_id == application_id, PatrolCheck.result == FAIL)
            .order_by(
                RenovationPatrol.patrol_date.desc(),
                RenovationPatrol.id.desc(),
                PatrolCheck.position,
            )
        )
    )


def finding_of(application_id: int, finding_id: int, lock: bool = False) -> PatrolCheck | None:
    """The finding when it belongs to the application in the URL, else None."""
    check = db.session.get(PatrolCheck, finding_id, with_for_update=lock or None)
    if check is None or check.result != FAIL or check.patrol.application_id != application_id:
        return None
    return check


def may_handle(role: str, check: PatrolCheck) -> bool:
    """Whether ``role`` records 整改 and 复查 of this finding (its patrol kind's permission)."""
    permission = f"renovation.patrol.{check.patrol.kind}"
    return permission in TABLE and allowed(role, permission)


def step_by_nonce(nonce: str) -> FindingStep | None:
    """The step recorded from the form with this nonce (a double tap, a draft sent again)."""
    if not is_nonce(nonce):
        return None
    return db.session.scalar(select(FindingStep).where(FindingStep.submission_nonce == nonce))


def conflict(check: PatrolCheck, step: str) -> str | None:
    """Why the finding cannot take ``step`` in its status (None when it can)."""
    if step == FIX and check.status != OPEN:
        return f"这一项当前为「{check.status_label}」，不能再记录整改。"
    if step != FIX and check.status != FIXED:
        return f"这一项当前为「{check.status_label}」，记录整改完成后才能复查。"
    return None


def _photos(files, errors: dict) -> list:
    try:
        return check_photos(files.getlist("photos"))
    except AttachmentError as error:
        errors["photos"] = str(error)
        return []


def check_step_form(step: str, form, files) -> dict:
    """Validate a 整改 (``fix``) or 复查 (``recheck``) form: the cleaned values, or
    PatrolError with every problem."""
    errors: dict[str, str] = {}
    nonce = form.get("nonce", "")
    if not is_nonce(nonce):
        errors["form"] = "表单已失效，请刷新页面后重新填写。"
    deadline = None
    if step == FIX:
        action = FIX
        note, problem = check_note(form.get("note"), "请写明整改情况。", "整改情况")
    else:
        result = form.get("result", "")
        if result not in (PASS, FAIL):
            errors["result"] = "请选择复查结果：合格或不合格。"
        action = RECHECK_FAIL if result == FAIL else RECHECK_PASS
        if result == FAIL:
            note, problem = check_note(form.get("note"), "复查不合格时请写明问题。", "复查情况")
            deadline, deadline_problem = check_deadline(form.get("deadline"), today(), "复查日期")
            if deadline_problem:
                errors["deadline"] = deadline_problem
        else:
            # 合格: the note is optional and no new deadline is meant.
            note, problem = check_note(form.get("note"), None, "复查情况")
    if problem:
        errors["note"] = problem
    photos = _photos(files, errors)
    if errors:
        raise PatrolError(errors)
    return {"nonce": nonce, "action": action, "note": note, "deadline": deadline, "photos": photos}


def store_step(
    session, check: PatrolCheck, actor, values: dict, stored: StoredFiles
) -> FindingStep:
    """Add the step and move the finding on (inside a write transaction, the check locked)."""
    community = community_key()
    step = FindingStep(
        community=community,
        action=values["action"],
        note=values["note"],
        deadline=values["deadline"],
        actor_id=actor.id,
        actor_name=actor_label(actor),
        created_at=utcnow(),
        submission_nonce=values["nonce"],
    )
    check.steps.append(step)
    for upload, stored_name in zip(values["photos"], stored.names, strict=True):
        photo = finding_photo(community, upload, stored_name)
        check.photos.append(photo)
        step.photos.append(photo)
    if step.action == FIX:
        check.status = FIXED
    elif step.action == RECHECK_PASS:
        check.status = CLOSED
        check.closed_at = step.created_at
    else:
        check.status = OPEN
        check.deadline = values["deadline"]
    session.flush()
    return step


def step_store(values: dict) -> StoredFiles:
    """Write the step's photos beside the application attachments; kept only after commit."""
    return StoredFiles(values["photos"])
