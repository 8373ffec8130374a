"""The steps of a repair or complaint: which step leads from which state to which, and who may
take it (the permission names are in ``accounts/permissions.py``, the one table).

One function per step, each called inside ``write_transaction()`` on the request's locked row;
each ends in ``record_step``, the one place that appends history (and where a notification to
the owner can be queued in the same transaction).

Repairs:    待派工 —派工→ 已派工 —到场→ 维修中 —完工(结果、材料、照片、回执)→ 待回访
Complaints: 待处理 —转部门→ 已转部门 —答复→ 待回访
Both:       待回访 —回访 满意→ 已办结;  —回访 不满意→ 主管返修/处理 (the seed: 联合相关部门主管
            亲自上门，重新提供服务) → 到场/答复 again → 待回访 …;  经理 —办结(理由)→ 已办结.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..accounts.models import StaffUser, actor_label
from ..accounts.permissions import allowed, roles_for
from ..accounts.roles import ROLES, role_label
from ..core.clock import local_time, utcnow
from ..core.extensions import db
from ..core.refusals import Refused
from ..web.typed_input import clean_line, clean_text, is_unreadable
from . import settings, states
from .models import ServiceEvent, ServiceFollowUp, ServicePhoto, ServiceRequest
from .notices import notify_step

R, C = states.REPAIR, states.COMPLAINT
MAX_TEXT = 1000


@dataclass(frozen=True)
class Step:
    action: str
    label: str
    kinds: frozenset
    sources: frozenset
    target: str | None  # None: decided by the step (回访: 已办结 or 主管返修)
    permission: str

    @property
    def roles(self) -> frozenset[str]:
        return roles_for(self.permission)


def _step(action, label, kinds, sources, target, permission) -> Step:
    return Step(action, label, frozenset(kinds), frozenset(sources), target, permission)


STEPS: tuple[Step, ...] = (
    _step("dispatch", "派工", [R], [states.NEW], states.DISPATCHED, "service.dispatch"),
    _step("assign", "转交部门", [C], [states.NEW], states.DISPATCHED, "service.dispatch"),
    _step(
        "arrive", "到场", [R], [states.DISPATCHED, states.REOPENED], states.ON_SITE, "service.work"
    ),
    _step("finish", "完工", [R], [states.ON_SITE], states.AWAITING_VISIT, "service.work"),
    _step(
        "answer",
        "答复",
        [C],
        [states.DISPATCHED, states.REOPENED],
        states.AWAITING_VISIT,
        "service.answer",
    ),
    _step("follow_up", "回访", [R, C], [states.AWAITING_VISIT], None, "service.follow_up"),
    _step("close", "经理办结", [R, C], states.OPEN_STATES, states.CLOSED, "service.close"),
)
STEPS_BY_ACTION = {step.action: step for step in STEPS}
ACTION_LABELS = {
    "file": "登记",
    **{s.action: s.label for s in STEPS},
    # The owner's own steps (``owner_feedback``), taken on the private status page.
    "owner_confirm": "业主确认",
    "owner_rate": "业主评价",
    "owner_reply": "业主回复",
}


class WorkflowError(Refused, ValueError):
    """A step that cannot be taken: the Chinese message, and the field it concerns (None: the
    request's state, e.g. another member of staff was quicker)."""


def steps_for(request: ServiceRequest, role: str) -> list[Step]:
    """The steps this role may take on the request now."""
    return [
        s
        for s in STEPS
        if request.kind in s.kinds and request.state in s.sources and allowed(role, s.permission)
    ]


def locked(request_id: int) -> ServiceRequest | None:
    """The request read afresh with its row locked until the commit: two staff posting at once
    take turns (PostgreSQL; SQLite's write lock already serializes), and the second one sees
    the state the first one left."""
    return db.session.get(ServiceRequest, request_id, with_for_update=True, populate_existing=True)


def _check(request: ServiceRequest, action: str, actor) -> Step:
    step = STEPS_BY_ACTION[action]
    if request.kind not in step.kinds:
        raise WorkflowError(f"{request.kind_label}没有「{step.label}」这一步。")
    if request.state not in step.sources:
        last = request.events[-1] if request.events else None
        done = (
            f"{last.actor_name} 已于 {local_time(last.created_at):%m-%d %H:%M} "
            f"{ACTION_LABELS.get(last.action, last.action)}，"
            if last
            else ""
        )
        raise WorkflowError(
            f"{done}该{request.kind_label}当前状态为「{request.state_label}」，"
            f"不能再「{step.label}」。"
        )
    if not allowed(actor.role, step.permission):
        who = "、".join(role_label(r) for r in ROLES if r in step.roles)
        raise WorkflowError(f"「{step.label}」只能由{who}操作。")
    return step


def _text(value, field: str, label: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = clean_text(value or "") if isinstance(value, str) else ""
    if is_unreadable(text):
        raise WorkflowError(
            f"{label}含有无法识别的字符（可能是复制时的乱码），请删除后重新填写。", field
        )
    if required and not text:
        raise WorkflowError(f"请填写{label}。", field)
    if len(text) > limit:
        raise WorkflowError(f"{label}不超过 {limit} 字。", field)
    return text


def record_step(
    request: ServiceRequest,
    action: str,
    to_state: str,
    actor,
    comment: str = "",
    now: datetime | None = None,
) -> ServiceEvent:
    """Move the request to ``to_state``, append the step to its history and queue what the
    owner (and the staff group) are told, all in the caller's transaction (no commit)."""
    now = now or utcnow()
    event = ServiceEvent(
        action=action,
        from_state=request.state,
        to_state=to_state,
        comment=comment,
        actor_id=actor.id if actor else None,
        actor_name=actor_label(actor) if actor else "业主",
        created_at=now,
    )
    request.events.append(event)
    request.state = to_state
    request.updated_at = now
    if to_state == states.CLOSED:
        request.closed_at = now
    notify_step(db.session, request, action)
    return event


def workers() -> list[StaffUser]:
    """Active accounts that can take a repair job (工程, and the 经理)."""
    may = roles_for("service.work")
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.active.is_(True), StaffUser.role.in_(sorted(may)))
            .order_by(StaffUser.username)
        )
    )


