"""Overdue patrols escalate to the 主管 of the departments that patrol (a periodic scan).

A patrol is overdue the day after it fell due (``patrols.patrols_due``, the seed's
frequencies in ``renovation.patrols`` of the community file) and nobody has done it. Its
kind is recorded by the roles the permissions table gives it (``renovation.patrol.<kind>``:
the 装修办 is staffed by 客服 and 工程, guards are 秩序维护); the 主管 of those roles'
departments hear of it personally, the 管理处's 主管 when a department has none. Once per site,
kind and due date (the outbox's ``dedupe_key``); the staff group's daily reminder
(``notices.overdue_patrol_alerts``) goes on as before.
"""

from __future__ import annotations

from datetime import date

from ..accounts import organisation
from ..accounts.permissions import TABLE
from ..core.database import write_transaction
from ..core.extensions import db
from ..notifications.outbox import path_for
from ..notifications.staff_alerts import (
    Recipients,
    alert_staff,
    departments_of,
    heads_of,
    unsent,
)
from .models import RECORD_TYPE
from .patrols import patrols_due

KIND = "renovation.patrol_escalated"


def responsible_for(session, kind_id: str) -> Recipients:
    """The 主管 of the departments whose roles record this kind of patrol."""
    roles = TABLE.get(f"renovation.patrol.{kind_id}", frozenset())
    people = []
    nobody = []
    for department_id in departments_of(roles):
        found = organisation.heads(department_id, session)
        if found:
            people += found
        else:
            nobody.append(organisation.department_name(department_id))
    if people:
        return Recipients(tuple(dict.fromkeys(people)))
    fallback = heads_of(session, organisation.organisation().top)
    if fallback.people:
        return fallback
    return Recipients((), f"{'、'.join(nobody) or '巡查部门'}及{fallback.nobody}")


def _key(due) -> str:
    return f"{KIND}:{due.application.id}:{due.kind['id']}:{due.due_on.isoformat()}"


def escalate_overdue_patrols(day: date) -> int:
    """Alert the 主管 once for every patrol overdue on ``day``; the alerts added.

    Read first: the write lock is taken only when a patrol fell overdue unalerted."""
    overdue = [due for due in patrols_due(day) if due.overdue_days > 0]
    fresh = unsent(db.session, KIND, RECORD_TYPE, {_key(d): d.application.id for d in overdue})
    if not fresh:
        return 0
    added = 0
    with write_transaction() as session:
        for due in overdue:
            if _key(due) not in fresh:
                continue
            application = due.application
            added += len(
                alert_staff(
                    session,
                    KIND,
                    responsible_for(session, due.kind["id"]),
                    dedupe_key=_key(due),
                    record_type=RECORD_TYPE,
                    record_id=application.id,
                    reference=application.reference,
                    link_path=path_for(
                        "renovation_staff.renovation", application_id=application.id
                    ),
                    room=application.room_label,
                    patrol=due.kind["name"],
                    due_on=due.due_on.isoformat(),
                )
            )
    return added
