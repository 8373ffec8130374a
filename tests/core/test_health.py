"""The app answers and its database works, in-process and in a real gunicorn process."""

import requests
from sqlalchemy import event
from sqlalchemy.pool import Pool

from forms_app import create_app


def test_healthz_in_process(client):
    response = client.get("/forms/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_creating_the_app_opens_no_database_connection(tmp_path, monkeypatch):
    """gunicorn --preload forks its workers from the created app: a connection opened before
    the fork would be shared by every worker."""
    opened = []

    def _opened(*_args):
        opened.append(True)

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    event.listen(Pool, "connect", _opened)
    try:
        create_app({"SITE_DIR": None, "PASSWORD_HASH_COST": "testing"})
    finally:
        event.remove(Pool, "connect", _opened)
    assert opened == []


def test_healthz_on_gunicorn(live_server):
    response = requests.get(live_server.url + "/forms/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_one_process_serves_site_and_forms(live_server):
    home = requests.get(live_server.url + "/", timeout=5)
    assert home.status_code == 200
    assert "物业服务手册" in home.text
    forms = requests.get(live_server.url + "/forms/", timeout=5)
    assert forms.status_code == 200
    assert "在线办理" in forms.text


def test_unknown_page_is_chinese_404(client):
    response = client.get("/forms/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_phone_opens_forms_home(live_server, phone):
    phone.goto(live_server.url + "/forms/")
    assert phone.locator("h1").inner_text() == "在线办理"
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
