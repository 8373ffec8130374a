"""States of a renovation application and their Chinese labels.

The staff workflow moves an application through them:
待审核 → 已批准 / 已驳回 → 施工中 → 待验收 → 验收通过 / 验收不通过 (back to 施工中) → 押金已退还.
"""

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
IN_PROGRESS = "in_progress"
AWAITING_ACCEPTANCE = "awaiting_acceptance"
ACCEPTANCE_FAILED = "acceptance_failed"
ACCEPTED = "accepted"
DEPOSIT_REFUNDED = "deposit_refunded"

LABELS = {
    PENDING: "待审核",
    APPROVED: "已批准",
    REJECTED: "已驳回",
    IN_PROGRESS: "施工中",
    AWAITING_ACCEPTANCE: "待验收",
    ACCEPTANCE_FAILED: "验收不通过",
    ACCEPTED: "验收通过",
    DEPOSIT_REFUNDED: "押金已退还",
}

STATES = tuple(LABELS)

# An open application blocks a second one for the same room.
OPEN_STATES = frozenset(STATES) - {REJECTED, DEPOSIT_REFUNDED}

# States in which the owner holds a valid renovation permit (approved or any later step).
PERMIT_STATES = frozenset(
    {APPROVED, IN_PROGRESS, AWAITING_ACCEPTANCE, ACCEPTANCE_FAILED, ACCEPTED, DEPOSIT_REFUNDED}
)


def label(state: str) -> str:
    """The Chinese label of a state code."""
    return LABELS[state]
