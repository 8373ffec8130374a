"""The knowledge base says what the seed says, on the right page and section, from the data files.

Every check reads the built halves (``mkdocs build --strict``): the public owner site and the
staff handbook, so it sees what a reader sees after the data files have been rendered into the
pages.
"""

from __future__ import annotations

import html
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest
import yaml

from forms_app.core.community import DEFAULT_COMMUNITY_FILE, load_community, load_data
from forms_app.core.fee_standards import fee_file_for, fee_standards, price_text
from tests.conftest import build_handbook

HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1>", re.S)
TAG = re.compile(r"<[^>]+>")
HREF = re.compile(r"<a [^>]*?href=\"([^\"]*)\"")


def plain(fragment: str) -> str:
    """Visible text of an HTML fragment, without the permalink sign and with no spaces."""
    text = html.unescape(TAG.sub(" ", fragment)).replace("¶", "")
    return re.sub(r"\s+", "", text)


class _TopLevelItems(HTMLParser):
    """Counts the items of the outermost lists of a fragment (nested lists are details)."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.count = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("ul", "ol"):
            self.depth += 1
        elif tag == "li" and self.depth == 1:
            self.count += 1

    def handle_endtag(self, tag):
        if tag in ("ul", "ol"):
            self.depth -= 1


class Page:
    """The article of one built page, split into its headed sections."""

    def __init__(self, path: Path):
        source = path.read_text(encoding="utf-8")
        start, end = source.index("<article"), source.index("</article>")
        self.html = source[start:end]
        self.headings = [(int(level), plain(title)) for level, title in HEADING.findall(self.html)]

    @property
    def text(self) -> str:
        return plain(self.html)

    def titles(self, level: int) -> list[str]:
        return [title for lvl, title in self.headings if lvl == level]

    def anchors(self) -> set[str]:
        return set(re.findall(r'id="([^"]+)"', self.html))

    def section_html(self, title: str) -> str:
        """The HTML under the heading ``title`` up to the next heading of the same or a higher level."""
        matches = [m for m in HEADING.finditer(self.html) if plain(m.group(2)) == title]
        assert matches, f"no section titled {title!r}; headings: {[h[1] for h in self.headings]}"
        assert len(matches) == 1, f"{title!r} is the title of more than one section"
        level = int(matches[0].group(1))
        rest = self.html[matches[0].end() :]
        for following in HEADING.finditer(rest):
            if int(following.group(1)) <= level:
                return rest[: following.start()]
        return rest

    def section(self, title: str) -> str:
        return plain(self.section_html(title))

    def items(self, title: str) -> int:
        """Number of top-level list items in a section."""
        counter = _TopLevelItems()
        counter.feed(self.section_html(title))
        return counter.count

    def links(self, title: str | None = None) -> list[str]:
        return HREF.findall(self.section_html(title) if title else self.html)


def page(site: Path, url: str) -> Page:
    return Page(site / url / "index.html")


@pytest.fixture(scope="module")
def community():
    return load_community(DEFAULT_COMMUNITY_FILE)


@pytest.fixture(scope="module")
def fees(community):
    """The example community's fee file (deposits, 灭火器 rent, the 缴费 page's standards)."""
    return fee_standards(community)


@pytest.fixture(scope="module")
def rules():
    return load_data("renovation_rules.yml")


@pytest.fixture(scope="module")
def cleaning():
    return load_data("cleaning_standards.yml")


def percent(rate: float) -> str:
    return f"{round(rate * 100)}%"


# --- Whole site -------------------------------------------------------------------------------

# The seed's garbling, its company and place names and the web page it was copied from.
FORBIDDEN = [
    "E*CELLENT",
    "20**",
    "镇价服",
    "长城",
    "苏南",
    "锦荣",
    "山水湖畔",
    "江苏",
    "惠州",
    "南京",
    "pmceo",
    "物业经理人",
    "6636",
    "相关文章",
    "编辑:www",
    "接币",
    "撑握",
    "满易",
    "选项择",
    "客户主助理",
    "专用5",
    "本体和里面",
    "介接",
]


def all_pages(site: Path) -> list[Path]:
    return [
        p for p in site.rglob("*.html") if p.name == "index.html" and "<article" in p.read_text()
    ]


@pytest.fixture(scope="module")
def halves(built_site, built_staff_site) -> dict[str, Path]:
    """URL prefix -> built folder: the staff handbook is served at /staff/, the rest is public."""
    return {"/staff/": built_staff_site, "/": built_site}


def served_file(halves: dict[str, Path], url_path: str) -> Path:
    """The built file that answers a URL path, in whichever half serves it."""
    for prefix, root in halves.items():
        if url_path.startswith(prefix):
            target = root / url_path[len(prefix) :]
            if target.is_dir() or url_path.endswith("/"):
                target = target / "index.html"
            return target
    raise AssertionError(url_path)


def every_page(halves) -> list[tuple[str, Path]]:
    """(URL path, file) of every built page of both halves."""
    return [
        (prefix + str(path.relative_to(root)), path)
        for prefix, root in halves.items()
        for path in all_pages(root)
    ]


# The one place the seed's city stays: the regulation its service standards follow, cited with
# its document number as the seed prints it (the year given as 20**).
FEE_REGULATION = "南京市物业服务收费管理暂行规定"
FEE_REGULATION_NUMBER = "镇价服〔20**〕60号文"


def test_no_garbling_company_names_or_web_junk_anywhere(halves):
    pages = every_page(halves)
    assert len(pages) >= 21
    corpus = {
        url: path.read_text(encoding="utf-8")
        .replace(FEE_REGULATION, "")
        .replace(FEE_REGULATION_NUMBER, "")
        for url, path in pages
    }
    for prefix, root in halves.items():
        corpus[prefix + "search/search_index.json"] = (
            (root / "search/search_index.json")
            .read_text(encoding="utf-8")
            .replace("\u200b", "")
            .replace(FEE_REGULATION, "")
            .replace(FEE_REGULATION_NUMBER, "")
        )
    for url, content in corpus.items():
        for bad in FORBIDDEN:
            assert bad not in content, f"{bad!r} in {url}"


def test_every_page_is_fully_rendered_from_the_data(halves):
    for url, path in every_page(halves):
        article = Page(path).html
        for leftover in ("{{", "}}", "{%", "%}", "待补全"):
            assert leftover not in article, f"{leftover!r} left in {url}"


def test_links_to_sections_land_on_existing_headings(halves):
    """Within a half and from the staff handbook into the owner guide (absolute links)."""
    checked = 0
    for base, path in every_page(halves):
        for href in Page(path).links():
            if href.startswith(("http:", "https:", "tel:", "/forms")) or href.endswith(".pdf"):
                continue
            target, _, fragment = urljoin(base, href).partition("#")
            target_file = served_file(halves, target)
            assert target_file.exists(), f"{base}: link {href} to a missing page"
            if fragment:
                checked += 1
                assert unquote(fragment) in Page(target_file).anchors(), (
                    f"{base}: dead anchor {href}"
                )
    assert checked > 20


def test_the_owner_site_never_links_into_the_staff_handbook(built_site):
    """Owners have no way into the staff half: no link, no nav entry, no page of it."""
    assert not (built_site / "staff").exists()
    for path in built_site.rglob("*.html"):
        for href in HREF.findall(path.read_text(encoding="utf-8")):
            resolved = urljoin("/" + str(path.relative_to(built_site)), href)
            assert not resolved.startswith("/staff"), f"{path.relative_to(built_site)}: {href}"


# Text that exists only for staff: how to size up owners, chase fees, help the developer sell,
# the team roster, design defects, the visit quota, the guards' patrol and night duties.
STAFF_ONLY = [
    "业况表",
    "电话催交",
    "拒不交纳",
    "开发与销售",
    "领导小组",
    "设计缺陷",
    "不少于十户",
    "秩序维护班长",
    "每两天",
    "岗位职责",
    "工作内容",
    "考勤",
    "交接班",
    "重要客户",
    "客服主管岗位职责",
]


def test_staff_only_text_is_not_in_the_owner_site(built_site, built_staff_site):
    owner = {
        str(p.relative_to(built_site)): p.read_text(encoding="utf-8")
        for p in built_site.rglob("*")
        if p.suffix in (".html", ".json", ".xml")
    }
    staff = "".join(p.read_text(encoding="utf-8") for p in built_staff_site.rglob("*.html"))
    for text in STAFF_ONLY:
        assert text in staff, f"{text!r} should still be in the staff handbook"
        for path, content in owner.items():
            assert text not in content, f"staff text {text!r} in the owner site: {path}"


def test_every_phone_number_is_a_tap_to_call_link(halves, community):
    """On a phone an owner taps the number to call; no page shows a number that cannot be tapped."""
    number = community["service_phone"]
    dial = "tel:" + re.sub(r"[^0-9+]", "", number)
    shown = 0
    for url, path in every_page(halves):
        article = Page(path).html
        links = re.findall(r'<a href="(tel:[^"]+)">([^<]+)</a>', article)
        assert all(href == dial and text == number for href, text in links), (url, links)
        assert article.count(number) == len(links), f"{url}: a phone number is not a tel: link"
        shown += len(links)
    assert shown >= 10


# --- Home and owner guide ---------------------------------------------------------------------


def test_home_sends_an_owner_to_the_four_tasks_in_one_tap(built_site):
    home = (built_site / "index.html").read_text(encoding="utf-8")
    buttons = re.findall(
        r'<a class="md-button md-button--primary" href="([^"]+)">([^<]+)</a>', home
    )
    assert [href for href, _label in buttons] == [
        "owner/renovation/",
        "owner/move-in/",
        "owner/repairs/",
        "owner/surveys/",
    ]
    labels = "".join(label for _href, label in buttons)
    for task in ("装修", "搬家", "报修", "调查"):
        assert task in labels
    links = Page(built_site / "index.html").links()
    for guide in ("owner/", "owner/complaints/", "owner/fees/", "owner/keys-and-moving-out/"):
        assert guide in links


def test_renovation_procedure_page(built_site, community, rules, fees):
    guide = page(built_site, "owner/renovation")
    assert guide.titles(2) == ["办理流程", "办理地点", "所需资料", "在线申请"]
    for office in community.offices:
        assert office["name"] + "：" + office["location"] in guide.section("办理地点")
    documents = guide.section("所需资料")
    for document in rules["documents"]:
        assert document["name"] in documents
    assert guide.items("所需资料") == len(rules["documents"])
    assert "/forms/renovation/apply" in guide.links("在线申请")
    # The seed has no renovation deposit: it is shown as the community's own.
    deposit = price_text(fees.deposit("renovation").amount)
    assert f"本小区收取装修押金{deposit}元" in guide.section("办理流程")
    # The staff's own organisation stays in the staff handbook.
    assert "项目经理为总负责人" not in guide.text


def test_renovation_rules_page_lists_each_prohibited_change_and_the_hours(
    built_site, community, rules
):
    rules_page = page(built_site, "owner/renovation/rules")
    assert rules_page.titles(2) == ["禁止行为", "户型改动", "施工时间", "相关法律法规"]
    prohibited = rules_page.section("禁止行为")
    titles = rules_page.titles(3)
    for change in rules["prohibited_changes"]:
        assert change["title"] in titles
        # The application form quotes the rule and links here by the title's anchor.
        assert change["title"] in rules_page.anchors()
        assert plain(change["rule"]) in rules_page.section(change["title"])
    assert "报告开发商和有关主管部门" in prohibited
    hours = rules_page.section("施工时间")
    for span in community.renovation["working_hours"].values():
        for period in span:
            assert period in hours
    assert f"{community.renovation['clear_out_time']}后" in hours
    assert community.renovation["clear_out_time"] == "19:00"  # the seed's clear-out time


def test_renovation_site_page_people_materials_waste_patrols(built_site, community):
    site = page(built_site, "owner/renovation/site")
    assert site.titles(2)[:4] == ["装修人员出入与双证", "装修材料进出", "装修垃圾", "装修巡查"]
    people = site.section("装修人员出入与双证")
    assert "双证" in people
    assert "小区次出入口（6号楼旁边）" in people
    assert "19:00后" in people and "清理" in people
    materials = site.section("装修材料进出")
    assert "货运电梯或消防楼梯" in materials
    assert "铝合金、玻璃" in materials and "装修办核实" in materials
    rows = re.findall(r"<tr>(.*?)</tr>", site.section_html("装修材料进出"), re.S)[1:]
    table = {plain(row).split("号楼", 1)[0]: plain(row) for row in rows}
    assert len(table) == len(community.buildings)
    # The seed's routes: 1/4/7 → 3号车场 (12号楼旁), 2/3/5/6 → 1号车场 (6号楼旁), 8–11 → 2号车场 (9号楼旁).
    seed_routes = {
        "3号车场出入口（12号楼旁边）": [1, 4, 7],
        "1号车场出入口（6号楼旁边）": [2, 3, 5, 6],
        "2号车场出入口（9号楼旁边）": [8, 9, 10, 11],
    }
    for entrance, buildings in seed_routes.items():
        for number in buildings:
            assert table[str(number)].endswith(entrance), table[str(number)]
    waste = site.section("装修垃圾")
    for place in ("专用装修垃圾堆放点", "专用装修通道", "装修材料临时堆放点", "建渣"):
        assert place in waste
    patrols = site.section("装修巡查")
    # Who patrols, without the guards' frequency (a staff matter).
    assert "装修办和秩序维护部会定期上门巡查装修房" in patrols and "每两天" not in patrols
    assert "客服助理" in patrols


def test_renovation_services_page(built_site, community, fees):
    services = page(built_site, "owner/renovation/services")
    titles = services.titles(2)
    assert titles[:2] == ["彩条布借用", "灭火器租赁"]
    tarpaulin = services.section("彩条布借用")
    # The seed says only 相应押金: the amount is the community's own.
    deposit = price_text(fees.deposit("tarpaulin").amount)
    assert f"相应押金（本小区为{deposit}元）" in tarpaulin
    assert "退还押金" in tarpaulin
    extinguisher = services.section("灭火器租赁")
    rent = fees.service("extinguisher")
    assert f"本小区的租金为{price_text(rent.unit_price)}元/{rent.unit}" in extinguisher
    # The seed offers extinguishers for rent; it does not oblige anyone to keep one on site.
    assert "应配备" not in extinguisher and "需要灭火器的" in extinguisher
    text = services.text
    for offer in (
        "防尘口罩",
        "防暑茶",
        "材料垫布",
        "租用",
        "购买",
        "蛇皮口袋",
        "装修咨询",
        "效果图",
        "品牌装修公司",
        "品牌装修材料清单",
        "装饰装修讲座",
        "如何选择装修公司",
        "《装修手册》",
        "装修费用",
        "房屋交付时发放给每一位业主",
    ):
        assert offer in text, offer


def test_move_in_page(built_site, community):
    move_in = page(built_site, "owner/move-in")
    assert move_in.titles(2) == [
        "搬家预约",
        "大件物品与车库限高",
        "搬家路线",
        "我们提供的帮助",
        "入住回访",
    ]
    booking = move_in.section("搬家预约")
    assert f"到{community['service_center']}预约" in booking and "电话预约" in booking
    assert community["service_phone"].replace(" ", "") in booking
    for slot in community.move_in["slots"]:
        assert slot["label"] in booking
    assert "水、电、气、电话、宽带" in booking
    large = move_in.section("大件物品与车库限高")
    assert f"本小区为{community.move_in['garage_clearance_m']}米" in large
    assert f"{community.move_in['entrance_posts']}个出入口岗" in large and "圈尺" in large
    assert community.move_in["oversize_post"] in large
    help_given = move_in.section("我们提供的帮助")
    for help_item in ("平推车", "大件物品", "指挥搬家车辆", "开门大吉，出入平安", "上门拜访、祝贺"):
        assert help_item in help_given
    visit = move_in.section("入住回访")
    assert move_in.items("入住回访") == 5
    for topic in (
        "房屋交付手续",
        "房屋装修手续",
        "搬家入住",
        "房屋质量问题的整改结果",
        "整体的服务质量",
    ):
        assert topic in visit
    assert "/forms/surveys/move-in-visit" in move_in.links("入住回访")
    assert "/forms/move-in/" in move_in.links("搬家预约")


def test_service_promise_page_has_the_code_and_the_public_standards(built_site, community):
    promise = page(built_site, "owner/service-promise")
    code = promise.section("SERVICE服务系统")
    for letter, word in zip(
        "SERVICE", ("SMILE", "EXCELLENT", "READY", "VIEWING", "INVITING", "CREATING", "EYE")
    ):
        assert f"{letter}：{word}" in code
    standards = promise.section("公开服务标准")
    assert promise.items("公开服务标准") == 6
    assert f"每年{community['satisfaction']['surveys_per_year']}次征询" in standards
    assert f"满意率{percent(community['satisfaction']['target_rate'])}以上" in standards


def test_surveys_page_links_to_the_three_surveys(built_site, community):
    surveys = page(built_site, "owner/surveys")
    assert surveys.titles(2)[:3] == ["满意度调查", "入住回访", "需求调查"]
    assert "/forms/surveys/satisfaction" in surveys.links("满意度调查")
    assert "/forms/surveys/move-in-visit" in surveys.links("入住回访")
    assert "/forms/surveys/needs" in surveys.links("需求调查")
    satisfaction = surveys.section("满意度调查")
    assert "每年2次" in satisfaction and "90%" in satisfaction
    # The seed publishes the service fee accounts to the owners' committee, not the survey results.
    assert "物业服务费用的收支情况" in satisfaction and "调查结果" not in satisfaction
    for need in ("个性需求", "其他需求", "潜在需求"):
        assert need in surveys.section("需求调查")
    other = surveys.section("其他反映意见的方式")
    assert "走访" in other and "十户" not in other
    assert "../complaints/" in surveys.links("其他反映意见的方式")


def test_repairs_page_how_to_report_and_what_follows(built_site, community):
    repairs = page(built_site, "owner/repairs")
    assert repairs.titles(2) == ["怎么报修", "报修之后", "回访", "不满意怎么办"]
    how = repairs.section("怎么报修")
    assert community["service_phone"].replace(" ", "") in how and "报修电话" in how
    assert f"tel:{re.sub(r'[^0-9]', '', community['service_phone'])}" in repairs.links("怎么报修")
    assert "9号楼1单元一楼" in how
    after = repairs.section("报修之后")
    assert repairs.items("报修之后") == 4
    for step in ("在规定时间内派发《派工单》", "《维修单》", "回执联", "回访"):
        assert step in after, step
    assert "工程报修维修合格率" in repairs.section("回访")
    unhappy = repairs.section("不满意怎么办")
    assert "联合相关部门的主管亲自上门" in unhappy and "重新为您提供服务" in unhappy
    assert "../complaints/" in repairs.links("不满意怎么办")


def test_complaints_page_who_answers_and_how_it_is_followed_up(built_site, community):
    complaints = page(built_site, "owner/complaints")
    assert complaints.titles(2) == [
        "怎么投诉",
        "谁来处理",
        "处理之后的回访",
        "走访",
        "其他反映意见的方式",
    ]
    how = complaints.section("怎么投诉")
    assert "投诉电话" in how and community["service_phone"].replace(" ", "") in how
    who = complaints.section("谁来处理")
    for duty in (
        "及时走访、及时处理",
        "签字",
        "每周",
        "书面汇报给项目管理处负责人",
        "书面直接通知负责的部门承办",
        "请示管理处负责人",
    ):
        assert duty in who, duty
    follow_up = complaints.section("处理之后的回访")
    assert "客户投诉回访率" in follow_up and "首先向您道歉" in follow_up
    visits = complaints.section("走访")
    assert "定期和不定期" in visits and "十户" not in visits and "重要客户" not in visits
    assert "每年2次" in complaints.section("其他反映意见的方式")


def test_fees_page_payment_publication_and_other_services(built_site, community):
    fees = page(built_site, "owner/fees")
    assert fees.titles(2) == [
        "收费公示",
        "收费标准",
        "怎么交费",
        "公共能源费",
        "打字、复印等商务服务",
        "特约服务价目",
        "其他便民服务",
    ]
    assert fees.items("收费公示") == 3
    published = fees.section("收费公示")
    assert "醒目位置公布" in published and "公示服务项目与收费价目" in published
    assert "收支情况" in published
    paying = fees.section("怎么交费")
    for fact in (
        "电话和您预约，再上门收取",
        f"到{community['service_center']}交纳",
        "开具收据",
        "物业管理费",
        "水电费",
        "公共能源费",
        "维修费",
    ):
        assert fact in paying, fact
    # Bills online: 我的办理 (and 房屋认证 for a household not registered yet).
    assert {"/forms/my/start", "/forms/households/claim"} <= set(fees.links("怎么交费"))
    assert "抄录计量表" in fees.section("公共能源费")
    assert "按规定的收费标准收取费用" in fees.section("打字、复印等商务服务")
    assert "#特约服务价目" in fees.links("打字、复印等商务服务")
    others = fees.links("其他便民服务")
    assert "../renovation/services/" in others and "../move-in/#我们提供的帮助" in others


def published_rows(fees_page: Page, title: str) -> list[tuple[str, ...]]:
    """The rows of the table in a section, as the visible text of each cell."""
    body = fees_page.section_html(title)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [tuple(plain(c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)) for row in rows][1:]


def fees_published(site: Path, standards) -> None:
    """Every price of the fee file is on the built 缴费 page, where it belongs, written as the
    permit and the bills write it: the page and the bills read one file and cannot disagree."""
    fees_page = page(site, "owner/fees")
    management = fees_page.section("物业管理费")
    unit_price = price_text(standards.management.unit_price)
    assert f"物业管理费=收费面积×{unit_price}元/㎡·月" in management
    if standards.vacant_rate < 1:
        assert f"空置）的房屋：按标准的{standards.vacant_percent}收取" in management
    assert f"物业管理费由{standards.undelivered_payer}交纳" in management
    if standards.fixed_monthly:
        assert published_rows(fees_page, "按月固定收费") == [
            (item.name, f"{price_text(item.unit_price)}元/月") for item in standards.fixed_monthly
        ]
    assert published_rows(fees_page, "水电费") == [
        (item.name, f"{price_text(item.unit_price)}元/{item.unit}") for item in standards.metered
    ]
    assert published_rows(fees_page, "公共能源费") == [
        (item.name, f"{price_text(item.unit_price)}元/{item.unit}", item.split_label)
        for item in standards.shared
    ]
    assert published_rows(fees_page, "特约服务价目") == [
        (item.name, f"{price_text(item.unit_price)}元/{item.unit}")
        for item in standards.special_services
    ]
    deposits = fees_page.section("押金")
    for deposit in standards.deposits.values():
        if deposit:
            assert f"{deposit.name}：{price_text(deposit.amount)}元" in deposits
    terms = fees_page.section("缴费期限")
    assert f"缴费截止日：每月{standards.due_day}日" in terms and "次日起为逾期" in terms
    assert standards.late_fee_per_day is None and "不收取滞纳金" in terms
    assert "四舍五入到分" in fees_page.section("金额计算")


def test_fees_page_publishes_the_fee_file(built_site, fees):
    fees_published(built_site, fees)
    fees_page = page(built_site, "owner/fees")
    # The shipped fee file is the example: the standards say so where they are published.
    assert fees.example and "示例小区的演示数据" in fees_page.section("收费标准")
    assert "按月收取" in fees_page.section("缴费期限")
    shared = fees_page.section("公共能源费")
    assert "按您家收费面积所占的比例分摊" in shared and "各户平均分摊" not in shared


def test_keys_and_moving_out_page(built_site, community):
    keys = page(built_site, "owner/keys-and-moving-out")
    assert keys.titles(2) == ["留存钥匙与备用钥匙", "办理迁出手续", "入住"]
    assert f"{community['service_center']}与秩序维护部共同封存" in keys.section(
        "留存钥匙与备用钥匙"
    )
    moving_out = keys.section("办理迁出手续")
    assert (
        "9号楼1单元一楼" in moving_out and community["office_hours"].replace(" ", "") in moving_out
    )


# --- Staff handbook ---------------------------------------------------------------------------

SERVICE_CODE = {
    "S：SMILE（微笑）": "主动、真诚、自然、友善的微笑",
    "E：EXCELLENT（卓越）": "庄严使命，做得非常出色",
    "R：READY（准备好）": "忙中有序、紊而不乱",
    "V：VIEWING（看待）": "享受到贵宾礼遇",
    "I：INVITING（邀请）": "愿意随时对其再次提供服务",
    "C：CREATING（创造）": "服务现场改善与服务创新",
    "E：EYE（关注）": "主动发现业主和住户的潜在需求",
}


def test_staff_service_code_has_all_seven_letters_in_full(built_staff_site):
    code = page(built_staff_site, "service-code")
    assert code.titles(2) == list(SERVICE_CODE)
    for title, requirement in SERVICE_CODE.items():
        assert requirement in code.section(title)


def test_renovation_control_points_one_section_each(built_staff_site, community, rules):
    control = page(built_staff_site, "renovation-control")
    assert control.titles(2) == [
        "告知宣传",
        "手续办理",
        "应急措施与成品保护",
        "装修客满服务",
        "装修人员管理",
        "装修材料管理",
        "装修现场管理",
    ]
    assert control.items("法律法规宣传") == 3
    assert control.items("告知相关规定") == 2
    notices = control.section("温馨提示")
    assert control.items("温馨提示") == 3
    for gate in community["notice_gates"]:
        assert gate in notices
    assert "景观阳台" in notices and "对讲机座" in notices and "燃气设施管道" in notices
    offices = control.section("装修手续办理地点")
    for office in community.offices:
        assert office["location"] + office["name"] in offices
    assert control.items("相关资料的准备") == len(rules["documents"])
    assert "装修管理领导小组" in control.section("手续的办理")
    assert "不在质保期范畴" in control.section("装修方案违章装修应急措施")
    assert "电梯轿厢" in control.section("成品保护")
    assert control.items("客户满意关怀服务") == 7
    people = control.section("人员出入证件办理")
    assert control.items("人员出入证件办理") == 4
    assert "双证管理" in people and "6号楼旁边" in people and "19:00后" in people
    materials = control.section("装修材料进出的管理")
    assert control.items("装修材料进出的管理") == 4
    for entrance in community.material_entrances:
        numbers = "、".join(str(n) for n in entrance["buildings"])
        assert (
            f"{numbers}号楼的业主装修材料从{entrance['name']}（{entrance['beside']}旁边）进入"
            in materials
        )
    site = control.section("装修现场管理")
    assert "装修办巡查：每日" in site and "秩序维护部巡查：每两天" in site
    assert "当班秩序维护班长" in site
    assert control.items("违章装修的管理") == 2


def test_patrol_checklist_is_listed_from_the_rules_file(built_staff_site, community, rules):
    """The staff page lists the checklist the patrol form records (one data file), each group
    traced to the control point it comes from, with the community's default 整改 period."""
    control = page(built_staff_site, "renovation-control")
    listed = control.section("巡查检查项")
    groups = rules["patrol_checklist"]
    assert control.items("巡查检查项") == sum(len(group["items"]) for group in groups)
    for group in groups:
        assert group["name"] in listed
        assert control.section(group["section"])  # a heading of the page
        for item in group["items"]:
            assert item["text"] in listed, item["id"]
    assert "规定清场时间后没有未离开小区的装修人员（仅秩序维护部巡查；可记不适用）" in listed
    assert f"默认为巡查日期后{community.renovation['patrol_fix_days']}天" in listed


