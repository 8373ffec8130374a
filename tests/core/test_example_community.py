"""The example community that ships: every app page says its values are demonstration data,
and production (HTTPS=1) refuses to start on it."""

from __future__ import annotations

import subprocess

import pytest

from forms_app import create_app
from forms_app.core.community import EXAMPLE_NOTICE, ExampleCommunityInProduction
from tests.support.server import BIN, PROJECT_ROOT

OWNER_PAGES = [
    "/forms/",
    "/forms/renovation/apply",
    "/forms/move-in/",
    "/forms/surveys/",
    "/forms/staff/login",
]


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_every_app_page_says_it_shows_the_example_community(client, path):
    page = client.get(path).get_data(as_text=True)
    assert f'<p class="example-notice" role="note">{EXAMPLE_NOTICE}</p>' in page


def test_a_companys_own_file_shows_no_notice(tmp_path, monkeypatch, own_community_file):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("COMMUNITY_FILE", str(own_community_file))
    app = create_app({"TESTING": True, "SITE_DIR": None})
    page = app.test_client().get("/forms/").get_data(as_text=True)
    assert "示例小区" not in page and "example-notice" not in page


def test_production_refuses_the_example_file(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HTTPS", "1")
    monkeypatch.delenv("COMMUNITY_FILE", raising=False)
    with pytest.raises(ExampleCommunityInProduction) as refused:
        create_app()
    message = str(refused.value)
    assert "示例小区数据" in message and "HTTPS=1" in message and "COMMUNITY_FILE" in message


def test_production_starts_on_a_companys_own_file(tmp_path, monkeypatch, own_community_file):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HTTPS", "1")
    monkeypatch.setenv("COMMUNITY_FILE", str(own_community_file))
    assert create_app({"SITE_DIR": None}).config["SESSION_COOKIE_SECURE"]


def test_gunicorn_stops_with_the_message_on_the_example_file(tmp_path):
    """The real production command: gunicorn exits instead of serving invented values."""
    import os

    env = {
        **os.environ,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "HTTPS": "1",
        "SERVE_SITE": "0",
    }
    env.pop("COMMUNITY_FILE", None)
    result = subprocess.run(
        [str(BIN / "gunicorn"), "--workers", "1", "--bind", "127.0.0.1:0", "forms_app.wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "示例小区数据" in result.stderr and "COMMUNITY_FILE" in result.stderr
