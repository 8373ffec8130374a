"""Kinds, sources and states of a service request (报修 or 投诉), with their Chinese labels.

A repair: 待派工 → 已派工 → 维修中 → 待回访 → 已办结; 回访不满意 → 主管返修 → 待回访 again.
A complaint: 待处理 → 已转部门 → 待回访 (answered) → 已办结; 回访不满意 → 主管处理 → 待回访.
The 经理 may close any open request with a reason.
"""

from __future__ import annotations

REPAIR = "repair"
COMPLAINT = "complaint"
KIND_LABELS = {REPAIR: "报修", COMPLAINT: "投诉"}
# Reference prefixes read out on the phone: BX20261128-003, TS20261128-001.
PREFIXES = {REPAIR: "BX", COMPLAINT: "TS"}

ONLINE = "online"
PHONE = "phone"
WALK_IN = "walk_in"
SOURCE_LABELS = {PHONE: "电话", WALK_IN: "到访", ONLINE: "线上"}
STAFF_SOURCES = (PHONE, WALK_IN)

HOME = "home"
PUBLIC = "public"
LOCATION_LABELS = {HOME: "室内（自家）", PUBLIC: "公共区域"}

NEW = "new"
DISPATCHED = "dispatched"
ON_SITE = "on_site"
AWAITING_VISIT = "awaiting_visit"
REOPENED = "reopened"
CLOSED = "closed"

_LABELS = {
    REPAIR: {
        NEW: "待派工",
        DISPATCHED: "已派工",
        ON_SITE: "维修中",
        AWAITING_VISIT: "待回访",
        REOPENED: "回访不满意·主管返修",
        CLOSED: "已办结",
    },
    COMPLAINT: {
        NEW: "待处理",
        DISPATCHED: "已转部门",
        AWAITING_VISIT: "已答复·待回访",
        REOPENED: "回访不满意·主管处理",
        CLOSED: "已办结",
    },
}
STATES = (NEW, DISPATCHED, ON_SITE, AWAITING_VISIT, REOPENED, CLOSED)
OPEN_STATES = frozenset(STATES) - {CLOSED}
# States in which someone still owes work (a repair on its way, a complaint unanswered):
# these can be overdue.
WORK_STATES = {REPAIR: (DISPATCHED, ON_SITE, REOPENED), COMPLAINT: (NEW, DISPATCHED, REOPENED)}
# A worker's job list: repairs assigned to them that are not finished.
JOB_STATES = (DISPATCHED, ON_SITE, REOPENED)

RECEIPT_CONFIRMED = "confirmed"
RECEIPT_ABSENT = "absent"
RECEIPT_LABELS = {
    RECEIPT_CONFIRMED: "业主当面确认（回执已签）",
    RECEIPT_ABSENT: "业主不在场，待客服回访确认",
}

# The owner's rating of a finished repair or an answered complaint (1–5); below
# SATISFIED_FROM counts as 不满意 and reopens a repair.
RATINGS = {5: "很满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "很不满意"}
SATISFIED_FROM = 3
# What the owner sends online (OwnerFeedback.action).
OWNER_CONFIRM = "confirm"
OWNER_RATE = "rate"
OWNER_REPLY = "reply"

VISIT_REGULAR = "regular"
VISIT_IRREGULAR = "irregular"
VISIT_KIND_LABELS = {VISIT_REGULAR: "定期走访", VISIT_IRREGULAR: "不定期走访"}


def label(kind: str, state: str) -> str:
    """The Chinese label of a state for a kind of request."""
    return _LABELS[kind].get(state, state)


def state_choices() -> list[tuple[str, str]]:
    """States for a filter across both kinds: the repair label, with the complaint one."""
    choices = []
    for state in STATES:
        repair, complaint = _LABELS[REPAIR].get(state), _LABELS[COMPLAINT].get(state)
        text = repair if repair == complaint or complaint is None else f"{repair} / {complaint}"
        choices.append((state, text))
    return choices