def test_move_in_control_points(built_staff_site, community):
    control = page(built_staff_site, "move-in-control")
    assert control.titles(2) == ["家私搬运", "入住回访", "客户了解", "需求调查"]
    assert "电话预约" in control.section("搬家预约")
    assert control.items("保持通道畅通，协助客户搬运家私") == 9
    helping = control.section("保持通道畅通，协助客户搬运家私")
    assert f"{community.move_in['entrance_posts']}个出入口岗" in helping
    assert "重要客户由项目经理接待" in helping
    assert control.items("客户回访内容") == 5
    assert control.items("了解我们的客户") == 6
    assert "初步掌握业主的心态" in control.section("了解我们的客户")
    assert control.items("需求调查") == 3


def test_cleaning_page_shows_every_item_of_the_data_file(built_staff_site, cleaning):
    standards = page(built_staff_site, "cleaning-standards")
    assert [f"{g['number']}{g['name']}" for g in cleaning["groups"]] == standards.titles(2)
    for group in cleaning["groups"]:
        for area in group["areas"]:
            section = standards.section(area["name"])
            assert ("★重点区域" in section) == area["key_area"], area["name"]
            assert standards.items(area["name"]) == len(area["items"])
            for item in area["items"]:
                assert plain(item["text"]) in section, item["id"]


