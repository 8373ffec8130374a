"""The community's customer-service settings (``service_requests`` in data/communities/<id>.yml):
urgency levels and their due hours, the complaint answer deadline, department names, and the
seed's household-visit quotas. Checked when the app starts, so a typo names the file at once."""

from __future__ import annotations

from dataclasses import dataclass

from ..accounts.organisation import dispatch_departments
from ..core.community import Community, CommunityDataError, current_community


@dataclass(frozen=True)
class Urgency:
    id: str
    name: str
    due_hours: int


def _block(data: Community) -> dict:
    return data.get("service_requests") or {}


def check_service_data(data: Community) -> None:
    """Refuse a community file whose ``service_requests`` block the forms cannot work with."""
    block = _block(data)
    problems = []
    levels = block.get("urgencies") or []
    ids = [u.get("id") for u in levels if isinstance(u, dict)]
    if not levels or len(ids) != len(levels) or not all(ids) or len(set(ids)) != len(ids):
        problems.append(
            "service_requests.urgencies 须列出紧急程度，每项有唯一的 id、name、due_hours"
        )
    for level in levels:
        hours = level.get("due_hours") if isinstance(level, dict) else None
        if isinstance(level, dict) and not (
            level.get("name") and isinstance(hours, int) and hours >= 1
        ):
            problems.append(f"紧急程度 {level.get('id')} 须有 name，due_hours 须为正整数")
    hours = block.get("complaint_answer_hours")
    if not (isinstance(hours, int) and hours >= 1):
        problems.append("service_requests.complaint_answer_hours 须为正整数（小时）")
    visits = block.get("visits") or {}
    for key in ("weekly_households", "monthly_households"):
        if not (isinstance(visits.get(key), int) and visits[key] >= 1):
            problems.append(f"service_requests.visits.{key} 须为正整数")
    if problems:
        raise CommunityDataError(f"{data.source}: " + "；".join(problems))


def urgencies() -> dict[str, Urgency]:
    """The urgency levels, in the order of the community file."""
    return {
        u["id"]: Urgency(u["id"], u["name"], int(u["due_hours"]))
        for u in _block(current_community())["urgencies"]
    }


def urgency_name(urgency_id: str) -> str:
    level = urgencies().get(urgency_id)
    return level.name if level else urgency_id


def complaint_answer_hours() -> int:
    return int(_block(current_community())["complaint_answer_hours"])


def departments() -> list[str]:
    """The departments requests are dispatched to: the organisation's, marked ``dispatch``."""
    return dispatch_departments()


def visit_quota() -> tuple[int, int]:
    """Households to visit: (regular visits a week, irregular visits a month)."""
    visits = _block(current_community())["visits"]
    return int(visits["weekly_households"]), int(visits["monthly_households"])
