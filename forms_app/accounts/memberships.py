"""Which communities an account works in, with which role: read and changed here.

An account's role in a community is its ``StaffMembership`` there (models.py reads it as
``user.role``); the company's 品质部 is the account's ``company_role``, held everywhere. A 经理
grants and removes roles in their own community only (staff_accounts.py); the command line
(``flask accounts create/grant --community ID``) in any.

Why the company role is a flag on the account and not a membership with a wildcard community:
every row of a community-keyed table belongs to one real community (the ORM's community scope
and PostgreSQL's row-level security both key on it), and a company role belongs to none.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from sqlalchemy import delete, func, select

from ..core.clock import today
from ..core.community import Community, community_key, current_community, deployment_communities
from .models import DutyShift, StaffMembership, StaffUser
from .roles import COMPANY_ROLES, MANAGER, ROLE_LABELS, role_label


@dataclass(frozen=True)
class Place:
    """A community an account works in, as a person reads it: its name, the role there and
    where its back office is."""

    key: str
    name: str
    role: str
    url: str


def _community_name(key: str) -> str:
    found = deployment_communities().get(key)
    return found.name if found else key


def staff_home_url(community: Community) -> str:
    """Where a community's back office is: its public address, else its first host name (on
    this request's scheme and port), else this host."""
    base = community.get("public_base_url")
    if not base and community.hosts:
        port = request.host.rsplit(":", 1)[1] if ":" in request.host.split("]")[-1] else ""
        base = f"{request.scheme}://{community.hosts[0]}" + (f":{port}" if port else "")
    path = url_for("accounts.home")
    return (base or "").rstrip("/") + path


def places(user: StaffUser) -> list[Place]:
    """Every community the account is a member of, in the deployment's order."""
    served = deployment_communities()
    order = {key: index for index, key in enumerate(served)}
    found = [
        Place(
            m.community,
            _community_name(m.community),
            role_label(m.role),
            staff_home_url(served[m.community]) if m.community in served else "",
        )
        for m in user.memberships
    ]
    return sorted(found, key=lambda p: order.get(p.key, len(order)))


def other_places(user: StaffUser) -> list[Place]:
    """The communities the account works in besides this one."""
    here = community_key()
    return [p for p in places(user) if p.key != here]


def not_member_message(user: StaffUser) -> str:
    """The Chinese text for an account with no role in this community."""
    community = current_community()
    text = f"您不是本小区（{community.name}）的员工，不能进入本小区的后台。"
    elsewhere = other_places(user)
    if elsewhere:
        text += "您的账号属于" + "、".join(f"{p.name}（{p.role}）" for p in elsewhere) + "，"
        text += "请从下面的链接进入该小区的后台。"
    else:
        text += "您的账号目前不属于任何小区。"
    return text + f"如需在{community.name}工作，请{community.name}的经理把您的账号加入本小区。"


def community_role_choices() -> dict[str, str]:
    """The roles a 经理 may give in a community (not the company's)."""
    return dict(ROLE_LABELS)


def active_managers(session) -> int:
    """Active 经理 of this community."""
    return session.scalar(
        select(func.count(StaffMembership.id))
        .join(StaffUser, StaffUser.id == StaffMembership.staff_id)
        .where(
            StaffMembership.community == community_key(),
            StaffMembership.role == MANAGER,
            StaffUser.active.is_(True),
        )
    )


def grant(user: StaffUser, role: str) -> str:
    """Give ``user`` ``role`` in this community (a company role: in every one); the audit
    text of the change, empty when nothing changed."""
    before = user.role
    if role in COMPANY_ROLES:
        user.company_role = role
    else:
        user.role = role
    if before == role:
        return ""
    where = "公司" if role in COMPANY_ROLES else current_community().name
    return f"{where}：{role_label(before) if before else '无'} → {role_label(role)}"


def remove_here(session, user: StaffUser) -> None:
    """Take ``user`` out of this community: its membership, its areas here and its duty from
    today on (the rota's past stays as it was)."""
    key = community_key()
    found = user.membership()
    if found is not None:
        user.memberships.remove(found)
    user.areas = []
    session.execute(
        delete(DutyShift).where(
            DutyShift.community == key, DutyShift.user_id == user.id, DutyShift.day >= today()
        )
    )
