"""The staff workflow of a renovation application: which step leads from which state to which.

Who may take a step is the permission ``renovation.step.<action>`` in the one permissions
table (``accounts/permissions.py``).

待审核 → 已批准 / 已驳回(理由) → 施工中 → 待验收 → 验收通过 / 验收不通过 → 押金已退还.
验收不通过 means back on site for rectification (整改): patrols go on, the end date can be
extended, and 申请验收 brings it back to 待验收. 延期 keeps the state and is recorded as a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..accounts import roles
from ..accounts.models import actor_label
from ..accounts.permissions import roles_for
from ..core.community import current_community
from ..core.refusals import Refused
from ..events import announce, declare
from ..web.typed_input import UNREADABLE_MESSAGE, clean_text, is_unreadable
from . import states
from .models import RECORD_TYPE, RenovationApplication, RenovationEvent, record_event


@dataclass(frozen=True)
class Step:
    action: str
    label: str
    sources: frozenset
    target: str | None  # None: the state stays (延期)
    # The text shown to the owner (给业主的说明) and whether the step needs one.
    comment_label: str = "给业主的说明（业主可见，可不填）"
    comment_required: bool = False
    # Steps that cannot be undone ask for confirmation (a box to tick, a dialog with script).
    irreversible: bool = False

    @property
    def permission(self) -> str:
        return f"renovation.step.{self.action}"

    @property
    def roles(self) -> frozenset[str]:
        return roles_for(self.permission)

    @property
    def event(self) -> str:
        """The domain event announced when the step is taken (``forms_app.events``)."""
        return f"renovation.{self.action}"


def _step(action, label, sources, target, **extra) -> Step:
    return Step(action, label, frozenset(sources), target, **extra)


ON_SITE = (states.IN_PROGRESS, states.ACCEPTANCE_FAILED)

# Per state the main step comes first (批准 before 驳回, 验收通过 before 验收不通过).
STEPS: tuple[Step, ...] = (
    _step("approve", "批准", [states.PENDING], states.APPROVED, irreversible=True),
    _step(
        "reject",
        "驳回",
        [states.PENDING],
        states.REJECTED,
        irreversible=True,
        comment_label="驳回理由（给业主的说明，业主会看到）",
        comment_required=True,
    ),
    _step("start", "开工", [states.APPROVED], states.IN_PROGRESS),
    _step("complete", "完工，申请验收", ON_SITE, states.AWAITING_ACCEPTANCE),
    _step(
        "extend",
        "延期",
        [states.APPROVED, *ON_SITE],
        None,
        comment_label="延期原因（给业主的说明，业主会看到）",
        comment_required=True,
    ),
    _step("accept", "验收通过", [states.AWAITING_ACCEPTANCE], states.ACCEPTED),
    _step(
        "fail_acceptance",
        "验收不通过",
        [states.AWAITING_ACCEPTANCE],
        states.ACCEPTANCE_FAILED,
        irreversible=True,
        comment_label="需整改的项目（给业主的说明，业主会看到）",
        comment_required=True,
    ),
    _step("refund_deposit", "退还押金", [states.ACCEPTED], states.DEPOSIT_REFUNDED),
)
STEPS_BY_ACTION = {step.action: step for step in STEPS}

MAX_COMMENT = 1000


def declare_events(app) -> None:
    """Every step is an event others may react to: ``renovation.approve`` … ``refund_deposit``."""
    for step in STEPS:
        declare(app, step.event, f"装修申请{step.label}")


class WorkflowError(Refused, ValueError):
    """A step that cannot be taken, with the Chinese message and the form field it concerns;
    ``forbidden``: the role may never take it (a 403, not a message)."""

    def __init__(self, message: str, field: str | None = None, forbidden: bool = False):
        super().__init__(message, field)
        self.forbidden = forbidden


def _verify_owner(application: RenovationApplication, owner_confirmed: bool) -> None:
    """Only a verified owner's application is approved, and one per room at a time."""
    from sqlalchemy import select

    from ..core.extensions import db
    from ..households.registry import find_room, is_registered_owner

    holder = db.session.scalar(
        select(RenovationApplication.reference).where(
            RenovationApplication.building == application.building,
            RenovationApplication.unit == application.unit,
            RenovationApplication.room == application.room,
            RenovationApplication.id != application.id,
            RenovationApplication.owner_verified.is_not(None),
            RenovationApplication.state.not_in(("rejected", "deposit_refunded")),
        )
    )
    if holder:
        raise WorkflowError(
            f"该房屋已有一份业主已核实、尚未办结的装修申请（编号{holder}），不能再批准这一份。"
        )
    if application.owner_verified is not None:
        return
    room = find_room(application.building, application.unit, application.room)
    if room is not None and is_registered_owner(room, application.owner_mobile):
        application.owner_verified = "registry"
    elif owner_confirmed:
        application.owner_verified = "staff"
    else:
        raise WorkflowError(
            "申请人手机号不是本房屋的登记业主：请查验业主身份（房产证、购房合同或业主本人到场）"
            "后勾选“已核实业主身份”再批准；不是业主本人申请的请驳回。",
            field="owner_confirmed",
        )