def open_jobs() -> dict[int, int]:
    """How many open repairs and complaints each person holds now (their workload)."""
    return dict(
        db.session.execute(
            select(ServiceRequest.assignee_id, func.count())
            .where(
                ServiceRequest.assignee_id.is_not(None),
                ServiceRequest.state.in_(sorted(states.OPEN_STATES)),
            )
            .group_by(ServiceRequest.assignee_id)
        ).all()
    )


def supervisors(request: ServiceRequest) -> list[StaffUser]:
    """Who may go in person after 不满意 (the seed: the department's 主管): the workers, the
    主管 and 经理 first, never the person who did the job."""
    return sorted(
        (w for w in workers() if w.id != request.assignee_id),
        key=lambda w: not (w.is_head or w.role.endswith("_lead") or w.role == "manager"),
    )


def _worker(raw, field: str, choices: list[StaffUser] | None = None) -> StaffUser:
    chosen = next((w for w in (choices or workers()) if str(w.id) == (raw or "")), None)
    if chosen is None:
        raise WorkflowError("请从列表中选择人员。", field)
    return chosen


def dispatch(request: ServiceRequest, actor, assignee_id, urgency_id, comment="") -> ServiceEvent:
    """派工单: a repair goes to a worker, due within the urgency's hours."""
    _check(request, "dispatch", actor)
    level = settings.urgencies().get(urgency_id or "")
    if level is None:
        raise WorkflowError("请选择紧急程度。", "urgency")
    worker = _worker(assignee_id, "assignee")
    comment = _text(comment, "comment", "派工说明", required=False)
    now = utcnow()
    request.urgency = level.id
    request.assignee_id, request.assignee_name = worker.id, actor_label(worker)
    request.dispatched_at, request.due_at = now, now + timedelta(hours=level.due_hours)
    note = f"派工给 {actor_label(worker)}，{level.name}，{level.due_hours} 小时内完成。{comment}"
    return record_step(request, "dispatch", states.DISPATCHED, actor, note.strip(), now)


def assign(request: ServiceRequest, actor, department, comment="") -> ServiceEvent:
    """A complaint goes to the department concerned; its answer deadline stays."""
    _check(request, "assign", actor)
    if department not in settings.departments():
        raise WorkflowError("请从列表中选择部门。", "department")
    comment = _text(comment, "comment", "转交说明", required=False)
    now = utcnow()
    request.department = department
    request.dispatched_at = now
    return record_step(
        request, "assign", states.DISPATCHED, actor, f"转交{department}。{comment}".strip(), now
    )


def _own_job(request: ServiceRequest, actor) -> None:
    if request.assignee_id != actor.id and not allowed(actor.role, "service.close"):
        raise WorkflowError(f"这张派工单派给了 {request.assignee_name}，只有本人或经理可以记录。")


def arrive(request: ServiceRequest, actor) -> ServiceEvent:
    """The worker (or, after 不满意, the supervisor) is at the door."""
    _check(request, "arrive", actor)
    _own_job(request, actor)
    now = utcnow()
    request.arrived_at = now
    note = "主管亲自上门，重新提供服务。" if request.state == states.REOPENED else "已到场。"
    return record_step(request, "arrive", states.ON_SITE, actor, note, now)


