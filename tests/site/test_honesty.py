"""Nothing invented is shown as fact: the example community says so on every page, the seed's
own rules are not distorted, and the handbook speaks with one voice (您, one term per thing,
numbers written one way).

Reads the built site (``mkdocs build --strict``) like ``test_content.py``.
"""

from __future__ import annotations

import re

import pytest

from forms_app.core.community import DEFAULT_COMMUNITY_FILE, EXAMPLE_NOTICE, load_community
from forms_app.core.fee_standards import (
    FEES_EXAMPLE_NOTICE,
    fee_file_for,
    fee_standards,
    price_text,
)
from tests.site.test_content import FEE_REGULATION, Page, all_pages, page

# A number and the Chinese next to it are written together: 30人, 19:00后, 2.2米, 每年2次.
SPACED_NUMBER = re.compile(r"[\u4e00-\u9fff][ \u00a0]+\d|\d[ \u00a0]+[\u4e00-\u9fff]")
# The cleaning standards keep the seed's section numbers ("1.0 室内") as headings.
SECTION_NUMBER = re.compile(r"^\s*\d+\.\d+\s", re.M)


@pytest.fixture(scope="module")
def community():
    return load_community(DEFAULT_COMMUNITY_FILE)


def article_text(path) -> str:
    """The article's visible text with line breaks kept (tags dropped, entities decoded)."""
    import html

    fragment = Page(path).html
    text = html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("¶", "")
    return SECTION_NUMBER.sub("", text)


# --- The example community ----------------------------------------------------------------------


def test_the_shipped_community_is_an_example(community):
    assert community.example
    assert community.example_notice == EXAMPLE_NOTICE
    assert "示例小区" in EXAMPLE_NOTICE and "演示数据" in EXAMPLE_NOTICE


def test_every_page_says_it_shows_the_example_community(built_site, built_staff_site):
    for path in all_pages(built_site) + [built_site / "404.html"] + all_pages(built_staff_site):
        source = path.read_text(encoding="utf-8")
        banner = re.search(r'<aside class="md-banner">(.*?)</aside>', source, re.S)
        assert banner and EXAMPLE_NOTICE in banner.group(1), path


def test_values_the_seed_does_not_give_are_the_communitys_own(
    built_site, built_staff_site, community
):
    """Deposit, 彩条布 and extinguisher amounts (from the fee file), the garage height, working
    hours: each is introduced as this community's setting, never as the seed's rule."""
    fees = fee_standards(community)
    deposit = price_text(fees.deposit("renovation").amount)
    tarpaulin = price_text(fees.deposit("tarpaulin").amount)
    rent = fees.service("extinguisher")
    guide = page(built_site, "owner/renovation").section("办理流程")
    assert f"本小区收取装修押金{deposit}元" in guide
    services = page(built_site, "owner/renovation/services")
    assert f"相应押金（本小区为{tarpaulin}元）" in services.section("彩条布借用")
    assert f"本小区的租金为{price_text(rent.unit_price)}元/{rent.unit}" in services.section(
        "灭火器租赁"
    )
    assert "本小区规定的施工时间" in page(built_site, "owner/renovation/rules").section("施工时间")
    move_in = page(built_site, "owner/move-in")
    assert f"本小区为{community.move_in['garage_clearance_m']}米" in move_in.section(
        "大件物品与车库限高"
    )
    control = page(built_staff_site, "renovation-control")
    assert f"相应押金（本小区为{tarpaulin}元）" in control.section("客户满意关怀服务")


