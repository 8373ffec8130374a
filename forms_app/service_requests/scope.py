"""Which repairs and complaints a member of staff may open (and see in lists).

- the desk and the 经理 (``service.view.all``): every request;
- a department's 主管 (``service.view.department``): the jobs of the department's members
  (its own included) and the complaints passed to the department;
- anyone else with ``service.view`` (a 工程 worker): only the jobs assigned to them now.

Owners' mobiles are masked on every page; the whole number is shown one request at a time
through the audited reveal (``service.call_owner``), only for a request in scope.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select, true

from ..accounts.models import StaffUser
from ..accounts.organisation import Department, department, organisation
from ..accounts.permissions import allowed
from ..core.extensions import db
from . import states
from .models import ServiceRequest

NOT_YOURS = "这张工单不是派给您的：您只能查看派给自己的工单，如需查看请联系客服或您的主管。"
NOT_YOUR_DEPARTMENT = "这张工单不属于您的部门：您只能查看本部门的工单，如需查看请联系客服。"


def home_department(user) -> Department | None:
    """The department a 主管 leads: the one the account is placed in, or else its role's."""
    placed = department(user.department)
    if placed is not None:
        return placed
    by_role = organisation().department_of_role(user.role)
    return by_role[0] if by_role else None


def _members_of(found: Department):
    """The accounts of a department: placed in it, or not placed yet and of one of its roles."""
    return select(StaffUser.id).where(
        or_(
            StaffUser.department == found.id,
            and_(StaffUser.department.is_(None), StaffUser.role.in_(found.roles)),
        )
    )


def visible(user):
    """The condition on ``ServiceRequest`` for the requests ``user`` may open."""
    if user is None:
        return false()
    if allowed(user.role, "service.view.all"):
        return true()
    mine = ServiceRequest.assignee_id == user.id
    if allowed(user.role, "service.view.department"):
        found = home_department(user)
        if found is not None:
            return or_(
                mine,
                ServiceRequest.assignee_id.in_(_members_of(found)),
                and_(
                    ServiceRequest.kind == states.COMPLAINT,
                    ServiceRequest.department == found.name,
                ),
            )
    return mine


def refusal(user, item: ServiceRequest) -> str | None:
    """Why ``user`` may not open ``item`` (a Chinese sentence), or None when they may."""
    if allowed(user.role, "service.view.all") or item.assignee_id == user.id:
        return None
    if allowed(user.role, "service.view.department"):
        found = home_department(user)
        if found is not None:
            if item.kind == states.COMPLAINT and item.department == found.name:
                return None
            if item.assignee_id is not None:
                member = db.session.scalar(
                    select(StaffUser.id).where(
                        StaffUser.id == item.assignee_id,
                        StaffUser.id.in_(_members_of(found)),
                    )
                )
                if member is not None:
                    return None
        return NOT_YOUR_DEPARTMENT
    return NOT_YOURS
