"""Back-office pages link to the staff handbook sections they follow, and those sections exist."""

import re

from tests.support.server import PROJECT_ROOT

# Every domain's back-office templates (templates/<domain>/staff/).
TEMPLATES = PROJECT_ROOT / "forms_app" / "templates"
HANDBOOK_LINK = re.compile(r'href="(/staff/[^"#]+/)#([^"]+)"')


def headings(page: str) -> set[str]:
    source = (
        (PROJECT_ROOT / "docs" / page.strip("/")).with_suffix(".md").read_text(encoding="utf-8")
    )
    return {line.lstrip("#").strip() for line in source.splitlines() if line.startswith("#")}


def test_every_handbook_anchor_of_the_back_office_exists():
    links = [
        m
        for t in TEMPLATES.glob("*/staff/*.html")
        for m in HANDBOOK_LINK.findall(t.read_text("utf-8"))
    ]
    assert len(links) >= 2
    for page, anchor in links:
        assert anchor in headings(page), (page, anchor)
