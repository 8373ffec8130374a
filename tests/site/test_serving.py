"""The handbook as ``make run`` serves it (gunicorn, ``forms_app/site.py``): compressed, cached
for as long as a file can be, no path outside the site, and pages a browser shows without a
console error, with readable colours and a named search dialog."""

from __future__ import annotations

import re

import pytest
import requests

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def theme_asset(built_site, folder: str, prefix: str, suffix: str) -> str:
    """The URL path of one of Material's content-hashed assets in the built site."""
    [name] = [p.name for p in (built_site / "assets" / folder).glob(f"{prefix}.*.min.{suffix}")]
    return f"/assets/{folder}/{name}"


def get(server, path, headers=None, **kwargs):
    return requests.get(server.url + path, headers=headers or {}, timeout=20, **kwargs)


def test_build_writes_gzip_copies_of_the_text_files(built_site):
    for path in (
        "index.html",
        "search/search_index.json",
        theme_asset(built_site, "stylesheets", "main", "css")[1:],
        theme_asset(built_site, "javascripts", "bundle", "js")[1:],
    ):
        original = built_site / path
        packed = original.with_name(original.name + ".gz")
        assert packed.is_file(), path
        assert packed.stat().st_size < original.stat().st_size / 2, path


def test_text_is_sent_compressed_to_browsers_that_accept_gzip(live_server, built_site):
    for path in (
        "/",
        "/owner/renovation/",
        "/search/search_index.json",
        theme_asset(built_site, "stylesheets", "main", "css"),
        theme_asset(built_site, "javascripts", "bundle", "js"),
    ):
        packed = get(live_server, path, GZIP, stream=True)
        assert packed.status_code == 200, path
        assert packed.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in packed.headers["Vary"], path
        plain = get(live_server, path, IDENTITY)
        assert "Content-Encoding" not in plain.headers, path
        # requests decompresses: both give the same file.
        assert (
            requests.get(live_server.url + path, headers=GZIP, timeout=20).content == plain.content
        )


def test_hashed_theme_assets_are_cached_for_a_year_pages_for_minutes(live_server, built_site):
    css = get(live_server, theme_asset(built_site, "stylesheets", "main", "css"), GZIP)
    cache = css.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache
    assert css.headers["Content-Type"].startswith("text/css")
    page = get(live_server, "/owner/move-in/", GZIP)
    assert (
        "max-age=300" in page.headers["Cache-Control"]
        and "immutable" not in page.headers["Cache-Control"]
    )
    assert page.headers["Content-Type"].startswith("text/html")
    # Unhashed files of our own keep the short lifetime: a new build must reach the readers.
    assert "max-age=300" in get(live_server, "/assets/handbook.css").headers["Cache-Control"]


def test_a_second_request_is_answered_from_the_cache(live_server):
    first = get(live_server, "/owner/", GZIP)
    again = get(live_server, "/owner/", {**GZIP, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/owner/..%2F..%2F..%2F..%2Froot%2F.ssh",
        "/owner/..%2F..%2F..%2F..%2Fetc",
        "/owner/..%2F..%2Fmkdocs.yml",
        "/..%2Fpyproject.toml",
        "/owner/%2E%2E/%2E%2E/forms_app",
        "/owner/.%2F..%2F..%2Fdata",
        "/.git/",
        "/owner/..%5C..%5Cmkdocs.yml",
        "/owner/index.html%00.css",
    ],
)
def test_paths_outside_the_site_answer_like_a_missing_page(live_server, path):
    """No 301 for a folder outside the site that exists and 404 for one that does not: every
    such path is refused before the filesystem is asked."""
    response = get(live_server, path, allow_redirects=False)
    missing = get(
        live_server, "/owner/..%2F..%2F..%2F..%2Fno-such-folder-anywhere", allow_redirects=False
    )
    assert response.status_code == missing.status_code == 404, path
    assert "Location" not in response.headers


def test_folders_redirect_to_their_slash_and_pages_are_found(live_server):
    response = get(live_server, "/owner/move-in", allow_redirects=False)
    assert response.status_code == 301 and response.headers["Location"].endswith("/owner/move-in/")
    assert get(live_server, "/owner/move-in/").status_code == 200
    assert get(live_server, "/owner/no-such-page/").status_code == 404


def test_app_pages_name_their_icon(live_server):
    page = get(live_server, "/forms/renovation/apply").text
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert get(live_server, icon).status_code == 200


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two ``rgb(r, g, b)`` colours."""

    def luminance(colour):
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.browser
def test_handbook_colours_are_readable_and_search_has_a_name(live_server, phone):
    phone.goto(f"{live_server.url}/")
    button = phone.locator(".md-button--primary").first
    fg, bg = button.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    assert contrast(fg, bg) >= 4.5, (fg, bg)
    link = phone.locator("article a:not(.md-button)").first
    assert contrast(link.evaluate("a => getComputedStyle(a).color"), "rgb(255, 255, 255)") >= 4.5
    header = phone.locator(".md-header")
    fg, bg = header.evaluate(
        "h => [getComputedStyle(h).color, getComputedStyle(h).backgroundColor]"
    )
    assert contrast(fg, bg) >= 4.5, (fg, bg)
    assert phone.locator('.md-search[role="dialog"]').get_attribute("aria-label") == "搜索"
    notice = phone.locator(".md-banner .example-notice")
    assert "示例小区" in notice.inner_text()
    fg, bg = phone.locator(".md-banner").evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    assert contrast(fg, bg) >= 4.5


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/", "/owner/renovation/", "/forms/renovation/apply"])
def test_pages_load_without_console_errors(live_server, phone, path):
    """No 404 for a favicon or anything else, no script error."""
    errors: list[str] = []
    phone.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    phone.on("pageerror", lambda error: errors.append(str(error)))
    failed: list[str] = []
    phone.on(
        "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    phone.goto(f"{live_server.url}{path}", wait_until="networkidle")
    assert not errors and not failed, (errors, failed)
