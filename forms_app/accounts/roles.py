"""Staff roles. Codes are stored in the database; labels are what people read.

The seed's 装修管理领导小组: the project manager (经理) leads, with the heads of customer
service (客服), engineering (工程) and order maintenance / guards (秩序维护, 护卫).
"""
from __future__ import annotations

SERVICE = "service"
ENGINEERING = "engineering"
SECURITY = "security"
MANAGER = "manager"

ROLE_LABELS = {
    SERVICE: "客服",
    ENGINEERING: "工程",
    SECURITY: "秩序维护",
    MANAGER: "经理",
}
ROLES = tuple(ROLE_LABELS)

# Names accepted on the command line besides the codes.
_ALIASES = {"客服": SERVICE, "工程": ENGINEERING, "秩序维护": SECURITY, "护卫": SECURITY,
            "秩序维护（护卫）": SECURITY, "经理": MANAGER}


def role_label(code: str) -> str:
    return ROLE_LABELS.get(code, code)


def parse_role(text: str) -> str | None:
    """The role code for a code or a Chinese name (客服, 工程, 秩序维护, 护卫, 经理)."""
    text = (text or "").strip()
    if text in ROLE_LABELS:
        return text
    return _ALIASES.get(text)
