"""Search benchmark: do realistic owner and staff queries land on the section that answers them?

Builds the handbook twice into temporary folders — with our mkdocs.yml (jieba user dictionary,
our separator) and with mkdocs-material's default search settings (a plain ``- search``
plugin) — serves each on 127.0.0.1, types every query into the real Material search box in
headless Chromium and prints hit@1 and hit@3 side by side, then the misses.

    .venv/bin/python scripts/bench_search.py [--show N]

A hit is the expected section (page path + heading anchor) among the first 1 or 3 results, in
the order the search dialog shows them.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]


@dataclass(frozen=True)
class Query:
    """What a person types, and the sections that answer it ("page/#anchor")."""

    text: str
    answers: tuple[str, ...]
    who: str = "业主"
    in_browser_test: bool = False


def q(text: str, *answers: str, who: str = "业主", test: bool = False) -> Query:
    return Query(text, answers, who, test)


RULES = "owner/renovation/rules/"
SITE = "owner/renovation/site/"
SERVICES = "owner/renovation/services/"
RENOVATION = "owner/renovation/"
MOVE_IN = "owner/move-in/"
SURVEYS = "owner/surveys/"
CLEANING = "staff/cleaning-standards/"
CUSTOMER = "staff/customer-service/"
CONTROL = "staff/renovation-control/"
MOVE_IN_CONTROL = "staff/move-in-control/"

# Owners ask in their words; staff look up standards and duties. Where the owner guide and the
# staff handbook both answer, an owner's question expects the owner page.
QUERIES: list[Query] = [
    q("装修几点结束", f"{RULES}#施工时间"),
    q("19:00 清场", f"{RULES}#施工时间", f"{SITE}#装修人员出入与双证", test=True),
    q("周末可以装修吗", f"{RULES}#施工时间"),
    q("彩条布押金", f"{SERVICES}#彩条布借用", test=True),
    q("材料从哪个门进", f"{SITE}#装修材料进出", test=True),
    q("7号楼材料", f"{SITE}#装修材料进出", test=True),
    q("双证", f"{SITE}#装修人员出入与双证", f"{CONTROL}#人员出入证件办理", test=True),
    q("装修工人从哪里进出", f"{SITE}#装修人员出入与双证"),
    q("灭火器租赁", f"{SERVICES}#灭火器租赁", test=True),
    q("闭水试验", f"{RENOVATION}#所需资料", test=True),
    q("装修要带什么资料", f"{RENOVATION}#所需资料"),
    q("装修手续在哪里办", f"{RENOVATION}#办理地点"),
    q("装修押金多少", f"{RENOVATION}#办理流程"),
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
    q("电梯轿厢 清洁标准", f"{CLEANING}#电梯轿厢", who="员工", test=True),
    q("烟头", f"{CLEANING}#大堂", f"{CLEANING}#楼层", who="员工", test=True),
    q("公共洗手间", f"{CLEANING}#公共洗手间", who="员工"),
    q("天面 青苔", f"{CLEANING}#天面", who="员工"),
    q("地下室排水沟", f"{CLEANING}#地下室", who="员工"),
    q("满意率", f"{CUSTOMER}#客户服务标准", "owner/service-promise/#公开服务标准",
      f"{SURVEYS}#满意度调查", who="员工", test=True),
    q("客服主管职责", f"{CUSTOMER}#客服主管岗位职责", who="员工", test=True),
    q("物业管理员工作内容", f"{CUSTOMER}#物业管理员工作内容", who="员工"),
    q("成品保护", f"{CONTROL}#成品保护", f"{SITE}#公共部位成品保护", who="员工"),
    q("建渣清运", f"{SITE}#装修垃圾", f"{CONTROL}#装修现场管理", who="员工"),
    q("装修管理领导小组", f"{CONTROL}#手续的办理", f"{RENOVATION}#办理流程", who="员工"),
    q("客户回访内容", f"{MOVE_IN_CONTROL}#客户回访内容", who="员工"),
    q("服务修整", f"{'staff/satisfaction-plan/'}#建立良好的服务制度制定服务修整方案", who="员工"),
    q("微笑服务", "staff/service-code/#ssmile微笑", "owner/service-promise/#service-服务系统",
      who="员工"),
    # Added after tuning, to check the tuning holds for queries it was not fitted to.
    q("装修时间", f"{RULES}#施工时间", test=True),
    q("节假日施工", f"{RULES}#施工时间"),
    q("铝合金 玻璃", f"{SITE}#装修材料进出", f"{RULES}#改变房屋外立面"),
    q("车库限高", f"{MOVE_IN}#大件物品与车库限高"),
    q("装修咨询", f"{SERVICES}#装修咨询与效果图"),
    q("楼层垃圾桶", f"{CLEANING}#楼层", who="员工"),
    q("交接班记录", f"{CUSTOMER}#客服主管工作内容", who="员工"),
    q("催交物业费", f"{CUSTOMER}#物业管理员岗位职责", f"{CUSTOMER}#物业管理员工作内容", who="员工"),
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
    """"page/#anchor" of a result link (drops the host, the highlight query and base path)."""
    parts = urlsplit(href)
    path = unquote(parts.path)
    path = path[len(base_path):] if path.startswith(base_path) else path.lstrip("/")
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


def build_site(config: Path, out: Path) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "--quiet",
         "-f", str(config), "--site-dir", str(out)],
        cwd=ROOT, check=True, stderr=subprocess.DEVNULL,
    )


# Our search tuning on top of the theme: the index weights and the query segmentation fix.
SEARCH_TUNING_HOOK = "handbook_hooks/search_tuning.py"
SEARCH_TUNING_JS = "assets/javascripts/search-segment.js"


@contextmanager
def default_search_config():
    """Our mkdocs.yml with the theme's default search: a plain ``- search`` plugin, without
    our jieba dictionary, separator, index weights and query segmentation fix."""
    from mkdocs.utils.yaml import yaml_load

    with open(ROOT / "mkdocs.yml", encoding="utf-8") as handle:
        ours = yaml_load(handle)
    overrides = {
        "INHERIT": "mkdocs.yml",
        "plugins": ["search"],
        "hooks": [h for h in ours.get("hooks", []) if h != SEARCH_TUNING_HOOK],
        "extra_javascript": [j for j in ours.get("extra_javascript", []) if j != SEARCH_TUNING_JS],
    }
    fd, name = tempfile.mkstemp(prefix=".bench-default-", suffix=".yml", dir=ROOT)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(overrides, handle, ensure_ascii=False)  # JSON is valid YAML
        yield Path(name)
    finally:
        os.unlink(name)


@contextmanager
def serve(directory: Path):
    """A static file server for a built site on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args):
        pass


