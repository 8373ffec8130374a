"""The fee file (``data/fees/<community id>.yml``) and its one loader: amounts as Decimal, never
float; money as integer 分 rounded half up once; every mistake in the file refused with a Chinese
message naming the file and the key."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from forms_app.core.community import (
    DEFAULT_COMMUNITY_FILE,
    CommunityDataError,
    load_community,
)
from forms_app.core.fee_standards import (
    FEES_DIR,
    FeeStandards,
    fee_file_for,
    fee_standards,
    percent_text,
    price_text,
    read_fee_standards,
    to_fen,
    yuan_text,
)

SHIPPED = FEES_DIR / "shanshui.yml"
RAW = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def standards(change=None) -> FeeStandards:
    """The shipped file's values with ``change(raw)`` applied, read as the app reads them."""
    raw = copy.deepcopy(RAW)
    if change:
        change(raw)
    return FeeStandards(raw, Path("data/fees/test.yml"))


def refused(change) -> str:
    with pytest.raises(CommunityDataError) as error:
        standards(change)
    message = str(error.value)
    assert "data/fees/test.yml" in message, message
    return message


# --- The shipped file ----------------------------------------------------------------------------


def test_the_community_reads_the_fee_file_named_by_its_id():
    community = load_community(DEFAULT_COMMUNITY_FILE)
    assert fee_file_for(community) == FEES_DIR / f"{community.key}.yml" == SHIPPED
    assert fee_standards(community).source == SHIPPED


def test_the_shipped_fee_file_is_the_example_and_reads_every_amount_as_decimal():
    fees = read_fee_standards(SHIPPED)
    assert fees.example and "示例" in fees.example_notice
    assert fees.management.unit_price == Decimal("1.80")
    assert isinstance(fees.vacant_rate, Decimal) and fees.undelivered_payer == "开发商"
    amounts = [i.unit_price for i in (*fees.metered, *fees.shared, *fees.special_services)]
    assert amounts and all(isinstance(a, Decimal) for a in amounts)
    assert all(isinstance(d.amount, Decimal) for d in fees.deposits.values() if d)
    assert {"renovation", "tarpaulin"} <= set(fees.deposits)
    assert fees.service("extinguisher").name == "灭火器租赁"
    assert {s.id for s in fees.special_services} >= {"typing", "copying"}
    assert all(item.split in ("area", "household") for item in fees.shared)
    assert fees.late_fee_per_day is None  # the seed sets no 滞纳金
    assert fees.billing_cycle == "monthly" and fees.cycle_months == 1


def test_the_community_file_no_longer_holds_amounts():
    renovation = load_community(DEFAULT_COMMUNITY_FILE).renovation
    for moved in ("deposit_yuan", "tarpaulin_deposit_yuan", "extinguisher_rent_yuan_per_month"):
        assert moved not in renovation


# --- Money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yuan", "fen"),
    [
        ("1.80", 180),
        ("0.005", 1),  # half up, not to even
        ("0.015", 2),
        ("0.025", 3),
        ("0.0049", 0),
        ("158.445", 15845),
        ("-0.005", -1),  # an adjusting line rounds away from zero too
        ("2000", 200000),
    ],
)
def test_to_fen_rounds_half_up_once(yuan, fen):
    assert to_fen(Decimal(yuan)) == fen


def test_a_bill_line_is_quantity_times_price_rounded_once():
    # 89.37 ㎡ × 1.80 = 160.866 → 160.87; rounding the price or the area first would differ.
    assert to_fen(Decimal("89.37") * Decimal("1.80")) == 16087


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (180, "1.80"), (123456, "1,234.56"), (-250, "-2.50"), (None, "")],
)
def test_yuan_text(fen, text):
    assert yuan_text(fen) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [("1.80", "1.80"), ("1.8", "1.80"), ("2000", "2000"), ("2.00", "2"), ("0.5283", "0.5283")],
)
def test_published_prices_are_written_one_way(amount, text):
    assert price_text(Decimal(amount)) == text


def test_the_vacant_rate_is_published_as_a_percentage():
    assert percent_text(Decimal("0.70")) == "70%" and percent_text(Decimal("0.755")) == "75.5%"


# --- Bad files -----------------------------------------------------------------------------------


def test_an_unquoted_decimal_is_refused_as_it_would_be_a_float():
    message = refused(lambda raw: raw["management_fee"].update(unit_price_yuan=1.8))
    assert "management_fee.unit_price_yuan" in message and "带引号" in message


