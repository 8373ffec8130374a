"""The staff handbook's sections as training sees them: page, anchor, title, link, and a digest
of the section's text.

The sections are read through MkDocs itself: the same configuration file, the same hooks (the
data files rendered into the pages), the same Markdown extensions and Unicode slugify as the
build (``mkdocs-staff.yml``). So an anchor here is an anchor of the built handbook, and the
digest changes exactly when the text a reader sees changes. The staff half is served under
``/staff/``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from pathlib import Path
from urllib.parse import quote

from ..core.community import PROJECT_ROOT

STAFF_URL = "/staff/"
STAFF_CONFIG = PROJECT_ROOT / "mkdocs-staff.yml"
_HEADING = re.compile(r'<h([1-6]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_TAG = re.compile(r"<[^>]+>")
_PERMALINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.S)


class HandbookError(ValueError):
    """The staff handbook could not be read."""


@dataclass(frozen=True)
class Section:
    """One heading of a staff-handbook page and the text under it (its subsections too)."""

    page: str  # "service-code", "index"
    anchor: str  # "ssmile微笑"
    title: str  # "S：SMILE（微笑）"
    page_title: str
    level: int
    digest: str  # SHA-256 of the section's rendered HTML
    text: str = field(default="", repr=False, compare=False)  # what a reader reads, as plain text

    @property
    def key(self) -> str:
        """How data files and records name the section: ``page#anchor``."""
        return f"{self.page}#{self.anchor}"

    @property
    def url(self) -> str:
        page = "" if self.page == "index" else f"{self.page}/"
        return f"{STAFF_URL}{page}#{self.anchor}"

    @property
    def path_url(self) -> str:
        """The section's link from a reading path: the page shows 标为已读 at the section's end
        (theme/assets/javascripts/read-mark.js)."""
        page = "" if self.page == "index" else f"{self.page}/"
        return f"{STAFF_URL}{page}?read={quote(self.key)}#{self.anchor}"

    @property
    def label(self) -> str:
        return self.title if self.level == 1 else f"{self.page_title} › {self.title}"


@dataclass
class Handbook:
    """Every section of the staff half, in page order; ``pages`` lists each page's sections."""

    sections: dict[str, Section] = field(default_factory=dict)
    pages: dict[str, list[Section]] = field(default_factory=dict)

    def chapters(self, page: str) -> list[Section]:
        """The sections a page stands for in a reading path: its second-level headings, or
        the page itself when it has none."""
        found = self.pages.get(page, [])
        return [s for s in found if s.level == 2] or [s for s in found if s.level == 1]


def default_config_file() -> Path:
    return STAFF_CONFIG


def _page_sections(page: str, html: str) -> list[Section]:
    headings = list(_HEADING.finditer(html))
    page_title = ""
    sections = []
    for index, match in enumerate(headings):
        level = int(match.group(1))
        end = len(html)
        for later in headings[index + 1 :]:
            if int(later.group(1)) <= level:
                end = later.start()
                break
        title = " ".join(_TAG.sub("", _PERMALINK.sub("", match.group(3))).split())
        if level == 1 and not page_title:
            page_title = title
        body = html[match.start() : end]
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        text = " ".join(unescape(_TAG.sub(" ", _PERMALINK.sub("", body))).split())
        sections.append(
            Section(page, match.group(2), title, page_title or title, level, digest, text)
        )
    return sections


# The hooks read the community from ``COMMUNITY_FILE`` (as ``make site`` gives each build its
# own): one rendering at a time sets it.
_RENDERING = threading.Lock()


@contextmanager
def _community_file(path: str | None):
    if path is None:
        yield
        return
    with _RENDERING:
        before = os.environ.get("COMMUNITY_FILE")
        os.environ["COMMUNITY_FILE"] = path
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("COMMUNITY_FILE", None)
            else:
                os.environ["COMMUNITY_FILE"] = before


def read_handbook(
    config_file: str | Path, docs_dir: str | Path | None = None, community_file: str | None = None
) -> Handbook:
    """Render every staff page as the build does and cut it into sections.

    ``docs_dir`` overrides the configuration's (a copy of the pages, in tests);
    ``community_file`` renders the pages with that community's data (each community's
    handbook, as ``make site`` builds it)."""
    with _community_file(community_file):
        return _read_handbook(config_file, docs_dir)


