"""The built handbook served by the app: a path that leaves the site answers exactly like a
missing page, so nobody can learn which folders exist on the server."""

from __future__ import annotations

import os
from urllib.parse import quote

import pytest
import requests

from forms_app import create_app


@pytest.fixture
def site_client(tmp_path, monkeypatch):
    """The app serving a small built site; a folder beside it that must stay invisible."""
    site = tmp_path / "site"
    (site / "owner" / "renovation").mkdir(parents=True)
    (site / "index.html").write_text("<h1>手册</h1>", encoding="utf-8")
    (site / "owner" / "renovation" / "index.html").write_text("<h1>装修</h1>", encoding="utf-8")
    (tmp_path / "private" / ".ssh").mkdir(parents=True)
    (tmp_path / "private" / "notes.txt").write_text("secret", encoding="utf-8")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    return create_app({"TESTING": True, "SITE_DIR": str(site)}).test_client()


OUTSIDE = [
    "/owner/..%2F..%2Fprivate%2F.ssh",
    "/owner/..%2F..%2Fprivate%2F.ssh/",
    "/..%2Fprivate",
    "/owner/..%2F..%2Fprivate%2Fnotes.txt",
    "/%2E%2E/private",
    "/owner/..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Froot%2F.ssh",
    "/%2Fetc",
    "/owner/..%5C..%5Cprivate",
    "/owner/%2E%2E%2F%2E%2E%2Fprivate%2F.ssh",
]


def test_the_site_itself_is_served(site_client):
    assert site_client.get("/owner/renovation").status_code == 301
    assert "装修" in site_client.get("/owner/renovation/").get_data(as_text=True)


@pytest.mark.parametrize("path", OUTSIDE)
def test_a_path_leaving_the_site_answers_like_a_missing_one(site_client, path):
    missing = site_client.get("/owner/no-such-folder")
    response = site_client.get(path)
    assert (response.status_code, response.headers.get("Location")) == (404, None)
    assert response.get_data() == missing.get_data()


def test_no_folder_oracle_on_gunicorn(live_server):
    """The same through a real server (its path decoding differs from the test client's):
    the server's own instance folder, beside the site, must not show through."""
    outside = os.path.relpath(live_server.instance_path, live_server.site_dir)
    assert outside.startswith("..") and live_server.instance_path.is_dir()
    escaped = "/owner/..%2F" + quote(outside, safe="")
    missing = escaped.replace("instance", "no-such-folder")
    for path in (escaped, escaped + "%2F", missing):
        response = requests.get(live_server.url + path, allow_redirects=False, timeout=10)
        assert response.status_code == 404, path
        assert "Location" not in response.headers
