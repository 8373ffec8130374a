"""The printable owner handbook: one page holding the whole owner guide, and its PDF."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from mkdocs.config import load_config

from handbook_hooks.pdf import PdfUnavailable, build_pdf
from handbook_hooks.print_handbook import PRINT_PAGE, chapter_id
from tests.support.server import PROJECT_ROOT

CHAPTER = re.compile(
    r'<h2 class="print-chapter" id="(?P<id>[^"]+)">(?P<title>.*?)<a class="headerlink"'
)


def owner_pages_in_nav_order() -> list[str]:
    """Source paths of the owner guide's pages, in navigation order, the print page excluded."""

    def walk(items):
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            if isinstance(value, list):
                yield from walk(value)
            else:
                yield value

    nav = load_config(str(PROJECT_ROOT / "mkdocs.yml")).nav
    return [p for p in walk(nav) if p.startswith("owner/") and p != PRINT_PAGE]


@pytest.fixture(scope="module")
def print_html(built_site) -> str:
    return (built_site / "owner/print/index.html").read_text(encoding="utf-8")


def test_print_page_holds_every_owner_page_in_nav_order(print_html):
    chapters = [m.group("id") for m in CHAPTER.finditer(print_html)]
    expected = [chapter_id(src) for src in owner_pages_in_nav_order()]
    assert len(expected) >= 6
    assert chapters == expected


def test_print_page_content_is_the_pages_content_rendered_from_data(print_html, built_site):
    """Rules come through the data hook (19:00, deposits, entrances) and no Jinja is left over."""
    article = print_html[print_html.index("<article") : print_html.index("</article>")]
    for text in ["19:00", "双证", "彩条布", "3号车场出入口", "闭水", "装修管理服务协议"]:
        assert text in article, text
    assert "{{" not in article and "{%" not in article
    # Every paragraph of the rules page is in the handbook.
    rules = (built_site / "owner/renovation/rules/index.html").read_text(encoding="utf-8")
    rules_article = rules[rules.index("<article") : rules.index("</article>")]
    for paragraph in re.findall(r"<p>(.*?)</p>", rules_article, re.DOTALL):
        assert paragraph in article


def test_links_between_chapters_stay_inside_the_handbook(print_html):
    article = print_html[print_html.index("<article") : print_html.index("</article>")]
    ids = set(re.findall(r'id="([^"]+)"', article))
    for href in re.findall(r'<a [^>]*href="([^"]+)"', article):
        if href.startswith("#"):
            assert href[1:] in ids, f"broken in-page link {href}"
        else:
            # Only the PDF, the forms app, phone numbers and pages outside the owner guide remain.
            assert href.endswith("handbook.pdf") or href.startswith(
                ("/forms", "tel:", "./", "../")
            ), href


def test_print_page_is_not_in_search(built_site):
    """Search must land on the real pages, not on their copy in the handbook."""
    index = json.loads((built_site / "search/search_index.json").read_text(encoding="utf-8"))
    assert not [d["location"] for d in index["docs"] if d["location"].startswith("owner/print/")]


def test_print_page_links_to_the_pdf(print_html):
    assert re.search(r'<a [^>]*href="\.\./handbook\.pdf"', print_html)


@pytest.mark.browser
def test_printing_shows_only_the_handbook(desktop, live_server):
    """In print media: no header, navigation or search; 12 pt text; each chapter on a new page."""
    desktop.goto(f"{live_server.url}/owner/print/")
    desktop.emulate_media(media="print")
    hidden = desktop.evaluate("""() => ['.md-header', '.md-tabs', '.md-sidebar--primary',
        '.md-sidebar--secondary', '.md-search', '.md-footer', '.print-actions']
        .filter(sel => document.querySelector(sel))
        .filter(sel => getComputedStyle(document.querySelector(sel)).display !== 'none')""")
    assert hidden == []
    assert (
        desktop.evaluate("getComputedStyle(document.querySelector('article p')).fontSize") == "16px"
    )
    breaks = desktop.evaluate("""() => [...document.querySelectorAll('h2.print-chapter')]
        .map(h => getComputedStyle(h).breakBefore)""")
    assert len(breaks) >= 6 and set(breaks) == {"page"}
    link_after = desktop.evaluate("""getComputedStyle(document.querySelector('article a[href^="#print-"]'),
        '::after').content""")
    assert link_after in ("none", "normal", "")


def test_pdf_handbook_has_the_guide_in_cjk_fonts(built_site, tmp_path):
    try:
        pdf = build_pdf(built_site, tmp_path / "handbook.pdf")
    except PdfUnavailable as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(error))
        pytest.skip(str(error))
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    assert len(reader.pages) >= 5
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    for word in ["装修", "19:00", "双证", "彩条布", "搬家"]:
        assert word in text, word
    # Chapters start on a new page: some page begins with each chapter's title.
    firsts = {p.strip().splitlines()[0].strip() for p in pages if p.strip()}
    assert "禁止行为与施工时间" in firsts
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"].get("/Font", {}).values()
    }
    assert any("CJK" in name for name in fonts), f"no CJK font embedded: {fonts}"


def test_pdf_script_explains_a_missing_site(tmp_path):
    with pytest.raises(FileNotFoundError, match="make site"):
        build_pdf(Path(tmp_path), tmp_path / "x.pdf")


def test_pdf_build_refuses_without_a_cjk_font(built_site, tmp_path):
    """A machine without CJK fonts (fontconfig sees none) gets the install hint and no PDF of
    blank boxes."""
    import subprocess
    import sys

    fonts_conf = tmp_path / "fonts.conf"
    fonts_conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    target = tmp_path / "handbook.pdf"
    result = subprocess.run(
        [
            sys.executable,
            "scripts/build_pdf.py",
            "--site-dir",
            str(built_site),
            "--output",
            str(target),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "FONTCONFIG_FILE": str(fonts_conf)},
    )
    assert result.returncode == 1
    assert "没有找到中文字体" in result.stderr and "fonts-noto-cjk" in result.stderr
    assert not target.exists()