def check_finish(values: dict) -> dict:
    """The 完工 form's values, checked (photos are checked by the view, by content)."""
    result = _text(values.get("result"), "result", "维修结果")
    materials = _text(values.get("materials"), "materials", "所用材料", required=False, limit=500)
    receipt = values.get("receipt") or ""
    if receipt not in states.RECEIPT_LABELS:
        raise WorkflowError("请选择业主是否当面确认（回执）。", "receipt")
    receipt_name = (
        clean_line(values.get("receipt_name") or "")
        if isinstance(values.get("receipt_name"), str)
        else ""
    )
    if receipt == states.RECEIPT_CONFIRMED:
        if not receipt_name:
            raise WorkflowError("业主当面确认时请填写签收人姓名。", "receipt_name")
        if len(receipt_name) > 30 or is_unreadable(receipt_name):
            raise WorkflowError("签收人姓名不超过 30 字，不能含乱码。", "receipt_name")
    else:
        receipt_name = ""
    return {
        "result": result,
        "materials": materials,
        "receipt": receipt,
        "receipt_name": receipt_name,
    }


def finish(
    request: ServiceRequest, actor, checked: dict, photos: list[ServicePhoto]
) -> ServiceEvent:
    """完工: result, materials, photos and the owner's confirmation (回执联)."""
    _check(request, "finish", actor)
    _own_job(request, actor)
    now = utcnow()
    request.result, request.materials = checked["result"], checked["materials"]
    request.receipt, request.receipt_name = checked["receipt"], checked["receipt_name"]
    request.finished_at = now
    request.photos.extend(photos)
    receipt = states.RECEIPT_LABELS[checked["receipt"]]
    if checked["receipt_name"]:
        receipt += f"：{checked['receipt_name']}"
    return record_step(
        request, "finish", states.AWAITING_VISIT, actor, f"{checked['result']}（{receipt}）", now
    )


def answer(request: ServiceRequest, actor, text) -> ServiceEvent:
    """The department's (or, after 不满意, the supervisor's) answer to a complaint."""
    _check(request, "answer", actor)
    text = _text(text, "answer", "答复内容")
    now = utcnow()
    request.answer = text
    # The first answer counts for the 投诉回访率 and the answer deadline.
    request.answered_at = request.answered_at or now
    return record_step(request, "answer", states.AWAITING_VISIT, actor, text, now)


def follow_up(
    request: ServiceRequest, actor, satisfied, owner_view, supervisor_id=None
) -> ServiceEvent:
    """回访: satisfied closes the request; not satisfied reopens it to the supervisor, who goes
    in person (the seed's rule), due again as from now."""
    _check(request, "follow_up", actor)
    if satisfied not in ("yes", "no"):
        raise WorkflowError("请选择业主是否满意。", "satisfied")
    view = _text(owner_view, "owner_view", "业主意见")
    happy = satisfied == "yes"
    if not happy and str(request.assignee_id) == (supervisor_id or ""):
        raise WorkflowError(
            "上门的主管不能是做这张单的人本人，请选择部门主管或其他人员。", "supervisor"
        )
    supervisor = None if happy else _worker(supervisor_id, "supervisor", supervisors(request))
    now = utcnow()
    request.follow_ups.append(
        ServiceFollowUp(
            community=request.community,
            kind=request.kind,
            first=not request.follow_ups,
            satisfied=happy,
            owner_view=view,
            caller_id=actor.id,
            caller_name=actor_label(actor),
            called_at=now,
        )
    )
    request.owner_view = view
    if happy:
        return record_step(request, "follow_up", states.CLOSED, actor, f"满意：{view}", now)
    request.reopen_count += 1
    request.assignee_id, request.assignee_name = supervisor.id, actor_label(supervisor)
    if request.is_repair:
        level = settings.urgencies().get(request.urgency)
        hours = (
            level.due_hours if level else min(u.due_hours for u in settings.urgencies().values())
        )
    else:
        hours = settings.complaint_answer_hours()
    request.due_at = now + timedelta(hours=hours)
    return record_step(
        request,
        "follow_up",
        states.REOPENED,
        actor,
        f"不满意：{view}。由 {actor_label(supervisor)} 亲自上门，重新提供服务。",
        now,
    )


def close(request: ServiceRequest, actor, reason) -> ServiceEvent:
    """The 经理 closes an open request, with the reason on record."""
    _check(request, "close", actor)
    reason = _text(reason, "reason", "办结理由")
    request.close_reason = reason
    return record_step(request, "close", states.CLOSED, actor, reason)
