"""Search as a person does it: the query sets and a driver for Material's search box in Chromium.

Shared by the search tests (tests/site) and the benchmark (scripts/bench_search.py), so both
ask the same questions the same way. The tuning set (``QUERIES``) is what the search settings
were tuned on; the owner questions (``OWNER_QUESTIONS``) are kept apart from tuning.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

OWNER, STAFF = "业主", "员工"
# Where each half is served; answers and results are URL paths below the host.
HALF_PATHS = {OWNER: "/", STAFF: "/staff/"}


@dataclass(frozen=True)
class Query:
    """What a person types, and the sections that answer it ("page/#anchor"); owners search
    the owner site, staff the staff handbook."""

    text: str
    answers: tuple[str, ...]
    who: str = OWNER
    in_browser_test: bool = False


def q(text: str, *answers: str, who: str = OWNER, test: bool = False) -> Query:
    return Query(text, answers, who, test)


RULES = "owner/renovation/rules/"
SITE = "owner/renovation/site/"
SERVICES = "owner/renovation/services/"
RENOVATION = "owner/renovation/"
MOVE_IN = "owner/move-in/"
SURVEYS = "owner/surveys/"
REPAIRS = "owner/repairs/"
COMPLAINTS = "owner/complaints/"
FEES = "owner/fees/"
KEYS = "owner/keys-and-moving-out/"
CLEANING = "staff/cleaning-standards/"
CUSTOMER = "staff/customer-service/"
CONTROL = "staff/renovation-control/"
MOVE_IN_CONTROL = "staff/move-in-control/"

# The tuning set. Owners ask in their words; staff look up standards and duties. Each half
# answers from its own pages only (an answer in the other half cannot be a hit).
QUERIES: list[Query] = [
    q("装修几点结束", f"{RULES}#施工时间"),
    q("19:00 清场", f"{RULES}#施工时间", f"{SITE}#装修人员出入与双证", test=True),
    q("周末可以装修吗", f"{RULES}#施工时间"),
    # The 缴费 page publishes every deposit with its amount (the fee file): an answer too.
    q("彩条布押金", f"{SERVICES}#彩条布借用", f"{FEES}#押金", test=True),
    q("材料从哪个门进", f"{SITE}#装修材料进出", test=True),
    q("7号楼材料", f"{SITE}#装修材料进出", test=True),
    q("双证", f"{SITE}#装修人员出入与双证", f"{CONTROL}#人员出入证件办理", test=True),
    q("装修工人从哪里进出", f"{SITE}#装修人员出入与双证"),
    q("灭火器租赁", f"{SERVICES}#灭火器租赁", test=True),
    q("闭水试验", f"{RENOVATION}#所需资料", test=True),
    q("装修要带什么资料", f"{RENOVATION}#所需资料"),
    q("装修手续在哪里办", f"{RENOVATION}#办理地点"),
    q("装修押金多少", f"{RENOVATION}#办理流程", f"{FEES}#押金"),
    q("承重墙能不能拆", f"{RULES}#改动房屋主体或承重结构"),
    q("改外立面", f"{RULES}#改变房屋外立面"),
    q("装修垃圾放哪里", f"{SITE}#装修垃圾"),
    q("装修巡查", f"{SITE}#装修巡查"),
    q("防暑茶", f"{SERVICES}#防尘口罩与防暑茶"),
    q("蛇皮口袋", f"{SERVICES}#材料垫布与蛇皮口袋"),
    q("搬家预约", f"{MOVE_IN}#搬家预约"),
    q("搬家 大件", f"{MOVE_IN}#大件物品与车库限高", test=True),
    q("平推车", f"{MOVE_IN}#我们提供的帮助"),
    q("入住回访", f"{MOVE_IN}#入住回访", f"{SURVEYS}#入住回访", test=True),
    q("满意度调查", f"{SURVEYS}#满意度调查"),
    q("需求调查", f"{SURVEYS}#需求调查", f"{MOVE_IN_CONTROL}#需求调查"),
    q("电梯轿厢 清洁标准", f"{CLEANING}#电梯轿厢", who=STAFF, test=True),
    q("烟头", f"{CLEANING}#大堂", f"{CLEANING}#楼层", who=STAFF, test=True),
    q("公共洗手间", f"{CLEANING}#公共洗手间", who=STAFF),
    q("天面 青苔", f"{CLEANING}#天面", who=STAFF),
    q("地下室排水沟", f"{CLEANING}#地下室", who=STAFF),
    q(
        "满意率",
        f"{CUSTOMER}#客户服务标准",
        "owner/service-promise/#公开服务标准",
        f"{SURVEYS}#满意度调查",
        who=STAFF,
        test=True,
    ),
    q("客服主管职责", f"{CUSTOMER}#客服主管岗位职责", who=STAFF, test=True),
    q("物业管理员工作内容", f"{CUSTOMER}#物业管理员工作内容", who=STAFF),
    q("成品保护", f"{CONTROL}#成品保护", f"{SITE}#公共部位成品保护", who=STAFF),
    q("建渣清运", f"{SITE}#装修垃圾", f"{CONTROL}#装修现场管理", f"{CONTROL}#装修巡查", who=STAFF),
    q("装修管理领导小组", f"{CONTROL}#手续的办理", f"{RENOVATION}#办理流程", who=STAFF),
    q("客户回访内容", f"{MOVE_IN_CONTROL}#客户回访内容", who=STAFF),
    q("服务修整", f"{'staff/satisfaction-plan/'}#建立良好的服务制度制定服务修整方案", who=STAFF),
    q(
        "微笑服务",
        "staff/service-code/#ssmile微笑",
        "owner/service-promise/#service-服务系统",
        who=STAFF,
    ),
    # Added after tuning, to check the tuning holds for queries it was not fitted to.
    q("装修时间", f"{RULES}#施工时间", test=True),
    q("节假日施工", f"{RULES}#施工时间"),
    q("铝合金 玻璃", f"{SITE}#装修材料进出", f"{RULES}#改变房屋外立面"),
    q("车库限高", f"{MOVE_IN}#大件物品与车库限高"),
    q("装修咨询", f"{SERVICES}#装修咨询与效果图"),
    q("楼层垃圾桶", f"{CLEANING}#楼层", who=STAFF),
    q("交接班记录", f"{CUSTOMER}#客服主管工作内容", who=STAFF),
    q("催交物业费", f"{CUSTOMER}#物业管理员岗位职责", f"{CUSTOMER}#物业管理员工作内容", who=STAFF),
    # The owner pages written from the customer-service duties.
    q("报修", f"{REPAIRS}#怎么报修", test=True),
    q("投诉电话", f"{COMPLAINTS}#怎么投诉", test=True),
    q("派工单", f"{REPAIRS}#报修之后"),
    q("物业费", f"{FEES}#怎么交费"),
    q("复印", f"{FEES}#打字复印等商务服务"),
    q("备用钥匙", f"{KEYS}#留存钥匙与备用钥匙"),
    q("迁出手续", f"{KEYS}#办理迁出手续"),
]

HOME_CONTACT = (
    "#联系物业服务中心",
    "owner/#联系我们",
    "owner/service-promise/#联系我们",
    f"{RENOVATION}#办理地点",
)

# Held out: questions written the way owners ask them, before any tuning against them; never
# used to tune the search settings. Only owner pages can answer (the owner site has no other).
OWNER_QUESTIONS: list[Query] = [
    q("装修工人几点要走", f"{RULES}#施工时间", f"{SITE}#装修人员出入与双证"),
    q("4号楼材料从哪进", f"{SITE}#装修材料进出"),
    q("彩条布怎么借", f"{SERVICES}#彩条布借用"),
    q("家里东西坏了怎么报修", f"{REPAIRS}#怎么报修"),
    q("投诉找谁", f"{COMPLAINTS}#怎么投诉", f"{COMPLAINTS}#谁来处理"),
    q("报修电话是多少", f"{REPAIRS}#怎么报修"),
    q("修完了不满意怎么办", f"{REPAIRS}#不满意怎么办"),
    q("物业费怎么交", f"{FEES}#怎么交费"),
    q("物业费能上门收吗", f"{FEES}#怎么交费"),
    q("哪里可以复印", f"{FEES}#打字复印等商务服务"),
    q("搬走要办什么手续", f"{KEYS}#办理迁出手续"),
    q("备用钥匙可以放在物业吗", f"{KEYS}#留存钥匙与备用钥匙"),
    q("装修押金要交多少", f"{RENOVATION}#办理流程", f"{FEES}#押金"),
    q("星期天能装修吗", f"{RULES}#施工时间"),
    q("搬家要提前预约吗", f"{MOVE_IN}#搬家预约"),
    q("家具太高进不了车库怎么办", f"{MOVE_IN}#大件物品与车库限高"),
    q("装修垃圾扔哪里", f"{SITE}#装修垃圾"),
    q("灭火器在哪租", f"{SERVICES}#灭火器租赁"),
    q("可以打掉承重墙吗", f"{RULES}#改动房屋主体或承重结构"),
    q("去哪里办装修手续", f"{RENOVATION}#办理地点"),
    q("装修需要准备什么资料", f"{RENOVATION}#所需资料"),
    q("装修工人进小区要办什么证", f"{SITE}#装修人员出入与双证"),
    q("报修以后有人回访吗", f"{REPAIRS}#回访", f"{REPAIRS}#报修之后"),
    q("水电气怎么开通", f"{MOVE_IN}#搬家预约"),
    q("公共水电费怎么分摊", f"{FEES}#公共能源费"),
    q("收费标准在哪里看", f"{FEES}#收费公示", f"{FEES}#收费标准"),
    q("物业办公时间", *HOME_CONTACT),
    q("怎么选装修公司", f"{SERVICES}#装修讲座与指引", f"{SERVICES}#品牌装修公司与材料清单"),
    q("搬家能借推车吗", f"{MOVE_IN}#我们提供的帮助"),
    q("物业会上门检查装修吗", f"{SITE}#装修巡查"),
    q("投诉了有没有人回访", f"{COMPLAINTS}#处理之后的回访"),
    q("窗户可以换成铝合金的吗", f"{RULES}#改变房屋外立面", f"{SITE}#装修材料进出"),
]


# The search dialog's result groups, each a list of (href, score) in display order.
READ_RESULTS = """() => [...document.querySelectorAll('.md-search-result__item')].slice(0, 5)
  .map(li => [...li.querySelectorAll('a.md-search-result__link')].map(a => [
     a.getAttribute('href'),
     parseFloat(a.querySelector('article').dataset.mdScore)]))"""
SEARCH_STATE = """() => {
  const t = JSON.parse(document.getElementById('__config').textContent).translations;
  return [document.querySelector('.md-search-result__meta').textContent.trim(),
          t['search.result.placeholder']];
}"""


def wait_for_search(page, ready: bool, timeout: float = 15.0) -> None:
    """Wait until the dialog shows the placeholder (ready=True) or a query's outcome.

    Polls from Python: the app's Content-Security-Policy forbids the eval that Playwright's
    wait_for_function needs.
    """
    deadline = time.monotonic() + timeout
    while True:
        meta, placeholder = page.evaluate(SEARCH_STATE)
        if (meta == placeholder) == ready:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"search dialog still shows {meta!r}")
        time.sleep(0.02)


def section_of(href: str, base_path: str) -> str:
    """ "page/#anchor" of a result link (drops the host, the highlight query and base path)."""
    parts = urlsplit(href)
    path = unquote(parts.path)
    path = path[len(base_path) :] if path.startswith(base_path) else path.lstrip("/")
    return path + (f"#{unquote(parts.fragment)}" if parts.fragment else "")


def open_search(page, url: str) -> None:
    """Load a page and open the search dialog once its index is ready."""
    page.goto(url)
    # Phones open search with the header's magnifier; wide screens show the box itself.
    page.locator("label[for=__search]:visible, input.md-search__input:visible").first.click()
    wait_for_search(page, ready=True)


def ranked_sections(page, text: str, base_path: str = "/") -> list[str]:
    """Type a query into Material's search box; the sections it shows, best first."""
    box = page.locator("input.md-search__input")
    box.fill("")
    box.press("End")
    wait_for_search(page, ready=True)
    box.fill(text)
    box.press("End")  # the search box reacts to key events, not to fill() alone
    wait_for_search(page, ready=False)
    ranked = []
    for group in page.evaluate(READ_RESULTS):
        # Within a page's group the best-scoring section is shown as the answer.
        for href, _score in sorted(group, key=lambda item: -item[1]):
            ranked.append(section_of(href, base_path))
    return ranked
