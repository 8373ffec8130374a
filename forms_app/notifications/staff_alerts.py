"""Personal alerts to members of staff: the person a job is dispatched to, the 主管 an overdue
job escalates to, whoever is on duty when an owner changes or cancels a booking.

``alert_staff`` writes one outbox row per person, in the caller's transaction, sent the way
the ``STAFF_ALERT_CHANNEL`` setting says:

- ``wecom`` (the default): to the staff group through the 企业微信 robot, mentioning the
  person's mobile (``mentioned_mobile_list``), so it reaches them personally in the group;
- ``sms``: by SMS to the person's own mobile (the SMS settings, and a template for the kind).

A person without a mobile on record still gets the message in the group, by name, and the
record's message list says that nobody could be mentioned. With nobody to name at all (no 主管,
nobody on duty) one group message goes out and says why.

Whom to tell comes from the staff organisation (``accounts/organisation.py``); the helpers
here add the fallback every escalation needs: a department without a 主管 escalates to the
管理处's 主管, the same path ``organisation.supervisor_of`` takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from ..accounts import organisation
from ..accounts.models import StaffUser, actor_label
from .models import STAFF, STAFF_SMS, Notification
from .outbox import enqueue

WECOM = "wecom"
SMS = "sms"
ALERT_CHANNELS = {WECOM: "企业微信群（@本人手机号）", SMS: "短信（发到本人手机）"}
SETTING = "STAFF_ALERT_CHANNEL"


def check_alert_channel(value) -> str:
    """The setting's value, or ValueError with a Chinese message."""
    if value not in ALERT_CHANNELS:
        raise ValueError(f"{SETTING} 只能是 wecom 或 sms，而不是 {value!r}")
    return value


def alert_channel() -> str:
    """How personal alerts go out in this app: ``wecom`` or ``sms``."""
    return check_alert_channel(current_app.config.get(SETTING) or WECOM)


@dataclass(frozen=True)
class Recipients:
    """The people an alert is for; ``nobody`` says why there are none (then the group gets it)."""

    people: tuple[StaffUser, ...]
    nobody: str = ""


def alert_staff(
    session,
    kind: str,
    recipients: Recipients,
    *,
    dedupe_key: str | None = None,
    **fields,
) -> list[Notification]:
    """One message of ``kind`` (a staff kind of ``messages.py``) to each person, each with the
    person's name as ``{person}``; ``fields`` are those of ``outbox.message_row``.

    With a ``dedupe_key`` each person's copy carries the key and the person's id, so a scan
    finding the same overdue item again adds nothing. Returns the rows added."""
    added = []
    if not recipients.people:
        found = enqueue(
            session,
            kind,
            dedupe_key=f"{dedupe_key}:group" if dedupe_key else None,
            addressee=recipients.nobody,
            person=f"员工群（{recipients.nobody}）" if recipients.nobody else "员工群",
            **fields,
        )
        return [found] if found else []
    sms = alert_channel() == SMS
    for person in recipients.people:
        mobile = person.mobile or ""
        found = enqueue(
            session,
            kind,
            dedupe_key=f"{dedupe_key}:{person.id}" if dedupe_key else None,
            audience=STAFF_SMS if sms and mobile else STAFF,
            recipient=mobile,
            staff_id=person.id,
            addressee=actor_label(person),
            person=actor_label(person),
            **fields,
        )
        if found:
            added.append(found)
    return added


def unsent(session, kind: str, record_type: str, keys: dict[str, int]) -> set[str]:
    """Of ``keys`` (a scan's ``dedupe_key`` → the record's id), those no alert of ``kind``
    was written for yet: a scan reads this first and takes the write lock only for new ones
    (``alert_staff`` writes all copies of one key in one transaction)."""
    if not keys:
        return set()
    sent = session.scalars(
        select(Notification.dedupe_key).where(
            Notification.kind == kind,
            Notification.record_type == record_type,
            Notification.record_id.in_(set(keys.values())),
        )
    )
    done = {key.rsplit(":", 1)[0] for key in sent if key}
    return set(keys) - done


def person(session, account_id: int | None) -> Recipients:
    """The one account, if it still exists and is active."""
    account = session.get(StaffUser, account_id) if account_id else None
    if account is None or not account.active:
        return Recipients((), "经办人账号已不存在或已停用")
    return Recipients((account,))


def _top_heads(session, leaving: StaffUser | None = None) -> list[StaffUser]:
    top = organisation.organisation().top
    return [h for h in organisation.heads(top, session) if leaving is None or h.id != leaving.id]


def heads_of(session, department_id: str | None) -> Recipients:
    """The 主管 of a department; a department without one: the 管理处's 主管."""
    found = organisation.department(department_id)
    if found is not None:
        people = organisation.heads(found.id, session)
        if people:
            return Recipients(tuple(people))
    people = _top_heads(session)
    if people:
        return Recipients(tuple(people))
    top = organisation.department(organisation.organisation().top)
    names = [d.name for d in (found, top) if d is not None]
    return Recipients((), f"{'、'.join(dict.fromkeys(names))}未设主管")


def heads_of_role(session, role: str) -> Recipients:
    """The 主管 of the department a role belongs to (工程 → 工程部)."""
    departments = organisation.organisation().department_of_role(role)
    return heads_of(session, departments[0].id if departments else None)


def supervisors_of(session, account: StaffUser | None, department_id: str | None) -> Recipients:
    """Whom ``account`` answers to (``organisation.supervisor_of``); an account not placed in
    a department yet (or none): the 主管 of ``department_id``. Never the account itself."""
    if account is not None:
        people = organisation.supervisor_of(account, session)
        if people:
            return Recipients(tuple(people))
        if account.department == organisation.organisation().top and account.is_head:
            # The 管理处's own 主管: they answer to the company, nobody here.
            return Recipients((), f"{actor_label(account)}是管理处主管，无上级")
    found = heads_of(session, department_id)
    people = tuple(p for p in found.people if account is None or p.id != account.id)
    return Recipients(people, found.nobody or ("" if people else "没有其他主管"))


def on_duty_or_heads(session, department_id: str) -> Recipients:
    """Whoever is on duty in the department now; nobody on duty: its 主管 (or the 管理处's)."""
    people = organisation.on_duty(department_id, session=session)
    if people:
        return Recipients(tuple(people))
    found = heads_of(session, department_id)
    if found.people:
        return found
    name = organisation.department_name(department_id)
    return Recipients((), f"{name}无人值班，{found.nobody}")


def departments_of(roles: Iterable[str]) -> list[str]:
    """The departments (ids, organisation order, the 管理处 left out) these roles work in."""
    org = organisation.organisation()
    wanted = set(roles)
    return [d.id for d in org.departments.values() if d.id != org.top and wanted & set(d.roles)]