def _read_handbook(config_file: str | Path, docs_dir: str | Path | None) -> Handbook:
    import markdown
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files
    from mkdocs.structure.nav import get_navigation
    from mkdocs.structure.pages import Page

    overrides = {"docs_dir": str(docs_dir)} if docs_dir else {}
    # MkDocs logs its configuration checks at INFO/WARNING; the build reports those, not us.
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    try:
        config = load_config(str(config_file), **overrides)
    except Exception as error:  # MkDocs raises its own and YAML errors alike
        raise HandbookError(f"{config_file}: 无法读取手册配置: {error}") from error
    files = get_files(config)
    # Navigation order (the order a new hire reads in), then any page left out of ``nav``.
    in_nav = [page.file for page in get_navigation(files, config).pages]
    pages = in_nav + [f for f in files.documentation_pages() if f not in in_nav]
    handbook = Handbook()
    for file in pages:
        name = file.src_uri.removesuffix(".md")
        source = Path(file.abs_src_path).read_text(encoding="utf-8")
        text = config.plugins.on_page_markdown(
            source, page=Page(None, file, config), config=config, files=files
        )
        converter = markdown.Markdown(
            extensions=config.markdown_extensions, extension_configs=config.mdx_configs
        )
        sections = _page_sections(name, converter.convert(text))
        handbook.pages[name] = sections
        for section in sections:
            handbook.sections[section.key] = section
    if not handbook.sections:
        raise HandbookError(f"{config_file}: 员工手册没有任何章节。")
    return handbook


# A folder where the sections read are kept between processes (``HANDBOOK_CACHE_DIR``; unset:
# none). Rendering every staff page through MkDocs costs each process that starts the app
# (every gunicorn master, worker and command) about 0.4 s of CPU; the kept copy is named by a
# digest of everything the rendering reads (core/build_inputs.py, the configuration, the pages,
# the community file the hooks read), so an edit to any of them is read anew.
CACHE_DIR_VARIABLE = "HANDBOOK_CACHE_DIR"


def _cache_file(
    config_file: str, docs_dir: str | None, community_file: str | None = None
) -> Path | None:
    from ..core.build_inputs import inputs_digest
    from ..core.community import DEFAULT_COMMUNITY_FILE

    folder = os.environ.get(CACHE_DIR_VARIABLE)
    if not folder:
        return None
    community = community_file or os.environ.get("COMMUNITY_FILE") or DEFAULT_COMMUNITY_FILE
    if not docs_dir:  # the configuration's own pages (a copy elsewhere in tests)
        named = re.search(r"^docs_dir:\s*(\S+)", Path(config_file).read_text("utf-8"), re.M)
        docs_dir = str(Path(config_file).parent / (named.group(1) if named else "docs"))
    extra = (config_file, community, docs_dir)
    return Path(folder) / f"staff-handbook-{inputs_digest(extra)}.json"


def _stored(handbook: Handbook) -> str:
    pages = {
        name: [[s.page, s.anchor, s.title, s.page_title, s.level, s.digest, s.text] for s in found]
        for name, found in handbook.pages.items()
    }
    return json.dumps(pages, ensure_ascii=False)


def _restored(text: str) -> Handbook:
    handbook = Handbook()
    for name, rows in json.loads(text).items():
        handbook.pages[name] = [Section(*row) for row in rows]
        for section in handbook.pages[name]:
            handbook.sections[section.key] = section
    return handbook


@lru_cache(maxsize=128)  # one per community (and test folder)
def cached_handbook(
    config_file: str, docs_dir: str | None, community_file: str | None = None
) -> Handbook:
    """The handbook read once per process and community (the app reads it at start-up), and
    kept in ``HANDBOOK_CACHE_DIR`` for the next process when that is set."""
    cache = _cache_file(config_file, docs_dir, community_file)
    if cache is not None and cache.is_file():
        return _restored(cache.read_text(encoding="utf-8"))
    handbook = read_handbook(config_file, docs_dir, community_file)
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_name(f"{cache.name}.{os.getpid()}.part")
            partial.write_text(_stored(handbook), encoding="utf-8")
            partial.replace(cache)  # whole or not at all, whichever process writes last
        except OSError:
            logging.getLogger(__name__).warning("无法写入员工手册缓存 %s", cache, exc_info=True)
    return handbook


def handbook_key() -> tuple[str, str | None, str]:
    """Where the running app reads the handbook: ``STAFF_HANDBOOK_CONFIG`` (else
    ``mkdocs-staff.yml``) and ``STAFF_HANDBOOK_DOCS`` (else the configuration's ``docs_dir``),
    with the data of the community this runs in."""
    from flask import current_app

    from ..core.community import current_community

    config_file = current_app.config["STAFF_HANDBOOK_CONFIG"] or default_config_file()
    return (
        str(config_file),
        current_app.config["STAFF_HANDBOOK_DOCS"],
        str(current_community().source),
    )


def current_handbook() -> Handbook:
    """The staff handbook of the running app."""
    return cached_handbook(*handbook_key())
