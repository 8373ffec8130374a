"""Staff roles. Codes are stored in the database; labels are what people read.

An account holds a role in each community it works in (its ``staff_membership`` rows); the
role that counts in a request is its role in the request's community (models.StaffUser.role).
A company role (品质部) is the account's own (``staff_user.company_role``): it holds in every
community, belongs to none of them, and reads only (``READ_ONLY_ROLES``).

The seed's 装修管理领导小组: the project manager (经理) leads, with the heads of customer
service (客服), engineering (工程) and order maintenance / guards (秩序维护, 护卫). The 客服主管
has a role of its own because the seed gives that post the weekly staff training and its
records (培训记录); the cleaners (保洁) are trained on the cleaning standards.
"""

from __future__ import annotations

SERVICE = "service"
SERVICE_LEAD = "service_lead"
ENGINEERING = "engineering"
ENGINEERING_LEAD = "engineering_lead"
SECURITY = "security"
SECURITY_LEAD = "security_lead"
MANAGER = "manager"
CLEANER = "cleaner"
CLEANING_LEAD = "cleaning_lead"
FINANCE = "finance"
# The company's 品质部 (quality department): reads every community's back office and the
# company's figures side by side; changes nothing.
QUALITY = "quality"

ROLE_LABELS = {
    SERVICE: "客服",
    SERVICE_LEAD: "客服主管",
    ENGINEERING: "工程",
    ENGINEERING_LEAD: "工程主管",
    SECURITY: "秩序维护",
    SECURITY_LEAD: "秩序维护主管",
    CLEANER: "保洁",
    CLEANING_LEAD: "保洁主管",
    FINANCE: "财务",
    MANAGER: "经理",
}
# The roles of a community (a membership, placed in its organisation's departments).
ROLES = tuple(ROLE_LABELS)
COMPANY_ROLE_LABELS = {QUALITY: "品质部"}
COMPANY_ROLES = tuple(COMPANY_ROLE_LABELS)
ALL_ROLES = ROLES + COMPANY_ROLES
# Roles that may look but not change: every POST of the back office is refused them.
READ_ONLY_ROLES = frozenset({QUALITY})
# A 主管 role holds every permission of the role it leads (permissions.py), and more where the
# table says so. seed: 客服主管、工程主管、护卫主管 are the 组长 of the 装修管理领导小组.
LEADS = {
    SERVICE_LEAD: SERVICE,
    ENGINEERING_LEAD: ENGINEERING,
    SECURITY_LEAD: SECURITY,
    CLEANING_LEAD: CLEANER,
}

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
    "工程主管": ENGINEERING_LEAD,
    "秩序维护主管": SECURITY_LEAD,
    "护卫主管": SECURITY_LEAD,
    "护卫班长": SECURITY_LEAD,
    "班长": SECURITY_LEAD,
    "保洁主管": CLEANING_LEAD,
    "财务": FINANCE,
    "会计": FINANCE,
    "收银": FINANCE,
    "品质部": QUALITY,
    "品质": QUALITY,
}


def role_label(code: str | None) -> str:
    if code is None:
        return "非本小区员工"
    return ROLE_LABELS.get(code) or COMPANY_ROLE_LABELS.get(code, code)


def parse_role(text: str) -> str | None:
    """The role code for a code or a Chinese name (客服, 客服主管, 工程, 工程主管, 秩序维护, 护卫,
    班长, 保洁, 保洁主管, 财务, 会计, 经理, 品质部)."""
    text = (text or "").strip()
    if text in ROLE_LABELS or text in COMPANY_ROLE_LABELS:
        return text
    return _ALIASES.get(text)
