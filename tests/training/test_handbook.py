"""Training reads the staff handbook the way the build does: the same anchors as the built
pages, and a digest per section that changes only when that section's text changes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from forms_app.training.handbook_sections import cached_handbook, default_config_file, read_handbook

HEADING_ID = re.compile(r'<h[1-6] id="([^"]+)"')


@pytest.fixture(scope="module")
def handbook():
    return cached_handbook(str(default_config_file()), None)


def test_every_section_is_a_heading_of_the_built_handbook(handbook, built_staff_site):
    assert len(handbook.pages) >= 6
    for page, sections in handbook.pages.items():
        html = built_staff_site / ("" if page == "index" else page) / "index.html"
        built = HEADING_ID.findall(html.read_text(encoding="utf-8"))
        assert [s.anchor for s in sections] == built, page


def test_sections_carry_their_title_page_and_link(handbook):
    smile = handbook.sections["service-code#ssmile微笑"]
    assert (smile.title, smile.page_title, smile.level) == (
        "S：SMILE（微笑）",
        "SERVICE 服务系统",
        2,
    )
    assert smile.url == "/staff/service-code/#ssmile微笑"
    assert "主动、真诚、自然、友善的微笑" in smile.text
    lobby = handbook.sections["cleaning-standards#大堂"]
    assert lobby.level == 3 and "烟头应当不超过3个" in lobby.text  # rendered from the data file
    assert "19:00后秩序维护部" in handbook.sections["renovation-control#人员出入证件办理"].text


def test_a_changed_section_gets_a_new_digest_and_only_it(handbook, tmp_path):
    from mkdocs.config import load_config

    docs = Path(load_config(str(default_config_file())).docs_dir)
    copy = tmp_path / "docs"
    shutil.copytree(docs, copy)
    page = copy / "service-code.md"
    text = page.read_text(encoding="utf-8")
    assert "务必做到忙中有序、紊而不乱" in text
    page.write_text(
        text.replace("务必做到忙中有序、紊而不乱", "务必做到忙中有序、有条不紊"), encoding="utf-8"
    )
    changed = read_handbook(default_config_file(), copy)
    assert changed.sections.keys() == handbook.sections.keys()
    differs = {
        k for k in handbook.sections if changed.sections[k].digest != handbook.sections[k].digest
    }
    # The READY section, and the page as a whole (its first-level section holds it).
    assert differs == {"service-code#rready准备好", "service-code#service-服务系统"}


def test_a_kept_reading_is_the_same_and_an_edited_page_is_read_anew(tmp_path, monkeypatch):
    """HANDBOOK_CACHE_DIR: the next process reads the sections kept by the first; editing a page
    (or the community file the hooks read) names another kept copy."""
    from forms_app.training import handbook_sections as sections

    monkeypatch.setenv(sections.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    docs = tmp_path / "docs"
    shutil.copytree(Path(default_config_file()).parent / "docs", docs)
    config = str(default_config_file())
    first = sections._cache_file(config, str(docs))
    read = sections.cached_handbook.__wrapped__(config, str(docs))
    assert first.is_file()
    kept = sections._restored(first.read_text(encoding="utf-8"))
    assert kept.sections == read.sections and list(kept.pages) == list(read.pages)
    assert [s.text for s in kept.sections.values()] == [s.text for s in read.sections.values()]
    page = docs / "staff" / "service-code.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    assert sections._cache_file(config, str(docs)) != first
