"""The example community that ships: every app page says its values are demonstration data,
and production (HTTPS=1) refuses to start on it."""

from __future__ import annotations

import pytest

from forms_app import create_app
from forms_app.core.community import EXAMPLE_NOTICE, ExampleCommunityInProduction
from tests.support import launcher
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
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://wuye.example.com")
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
    result = launcher.run(
        [str(BIN / "gunicorn"), "--workers", "1", "--bind", "127.0.0.1:0", "forms_app.wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "示例小区数据" in result.stderr and "COMMUNITY_FILE" in result.stderr


# --- The fee file ----------------------------------------------------------------------------


def community_with_fees(tmp_path, own_community_file, fees_file) -> str:
    """The company's own community file, pointed at another fee file."""
    import yaml

    raw = yaml.safe_load(own_community_file.read_text(encoding="utf-8"))
    raw["fees_file"] = str(fees_file)
    path = tmp_path / "community-with-fees.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_production_refuses_the_example_fee_file(tmp_path, monkeypatch, own_community_file):
    """A company's own community file with the example's fee file still in place: owners would
    be billed demonstration prices."""
    from forms_app.core.fee_standards import FEES_DIR

    example_fees = FEES_DIR / "shanshui.yml"
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv(
        "COMMUNITY_FILE", community_with_fees(tmp_path, own_community_file, example_fees)
    )
    # Without HTTPS it starts (a company trying the product out).
    assert create_app({"SITE_DIR": None})
    monkeypatch.setenv("HTTPS", "1")
    with pytest.raises(ExampleCommunityInProduction) as refused:
        create_app({"SITE_DIR": None})
    message = str(refused.value)
    assert str(example_fees) in message and "示例收费标准" in message and "HTTPS=1" in message


def test_a_broken_fee_file_stops_the_app_naming_the_file_and_the_key(
    tmp_path, monkeypatch, own_community_file
):
    import yaml

    from forms_app.core.community import CommunityDataError
    from forms_app.core.fee_standards import FEES_DIR

    raw = yaml.safe_load((FEES_DIR / "shanshui.yml").read_text(encoding="utf-8"))
    raw["metered"][0]["unit_price_yuan"] = 3.1  # unquoted: would be read as a float
    broken = tmp_path / "broken-fees.yml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("COMMUNITY_FILE", community_with_fees(tmp_path, own_community_file, broken))
    with pytest.raises(CommunityDataError) as stopped:
        create_app({"SITE_DIR": None})
    message = str(stopped.value)
    assert str(broken) in message and "metered.water.unit_price_yuan" in message
    assert "带引号" in message


def test_a_community_without_its_fee_file_stops_the_app(tmp_path, monkeypatch, own_community_file):
    from forms_app.core.community import CommunityDataError

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    missing = tmp_path / "no-such-fees.yml"
    monkeypatch.setenv("COMMUNITY_FILE", community_with_fees(tmp_path, own_community_file, missing))
    with pytest.raises(CommunityDataError, match="没有找到收费标准文件"):
        create_app({"SITE_DIR": None})