def hits(ranked: list[str], query: Query, k: int) -> bool:
    return any(section in query.answers for section in ranked[:k])


def run(queries: list[Query], show: int) -> dict:
    """Build both variants, run every query in each, return {variant: [(query, ranked)]}."""
    from playwright.sync_api import sync_playwright

    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp, default_search_config() as default:
        variants = {"本项目配置": ROOT / "mkdocs.yml", "主题默认": default}
        for name, config in variants.items():
            out = Path(tmp) / f"site-{len(results)}"
            build_site(config, out)
            with serve(out) as url, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                page.route("**/*", lambda route: route.continue_()
                           if urlsplit(route.request.url).hostname == "127.0.0.1" else route.abort())
                open_search(page, url)
                results[name] = [(query, ranked_sections(page, query.text)[:show]) for query in queries]
                browser.close()
    return results


def report(results: dict) -> str:
    names = list(results)
    total = len(next(iter(results.values())))
    lines = [f"查询数: {total}", "",
             f"{'指标':<8}" + "".join(f"{name:>14}" for name in names)]
    for k in (1, 3):
        cells = []
        for name in names:
            count = sum(hits(ranked, query, k) for query, ranked in results[name])
            cells.append(f"{count:>3}/{total} {count / total:6.1%}")
        lines.append(f"hit@{k:<4}" + "".join(f"{cell:>16}" for cell in cells))
    for name in names:
        misses = [(query, ranked) for query, ranked in results[name] if not hits(ranked, query, 1)]
        lines += ["", f"{name} 未命中 (hit@1): {len(misses)}"]
        for query, ranked in misses:
            first = ranked[0] if ranked else "(无结果)"
            lines.append(f"  [{query.who}] {query.text!r}: 期望 {' | '.join(query.answers)}; 第一条 {first}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=3, help="results kept per query")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    results = run(QUERIES, max(args.show, 3))
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(
            {name: [{"query": query.text, "answers": query.answers, "ranked": ranked}
                    for query, ranked in rows] for name, rows in results.items()},
            ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
