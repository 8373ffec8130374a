"""The owner's word on a finished repair or an answered complaint, given on the private status
page (or from the message's link).

Repairs: after each 完工 the owner confirms it is fixed (or says it is not) and rates it 1–5
with a comment. Not fixed, or a rating below ``SATISFIED_FROM`` (不满意), always reopens the
order (返修): it goes to the 工程主管 (the organisation's head of the department of the 工程
role; whoever is on duty there when no head is set), due again within the urgency's hours, and
the 主管 is alerted through the outbox. A good confirmation leaves the request 待回访: the 回访
call is still made (and counts for the 回访率); the 维修合格率 uses the owner's confirmation
where one was given before any call, else the first 回访 (``figures.compute``).

Complaints: once answered, the owner rates the answer, and may reply to it once; a reply
sends the complaint back to its department (已转部门), due again within the answer deadline,
and alerts the department's 主管 (personally: ``staff_alerts``).

Every check runs before anything is written; a refused input raises ``WorkflowError`` with
the field and a Chinese message and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from ..accounts import organisation, roles
from ..accounts.models import StaffUser, actor_label
from ..core.clock import local_time, utcnow
from ..core.community import current_community
from ..core.database import write_transaction
from ..notifications.outbox import path_for
from ..notifications.staff_alerts import Recipients, alert_staff
from . import settings, states
from .models import OwnerFeedback, ServiceRequest
from .workflow import WorkflowError, _text, locked, record_step

MAX_COMMENT = 500


def _rating(raw) -> int:
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit() and int(text) in states.RATINGS):
        raise WorkflowError("请选择 1–5 分的评价。", "rating")
    return int(text)


def _since_finish(item: ServiceRequest) -> list[OwnerFeedback]:
    """The owner's confirmations of the latest 完工."""
    return [
        f
        for f in item.feedback
        if f.action == states.OWNER_CONFIRM
        and item.finished_at is not None
        and f.created_at >= item.finished_at
    ]


def can_confirm(item: ServiceRequest) -> bool:
    """A repair finished and waiting for its 回访 that the owner has not confirmed yet."""
    return item.is_repair and item.state == states.AWAITING_VISIT and not _since_finish(item)


def rating_of(item: ServiceRequest) -> OwnerFeedback | None:
    return next((f for f in item.feedback if f.action == states.OWNER_RATE), None)


def reply_of(item: ServiceRequest) -> OwnerFeedback | None:
    return next((f for f in item.feedback if f.action == states.OWNER_REPLY), None)


def can_rate(item: ServiceRequest) -> bool:
    return (
        not item.is_repair
        and item.answered_at is not None
        and item.state != states.CLOSED
        and rating_of(item) is None
    )


def can_reply(item: ServiceRequest) -> bool:
    return not item.is_repair and item.state == states.AWAITING_VISIT and reply_of(item) is None


def check_confirmation(form) -> dict:
    """The repair confirmation's values, checked: fixed yes/no, rating, comment."""
    fixed = form.get("fixed")
    if fixed not in ("yes", "no"):
        raise WorkflowError("请选择是否已经修好。", "fixed")
    rating = _rating(form.get("rating"))
    unhappy = fixed == "no" or rating < states.SATISFIED_FROM
    comment = _text(
        form.get("comment"),
        "comment",
        "哪里没有修好或不满意" if unhappy else "评价内容",
        required=unhappy,
        limit=MAX_COMMENT,
    )
    return {"fixed": fixed == "yes", "rating": rating, "comment": comment}


def _department_for_role(role: str):
    found = organisation.organisation().department_of_role(role)
    return found[0] if found else None


def _department_named(name: str):
    return next(
        (d for d in organisation.organisation().departments.values() if d.name == name), None
    )


def _responsible(department) -> StaffUser | None:
    """The department's 主管, else whoever is on duty in it now."""
    if department is None:
        return None
    people = organisation.heads(department.id) or organisation.on_duty(department.id)
    return people[0] if people else None


def _due(item: ServiceRequest, hours: int, now) -> str:
    item.due_at = now + timedelta(hours=hours)
    return f"{local_time(item.due_at):%m-%d %H:%M}"


def _feedback(item: ServiceRequest, action: str, now, **values) -> OwnerFeedback:
    row = OwnerFeedback(
        community=current_community().key,
        kind=item.kind,
        action=action,
        created_at=now,
        **values,
    )
    item.feedback.append(row)
    return row