def test_a_fee_file_without_deposits_shows_none(tmp_path):
    """A deposit set to null in the fee file is left out of the procedure, the services and the
    缴费 page; the 灭火器 rent left out of the price list loses its amount. The community file
    here is a company's own, the fee file still the example: every page says that."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    from tests.support.server import PROJECT_ROOT

    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    fee_raw = yaml.safe_load(fee_file_for(load_community()).read_text(encoding="utf-8"))
    fee_raw["deposits"]["renovation"]["amount_yuan"] = None
    fee_raw["deposits"]["tarpaulin"]["amount_yuan"] = None
    fee_raw["special_services"] = [
        s for s in fee_raw["special_services"] if s["id"] != "extinguisher"
    ]
    fees_file = tmp_path / "fees.yml"
    fees_file.write_text(yaml.safe_dump(fee_raw, allow_unicode=True), encoding="utf-8")
    raw.pop("example")
    raw["fees_file"] = str(fees_file)
    changed = tmp_path / "community.yml"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "site"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "mkdocs"),
            "build",
            "--strict",
            "--quiet",
            "--site-dir",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        check=True,
        env={**os.environ, "COMMUNITY_FILE": str(changed)},
    )
    procedure = page(out, "owner/renovation").section("办理流程")
    assert "装修押金" not in procedure and "验收" in procedure
    services = page(out, "owner/renovation/services")
    assert "相应押金，还彩条布时退还押金" in services.section("彩条布借用")
    assert "本小区" not in services.section("灭火器租赁")
    fees_page = page(out, "owner/fees")
    assert "押金" not in [title for _level, title in fees_page.headings]
    assert "灭火器" not in fees_page.section("特约服务价目")
    banner = re.search(
        r'<aside class="md-banner">(.*?)</aside>',
        (out / "owner/fees/index.html").read_text(encoding="utf-8"),
        re.S,
    )
    assert banner and FEES_EXAMPLE_NOTICE in banner.group(1)
    assert EXAMPLE_NOTICE not in banner.group(1)


# --- The seed's rules, undistorted ----------------------------------------------------------------


def test_building_12_is_the_communitys_own_route_not_in_the_seeds_sentence(
    built_site, built_staff_site
):
    materials = page(built_staff_site, "renovation-control").section("装修材料进出的管理")
    assert "1、4、7号楼的业主装修材料从3号车场出入口（12号楼旁边）进入" in materials
    assert "1、4、7、12号楼" not in materials
    assert "本小区另行指定（上述方案未列出）：12号楼的业主装修材料从3号车场出入口" in materials
    owner = page(built_site, "owner/renovation/site").section("装修材料进出")
    assert "12号楼3号车场出入口（12号楼旁边）（本小区指定）" in owner
    assert "1号楼3号车场出入口（12号楼旁边）2号楼" in owner  # the seed's route: no mark
    assert "本小区指定”的楼栋" in owner


def test_moving_routes_are_not_the_material_routes(built_site, community):
    """The seed: furniture under the garage clearance goes through the garage posts and up by
    lift; anything taller enters at 1号岗. The material entrances per building are another rule."""
    routes = page(built_site, "owner/move-in").section("搬家路线")
    for entrance in community.material_entrances:
        assert entrance["name"] not in routes
    assert "地下室乘电梯" in routes
    assert f"从{community.move_in['oversize_post']}进入小区" in routes


def test_unified_scheme_guidance_is_not_a_ban(built_site, rules_data):
    rules_page = page(built_site, "owner/renovation/rules")
    prohibited = rules_page.section("禁止行为")
    assert "一律不允许" not in rules_page.text
    assert "承重墙" not in rules_page.text
    assert "统一方案" not in prohibited
    layout = rules_page.section("户型改动")
    assert "统一方案" in layout and "指导" in layout and "不在质保期范畴" in layout
    # Only what the seed calls 违章装修 is refused.
    assert [c["id"] for c in rules_data["prohibited_changes"]] == ["use_change", "illegal_building"]
    for path in all_pages(built_site):
        assert "不得拆改承重墙" not in path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rules_data():
    from forms_app.core.community import load_data

    return load_data("renovation_rules.yml")


def test_print_page_does_not_claim_to_be_the_renovation_manual(built_site):
    lead = page(built_site, "owner/print").html.split('class="print-chapter"')[0]
    assert "《装修手册》" in lead and "另一份资料" in lead
    assert "内容一致" not in lead
    assert "收录了其中的装修规定" not in page(built_site, "owner/renovation").text


def test_the_seeds_fee_regulation_is_named(built_site, built_staff_site):
    """Named with its document number as the seed prints it (the year given as 20**)."""
    promise = page(built_site, "owner/service-promise").section("公开服务标准")
    assert f"参照《{FEE_REGULATION}》（镇价服〔20**〕60号文）中服务等级的最高标准" in promise
    purpose = page(built_staff_site, "customer-service").section("品质提升方案的目的")
    assert f"参照《{FEE_REGULATION}》" in purpose


# --- One voice ----------------------------------------------------------------------------------


def test_one_term_per_thing(built_site, built_staff_site, community):
    """秩序维护 (never 护卫 but once in the glossary), 客服助理 (never 客户助理), and the service
    centre by its one name (never 客户服务中心 or 客户中心), in both halves."""
    pages = [(root, path) for root in (built_site, built_staff_site) for path in all_pages(root)]
    for root, path in pages:
        text = Page(path).text
        name = str(path.relative_to(root))
        assert "客户助理" not in text, name
        assert "客户服务中心" not in text and "客户中心" not in text, name
        # Once, in the glossary: 我们的一些文件也称“护卫”.
        expected = (
            1
            if root == built_site and name in ("owner/index.html", "owner/print/index.html")
            else 0
        )
        assert text.count("护卫") == expected, name
    assert community["service_center"] in page(built_site, "owner/renovation").section("办理地点")


def test_owners_are_addressed_one_way(built_site):
    """The owner guide speaks to 您 (never 你) as 我们; the service centre is named for the
    place to go, never "物业 does …" as a third party."""
    import re

    acting = re.compile(r"物业(会|为|提供|举办|严格|及时|每周|把|制定|能|与)")
    for path in all_pages(built_site):
        text = Page(path).text
        name = str(path.relative_to(built_site))
        assert "你" not in text.replace("您", ""), name
        assert not acting.search(text), (name, acting.search(text))


def test_glossary_explains_the_seeds_own_words(built_site):
    guide = page(built_site, "owner")
    glossary = guide.section("常用词语")
    for word in (
        "双证管理",
        "秩序维护员",
        "客服助理",
        "装修办",
        "车库进口标高",
        "彩条布",
        "闭水、通水试验",
        "建渣",
        "成品保护",
    ):
        assert word in glossary, word
    assert "两种证件" in glossary
    assert "../index.md" not in page(built_site, "owner/renovation/site").html
    assert "../../#常用词语" in page(built_site, "owner/renovation/site").links(
        "装修人员出入与双证"
    )


def test_owner_pages_speak_to_the_owner(built_site):
    for path in all_pages(built_site):
        name = str(path.relative_to(built_site))
        if not name.startswith("owner/"):
            continue
        text = Page(path).text
        for third_person in ("供业主", "方便业主", "不方便到现场的业主", "业主可以"):
            assert third_person not in text, (name, third_person)
        assert "您" in text, name


def test_numbers_are_written_next_to_their_chinese(built_site, built_staff_site):
    for path in all_pages(built_site) + all_pages(built_staff_site):
        text = article_text(path)
        spaced = [text[max(0, m.start() - 8) : m.end() + 4] for m in SPACED_NUMBER.finditer(text)]
        assert not spaced, f"{path}: {spaced}"


def test_heading_permalinks_have_a_chinese_title(built_site):
    source = (built_site / "owner/move-in/index.html").read_text(encoding="utf-8")
    titles = set(re.findall(r'<a class="headerlink" href="[^"]+" title="([^"]+)"', source))
    assert titles == {"本节链接"}


@pytest.mark.parametrize("path", ["/forms/", "/forms/renovation/apply", "/forms/move-in/"])
def test_owner_forms_write_numbers_the_same_way(client, path):
    import html

    source = client.get(path).get_data(as_text=True)
    source = re.sub(r"<(script|style)\b.*?</\1>", "", source, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", source))
    text = re.sub(r"\s*\n\s*", "\n", text)
    spaced = [text[max(0, m.start() - 8) : m.end() + 4] for m in SPACED_NUMBER.finditer(text)]
    assert not spaced, spaced
