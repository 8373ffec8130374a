"""A forged ``Host`` header never becomes a link in a staff alert or an owner's SMS (issue 26):
the app answers only its own hosts, and links come from ``PUBLIC_BASE_URL``, which production
requires."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forms_app import create_app
from forms_app.core.extensions import db
from forms_app.core.public_urls import LOOPBACK_HOSTS, PublicUrlError
from forms_app.notifications.models import Notification
from forms_app.service_requests.models import ServiceRequest
from tests.support.forms import csrf_token_from

from .conftest import REPAIR_URL, nonce_from, repair_fields


def outbox(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Notification.text)))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_repair_sent_with_a_forged_host_is_refused_and_stores_nothing(app, owner, client):
    # The loopback names and each community's own (data/communities/*.yml hosts).
    assert app.config["TRUSTED_HOSTS"] == [
        *LOOPBACK_HOSTS,
        "shanshui.localhost",
        "xinyuan.localhost",
    ]
    hidden = owner.open_form()
    response = client.post(
        REPAIR_URL,
        data={**hidden, **repair_fields()},
        base_url="http://evil.example",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "本站不接受这个域名的访问" in page and "evil.example" not in page
    assert count(app, ServiceRequest) == 0 and outbox(app) == []


def test_links_in_messages_come_from_the_public_address_only(app, client):
    app.config.update(
        PUBLIC_BASE_URL="https://wuye.example.com",
        TRUSTED_HOSTS=[*LOOPBACK_HOSTS, "other.example.com"],
    )
    html = client.get(REPAIR_URL, base_url="http://other.example.com").get_data(as_text=True)
    hidden = {"csrf_token": csrf_token_from(html), "nonce": nonce_from(html)}
    response = client.post(
        REPAIR_URL,
        data={**hidden, **repair_fields()},
        base_url="http://other.example.com",
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    texts = outbox(app)
    assert texts and all("other.example.com" not in text for text in texts)
    assert any("https://wuye.example.com/forms/staff/service/" in text for text in texts)
    status = client.get(response.location, base_url="http://other.example.com")
    assert "https://wuye.example.com/forms/service/status/" in status.get_data(as_text=True)


@pytest.mark.parametrize(
    ("base", "problem"),
    [
        ("", "必须设置 PUBLIC_BASE_URL"),
        ("http://wuye.example.com", "必须以 https:// 开头"),
        ("wuye.example.com", "不是网站地址"),
    ],
)
def test_production_needs_the_public_address(
    tmp_path, monkeypatch, own_community_file, base, problem
):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HTTPS", "1")
    monkeypatch.setenv("COMMUNITY_FILE", str(own_community_file))
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    with pytest.raises(PublicUrlError, match=problem):
        create_app({"SITE_DIR": None})


def test_production_answers_its_public_host(tmp_path, monkeypatch, own_community_file):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HTTPS", "1")
    monkeypatch.setenv("COMMUNITY_FILE", str(own_community_file))
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://wuye.example.com/")
    monkeypatch.setenv("TRUSTED_HOSTS", "")
    app = create_app({"SITE_DIR": None})
    assert "wuye.example.com" in app.config["TRUSTED_HOSTS"]
    client = app.test_client()
    assert client.get("/forms/healthz", base_url="https://wuye.example.com").status_code == 200
    assert client.get("/forms/healthz", base_url="https://evil.example").status_code == 400
