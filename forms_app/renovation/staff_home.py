"""Renovation on the staff home: the pipeline by state, today's patrols, the applications to review and to accept."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..core.extensions import db
from . import states
from .findings import open_findings
from .models import RenovationApplication
from .patrols import (
    kinds_for_role,
    patrols_due,
)

HOME_LIST = 8  # items a home panel lists before "查看全部"


def home_figures(_user, day: date) -> dict:
    """The staff home's overview: the number of applications in each state."""
    counts = dict(
        db.session.execute(
            select(RenovationApplication.state, func.count()).group_by(RenovationApplication.state)
        ).all()
    )
    return {
        "pipeline": [(code, label, counts.get(code, 0)) for code, label in states.LABELS.items()]
    }


def patrols_due_for(role: str, day: date):
    """Today's due patrols of the kinds this role records (a guard never sees 装修办 items)."""
    kinds = {kind["id"] for kind in kinds_for_role(role)}
    return [item for item in patrols_due(day) if item.kind["id"] in kinds]


def patrol_home_figures(user, day: date) -> dict | None:
    """Today's patrols due for the user's patrol kinds and their findings still open (待整改,
    待复查; how many overdue); None for roles that record none."""
    if not kinds_for_role(user.role):
        return None
    due = patrols_due_for(user.role, day)
    findings = open_findings(day, [kind["id"] for kind in kinds_for_role(user.role)])
    return {
        "due": due[:HOME_LIST],
        "due_count": len(due),
        "findings_count": len(findings),
        "overdue_findings": sum(1 for finding in findings if finding.overdue_days),
    }


def _oldest_in(state: str) -> dict:
    query = select(RenovationApplication).where(RenovationApplication.state == state)
    count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(query.order_by(RenovationApplication.id).limit(HOME_LIST)).all()
    return {"items": items, "count": count, "state": state, "label": states.label(state)}


def review_home_figures(_user, _day: date) -> dict:
    """Applications waiting for review (待审核), oldest first: the 客服's work."""
    return _oldest_in(states.PENDING)


def acceptance_home_figures(_user, _day: date) -> dict:
    """Applications waiting for acceptance (待验收), oldest first: the 工程's work."""
    return _oldest_in(states.AWAITING_ACCEPTANCE)
