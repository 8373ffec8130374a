"""Zero requests to any other host: Google Fonts and CDNs are slow or blocked in mainland China.

The static scan reads every built file a browser may load (HTML, JS, CSS, JSON, XML) and fails
on anything that would make the browser ask another host: a ``src``/``href`` of a script,
stylesheet, image or frame, a CSS ``url()``/``@import``, a URL string in JavaScript. Only plain
``<a href>`` links, which a reader chooses to follow, may point elsewhere. The browser tests then
check what phones actually request, including an old phone browser without ResizeObserver.
"""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from mkdocs.config import load_config

from tests.conftest import HANDBOOK_READER
from tests.support.search import open_search, ranked_sections
from tests.support.server import PROJECT_ROOT
from tests.support.staff import login

URL = re.compile(
    r"(?:https?:)?//(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b[^\s\"'`)<>]*"
)
JS_STRING_URL = re.compile(
    r"[\"'`](?P<url>(?:https?:)?//[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}[^\"'`\s]*)"
)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
CSS_URL = re.compile(r"url\(\s*([\"']?)(?P<url>.*?)\1\s*\)", re.DOTALL)
CSS_IMPORT = re.compile(r"@import\s+(?:url\(\s*)?[\"']?(?P<url>[^\"')\s;]+)")
# XML namespaces name a vocabulary; nothing fetches them.
NAMESPACES = ("http://www.w3.org/", "http://www.sitemaps.org/schemas/")
# URL strings inside the theme's bundled JavaScript, each fetched only by a feature this site
# does not use; the test named beside each proves that feature is off.
THEME_CONDITIONAL_URLS = {
    "https://unpkg.com/resize-observer-polyfill": "test_resize_observer_polyfill_is_local",
    "https://unpkg.com/mermaid@": "test_theme_features_that_fetch_from_cdns_are_off",
    "https://api.github.com/": "test_theme_features_that_fetch_from_cdns_are_off",
}
SCANNED = (".html", ".js", ".css", ".json", ".xml", ".svg", ".xml.gz")


def own_hosts() -> set[str]:
    """This machine, plus the site's own host if ``site_url`` is set."""
    hosts = {"127.0.0.1", "localhost"}
    site_url = load_config(str(PROJECT_ROOT / "mkdocs.yml")).site_url or ""
    if urlsplit(site_url).hostname:
        hosts.add(urlsplit(site_url).hostname)
    return hosts


def outside(url: str, hosts: set[str]) -> bool:
    """Whether a URL (absolute or protocol-relative) names another host."""
    if url.startswith(NAMESPACES):
        return False
    match = URL.match(url.strip())
    return bool(match) and match.group("host").lower() not in hosts


def css_problems(css: str, hosts: set[str]) -> list[str]:
    css = CSS_COMMENT.sub("", css)
    found = []
    for pattern in (CSS_URL, CSS_IMPORT):
        for match in pattern.finditer(css):
            url = match.group("url").strip()
            if not url.startswith("data:") and outside(url, hosts):
                found.append(url)
    return list(dict.fromkeys(found))  # `@import url(...)` matches both patterns


def js_problems(js: str, hosts: set[str]) -> list[str]:
    found = []
    for match in JS_STRING_URL.finditer(js):
        url = match.group("url")
        if outside(url, hosts) and not url.startswith(tuple(THEME_CONDITIONAL_URLS)):
            found.append(url)
    return found


class PageScanner(HTMLParser):
    """Collects every reference in an HTML page that a browser would fetch from another host."""

    def __init__(self, hosts: set[str]):
        super().__init__(convert_charrefs=True)
        self.hosts = hosts
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.in_head = False
        self._raw: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "head":
            self.in_head = True
        for name, value in attrs:
            if value is None or name == "xmlns" or name.startswith("xmlns:"):
                continue
            if tag == "a" and name == "href":
                continue  # a link the reader chooses to follow
            if name == "style":
                self.problems += css_problems(value, self.hosts)
            elif URL.search(value) and any(
                outside(u.group(0), self.hosts) for u in URL.finditer(value)
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if tag == "script" and name == "src":
                self.scripts.append(value)
        if tag in ("script", "style"):
            self._raw = tag

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data):
        if self._raw == "style":
            self.problems += css_problems(data, self.hosts)
        elif self._raw == "script":
            self.problems += js_problems(data, self.hosts)


