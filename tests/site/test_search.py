"""Chinese search in both halves: each index is segmented into words, and queries land on the
answering section.

The query sets live in ``scripts/bench_search.py`` (the benchmark runs all of them and compares
with the theme's default search); the browser test types the marked subset into the real
search box on a phone, owners' queries in the owner site, staff queries in the staff handbook.
"""

from __future__ import annotations

import json
import re

import pytest

from handbook_hooks.search_tuning import PAGE_TOP_FACTOR
from tests.conftest import HANDBOOK_READER
from tests.support.search import (
    HALF_PATHS,
    QUERIES,
    open_search,
    ranked_sections,
    wait_for_search,
)
from tests.support.server import PROJECT_ROOT
from tests.support.staff import login

TERMS_FILE = PROJECT_ROOT / "data" / "search_terms.txt"


def read_index(site) -> dict:
    return json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def owner_index(built_site) -> dict:
    return read_index(built_site)


@pytest.fixture(scope="module")
def staff_index(built_staff_site) -> dict:
    return read_index(built_staff_site)


@pytest.fixture(scope="module", params=["owner", "staff"])
def index(request) -> dict:
    """Each half's own search index."""
    return request.getfixturevalue(f"{request.param}_index")


def words(index) -> set[str]:
    """Every word of an index, split the way the browser splits it."""
    separator = re.compile(index["config"]["separator"])
    found = set()
    for doc in index["docs"]:
        for field in ("title", "text"):
            found.update(
                t.lower() for t in separator.split(re.sub(r"<[^>]+>", " ", doc[field])) if t
            )
    return found


@pytest.fixture(scope="module")
def tokens(owner_index, staff_index) -> set[str]:
    """The words of both halves' indexes."""
    return words(owner_index) | words(staff_index)


def page_text(*indexes) -> str:
    return "".join(
        re.sub(r"<[^>]+>", "", d["title"] + d["text"]) for index in indexes for d in index["docs"]
    ).replace("\u200b", "")


def test_both_halves_search_with_the_same_settings(owner_index, staff_index):
    """jieba dictionary, separator and field weights come from the one mkdocs.yml."""
    assert owner_index["config"] == staff_index["config"]


def test_index_is_segmented_with_zero_width_spaces(index):
    """jieba marks word boundaries with U+200B; without jieba whole sentences would be one word."""
    assert "\u200b" in index["config"]["separator"] or "\\u200b" in index["config"]["separator"]
    texts = [d["text"] for d in index["docs"] if re.search(r"[\u4e00-\u9fff]{2}", d["text"])]
    assert texts and all("\u200b" in text for text in texts)