def latest_end_date(application: RenovationApplication) -> date:
    """The latest end date 延期 may set: the community's bound on the whole works."""
    limit = current_community().renovation["max_extended_duration_days"]
    return application.start_date + timedelta(days=limit)


def steps_for(application: RenovationApplication, role: str) -> list[Step]:
    """The steps this role may take on the application now (the detail page's buttons)."""
    return [s for s in STEPS if application.state in s.sources and role in s.roles]


def advance(
    application: RenovationApplication,
    action: str,
    actor,
    comment: str = "",
    new_end_date: date | None = None,
    internal_note: str = "",
    confirmed: bool = False,
    owner_confirmed: bool = False,
) -> RenovationEvent:
    """Check the step against the table and record it. Call inside ``write_transaction()``.

    ``comment`` is 给业主的说明 (on the owner's status page), ``internal_note`` the 内部备注
    only staff read. An irreversible step is taken only when ``confirmed``. 批准 of an
    application whose mobile is not a registered owner's needs ``owner_confirmed`` (staff
    checked the owner's identity) and is refused while another verified owner's application
    holds the room.
    """
    step = STEPS_BY_ACTION.get(action)
    if step is None:
        raise WorkflowError("未知的操作。")
    if actor.role not in step.roles:
        allowed = "、".join(roles.role_label(r) for r in roles.ROLES if r in step.roles)
        raise WorkflowError(f"「{step.label}」只能由{allowed}操作。", forbidden=True)
    if application.state not in step.sources:
        raise WorkflowError(
            f"申请当前状态为「{application.state_label}」，不能进行「{step.label}」。"
        )
    comment = clean_text(comment or "")
    if step.comment_required and not comment:
        raise WorkflowError(f"请填写{step.comment_label.split('（')[0]}。", field="comment")
    if len(comment) > MAX_COMMENT:
        raise WorkflowError(f"内容不超过 {MAX_COMMENT} 字。", field="comment")
    if is_unreadable(comment):
        raise WorkflowError(UNREADABLE_MESSAGE, field="comment")
    internal_note = clean_text(internal_note or "")
    if len(internal_note) > MAX_COMMENT:
        raise WorkflowError(f"内部备注不超过 {MAX_COMMENT} 字。", field="internal_note")
    if step.irreversible and not confirmed:
        raise WorkflowError(f"「{step.label}」不能撤销，请勾选确认后再提交。", field="confirm")
    if step.action == "approve":
        _verify_owner(application, owner_confirmed)
    if step.action == "extend":
        if new_end_date is None:
            raise WorkflowError("请填写新的竣工日期。", field="end_date")
        if new_end_date <= application.end_date:
            raise WorkflowError(
                f"新的竣工日期须晚于原竣工日期 {application.end_date.isoformat()}。",
                field="end_date",
            )
        latest = latest_end_date(application)
        if new_end_date > latest:
            limit = (latest - application.start_date).days
            raise WorkflowError(
                f"含延期在内，工期自开工日期 {application.start_date.isoformat()} 起最长 {limit} 天："
                f"新的竣工日期不能晚于 {latest.isoformat()}。",
                field="end_date",
            )
        comment = (
            f"竣工日期由 {application.end_date.isoformat()} 延至 "
            f"{new_end_date.isoformat()}。{comment}"
        )
        application.end_date = new_end_date
    target = step.target or application.state
    event = record_event(
        application,
        target,
        actor_id=actor.id,
        actor_name=actor_label(actor),
        comment=comment,
        internal_note=internal_note,
    )
    # Others react in this transaction (a deposit refunded is a ledger entry, say).
    announce(
        step.event,
        RECORD_TYPE,
        application.id,
        reference=application.reference,
        state=target,
        actor_id=actor.id,
        building=application.building,
        unit=application.unit,
        room=application.room,
        start_date=application.start_date.isoformat(),
        end_date=application.end_date.isoformat(),
    )
    return event
