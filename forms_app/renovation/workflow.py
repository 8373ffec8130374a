"""The staff workflow of a renovation application: ONE table of who may take which step.

待审核 → 已批准 / 已驳回(理由) → 施工中 → 待验收 → 验收通过 / 验收不通过 → 押金已退还.
验收不通过 means back on site for rectification (整改): patrols go on, the end date can be
extended, and 申请验收 brings it back to 待验收. 延期 keeps the state and is recorded as a step.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..staff import roles
from ..typed_input import clean_text
from . import states
from .models import RenovationApplication, RenovationEvent, record_event


@dataclass(frozen=True)
class Step:
    action: str
    label: str
    sources: frozenset
    target: str | None  # None: the state stays (延期)
    roles: frozenset
    comment_label: str = "备注"
    comment_required: bool = False


def _step(action, label, sources, target, allowed, **extra) -> Step:
    return Step(action, label, frozenset(sources), target, frozenset(allowed), **extra)


S, E, G, M = roles.SERVICE, roles.ENGINEERING, roles.SECURITY, roles.MANAGER
ON_SITE = (states.IN_PROGRESS, states.ACCEPTANCE_FAILED)

STEPS: tuple[Step, ...] = (
    _step("approve", "批准", [states.PENDING], states.APPROVED, [S, M]),
    _step("reject", "驳回", [states.PENDING], states.REJECTED, [S, M],
          comment_label="驳回理由（业主会看到）", comment_required=True),
    _step("start", "开工", [states.APPROVED], states.IN_PROGRESS, [S, E, M]),
    _step("extend", "延期", [states.APPROVED, *ON_SITE], None, [S, E, M],
          comment_label="延期原因", comment_required=True),
    _step("complete", "完工，申请验收", ON_SITE, states.AWAITING_ACCEPTANCE, [S, E, M]),
    _step("fail_acceptance", "验收不通过", [states.AWAITING_ACCEPTANCE], states.ACCEPTANCE_FAILED,
          [E, M], comment_label="不通过原因（需整改的项目）", comment_required=True),
    _step("accept", "验收通过", [states.AWAITING_ACCEPTANCE], states.ACCEPTED, [E, M]),
    _step("refund_deposit", "退还押金", [states.ACCEPTED], states.DEPOSIT_REFUNDED, [S, M]),
)
STEPS_BY_ACTION = {step.action: step for step in STEPS}

# Who may record which kind of patrol (kinds are the ids of community.renovation.patrols):
# the renovation office (装修办) is staffed by customer service and engineering; guards patrol too.
PATROL_ROLES = {"office": frozenset({S, E, M}), "guard": frozenset({G, M})}

MAX_COMMENT = 1000


class WorkflowError(ValueError):
    """A step that cannot be taken, with the Chinese message and the form field it concerns."""

    def __init__(self, message: str, field: str | None = None, forbidden: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.forbidden = forbidden


def steps_for(application: RenovationApplication, role: str) -> list[Step]:
    """The steps this role may take on the application now (the detail page's buttons)."""
    return [s for s in STEPS if application.state in s.sources and role in s.roles]


def actor_label(actor) -> str:
    return f"{actor.username}（{actor.role_label}）"


def advance(application: RenovationApplication, action: str, actor, comment: str = "",
            new_end_date: date | None = None) -> RenovationEvent:
    """Check the step against the table and record it. Call inside ``write_transaction()``."""
    step = STEPS_BY_ACTION.get(action)
    if step is None:
        raise WorkflowError("未知的操作。")
    if actor.role not in step.roles:
        allowed = "、".join(roles.role_label(r) for r in roles.ROLES if r in step.roles)
        raise WorkflowError(f"「{step.label}」只能由{allowed}操作。", forbidden=True)
    if application.state not in step.sources:
        raise WorkflowError(
            f"申请当前状态为「{application.state_label}」，不能进行「{step.label}」。")
    comment = clean_text(comment or "")
    if step.comment_required and not comment:
        raise WorkflowError(f"请填写{step.comment_label.split('（')[0]}。", field="comment")
    if len(comment) > MAX_COMMENT:
        raise WorkflowError(f"内容不超过 {MAX_COMMENT} 字。", field="comment")
    if step.action == "extend":
        if new_end_date is None:
            raise WorkflowError("请填写新的竣工日期。", field="end_date")
        if new_end_date <= application.end_date:
            raise WorkflowError(
                f"新的竣工日期须晚于原竣工日期 {application.end_date.isoformat()}。", field="end_date")
        comment = (f"竣工日期由 {application.end_date.isoformat()} 延至 "
                   f"{new_end_date.isoformat()}。{comment}")
        application.end_date = new_end_date
    target = step.target or application.state
    return record_event(application, target, actor_id=actor.id, actor_name=actor_label(actor),
                        comment=comment)
