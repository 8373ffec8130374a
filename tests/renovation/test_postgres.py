"""The owner forms on PostgreSQL, which refuses a NUL character in any text with an error:
junk in a private link or in typed text must still end on a Chinese page, never a 500.
Runs on a throw-away PostgreSQL server (tests/support/postgres.py).
"""

from __future__ import annotations

import pytest

from tests.renovation.conftest import move_to
from tests.support.postgres import app_on_postgres
from tests.support.renovation import APPLY_URL, REFERENCE, Owner, application_fields


@pytest.fixture
def pg_client(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(postgres_url, tmp_path / "instance", monkeypatch) as app:
        yield app.test_client()


@pytest.mark.parametrize(
    "path",
    [
        "/forms/renovation/status/abc%00def",
        "/forms/renovation/status/abc%00def/permit",
        "/forms/move-in/booking/abc%00def",
        "/forms/surveys/i/abcdefghijklmnop%00",
    ],
)
def test_a_nul_in_a_private_link_is_a_404(pg_client, path):
    response = pg_client.get(path)
    assert response.status_code == 404
    assert "系统暂时出错" not in response.get_data(as_text=True)


def test_a_nul_in_typed_text_is_dropped_and_the_application_stored(pg_client):
    owner = Owner(pg_client)
    page, _ = owner.submit_ok(
        application_fields(owner_name="王\x00美华", description="卫生间\x00防水")
    )
    assert "王美华" in page and "卫生间防水" in page


def test_a_nul_in_the_form_nonce_is_refused_in_chinese(pg_client):
    owner = Owner(pg_client)
    hidden = {**owner.open_form(), "nonce": "\x00" * 24}
    response = owner.submit(hidden=hidden)
    assert response.status_code == 400
    assert "请刷新页面后重新填写" in response.get_data(as_text=True)
    assert pg_client.get(APPLY_URL).status_code == 200


def test_kept_files_and_a_resubmission_on_postgresql(pg_client):
    """Kept files are claimed and swept with DELETE … RETURNING; the resubmission's link to the
    rejected application is unique there too."""
    import io
    import re

    owner = Owner(pg_client)
    hidden = owner.open_form()
    fields = application_fields(contractor_company="")
    fields["attachments"] = [(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "图纸.pdf")]
    page = owner.submit(fields, hidden=hidden).get_data(as_text=True)
    kept = re.findall(r'name="kept_upload" value="(\d+)"', page)
    assert len(kept) == 1
    response = owner.submit(application_fields(kept_upload=kept), hidden=hidden)
    assert response.status_code == 303
    page = pg_client.get(response.location).get_data(as_text=True)
    assert "图纸.pdf" in page
    reference = REFERENCE.search(page).group()
    move_to(pg_client.application, reference, ("rejected", "请补充图纸"))
    token = response.location.split("/status/")[1].split("?")[0]
    again = pg_client.get(f"{APPLY_URL}?from={token}").get_data(as_text=True)
    assert "图纸.pdf" in again and reference in again
