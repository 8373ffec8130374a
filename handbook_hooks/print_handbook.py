"""MkDocs hook: assemble the printable owner handbook (``owner/print.md``) at build time.

The print page's own Markdown is an introduction; this hook appends every other page of the
owner guide, in navigation order, as one chapter each. The chapters are the pages' sources
(nothing is typed twice): headings move one level down so each page's title becomes a chapter
heading, and links are rewritten to work from the print page — links to another chapter become
in-page anchors. This hook must run before ``data_pages.py``, which then renders the Jinja of
the whole assembled page from the data files.
"""

from __future__ import annotations

import posixpath
import re

from mkdocs.utils.meta import get_data

PRINT_PAGE = "owner/print.md"
OWNER_PREFIX = "owner/"

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6})(\s+.*?)?\s*$")
# Inline links and images: [text](target "title") — the target is group "target".
INLINE_LINK = re.compile(r"(?P<head>!?\[[^\]]*\]\()(?P<target>[^)\s]+)")
REFERENCE_LINK = re.compile(r"^(?P<head>\s{0,3}\[[^\]]+\]:\s*)(?P<target>\S+)", re.MULTILINE)
ATTR_LIST = re.compile(r"\s*\{:?\s*(?P<attrs>[^}]*)\}\s*$")

# (nav title or None, File) of every owner page but the print page, in navigation order.
_chapters: list = []


def chapter_id(src_uri: str) -> str:
    """The explicit anchor of a page's chapter heading on the print page."""
    stem = src_uri.removesuffix(".md").removesuffix("/index")
    return "print-" + stem.replace("/", "-")


def on_nav(nav, config, files):
    """Remember the owner pages in navigation order, with their titles from ``nav:``."""
    titles = dict(_nav_titles(config.nav or []))
    _chapters.clear()
    for page in nav.pages:
        src = page.file.src_uri
        if src.startswith(OWNER_PREFIX) and src != PRINT_PAGE:
            _chapters.append((titles.get(src), page.file))
    return nav


def _nav_titles(items):
    """(page path, title) pairs of the ``nav:`` entries that give a title."""
    for item in items:
        if isinstance(item, dict):
            for title, value in item.items():
                if isinstance(value, str):
                    yield value, title
                elif isinstance(value, list):
                    yield from _nav_titles(value)
        elif isinstance(item, list):
            yield from _nav_titles(item)


def on_page_markdown(markdown: str, page, **_kwargs) -> str:
    """Append the owner guide's pages to the print page's Markdown."""
    if page.file.src_uri != PRINT_PAGE:
        return markdown
    included = {file.src_uri for _, file in _chapters}
    parts = [markdown.rstrip(), ""]
    for title, file in _chapters:
        source, meta = get_data(file.content_string)
        parts.append(_chapter(source, file.src_uri, title or meta.get("title"), included))
    return "\n\n".join(parts) + "\n"


def _chapter(source: str, src_uri: str, title: str | None, included: set[str]) -> str:
    """One page's Markdown as a chapter: headings one level down, links rebased."""
    lines = _rebase_links(source, src_uri, included).splitlines()
    out: list[str] = []
    fence: str | None = None
    has_title = False
    for line in lines:
        marker = FENCE.match(line)
        if fence:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        if marker:
            fence = marker.group(1)
            out.append(line)
            continue
        heading = HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            text = heading.group(2) or ""
            if level == 1 and not has_title:
                has_title = True
                out.append(_chapter_heading(text.strip(), src_uri))
                continue
            line = "#" * min(level + 1, 6) + text
        out.append(line)
    if not has_title:
        name = title or posixpath.basename(src_uri).removesuffix(".md")
        out.insert(0, _chapter_heading(name, src_uri))
    return "\n".join(out)


def _chapter_heading(text: str, src_uri: str) -> str:
    """A level-2 heading that starts a new printed page and has a stable anchor."""
    attrs = f"#{chapter_id(src_uri)} .print-chapter"
    existing = ATTR_LIST.search(text)
    if existing:
        # Keep the page's own attributes, but the chapter anchor wins over its own id.
        own = " ".join(a for a in existing.group("attrs").split() if not a.startswith("#"))
        text = text[: existing.start()]
        attrs = f"{attrs} {own}".strip()
    return f"## {text} {{ {attrs} }}"


def _rebase_links(source: str, src_uri: str, included: set[str]) -> str:
    """Make the page's relative links work from the print page."""
    base = posixpath.dirname(src_uri)
    print_dir = posixpath.dirname(PRINT_PAGE)

    def rebase(target: str) -> str:
        if target.startswith(("#", "/", "{{", "{%")) or re.match(
            r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target
        ):
            return target
        path, _, anchor = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(base, path))
        if resolved in included:
            return "#" + (anchor or chapter_id(resolved))
        return posixpath.relpath(resolved, print_dir) + (f"#{anchor}" if anchor else "")

    source = INLINE_LINK.sub(lambda m: m.group("head") + rebase(m.group("target")), source)
    return REFERENCE_LINK.sub(lambda m: m.group("head") + rebase(m.group("target")), source)