def test_cleaning_page_keeps_the_seed_numbers(built_staff_site):
    standards = page(built_staff_site, "cleaning-standards")
    assert "装量不超过烟盖的2/3，烟头应当不超过3个" in standards.section("大堂")
    assert "烟头不超过3个" in standards.section("楼层")
    assert "不超过垃圾篓的2/3且无异味" in standards.section("办公区")
    assert "不超过垃圾篓的2/3且日产日清" in standards.section("公共洗手间")
    assert "同“大堂”" in standards.section("楼层")


def test_customer_service_page(built_staff_site, community):
    service = page(built_staff_site, "customer-service")
    standards = service.section("客户服务标准")
    assert service.items("客户服务标准") == 6
    assert "每年2次征询业主对物业服务的意见" in standards
    assert "满意率90%以上" in standards
    assert f"《{FEE_REGULATION}》五级收费标准" in standards
    assert f"以上标准摘自《{FEE_REGULATION}》" in standards
    # The seed's staffing and fee level, without the garbled document number.
    assert "客服2人" in standards and "五级收费标准" in standards
    assert "我们多努力，让您更满意！" in service.section("品质提升方案的目的")
    gaps = service.section("标识不足与主动服务")
    for sign in ("小区平面图示", "指示导向标识", "警示标识", "道路交通指示标志", "公告栏"):
        assert sign in gaps
    assert service.items("客服主管岗位职责") == 10
    assert service.items("客服主管工作内容") == 9
    assert service.items("物业管理员岗位职责") == 10
    assert service.items("物业管理员工作内容") == 12
    assert "每三天与财务会计核对台帐一次" in service.section("物业管理员工作内容")
    assert "每周一次，不少于十户" in service.section("物业管理员工作内容")


