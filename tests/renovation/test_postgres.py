"""The owner forms on PostgreSQL, which refuses a NUL character in any text with an error:
junk in a private link or in typed text must still end on a Chinese page, never a 500.
Runs on a throw-away PostgreSQL server (tests/support/postgres.py).
"""
from __future__ import annotations

import pytest

from tests.support.postgres import app_on_postgres

from .conftest import APPLY_URL, Owner, application_fields


@pytest.fixture
def pg_client(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(postgres_url, tmp_path / "instance", monkeypatch) as app:
        yield app.test_client()


@pytest.mark.parametrize("path", [
    "/forms/renovation/status/abc%00def", "/forms/renovation/status/abc%00def/permit",
    "/forms/move-in/booking/abc%00def", "/forms/surveys/i/abcdefghijklmnop%00",
])
def test_a_nul_in_a_private_link_is_a_404(pg_client, path):
    response = pg_client.get(path)
    assert response.status_code == 404
    assert "系统暂时出错" not in response.get_data(as_text=True)


def test_a_nul_in_typed_text_is_dropped_and_the_application_stored(pg_client):
    owner = Owner(pg_client)
    page, _ = owner.submit_ok(application_fields(owner_name="王\x00美华",
                                                 description="卫生间\x00防水"))
    assert "王美华" in page and "卫生间防水" in page


def test_a_nul_in_the_form_nonce_is_refused_in_chinese(pg_client):
    owner = Owner(pg_client)
    hidden = {**owner.open_form(), "nonce": "\x00" * 24}
    response = owner.submit(hidden=hidden)
    assert response.status_code == 400
    assert "请刷新页面后重新填写" in response.get_data(as_text=True)
    assert pg_client.get(APPLY_URL).status_code == 200
