"""Attachments: recognised by content, stored under generated names, never served inline."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from forms_app.core.config import UPLOAD_MAX_FILE_BYTES
from forms_app.files.uploads import display_name, send_attachment
from forms_app.renovation import applications
from tests.support.renovation import application_fields

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def with_files(*files: tuple[bytes, str], **overrides) -> dict:
    fields = application_fields(**overrides)
    fields["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return fields


def test_pdf_png_and_jpeg_are_stored_under_generated_names(owner, stored):
    page, _ = owner.submit_ok(
        with_files((PDF, "客厅平面图（修改版）.pdf"), (PNG, "卫生间.png"), (JPEG, "照片.JPG"))
    )
    [application] = stored.applications()
    kept = {(a.original_name, a.content_type, a.size) for a in application.attachments}
    assert kept == {
        ("客厅平面图（修改版）.pdf", "application/pdf", len(PDF)),
        ("卫生间.png", "image/png", len(PNG)),
        ("照片.JPG", "image/jpeg", len(JPEG)),
    }
    files = stored.files()
    assert sorted(f.name for f in files) == sorted(a.stored_name for a in application.attachments)
    assert {f.read_bytes() for f in files} == {PDF, PNG, JPEG}
    assert all("客厅" not in f.name for f in files)
    assert "客厅平面图（修改版）.pdf" in page


def test_owner_gets_no_link_to_attachments(owner, stored):
    page, _ = owner.submit_ok(with_files((PDF, "图纸.pdf")))
    [application] = stored.applications()
    stored_name = application.attachments[0].stored_name
    assert stored_name not in page
    assert "/uploads" not in page


@pytest.mark.parametrize(
    "content, name",
    [
        (HTML, "平面图.jpg"),
        (HTML, "plan.pdf"),
        (b"GIF89a" + b"\x00" * 20, "动图.png"),
        (b"", "空文件.pdf"),
    ],
)
def test_file_that_is_not_pdf_jpeg_or_png_by_content_is_refused(owner, stored, content, name):
    response = owner.submit(with_files((PDF, "正常.pdf"), (content, name)))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"「{name}」" in page
    assert stored.count() == 0
    # Only the good file is kept, shown as already attached; the refused one is not stored.
    assert '<span class="kept-name">正常.pdf</span>' in page
    assert f'<span class="kept-name">{name}</span>' not in page
    assert [f.read_bytes() for f in stored.files()] == [PDF]


def test_more_than_five_files_are_refused(owner, stored):
    response = owner.submit(with_files(*[(PNG, f"图{i}.png") for i in range(6)]))
    assert response.status_code == 400
    assert "最多上传5个附件" in response.get_data(as_text=True)
    assert stored.count() == 0 and stored.files() == []


def test_file_over_ten_megabytes_is_refused(owner, stored):
    big = PDF + b"0" * (UPLOAD_MAX_FILE_BYTES - len(PDF) + 1)
    response = owner.submit(with_files((big, "大图纸.pdf")))
    assert response.status_code == 400
    assert "「大图纸.pdf」超过 10 MB" in response.get_data(as_text=True)
    assert stored.count() == 0 and stored.files() == []


def test_files_are_removed_when_the_database_write_fails(owner, stored, monkeypatch):
    def broken(_connection, _filed_on):
        raise RuntimeError("database went away")

    monkeypatch.setattr(applications, "next_reference", broken)
    response = owner.submit(with_files((PDF, "图纸.pdf"), (PNG, "效果图.png")))
    assert response.status_code == 500
    assert "服务暂时出错" in response.get_data(as_text=True)
    assert stored.count() == 0
    assert stored.files() == []


def test_second_post_of_the_same_form_stores_its_files_once(owner, stored):
    hidden = owner.open_form()
    owner.submit(with_files((PDF, "图纸.pdf")), hidden=hidden)
    owner.submit(with_files((PDF, "图纸.pdf")), hidden=hidden)
    assert stored.count() == 1
    assert len(stored.files()) == 1


def test_download_keeps_the_chinese_name_and_is_never_inline(app, owner, stored):
    owner.submit_ok(with_files((PDF, "客厅平面图.pdf")))
    [application] = stored.applications()
    with app.test_request_context():
        response = send_attachment(application.attachments[0])
        response.direct_passthrough = False
        assert response.get_data() == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%AE%A2%E5%8E%85%E5%B9%B3%E9%9D%A2%E5%9B%BE.pdf" in disposition
    assert response.mimetype == "application/pdf"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("C:\\fakepath\\装修图纸.pdf", "装修图纸.pdf"),
        ("../../etc/passwd", "passwd"),
        ("图\x00纸\n.png", "图纸.png"),
        ("", "附件.pdf"),
        # A name of dots or spaces only would download as "." or nothing.
        (".", "附件.pdf"),
        (" .. ", "附件.pdf"),
        ("\u200b", "附件.pdf"),
    ],
)
def test_display_name_keeps_only_the_file_name(raw, expected):
    assert display_name(raw, ".pdf") == expected


def test_upload_is_checked_from_its_first_bytes_not_its_name(app):
    from forms_app.files.uploads import AttachmentError, check_upload

    upload = FileStorage(io.BytesIO(PNG), filename="看起来是.pdf")
    with app.app_context():
        assert check_upload(upload).content_type == "image/png"
        with pytest.raises(AttachmentError):
            check_upload(FileStorage(io.BytesIO(HTML), filename="a.png"))


def test_full_disk_while_storing_files_is_explained_and_leaves_nothing(owner, stored, monkeypatch):
    from forms_app.files import store

    def disk_full(source, target, _length):
        target.write(source.read(10))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.shutil, "copyfileobj", disk_full)
    response = owner.submit(with_files((PDF, "图纸.pdf"), (PNG, "效果图.png")))
    assert response.status_code == 400
    assert "附件保存失败，申请未提交" in response.get_data(as_text=True)
    assert stored.count() == 0
    assert stored.files() == []
