"""Chinese search: the index is segmented into words, and queries land on the answering section.

The query set lives in ``scripts/bench_search.py`` (the benchmark runs all of it and compares
with the theme's default search); the browser test types the marked subset into the real
search box on a phone.
"""
from __future__ import annotations

import json
import re

import pytest

from handbook_hooks.search_tuning import OWNER_GUIDE_FACTOR, PAGE_TOP_FACTOR
from scripts.bench_search import QUERIES, open_search, ranked_sections
from tests.support.server import PROJECT_ROOT

TERMS_FILE = PROJECT_ROOT / "data" / "search_terms.txt"


@pytest.fixture(scope="module")
def index(built_site) -> dict:
    return json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tokens(index) -> set[str]:
    """Every word of the index, split the way the browser splits it."""
    separator = re.compile(index["config"]["separator"])
    found = set()
    for doc in index["docs"]:
        for field in ("title", "text"):
            found.update(t.lower() for t in separator.split(re.sub(r"<[^>]+>", " ", doc[field])) if t)
    return found


def page_text(index) -> str:
    return "".join(re.sub(r"<[^>]+>", "", d["title"] + d["text"]) for d in index["docs"]).replace("\u200b", "")


def test_index_is_segmented_with_zero_width_spaces(index):
    """jieba marks word boundaries with U+200B; without jieba whole sentences would be one word."""
    assert "\u200b" in index["config"]["separator"] or "\\u200b" in index["config"]["separator"]
    texts = [d["text"] for d in index["docs"] if re.search(r"[\u4e00-\u9fff]{2}", d["text"])]
    assert texts and all("\u200b" in text for text in texts)


def test_domain_words_are_whole_words_of_the_index(index, tokens):
    """Each word of data/search_terms.txt that the handbook uses is one searchable word."""
    text = page_text(index)
    words = [line.split()[0] for line in TERMS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    used = [w for w in words if w in text]
    assert len(used) >= 15, used
    missing = [w for w in used if w not in tokens]
    assert not missing, f"split apart in the index: {missing}"


def test_compound_words_are_split_so_their_parts_are_found(tokens):
    """'岗位职责' as one word would hide '职责'; '装修垃圾' would capture every '装修…' query."""
    assert {"岗位", "职责", "装修", "垃圾"} <= tokens
    assert "岗位职责" not in tokens and "装修垃圾" not in tokens


def test_sections_have_readable_chinese_anchors(index, built_site):
    locations = {d["location"] for d in index["docs"]}
    for location in ["owner/renovation/rules/#禁止行为", "owner/renovation/rules/#施工时间",
                     "owner/renovation/services/#彩条布借用", "staff/cleaning-standards/#电梯轿厢"]:
        assert location in locations, location
        page, anchor = location.split("#")
        html = (built_site / page / "index.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in html


def test_index_weights_favour_sections_and_the_owner_guide(index):
    boosts = {d["location"]: d.get("boost", 1.0) for d in index["docs"]}
    assert boosts["owner/renovation/rules/#施工时间"] == OWNER_GUIDE_FACTOR
    assert boosts["owner/renovation/rules/"] == pytest.approx(OWNER_GUIDE_FACTOR * PAGE_TOP_FACTOR)
    assert boosts["staff/cleaning-standards/#电梯轿厢"] == 1.0
    assert boosts["staff/cleaning-standards/"] == pytest.approx(PAGE_TOP_FACTOR)


BROWSER_QUERIES = [query for query in QUERIES if query.in_browser_test]


@pytest.mark.browser
def test_first_result_is_the_section_that_answers(phone, live_server):
    """Owner and staff questions typed on a phone: the first result is the answering section."""
    assert 10 <= len(BROWSER_QUERIES) <= 15
    open_search(phone, f"{live_server.url}/")
    wrong = {}
    for query in BROWSER_QUERIES:
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
    assert phone.evaluate("document.querySelector(':target') && document.querySelector(':target').id") == "禁止行为"
    top = phone.evaluate("document.getElementById('禁止行为').getBoundingClientRect().top")
    assert 0 <= top < 740
