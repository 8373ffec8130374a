"""The community's move-in slots: what the file must give, the slots of a day and their labels."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.community import Community, CommunityDataError, current_community


@dataclass(frozen=True)
class Slot:
    id: str
    label: str
    capacity: int


def check_move_in_data(data: Community) -> None:
    """Refuse a community file whose ``move_in`` block the booking form cannot work with.

    Called when the blueprint is registered, so a typo stops the app at start-up with the
    file named, instead of failing an owner's booking later.
    """
    block = data.get("move_in") or {}
    problems = []
    slot_list = block.get("slots") or []
    ids = [s.get("id") for s in slot_list if isinstance(s, dict)]
    if not slot_list or len(ids) != len(slot_list) or not all(ids):
        problems.append("move_in.slots 须列出时段，每个时段有 id、label、capacity")
    elif len(set(ids)) != len(ids):
        problems.append(f"move_in.slots 的 id 重复: {sorted({i for i in ids if ids.count(i) > 1})}")
    for slot in slot_list:
        if isinstance(slot, dict) and not (
            isinstance(slot.get("capacity"), int) and slot["capacity"] >= 1 and slot.get("label")
        ):
            problems.append(f"时段 {slot.get('id')} 须有 label，capacity 须为正整数")
    days = block.get("booking_days_ahead")
    if not (isinstance(days, int) and days >= 1):
        problems.append("move_in.booking_days_ahead 须为正整数")
    if not isinstance(block.get("garage_clearance_m"), (int, float)):
        problems.append("move_in.garage_clearance_m 须为数字（米）")
    for key in ("oversize_post", "entrance_posts"):
        if not block.get(key):
            problems.append(f"move_in.{key} 不能为空")
    if problems:
        raise CommunityDataError(f"{data.source}: " + "；".join(problems))


def day_slots() -> dict[str, Slot]:
    """The bookable time slots of a day, in the order of the community file."""
    return {
        s["id"]: Slot(s["id"], s["label"], int(s["capacity"]))
        for s in current_community().move_in["slots"]
    }


def slot_label(slot_id: str) -> str:
    slot = day_slots().get(slot_id)
    return slot.label if slot else slot_id
