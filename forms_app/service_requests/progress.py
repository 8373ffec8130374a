"""What happens next to a repair or complaint, for the owner's status page: the next step, who
takes it and by when — from the request's due time, or the community's urgency hours and
answer deadline (``service_requests`` in the community file) when none is set yet."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.clock import local_time
from . import settings, states
from .models import ServiceRequest


@dataclass(frozen=True)
class NextStep:
    what: str
    who: str
    when: str


def _at(moment) -> str:
    return f"{local_time(moment):%Y-%m-%d %H:%M} 前" if moment else ""


def _hours_list() -> str:
    return "、".join(f"{u.name} {u.due_hours} 小时内" for u in settings.urgencies().values())


def next_step(item: ServiceRequest, owner_can_act: bool) -> NextStep | None:
    """The next step of the request; None once it is closed."""
    due = _at(item.due_at)
    if item.is_repair:
        level = settings.urgencies().get(item.urgency)
        within = f"（{level.name}，派工后 {level.due_hours} 小时内）" if level else ""
        if item.state == states.NEW:
            return NextStep(
                "客服按紧急程度派工，维修人员上门维修。",
                "客户服务中心（派工）、工程部（上门）",
                f"派工后按紧急程度上门：{_hours_list()}。",
            )
        if item.state == states.DISPATCHED:
            return NextStep("维修人员上门维修。", f"维修人员 {item.assignee_name}", due + within)
        if item.state == states.ON_SITE:
            return NextStep(
                "维修人员正在维修，完工后请您确认是否修好并评价。",
                f"维修人员 {item.assignee_name}",
                due + within,
            )
        if item.state == states.AWAITING_VISIT:
            if owner_can_act:
                return NextStep(
                    "请您确认是否已经修好并评价（见下方）；未修好或不满意，工程主管将亲自上门返修。"
                    "客服也会致电回访。",
                    "您（业主），随后客户服务中心回访",
                    "请尽快确认",
                )
            return NextStep("客服致电回访，听取您对维修的意见。", "客户服务中心", "近期")
        if item.state == states.REOPENED:
            return NextStep(
                "工程主管亲自上门，重新维修（返修）。", f"工程主管 {item.assignee_name}", due
            )
        return None
    hours = settings.complaint_answer_hours()
    if item.state == states.NEW:
        return NextStep(
            "客服将投诉转交相关部门处理，并答复您。", "客户服务中心", f"{due}（{hours} 小时内答复）"
        )
    if item.state == states.DISPATCHED:
        return NextStep(
            f"{item.department or '相关部门'}处理并答复您。",
            item.department or "相关部门",
            f"{due}（{hours} 小时内答复）",
        )
    if item.state == states.AWAITING_VISIT:
        if owner_can_act:
            return NextStep(
                "请查看答复并评价；如有不同意见，可回复一次，投诉将退回部门重新处理。"
                "客服也会致电回访。",
                "您（业主），随后客户服务中心回访",
                "请尽快反馈",
            )
        return NextStep("客服致电回访，听取您对答复的意见。", "客户服务中心", "近期")
    if item.state == states.REOPENED:
        return NextStep(
            "相关部门主管亲自处理，重新答复您。", f"{item.assignee_name or '部门主管'}", due
        )
    return None
