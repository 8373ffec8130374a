"""Odd values in every field of the renovation form: never a 500, never stored, the Chinese
message beside the field; private links that never reach the database with junk in them;
attachments named to run (.html, .hta, .exe) or hiding a web page behind a valid signature."""

from __future__ import annotations

import logging

import pytest
from werkzeug.http import parse_options_header

from tests.support.fuzz import (
    NOT_UTF8,
    ODD_DATE,
    ODD_NUMBER,
    ODD_TEXT,
    assert_chinese_errors,
    odd_post,
)
from tests.support.renovation import APPLY_URL, application_fields

from .test_uploads import JPEG, PDF, PNG, with_files

# Hundreds of small tests: one app object for them all, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

ROOM_FIELDS = ["building", "unit", "room"]
TEXT_FIELDS = ["owner_name", "contractor_company", "site_lead_name"]
ODD_MOBILE = ["", "\x00", "１３８００１３８００", "٣" * 11, "138001380001", "x" * 5000, NOT_UTF8]

CASES = (
    [(f, v) for f in ROOM_FIELDS for v in ODD_NUMBER + [None, ["99", "1"]]]
    + [(f, v) for f in TEXT_FIELDS for v in ODD_TEXT + [None]]
    + [(f, v) for f in ("owner_mobile", "site_lead_mobile") for v in ODD_MOBILE + [None]]
    # Full-width and other Unicode digits are read as the number of workers they are.
    + [("workers", v) for v in ODD_NUMBER + [None] if v not in ("１", "٣")]
    + [(f, v) for f in ("start_date", "end_date") for v in ODD_DATE + [None]]
    + [("work_items", v) for v in [None, "x" * 5000, "\x00", NOT_UTF8]]
    + [("prohibited", v) for v in ["x" * 5000, "\x00", NOT_UTF8]]
    + [("includes_prohibited", v) for v in ["", "\x00", "maybe", "x" * 5000, NOT_UTF8, None]]
    + [("ack_agreement", None), ("ack_fire_safety", None), ("ack_prohibitions", None)]
)


@pytest.mark.parametrize("field, value", CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(CASES)])
def test_odd_value_is_refused_beside_its_field(owner, stored, field, value):
    fields = {**owner.open_form(), **application_fields()}
    response = odd_post(owner.client, APPLY_URL, fields, field, value)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">' in page
    assert_chinese_errors(page)
    assert stored.count() == 0


# With 其他 ticked the description is required: blank-looking text must not count.
@pytest.mark.parametrize("value", ODD_TEXT[:5] + [NOT_UTF8, "字" * 2001])
def test_odd_description_is_refused_beside_it(owner, stored, value):
    fields = {**owner.open_form(), **application_fields(work_items=["other"])}
    response = odd_post(owner.client, APPLY_URL, fields, "description", value)
    assert response.status_code == 400
    assert '<p class="field-error" id="description-error">' in response.get_data(as_text=True)
    assert stored.count() == 0


@pytest.mark.parametrize("value", ["", "\x00", "short", "x" * 5000, NOT_UTF8, None])
def test_odd_nonce_is_refused(owner, stored, value):
    fields = {**owner.open_form(), **application_fields()}
    response = odd_post(owner.client, APPLY_URL, fields, "nonce", value)
    assert response.status_code == 400
    assert "请刷新页面后重新填写" in response.get_data(as_text=True)
    assert stored.count() == 0


def test_full_width_digits_are_stored_as_ascii(owner, stored):
    owner.submit_ok(
        application_fields(
            owner_mobile="１３８ ００１３ ８０００",
            site_lead_mobile="13９1２3４5６7８",
            workers="６",
        )
    )
    [application] = stored.applications()
    assert application.workers == 6
    assert application.owner_mobile == "13800138000"
    assert application.site_lead_mobile == "13912345678"


def test_control_characters_are_dropped_from_stored_text(owner, stored, nul_sent_to_database):
    owner.submit_ok(
        application_fields(
            # U+202E would show the rest of the name reversed in staff lists and exports.
            owner_name="\u200b王\x00美华\u3000",
            contractor_company="金陵\x07家\u202e装",
            description="客厅铺地砖\r\n卫生间\x00重做防水\t（两遍）",
        )
    )
    [application] = stored.applications()
    assert application.owner_name == "王美华"
    assert application.contractor_company == "金陵家装"
    assert application.description == "客厅铺地砖\n卫生间重做防水\t（两遍）"
    assert nul_sent_to_database == []