def confirm_repair(request_id: int, values: dict) -> ServiceRequest:
    """Store the owner's confirmation of a finished repair; reopen it when not fixed or 不满意."""
    with write_transaction() as session:
        item = locked(request_id)
        if item is None or not item.is_repair:
            raise WorkflowError("找不到这张报修单。")
        if not can_confirm(item):
            raise WorkflowError(_not_now(item))
        now = utcnow()
        first = not item.follow_ups and not any(
            f.action == states.OWNER_CONFIRM for f in item.feedback
        )
        row = _feedback(item, states.OWNER_CONFIRM, now, first=first, **values)
        verdict = "已修好" if row.fixed else "未修好"
        note = f"业主确认：{verdict}，评价 {row.rating} 分（{states.RATINGS[row.rating]}）"
        if row.comment:
            note += f"：{row.comment}"
        if row.good:
            record_step(item, "owner_confirm", states.AWAITING_VISIT, None, note, now)
            return item
        department = _department_for_role(roles.ENGINEERING)
        lead = _responsible(department)
        if lead is not None:
            item.assignee_id, item.assignee_name = lead.id, actor_label(lead)
        level = settings.urgencies().get(item.urgency)
        hours = (
            level.due_hours if level else min(u.due_hours for u in settings.urgencies().values())
        )
        due = _due(item, hours, now)
        item.reopen_count += 1
        who = actor_label(lead) if lead else "工程主管"
        record_step(
            item,
            "owner_confirm",
            states.REOPENED,
            None,
            f"{note}。返修：由 {who} 亲自上门，重新提供服务。",
            now,
        )
        alert_staff(
            session,
            "service.owner_reopened",
            Recipients((lead,)) if lead else Recipients((), "工程部未设主管，也无人值班"),
            record_type="service_request",
            record_id=item.id,
            reference=item.reference,
            verdict="未修好" if not row.fixed else f"不满意（{row.rating} 分）",
            room=item.where,
            comment=row.comment,
            supervisor=f"工程主管 {actor_label(lead)}"
            if lead
            else "工程主管（未设置，请经理指派）",
            due=due,
            link_path=path_for("service_requests_staff.detail", request_id=item.id),
        )
    return item


def check_rating(form) -> dict:
    rating = _rating(form.get("rating"))
    comment = _text(
        form.get("comment"),
        "comment",
        "不满意的原因" if rating < states.SATISFIED_FROM else "评价内容",
        required=rating < states.SATISFIED_FROM,
        limit=MAX_COMMENT,
    )
    return {"rating": rating, "comment": comment}


def rate_complaint(request_id: int, values: dict) -> ServiceRequest:
    """The owner's rating of a complaint's answer (once); the state does not change."""
    with write_transaction():
        item = locked(request_id)
        if item is None or item.is_repair:
            raise WorkflowError("找不到这件投诉。")
        if not can_rate(item):
            raise WorkflowError("您已评价过这件投诉。" if rating_of(item) else _not_now(item))
        now = utcnow()
        row = _feedback(item, states.OWNER_RATE, now, **values)
        note = f"业主评价答复：{row.rating} 分（{states.RATINGS[row.rating]}）"
        if row.comment:
            note += f"：{row.comment}"
        record_step(item, "owner_rate", item.state, None, note, now)
    return item


def check_reply(form) -> dict:
    return {"comment": _text(form.get("reply"), "reply", "您的回复", limit=MAX_COMMENT)}


def reply_complaint(request_id: int, values: dict) -> ServiceRequest:
    """The owner's one reply to the answer: the complaint goes back to its department."""
    with write_transaction() as session:
        item = locked(request_id)
        if item is None or item.is_repair:
            raise WorkflowError("找不到这件投诉。")
        if not can_reply(item):
            raise WorkflowError(
                "每件投诉只能回复一次，您已经回复过。" if reply_of(item) else _not_now(item)
            )
        now = utcnow()
        row = _feedback(item, states.OWNER_REPLY, now, **values)
        department = _department_named(item.department) or _department_for_role(roles.SERVICE)
        lead = _responsible(department)
        due = _due(item, settings.complaint_answer_hours(), now)
        name = item.department or (department.name if department else "客服")
        record_step(
            item,
            "owner_reply",
            states.DISPATCHED,
            None,
            f"业主回复：{row.comment}。退回{name}重新处理。",
            now,
        )
        alert_staff(
            session,
            "service.owner_replied",
            Recipients((lead,)) if lead else Recipients((), f"{name}未设主管，也无人值班"),
            record_type="service_request",
            record_id=item.id,
            reference=item.reference,
            room=item.room_label,
            comment=row.comment,
            department=name,
            supervisor=f"{name}主管 {actor_label(lead)}" if lead else f"{name}主管",
            due=due,
            link_path=path_for("service_requests_staff.detail", request_id=item.id),
        )
    return item


def _not_now(item: ServiceRequest) -> str:
    return f"该{item.kind_label}当前为「{item.state_label}」，现在不能提交这项反馈。"