def test_domain_words_are_whole_words_of_the_index(owner_index, staff_index, tokens):
    """Each word of data/search_terms.txt that the handbook uses is one searchable word."""
    text = page_text(owner_index, staff_index)
    words = [
        line.split()[0]
        for line in TERMS_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    used = [w for w in words if w in text]
    assert len(used) >= 15, used
    missing = [w for w in used if w not in tokens]
    assert not missing, f"split apart in the index: {missing}"


def test_compound_words_are_split_so_their_parts_are_found(tokens):
    """'岗位职责' as one word would hide '职责'; '装修垃圾' would capture every '装修…' query."""
    assert {"岗位", "职责", "装修", "垃圾"} <= tokens
    assert "岗位职责" not in tokens and "装修垃圾" not in tokens


@pytest.mark.parametrize(
    "half, location",
    [
        ("owner", "owner/renovation/rules/#禁止行为"),
        ("owner", "owner/renovation/rules/#施工时间"),
        ("owner", "owner/renovation/services/#彩条布借用"),
        ("owner", "owner/repairs/#不满意怎么办"),
        ("staff", "cleaning-standards/#电梯轿厢"),
        ("staff", "customer-service/#客服主管岗位职责"),
    ],
)
def test_sections_have_readable_chinese_anchors(request, half, location):
    site = request.getfixturevalue("built_site" if half == "owner" else "built_staff_site")
    assert location in {d["location"] for d in read_index(site)["docs"]}
    page, anchor = location.split("#")
    html = (site / page / "index.html").read_text(encoding="utf-8")
    assert f'id="{anchor}"' in html


def test_owner_index_holds_owner_pages_only(owner_index):
    """No owner query can return staff text: the owner site's index has none."""
    locations = {d["location"].split("#")[0] for d in owner_index["docs"]}
    assert locations and all(loc == "" or loc.startswith("owner/") for loc in locations), locations
    assert "owner/repairs/" in locations and "owner/complaints/" in locations


def test_index_weights_favour_sections_over_page_tops(owner_index, staff_index):
    owner = {d["location"]: d.get("boost", 1.0) for d in owner_index["docs"]}
    staff = {d["location"]: d.get("boost", 1.0) for d in staff_index["docs"]}
    assert owner["owner/renovation/rules/#施工时间"] == 1.0
    assert owner["owner/renovation/rules/"] == pytest.approx(PAGE_TOP_FACTOR)
    assert staff["cleaning-standards/#电梯轿厢"] == 1.0
    assert staff["cleaning-standards/"] == pytest.approx(PAGE_TOP_FACTOR)


def test_query_segmentation_is_in_place_before_the_theme_sets_up_search(built_site):
    """search-segment.js learns the index's words from the worker's setup message: loaded after
    the theme's bundle, a fast index fetch could set the worker up before it is listening."""
    for page in built_site.rglob("*.html"):
        scripts = re.findall(r'<script src="[^"]*?([^"/]+)"', page.read_text(encoding="utf-8"))
        bundle = next(i for i, name in enumerate(scripts) if name.startswith("bundle."))
        assert scripts.index("search-segment.js") < bundle, page


BROWSER_QUERIES = [query for query in QUERIES if query.in_browser_test]


@pytest.mark.browser
def test_first_result_is_the_section_that_answers(phone, live_server):
    """Owner and staff questions typed on a phone, each in its half's search box (the staff
    member logged in): the first result is the answering section."""
    assert 10 <= len(BROWSER_QUERIES) <= 18
    login(phone, HANDBOOK_READER, base_url=live_server.url)
    wrong = {}
    for half, path in HALF_PATHS.items():
        open_search(phone, live_server.url + path)
        for query in (query for query in BROWSER_QUERIES if query.who == half):
            ranked = ranked_sections(phone, query.text)
            if not ranked or ranked[0] not in query.answers:
                wrong[query.text] = {"first": ranked[:1], "expected": query.answers}
    assert not wrong, wrong


@pytest.mark.browser
def test_search_finds_a_word_while_it_is_being_typed(phone, live_server):
    """'彩条' is not yet a word of the index, but starts one: search it as a prefix."""
    open_search(phone, f"{live_server.url}/owner/")
    assert ranked_sections(phone, "彩条")[0] == "owner/renovation/services/#彩条布借用"
    assert ranked_sections(phone, "彩条布")[0] == "owner/renovation/services/#彩条布借用"


@pytest.mark.browser
def test_chinese_anchor_opens_its_section(phone, live_server):
    phone.goto(f"{live_server.url}/owner/renovation/rules/#禁止行为")
    assert (
        phone.evaluate("document.querySelector(':target') && document.querySelector(':target').id")
        == "禁止行为"
    )
    top = phone.evaluate("document.getElementById('禁止行为').getBoundingClientRect().top")
    assert 0 <= top < 740


@pytest.mark.browser
def test_search_answers_text_from_an_input_method_without_key_events(live_server, phone):
    """Pinyin composed on a phone (iOS WeChat) arrives as composition and input events, never
    as key presses: the query still runs."""
    open_search(phone, live_server.url + "/")
    box = phone.locator("input.md-search__input")
    box.focus()
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Input.imeSetComposition", {"text": "bao xiu", "selectionStart": 7, "selectionEnd": 7})
    cdp.send("Input.insertText", {"text": "报修"})
    assert box.input_value() == "报修"
    wait_for_search(phone, ready=False)
    links = phone.locator(".md-search-result__link").evaluate_all("els => els.map(e => e.href)")
    assert any("owner/repairs/" in link for link in links)