@pytest.mark.parametrize(
    "path",
    [
        "/forms/renovation/status/%00",
        "/forms/renovation/status/abc%00def/permit",
        "/forms/renovation/status/%ff",
        "/forms/renovation/status/" + "a" * 5000,
    ],
)
def test_junk_status_links_are_404_without_reaching_the_database(
    client, nul_sent_to_database, path
):
    response = client.get(path)
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    assert nul_sent_to_database == []


def test_markup_in_every_owner_text_is_escaped_on_status_and_permit(app, owner, client):
    from tests.renovation.conftest import move_to
    from tests.support.renovation import REFERENCE

    script = "<script>alert(1)</script>"
    quote = '" onmouseover="alert(1)'
    page, status_url = owner.submit_ok(
        application_fields(
            owner_name=script[:30],
            contractor_company=quote,
            site_lead_name="<b>陈</b>",
            description=script,
        )
    )
    move_to(app, REFERENCE.search(page).group(), ("approved", ""))
    for url in (status_url, status_url + "/permit"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<b>陈</b>" not in body
        assert 'onmouseover="alert' not in body
        assert "&lt;b&gt;陈&lt;/b&gt;" in body


def test_an_unexpected_error_on_a_private_page_does_not_log_its_token(
    owner, client, monkeypatch, caplog
):
    _, status_url = owner.submit_ok()
    token = status_url.rsplit("/", 1)[-1]
    monkeypatch.setattr("forms_app.renovation.views.render_template", lambda *a, **k: 1 / 0)
    with caplog.at_level(logging.ERROR):
        response = client.get(status_url)
    assert response.status_code == 500
    assert "系统暂时出错" in response.get_data(as_text=True)
    assert caplog.records, "the error is logged"
    assert token not in caplog.text
    assert "/forms/renovation/status/<token>" in caplog.text


def test_the_form_is_never_cached(client):
    """Its one-time nonce finds the status link of the application sent with it: a cached
    copy shared by two owners would send the second one to the first one's application."""
    assert client.get(APPLY_URL).headers["Cache-Control"] == "private, no-store"


# Names whose extension would make the downloaded file run or open as a page.
@pytest.mark.parametrize(
    "name, downloaded",
    [
        ("图纸.html", "图纸.jpg"),
        ("图纸.HTM", "图纸.jpg"),
        ("更新.hta", "更新.jpg"),
        ("setup.exe", "setup.jpg"),
        ("图.svg", "图.jpg"),
        ("a.jpg.html", "a.jpg.jpg"),
        ("无扩展名", "无扩展名.jpg"),
        ("照片.JPG", "照片.JPG"),
        ("scan.jpeg", "scan.jpeg"),
    ],
)
def test_download_carries_the_extension_of_the_content_not_of_the_name(
    app, owner, stored, as_role, name, downloaded
):
    owner.submit_ok(with_files((JPEG, name)))
    [application] = stored.applications()
    [attachment] = application.attachments
    assert attachment.original_name == name
    staff = as_role("manager")
    detail = staff.get(f"/forms/staff/renovations/{application.id}").get_data(as_text=True)
    assert f">{name}</a>" in detail  # the original name is shown as it was
    response = staff.get(f"/forms/staff/renovations/{application.id}/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.get_data() == JPEG
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    kind, options = parse_options_header(response.headers["Content-Disposition"])
    assert (kind, options["filename"]) == ("attachment", downloaded)


@pytest.mark.parametrize(
    "content, name",
    [
        (PDF[:9] + b"<html><body><script>alert(1)</script>", "图纸.pdf"),
        (JPEG + b"<SCRIPT >alert(1)</SCRIPT>", "照片.jpg"),
        (PNG + b"<!DOCTYPE html>", "效果图.png"),
        (JPEG + b"<hta:application id=x>", "照片.hta"),
        (PDF + b"<svg onload=alert(1)>", "平面图.pdf"),
    ],
)
def test_polyglot_with_page_markup_is_refused(owner, stored, content, name):
    response = owner.submit(with_files((content, name)))
    assert response.status_code == 400
    assert f"「{name}」中含有网页代码" in response.get_data(as_text=True)
    assert stored.count() == 0 and stored.files() == []