def test_whole_numbers_may_be_written_without_quotes():
    fees = standards(lambda raw: raw["management_fee"].update(unit_price_yuan=2))
    assert fees.management.unit_price == Decimal(2)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda raw: raw["management_fee"].update(unit_price_yuan="-1.80"), "unit_price_yuan"),
        (lambda raw: raw["metered"][0].update(unit_price_yuan="3.12345"), "metered.water"),
        (lambda raw: raw["metered"][0].update(unit_price_yuan="三元"), "metered.water"),
        (lambda raw: raw["metered"][0].update(unit_price_yuan="NaN"), "metered.water"),
        (lambda raw: raw["special_services"][0].update(price_yuan=True), "special_services.typing"),
        (lambda raw: raw["deposits"]["renovation"].update(amount_yuan="-100"), "deposits"),
        (lambda raw: raw["settings"].update(late_fee_per_day=0.5), "late_fee_per_day"),
    ],
)
def test_bad_amounts_are_refused_naming_the_key(change, key):
    message = refused(change)
    assert key in message and "金额" in message


def test_a_late_fee_is_refused_until_the_bills_charge_one():
    """The 缴费 page must never promise what the bills do not do."""
    message = refused(lambda raw: raw["settings"].update(late_fee_per_day="0.5"))
    assert "late_fee_per_day" in message and "只能为 null" in message


def test_a_missing_price_is_refused():
    message = refused(lambda raw: raw["management_fee"].pop("unit_price_yuan"))
    assert "缺少 management_fee.unit_price_yuan" in message


@pytest.mark.parametrize("due_day", [None, 0, 29, "15", True, 15.5])
def test_the_due_day_must_be_a_day_of_every_month(due_day):
    def change(raw):
        if due_day is None:
            raw["settings"].pop("due_day")
        else:
            raw["settings"]["due_day"] = due_day

    message = refused(change)
    assert "settings.due_day" in message and "1–28" in message


def test_an_unknown_billing_cycle_is_refused():
    message = refused(lambda raw: raw["settings"].update(billing_cycle="weekly"))
    assert "settings.billing_cycle" in message and "monthly" in message


def test_a_vacant_rate_above_one_is_refused():
    message = refused(lambda raw: raw["management_fee"].update(vacant_rate="1.2"))
    assert "management_fee.vacant_rate" in message


@pytest.mark.parametrize("split", ["floor", "", None])
def test_a_shared_item_must_say_how_it_is_split(split):
    message = refused(lambda raw: raw["shared"][0].update(split=split))
    assert "shared.public_water" in message and "split" in message and "household" in message


def test_a_shared_item_must_name_its_public_meter():
    message = refused(lambda raw: raw["shared"][0].pop("meter"))
    assert "shared.public_water" in message and "meter" in message


def test_duplicate_item_ids_are_refused_naming_the_id():
    message = refused(lambda raw: raw["special_services"][1].update(id="water"))
    assert "id 重复" in message and "water" in message


def test_a_malformed_item_id_is_refused():
    message = refused(lambda raw: raw["metered"][0].update(id="Water-1"))
    assert "Water-1" in message


def test_an_item_without_an_id_or_a_name_is_refused_not_crashed():
    message = refused(lambda raw: raw["metered"][1].pop("id"))
    assert "metered 第2项缺少 id" in message
    message = refused(lambda raw: raw["special_services"][0].pop("name"))
    assert "special_services 第1项缺少 name" in message


def test_sections_of_the_wrong_shape_are_refused():
    assert "metered 须是列表" in refused(lambda raw: raw.update(metered={"id": "water"}))
    assert "shared 第1项" in refused(lambda raw: raw["shared"].__setitem__(0, "public_water"))
    assert "settings 须是键值对" in refused(lambda raw: raw.update(settings=["monthly"]))


def test_a_null_deposit_is_none_and_zero_is_none_too():
    fees = standards(
        lambda raw: (
            raw["deposits"]["renovation"].update(amount_yuan=None),
            raw["deposits"]["tarpaulin"].update(amount_yuan="0"),
        )
    )
    assert fees.deposit("renovation") is None and fees.deposit("tarpaulin") is None


def test_a_missing_or_broken_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.yml"
    with pytest.raises(CommunityDataError, match="没有找到收费标准文件.*nowhere.yml"):
        read_fee_standards(missing)
    broken = tmp_path / "broken.yml"
    broken.write_text("settings: [unclosed\n", encoding="utf-8")
    with pytest.raises(CommunityDataError, match="broken.yml: 不是有效的 YAML"):
        read_fee_standards(broken)


def test_a_community_may_name_its_fee_file(tmp_path):
    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    raw["fees_file"] = "fees/own.yml"
    (tmp_path / "fees").mkdir()
    (tmp_path / "fees/own.yml").write_text(SHIPPED.read_text(encoding="utf-8"), "utf-8")
    path = tmp_path / "community.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert fee_file_for(load_community(path)) == (tmp_path / "fees/own.yml").resolve()