def test_satisfaction_plan_page(built_staff_site):
    plan = page(built_staff_site, "satisfaction-plan")
    assert plan.titles(2) == [
        "为什么要提升满意度",
        "建立良好的服务制度，制定服务修整方案",
        "避免服务不好的印象，弥补服务中的不足",
        "提供超值服务，改善服务标准",
        "新入住业主提升策略",
    ]
    assert "要使业主满意" in plan.text
    assert "首先是道歉" in plan.text
    assert "加强与新入住业主的沟通，建立初期的客户关系" in plan.section("新入住业主提升策略")


# --- The data drives the site -----------------------------------------------------------------


def test_editing_the_community_file_changes_the_site(tmp_path):
    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    # The company's own fee file: other prices, a quarterly cycle, a fixed item.
    fee_raw = yaml.safe_load(fee_file_for(load_community()).read_text(encoding="utf-8"))
    fee_raw.pop("example")
    fee_raw["settings"].update(billing_cycle="quarterly", due_day=10)
    fee_raw["management_fee"].update(unit_price_yuan="2.35", vacant_rate="1")
    fee_raw["fixed_monthly"] = [{"id": "garbage", "name": "生活垃圾处理费", "amount_yuan": "8"}]
    fee_raw["special_services"].append({"id": "fax", "name": "传真", "unit": "页", "price_yuan": 3})
    fee_raw["shared"][1]["split"] = "household"
    fee_raw["deposits"]["tarpaulin"]["amount_yuan"] = "150.5"
    own_fees = tmp_path / "fees.yml"
    own_fees.write_text(yaml.safe_dump(fee_raw, allow_unicode=True), encoding="utf-8")
    raw["fees_file"] = str(own_fees)
    raw["renovation"]["clear_out_time"] = "20:30"
    raw["worker_gate"]["beside"] = "3号楼"
    raw["renovation"]["patrols"][1]["every_days"] = 3
    raw["service_center"] = "客户服务部"
    raw["service_phone"] = "0752-1234 5678"
    raw["name"] = "翠湖苑"
    raw["example"] = False
    for entrance in raw["material_entrances"]:
        entrance["added_buildings"] = [12] if entrance["id"] == "garage-2" else []
    changed = tmp_path / "community.yml"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = build_handbook("mkdocs.yml", tmp_path / "site", COMMUNITY_FILE=str(changed))
    staff = build_handbook("mkdocs-staff.yml", tmp_path / "site-staff", COMMUNITY_FILE=str(changed))
    rules_page = page(out, "owner/renovation/rules")
    assert "20:30后" in rules_page.section("施工时间")
    assert "19:00" not in rules_page.text
    site = page(out, "owner/renovation/site")
    assert "小区次出入口（3号楼旁边）" in site.section("装修人员出入与双证")
    assert "12号楼2号车场出入口（9号楼旁边）（本小区指定）" in site.section("装修材料进出")
    # A company's own files are not the example: no notice on any page.
    assert "示例" not in (out / "index.html").read_text(encoding="utf-8")
    # Its fee file is what the 缴费 page publishes, and the renovation pages' amounts.
    from forms_app.core.fee_standards import read_fee_standards

    own = read_fee_standards(own_fees)
    fees_published(out, own)
    fees_page = page(out, "owner/fees")
    assert "示例" not in fees_page.text
    assert "收费周期：按季收取，每次交3个月的费用。" in fees_page.section("缴费期限")
    assert "各户平均分摊" in fees_page.section("公共能源费")
    assert "2.35元/㎡·月" in fees_page.section("物业管理费") and "同样按标准收取" in fees_page.text
    assert "传真" in fees_page.section("特约服务价目")
    assert ("公共用电分摊", "0.53元/度", "按户均摊") in published_rows(fees_page, "公共能源费")
    assert "相应押金（本小区为150.50元）" in page(out, "owner/renovation/services").text
    assert "tel:075212345678" in page(out, "owner/repairs").links("怎么报修")
    control = page(staff, "renovation-control")
    assert "20:30后" in control.section("人员出入证件办理")
    assert "秩序维护部巡查：每三天对装修房巡查一次" in control.section("装修巡查")
    for root in (out, staff):
        for path in all_pages(root):
            assert "物业服务中心" not in Page(path).text, f"service centre typed in {path}"
            assert "8888" not in Page(path).text, f"phone number typed in {path}"
    assert "<title>翠湖苑 物业服务手册</title>" in (out / "index.html").read_text(encoding="utf-8")
    assert "翠湖苑 员工手册</title>" in (staff / "index.html").read_text(encoding="utf-8")
    shutil.rmtree(out)
    shutil.rmtree(staff)


def test_every_link_into_the_forms_app_reaches_a_page_of_the_app(halves, app):
    """A procedure page never links to a form that does not exist."""
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    urls = app.url_map.bind("localhost")
    linked = {
        href.split("#")[0]
        for _url, path in every_page(halves)
        for href in Page(path).links()
        if href.startswith("/forms/")
    }
    assert {
        "/forms/renovation/apply",
        "/forms/surveys/satisfaction",
        "/forms/surveys/needs",
        "/forms/surveys/move-in-visit",
        "/forms/staff/",
    } <= linked
    for href in linked:
        try:
            urls.match(href, method="GET")
        except (NotFound, MethodNotAllowed):
            pytest.fail(f"{href} is linked from the handbook but the forms app has no such page")


def test_the_forms_app_shows_the_phone_number_as_a_tap_to_call_link(client, community):
    """The online services' footer (every page of the app) dials the same number."""
    html = client.get("/forms/").get_data(as_text=True)
    number = community["service_phone"]
    assert f'<a href="tel:{number.replace(" ", "")}">{number}</a>' in html
    assert html.count(number) == 1
