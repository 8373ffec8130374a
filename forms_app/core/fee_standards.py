"""The community's 收费标准 (``data/fees/<community id>.yml``), read by the owner guide's 缴费
page, the renovation permit and form (deposits, 灭火器), and the bills.

One loader, so the published standards and the bills can never disagree. Amounts are quoted
strings of 元 read as ``Decimal`` (never float); money stored is integer 分 (``to_fen``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import yaml

from .community import DATA_DIR, Community, CommunityDataError

FEES_DIR = DATA_DIR / "fees"
CYCLES = {"monthly": ("按月", 1), "quarterly": ("按季", 3), "yearly": ("按年预交", 12)}
SPLITS = {"area": "按收费面积分摊", "household": "按户均摊"}
FEN = Decimal("0.01")


def to_fen(yuan: Decimal) -> int:
    """元 as a Decimal → integer 分, rounded half up (the one rounding of every bill line)."""
    return int((yuan / FEN).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def yuan_text(fen: int | None) -> str:
    """Integer 分 as 元 with two decimals: 12345 → "123.45"."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def _money(source: Path, where: str, value, allow_none: bool = False) -> Decimal | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise CommunityDataError(f'{source}: {where} 须写成带引号的金额，如 "1.80"。')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise CommunityDataError(f"{source}: {where} 不是金额：{value!r}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.0001")):
        raise CommunityDataError(f"{source}: {where} 须是不超过 4 位小数的非负金额：{value!r}")
    return amount


@dataclass(frozen=True)
class PricedItem:
    id: str
    name: str
    unit: str
    unit_price: Decimal  # 元 per unit
    meter: str = ""  # shared items: the public meter read
    split: str = ""  # shared items: area | household

    @property
    def split_label(self) -> str:
        return SPLITS.get(self.split, "")


@dataclass(frozen=True)
class Deposit:
    id: str
    name: str
    amount: Decimal

    @property
    def amount_fen(self) -> int:
        return to_fen(self.amount)


class FeeStandards:
    """Read-only view of one community's fee file."""

    def __init__(self, raw: dict, source: Path):
        self.raw = raw
        self.source = source
        self.example = bool(raw.get("example"))
        settings = raw.get("settings") or {}
        cycle = settings.get("billing_cycle", "monthly")
        if cycle not in CYCLES:
            raise CommunityDataError(f"{source}: billing_cycle 只能是 {', '.join(CYCLES)}。")
        self.billing_cycle = cycle
        due_day = settings.get("due_day")
        if not isinstance(due_day, int) or not 1 <= due_day <= 28:
            raise CommunityDataError(f"{source}: due_day（缴费截止日）须是 1–28 的整数。")
        self.due_day = due_day
        self.late_fee_per_day = _money(
            source, "late_fee_per_day", settings.get("late_fee_per_day"), allow_none=True
        )
        management = raw.get("management_fee") or {}
        self.management = PricedItem(
            id=str(management.get("id", "management")),
            name=str(management.get("name", "物业管理费")),
            unit="㎡·月",
            unit_price=_money(
                source, "management_fee.unit_price_yuan", management.get("unit_price_yuan")
            ),
        )
        self.vacant_rate = _money(
            source, "management_fee.vacant_rate", management.get("vacant_rate", "1")
        )
        if self.vacant_rate > 1:
            raise CommunityDataError(f"{source}: vacant_rate（空置折扣）不能大于 1。")
        self.undelivered_payer = str(management.get("undelivered_payer", "开发商"))
        self.fixed_monthly = [
            PricedItem(
                str(item["id"]),
                str(item["name"]),
                "月",
                _money(source, f"fixed_monthly.{item['id']}", item.get("amount_yuan")),
            )
            for item in raw.get("fixed_monthly") or []
        ]
        self.metered = [self._priced(item, "metered") for item in raw.get("metered") or []]
        self.shared = [self._priced(item, "shared") for item in raw.get("shared") or []]
        for item in self.shared:
            if item.split not in SPLITS or not item.meter:
                raise CommunityDataError(
                    f"{source}: shared.{item.id} 须有 meter（公共表）和 split（area 或 household）。"
                )
        self.special_services = [
            PricedItem(
                str(item["id"]),
                str(item["name"]),
                str(item.get("unit", "次")),
                _money(source, f"special_services.{item['id']}", item.get("price_yuan")),
            )
            for item in raw.get("special_services") or []
        ]
        self.deposits: dict[str, Deposit | None] = {}
        for key, entry in (raw.get("deposits") or {}).items():
            amount = _money(
                source, f"deposits.{key}", (entry or {}).get("amount_yuan"), allow_none=True
            )
            self.deposits[str(key)] = (
                Deposit(str(key), str(entry.get("name", key)), amount) if amount else None
            )
        ids = [i.id for i in (self.management, *self.fixed_monthly, *self.metered, *self.shared)]
        if len(ids) != len(set(ids)) or not all(
            re.fullmatch(r"[a-z][a-z0-9_]{0,31}", i) for i in ids
        ):
            raise CommunityDataError(
                f"{source}: 收费项目的 id 须唯一，且为小写字母、数字或下划线。"
            )

    def _priced(self, item: dict, section: str) -> PricedItem:
        return PricedItem(
            id=str(item["id"]),
            name=str(item["name"]),
            unit=str(item.get("unit", "")),
            unit_price=_money(self.source, f"{section}.{item['id']}", item.get("unit_price_yuan")),
            meter=str(item.get("meter", "")),
            split=str(item.get("split", "")),
        )

    @property
    def cycle_label(self) -> str:
        return CYCLES[self.billing_cycle][0]

    @property
    def cycle_months(self) -> int:
        return CYCLES[self.billing_cycle][1]

    def deposit(self, key: str) -> Deposit | None:
        """A deposit the community takes (``renovation``, ``tarpaulin``), or None."""
        return self.deposits.get(key)

    def service(self, key: str) -> PricedItem | None:
        return next((s for s in self.special_services if s.id == key), None)


def fee_file_for(community: Community) -> Path:
    """``data/fees/<id>.yml``, or ``fees_file`` named in the community file (relative to it)."""
    named = community.get("fees_file")
    if named:
        return (community.source.parent / named).resolve()
    return FEES_DIR / f"{community.key}.yml"


@lru_cache(maxsize=8)
def load_fee_standards(path: Path) -> FeeStandards:
    if not path.is_file():
        raise CommunityDataError(f"没有找到收费标准文件 {path}（每个小区一份，以小区 id 命名）。")
    return FeeStandards(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, path)


def fee_standards(community: Community) -> FeeStandards:
    """The community's fee standards (read once per file)."""
    return load_fee_standards(fee_file_for(community))


def current_fee_standards() -> FeeStandards:
    from .community import current_community

    return fee_standards(current_community())