def scan_file(path: Path, hosts: set[str]) -> list[str]:
    """References to other hosts that the browser would fetch when it loads this file."""
    name = path.name
    if name.endswith(".gz"):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    if name.endswith(".html"):
        scanner = PageScanner(hosts)
        scanner.feed(text)
        return scanner.problems
    if name.endswith(".css"):
        return css_problems(text, hosts)
    if name.endswith(".js"):
        return js_problems(text, hosts)
    if name == "search_index.json":
        # Titles and texts are what the reader sees; locations are what the browser opens.
        index = json.loads(text)
        return [d["location"] for d in index["docs"] if outside(d["location"], hosts)]
    return [u.group(0) for u in URL.finditer(text) if outside(u.group(0), hosts)]


def built_files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*") if p.is_file() and p.name.endswith(SCANNED))


@pytest.fixture(params=["owner site", "staff handbook"])
def half(request, built_site, built_staff_site) -> Path:
    """Each built half of the handbook."""
    return built_site if request.param == "owner site" else built_staff_site


def test_no_built_file_asks_another_host(half):
    hosts = own_hosts()
    files = built_files(half)
    assert any(p.suffix == ".js" for p in files) and any(p.suffix == ".html" for p in files)
    problems = {str(p.relative_to(half)): found for p in files if (found := scan_file(p, hosts))}
    assert not problems, f"references to other hosts: {problems}"


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">', 1),
        ('<script src="//cdn.jsdelivr.net/npm/x.js"></script>', 1),
        ('<img src="https://example.com/a.png">', 1),
        ('<div style="background:url(https://example.com/a.png)"></div>', 1),
        ('<style>@import url("https://fonts.googleapis.com/css");</style>', 1),
        ('<script>fetch("https://hm.baidu.com/hm.js")</script>', 1),
        ('<a href="https://www.gov.cn/">政府网站</a>', 0),
        ('<svg xmlns="http://www.w3.org/2000/svg"></svg>', 0),
        ('<img src="../assets/a.png">', 0),
    ],
)
def test_scanner_tells_requests_from_reader_links(tmp_path, snippet, expected):
    page = tmp_path / "index.html"
    page.write_text(f"<html><head></head><body>{snippet}</body></html>", encoding="utf-8")
    assert len(scan_file(page, {"127.0.0.1"})) == expected


def test_config_has_no_outside_services():
    config = load_config(str(PROJECT_ROOT / "mkdocs.yml"))
    assert config.theme["font"] is False, "theme.font must be false (no Google Fonts)"
    assert not config.repo_url, "repo_url makes every page call the code host's API"
    assert not config.extra.get("analytics"), "no analytics"
    for asset in [*config.extra_css, *map(str, config.extra_javascript)]:
        assert not outside(asset, set()), asset
    staff = load_config(str(PROJECT_ROOT / "mkdocs-staff.yml"))
    assert staff.theme["font"] is False and not staff.repo_url and not staff.extra.get("analytics")


def test_theme_features_that_fetch_from_cdns_are_off(half):
    """Mermaid diagrams load mermaid from a CDN; a repository link calls the code host's API."""
    for page in half.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert 'class="mermaid"' not in html, page
        assert "md-source" not in html, page


def test_resize_observer_polyfill_is_local(half):
    """Without ResizeObserver the theme fetches a polyfill from a CDN unless ours loads first."""
    for page in half.rglob("*.html"):
        scanner = PageScanner(set())
        scanner.feed(page.read_text(encoding="utf-8"))
        names = [Path(urlsplit(src).path).name for src in scanner.scripts]
        assert "resize-observer.js" in names, page
        bundle = next(i for i, n in enumerate(names) if n.startswith("bundle."))
        assert names.index("resize-observer.js") < bundle, page
    assert (half / "assets/javascripts/resize-observer.js").is_file()


PAGES_TO_VISIT = [
    "",
    "owner/renovation/",
    "owner/renovation/site/",
    "owner/print/",
    "owner/repairs/",
    "staff/cleaning-standards/",
]


@pytest.mark.browser
def test_phone_asks_no_other_host_while_reading_and_searching(phone, live_server):
    """The phone fixture fails the test on any request to another host."""
    login(phone, HANDBOOK_READER, base_url=live_server.url)
    for path in PAGES_TO_VISIT:
        phone.goto(f"{live_server.url}/{path}", wait_until="networkidle")
    open_search(phone, f"{live_server.url}/owner/")
    assert ranked_sections(phone, "彩条布")


@pytest.mark.browser
def test_old_phone_without_resize_observer_asks_no_other_host(phone, live_server):
    """An old WeChat webview lacking ResizeObserver gets our local polyfill, not the CDN's."""
    phone.add_init_script("delete window.ResizeObserver")
    open_search(phone, f"{live_server.url}/owner/renovation/")
    assert phone.evaluate("window.ResizeObserver.name") == "LocalResizeObserver"
    assert ranked_sections(phone, "双证")
    phone.wait_for_load_state("networkidle")
