"""The community's 收费标准 (``data/fees/<community id>.yml``), read by the owner guide's 缴费
page, the renovation permit and form (deposits, 灭火器), and the bills.

One loader, so the published standards and the bills can never disagree. Amounts are quoted
strings of 元 (or whole numbers) read as ``Decimal`` — never float: an unquoted ``1.8`` is
refused; money stored is integer 分 (``to_fen``). A broken file stops the app at start with a
Chinese message naming the file and the key (``forms_app.check_config``); the example file
is refused in production like the example community file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import yaml

from .community import (
    DATA_DIR,
    Community,
    CommunityDataError,
    ExampleCommunityInProduction,
    load_yaml,
)

FEES_DIR = DATA_DIR / "fees"
CYCLES = {"monthly": ("按月", 1), "quarterly": ("按季", 3), "yearly": ("按年预交", 12)}
SPLITS = {"area": "按收费面积分摊", "household": "按户均摊"}
FEN = Decimal("0.01")
ITEM_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")

# Shown on every handbook page while the fee file is the example (and the community file is
# not: then the community's own notice already says that amounts are demonstration data).
FEES_EXAMPLE_NOTICE = "示例收费标准：收费金额为演示数据，不是本小区的实际收费标准。"


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


def price_text(amount: Decimal) -> str:
    """A price or amount of 元 as published: whole amounts without decimals ("2000"), others
    with at least two ("1.80", "0.50", "0.5283"). The 缴费 page, the renovation pages, the
    application form and the permit all write amounts this way."""
    if amount == amount.to_integral_value():
        return str(amount.quantize(Decimal(1)))
    text = format(amount.normalize(), "f")
    decimals = len(text.split(".")[1])
    return text + "0" * max(0, 2 - decimals)


def percent_text(rate: Decimal) -> str:
    """A share as a percentage: Decimal("0.70") → "70%"."""
    return format((rate * 100).normalize(), "f") + "%"


def _money(source: Path, where: str, value, allow_none: bool = False) -> Decimal | None:
    if value is None and allow_none:
        return None
    if value is None:
        raise CommunityDataError(f'{source}: 缺少 {where}（金额，写成带引号的字符串，如 "1.80"）。')
    if isinstance(value, float):
        raise CommunityDataError(
            f'{source}: {where} 须写成带引号的金额，如 "{value}"：不带引号的小数会按浮点数读取，'
            "可能不准。"
        )
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

    @property
    def price_text(self) -> str:
        """The unit price as published ("1.80")."""
        return price_text(self.unit_price)


@dataclass(frozen=True)
class Deposit:
    id: str
    name: str
    amount: Decimal

    @property
    def amount_fen(self) -> int:
        return to_fen(self.amount)

    @property
    def amount_text(self) -> str:
        """The amount as published ("2000")."""
        return price_text(self.amount)


class FeeStandards:
    """Read-only view of one community's fee file, checked as it is read: every problem is a
    ``CommunityDataError`` naming the file and the key."""

    def __init__(self, raw: dict, source: Path):
        if not isinstance(raw, dict):
            raise CommunityDataError(f"{source}: 收费标准文件的内容须是键值对（YAML 映射）。")
        self.raw = raw
        self.source = source
        self.example = bool(raw.get("example"))
        settings = self._mapping(raw.get("settings"), "settings")
        cycle = settings.get("billing_cycle", "monthly")
        if cycle not in CYCLES:
            raise CommunityDataError(
                f"{source}: settings.billing_cycle 只能是 {', '.join(CYCLES)}，而不是 {cycle!r}。"
            )
        self.billing_cycle = cycle
        due_day = settings.get("due_day")
        if isinstance(due_day, bool) or not isinstance(due_day, int) or not 1 <= due_day <= 28:
            raise CommunityDataError(
                f"{source}: settings.due_day（缴费截止日）须填写，且是 1–28 的整数。"
            )
        self.due_day = due_day
        remind = settings.get("remind_days_before", 3)
        if isinstance(remind, bool) or not isinstance(remind, int) or not 0 <= remind <= 28:
            raise CommunityDataError(
                f"{source}: settings.remind_days_before（截止日前几天提醒）须是 0–28 的整数。"
            )
        # Days before the due date an unpaid bill's household is reminded (0: on the day).
        self.remind_days_before = remind
        self.late_fee_per_day = _money(
            source, "settings.late_fee_per_day", settings.get("late_fee_per_day"), allow_none=True
        )
        if self.late_fee_per_day:
            # The bills do not charge one yet: a page promising what the bills do not do would
            # disagree with them. The seed sets none.
            raise CommunityDataError(
                f"{source}: settings.late_fee_per_day（滞纳金）目前账单不计收，只能为 null；"
                "如需收取滞纳金，须先在账单中实现。"
            )
        management = self._mapping(raw.get("management_fee"), "management_fee")
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
            raise CommunityDataError(
                f"{source}: management_fee.vacant_rate（空置房屋按标准收取的比例）不能大于 1。"
            )
        self.undelivered_payer = str(management.get("undelivered_payer") or "开发商")
        self.fixed_monthly = [
            PricedItem(
                self._text(item, "fixed_monthly", index, "id"),
                self._text(item, "fixed_monthly", index, "name"),
                "月",
                _money(source, f"fixed_monthly.{item['id']}.amount_yuan", item.get("amount_yuan")),
            )
            for index, item in self._items("fixed_monthly")
        ]
        self.metered = [self._priced(item, "metered", i) for i, item in self._items("metered")]
        self.shared = [self._priced(item, "shared", i) for i, item in self._items("shared")]
        for item in self.shared:
            if item.split not in SPLITS or not item.meter:
                raise CommunityDataError(
                    f"{source}: shared.{item.id} 须有 meter（公共表）和 split"
                    f"（area 按收费面积 或 household 按户），而 split 是 {item.split!r}。"
                )
        self.special_services = [
            PricedItem(
                self._text(item, "special_services", index, "id"),
                self._text(item, "special_services", index, "name"),
                str(item.get("unit") or "次"),
                _money(source, f"special_services.{item['id']}.price_yuan", item.get("price_yuan")),
            )
            for index, item in self._items("special_services")
        ]
        self.deposits: dict[str, Deposit | None] = {}
        for key, entry in self._mapping(raw.get("deposits"), "deposits").items():
            entry = self._mapping(entry, f"deposits.{key}")
            amount = _money(
                source, f"deposits.{key}.amount_yuan", entry.get("amount_yuan"), allow_none=True
            )
            self.deposits[str(key)] = (
                Deposit(str(key), str(entry.get("name") or key), amount) if amount else None
            )
        ids = [
            i.id
            for i in (
                self.management,
                *self.fixed_monthly,
                *self.metered,
                *self.shared,
                *self.special_services,
            )
        ]
        doubled = sorted({i for i in ids if ids.count(i) > 1})
        if doubled:
            raise CommunityDataError(f"{source}: 收费项目的 id 重复：{', '.join(doubled)}。")
        malformed = [i for i in ids if not ITEM_ID.fullmatch(i)]
        if malformed:
            raise CommunityDataError(
                f"{source}: 收费项目的 id 须为小写字母开头的小写字母、数字或下划线："
                f"{', '.join(malformed)}。"
            )

    def _mapping(self, value, where: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise CommunityDataError(f"{self.source}: {where} 须是键值对（YAML 映射）。")
        return value

    def _items(self, section: str):
        items = self.raw.get(section) or []
        if not isinstance(items, list):
            raise CommunityDataError(f"{self.source}: {section} 须是列表（每项以 - 开头）。")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise CommunityDataError(
                    f"{self.source}: {section} 第{index + 1}项须是键值对（id、name、金额）。"
                )
            yield index, item

    def _text(self, item: dict, section: str, index: int, key: str) -> str:
        value = item.get(key)
        if value is None or str(value).strip() == "":
            raise CommunityDataError(f"{self.source}: {section} 第{index + 1}项缺少 {key}。")
        return str(value)

    def _priced(self, item: dict, section: str, index: int) -> PricedItem:
        item_id = self._text(item, section, index, "id")
        return PricedItem(
            id=item_id,
            name=self._text(item, section, index, "name"),
            unit=str(item.get("unit", "")),
            unit_price=_money(
                self.source, f"{section}.{item_id}.unit_price_yuan", item.get("unit_price_yuan")
            ),
            meter=str(item.get("meter", "")),
            split=str(item.get("split", "")),
        )

    @property
    def example_notice(self) -> str | None:
        """The notice the handbook shows while this file is the example, else None."""
        return FEES_EXAMPLE_NOTICE if self.example else None

    @property
    def vacant_percent(self) -> str:
        """The 空置 rate as published: "70%"."""
        return percent_text(self.vacant_rate)

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


def read_fee_standards(path: Path) -> FeeStandards:
    """Read and check a fee file (uncached: the handbook build reads the file as it is now)."""
    if not path.is_file():
        raise CommunityDataError(f"没有找到收费标准文件 {path}（每个小区一份，以小区 id 命名）。")
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CommunityDataError(f"{path}: 不是有效的 YAML：{error}") from None
    return FeeStandards(raw or {}, path)


@lru_cache(maxsize=8)
def load_fee_standards(path: Path) -> FeeStandards:
    """``read_fee_standards`` cached per file (the app reads the file once)."""
    return read_fee_standards(path)


def fee_standards(community: Community) -> FeeStandards:
    """The community's fee standards (read once per file)."""
    return load_fee_standards(fee_file_for(community))


def current_fee_standards() -> FeeStandards:
    from .community import current_community

    return fee_standards(current_community())


def refuse_example_fees_in_production(fees: FeeStandards, https: bool) -> None:
    """Stop a production start on the example fee file: owners would be billed invented prices."""
    if https and fees.example:
        raise ExampleCommunityInProduction(
            f"{fees.source} 是示例收费标准（example: true），其中的单价、押金等金额为演示数据，"
            "不能用于正式运行（HTTPS=1）。请复制该文件，填入本小区的实际收费标准并删除 example 一行，"
            "再以小区 id 命名放在 data/fees/，或在小区数据文件中用 fees_file 指明它的路径。"
        )
