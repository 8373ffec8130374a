"""The patrol checklist (装修巡查检查项), built from ``patrol_checklist`` in
``data/renovation_rules.yml`` — the same list the staff handbook's 装修服务控制要点 page shows.

Groups hold items; an item names the patrol kinds that check it (every kind when it names
none), whether it may be recorded 不适用, and the prohibited change it checks. Patrols store
item ids and the wording of the day, so an old patrol still reads correctly after the file
changes. A file with a duplicate id, an unknown kind or an unknown prohibited change is
refused with the file and the id named.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.community import DATA_DIR, current_community
from . import rules

DATA_FILE = "renovation_rules.yml"

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "na"
RESULT_LABELS = {PASS: "合格", FAIL: "不合格", NOT_APPLICABLE: "不适用"}


class PatrolChecklistError(ValueError):
    """The checklist in the rules file cannot be used."""


@dataclass(frozen=True)
class CheckItem:
    id: str
    text: str
    group: str
    section: str
    kinds: tuple[str, ...] | None = None
    not_applicable: bool = False
    # The rule of the prohibited change the item checks (shown beside it), if any.
    rule: str = ""

    def for_kind(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds

    @property
    def results(self) -> tuple[str, ...]:
        """The results the item may be given."""
        return (PASS, FAIL, NOT_APPLICABLE) if self.not_applicable else (PASS, FAIL)


@dataclass(frozen=True)
class CheckGroup:
    id: str
    name: str
    section: str
    items: tuple[CheckItem, ...]


def _text(entry, key: str, where: str) -> str:
    value = entry.get(key) if isinstance(entry, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise PatrolChecklistError(f"{DATA_DIR / DATA_FILE}: patrol_checklist {where} 缺少 {key}")
    return value.strip()


def build_checklist(raw, kind_ids, prohibited: dict[str, dict]) -> tuple[CheckGroup, ...]:
    """Check the file's ``patrol_checklist`` and build its groups."""
    source = DATA_DIR / DATA_FILE
    if not isinstance(raw, list) or not raw:
        raise PatrolChecklistError(f"{source}: 缺少 patrol_checklist 列表（装修巡查检查项）")
    seen: set[str] = set()
    groups = []
    for group in raw:
        group_id = _text(group, "id", "的分组")
        name = _text(group, "name", f"分组 {group_id}")
        section = _text(group, "section", f"分组 {group_id}")
        items = []
        for entry in group.get("items") or []:
            item_id = _text(entry, "id", f"「{name}」的检查项")
            if item_id in seen:
                raise PatrolChecklistError(f"{source}: 巡查检查项编号 {item_id!r} 重复")
            seen.add(item_id)
            kinds = entry.get("kinds")
            if kinds is not None:
                unknown = [k for k in kinds if k not in kind_ids]
                if not kinds or unknown:
                    raise PatrolChecklistError(
                        f"{source}: 巡查检查项 {item_id} 的 kinds 含有未设置的巡查类型 {unknown}"
                    )
                kinds = tuple(kinds)
            change = entry.get("prohibited_change")
            if change is not None and change not in prohibited:
                raise PatrolChecklistError(
                    f"{source}: 巡查检查项 {item_id} 的 prohibited_change 指向不存在的 {change!r}"
                )
            items.append(
                CheckItem(
                    id=item_id,
                    text=_text(entry, "text", f"检查项 {item_id}"),
                    group=name,
                    section=section,
                    kinds=kinds,
                    not_applicable=bool(entry.get("not_applicable")),
                    rule=prohibited[change]["rule"] if change else "",
                )
            )
        if not items:
            raise PatrolChecklistError(f"{source}: 巡查检查项分组「{name}」没有检查项")
        groups.append(CheckGroup(group_id, name, section, tuple(items)))
    return tuple(groups)


def patrol_checklist() -> tuple[CheckGroup, ...]:
    """Every group of the checklist, for every kind of the current community."""
    kind_ids = [kind["id"] for kind in current_community().renovation["patrols"]]
    return build_checklist(
        rules.renovation_rules().get("patrol_checklist"), kind_ids, rules.prohibited_changes()
    )


def all_items() -> dict[str, CheckItem]:
    """Every item by id, whichever kind checks it."""
    return {item.id: item for group in patrol_checklist() for item in group.items}


def items_for(kind: str) -> list[CheckItem]:
    """The items a patrol of ``kind`` records, in the file's order."""
    return [item for group in patrol_checklist() for item in group.items if item.for_kind(kind)]


def fix_days() -> int:
    """The default 整改 period in days (``renovation.patrol_fix_days``, a community setting)."""
    days = current_community().renovation.get("patrol_fix_days")
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise PatrolChecklistError(
            f"{current_community().source}: renovation.patrol_fix_days（整改期限天数）须填写为"
            "不小于 0 的整数。"
        )
    return days
