"""Staff roles. Codes are stored in the database; labels are what people read.

The seed's 装修管理领导小组: the project manager (经理) leads, with the heads of customer
service (客服), engineering (工程) and order maintenance / guards (秩序维护, 护卫). The 客服主管
has a role of its own because the seed gives that post the weekly staff training and its
records (培训记录); the cleaners (保洁) are trained on the cleaning standards.
"""

from __future__ import annotations

SERVICE = "service"
SERVICE_LEAD = "service_lead"
ENGINEERING = "engineering"
SECURITY = "security"
MANAGER = "manager"
CLEANER = "cleaner"

ROLE_LABELS = {
    SERVICE: "客服",
    SERVICE_LEAD: "客服主管",
    ENGINEERING: "工程",
    SECURITY: "秩序维护",
    CLEANER: "保洁",
    MANAGER: "经理",
}
ROLES = tuple(ROLE_LABELS)

# Names accepted on the command line besides the codes.
_ALIASES = {
    "客服": SERVICE,
    "工程": ENGINEERING,
    "秩序维护": SECURITY,
    "护卫": SECURITY,
    "秩序维护（护卫）": SECURITY,
    "经理": MANAGER,
    "客服主管": SERVICE_LEAD,
    "主管": SERVICE_LEAD,
    "保洁": CLEANER,
}


def role_label(code: str) -> str:
    return ROLE_LABELS.get(code, code)


def parse_role(text: str) -> str | None:
    """The role code for a code or a Chinese name (客服, 客服主管, 工程, 秩序维护, 护卫, 保洁, 经理)."""
    text = (text or "").strip()
    if text in ROLE_LABELS:
        return text
    return _ALIASES.get(text)
