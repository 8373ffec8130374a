"""The app's stylesheets, scripts and icon are linked with their content digest and kept by
browsers for a year under it (forms_app/web/static_files.py): a page is not followed by a
revalidation of each of its files, and a changed file gets a new link."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from forms_app.web.static_files import A_YEAR, static_digest

LINKED = re.compile(r'(?:href|src)="(/forms/static/([^"?]+)\?v=([0-9a-f]+))"')


def test_every_page_links_its_files_by_their_digest(app, client):
    html = client.get("/forms/renovation/apply").get_data(as_text=True)
    linked = LINKED.findall(html)
    assert {name for _, name, _ in linked} >= {"forms.css", "favicon.svg", "form_steps.js"}
    assert '"/forms/static/forms.css"' not in html  # no link without its digest
    for url, name, digest in linked:
        assert digest == static_digest(app, name)
        response = client.get(url)
        assert response.status_code == 200
        assert response.cache_control.public and response.cache_control.max_age == A_YEAR


def test_without_the_current_digest_a_file_is_asked_for_again_each_time(app, client):
    for query in ("", "?v=", "?v=0123456789ab", "?v=%00"):
        response = client.get(f"/forms/static/forms.css{query}")
        assert response.status_code == 200, query
        assert response.cache_control.no_cache and not response.cache_control.max_age, query
    assert client.get("/forms/static/no-such-file.css?v=1").status_code == 404


def test_a_changed_file_gets_a_new_link(app, tmp_path):
    folder = tmp_path / "static"
    shutil.copytree(app.static_folder, folder)
    app.static_folder = str(folder)
    client = app.test_client()
    before = dict(
        (name, url) for url, name, _ in LINKED.findall(client.get("/forms/").get_data(as_text=True))
    )
    stylesheet = Path(folder, "forms.css")
    stylesheet.write_text(stylesheet.read_text("utf-8") + "\n/* 新版 */\n", encoding="utf-8")
    after = dict(
        (name, url) for url, name, _ in LINKED.findall(client.get("/forms/").get_data(as_text=True))
    )
    assert after["forms.css"] != before["forms.css"]
    assert after["favicon.svg"] == before["favicon.svg"]
    old = client.get(before["forms.css"])
    assert (
        "新版" in old.get_data(as_text=True) and old.cache_control.no_cache
    )  # not kept under the old name
    assert client.get(after["forms.css"]).cache_control.max_age == A_YEAR
