"""The two file stores keep the same promises: exclusive names, whole files back, deletes that
leave nothing, copies; the database store in chunks (files/store.py)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from forms_app.core.extensions import db
from forms_app.files.store import (
    CHUNK_BYTES,
    DatabaseStore,
    DiskStore,
    FileExists,
    StoredFileChunk,
    file_store,
    store_kind,
)

pytestmark = pytest.mark.one_app_per_module

CONTENT = bytes(range(256)) * (2 * CHUNK_BYTES // 256) + b"tail"


@pytest.fixture(params=["disk", "database"])
def store(app, request):
    app.config["FILE_STORE"] = request.param
    with app.test_request_context():
        yield file_store()


def test_the_setting_chooses_the_store(store):
    assert isinstance(store, DiskStore if store.kind == "disk" else DatabaseStore)


def test_a_file_comes_back_whole_and_goes_without_a_trace(app, store):
    store.write("a.pdf", io.BytesIO(CONTENT))
    assert store.exists("a.pdf")
    with store.open("a.pdf") as reader:
        assert reader.read(7) + reader.read(CHUNK_BYTES) + reader.read() == CONTENT
    with pytest.raises(FileExists):
        store.write("a.pdf", io.BytesIO(b"other"))
    with store.open("a.pdf") as reader:
        assert reader.read() == CONTENT  # the refused write changed nothing
    assert store.copy("a.pdf", "b.pdf") and not store.copy("missing.pdf", "c.pdf")
    assert sorted(store.names()) == ["a.pdf", "b.pdf"]
    store.delete("a.pdf")
    store.delete("a.pdf")  # twice is fine
    assert not store.exists("a.pdf") and store.exists("b.pdf")
    if store.kind == "database":
        chunks = db.session.scalar(select(func.count()).select_from(StoredFileChunk))
        assert chunks == 3  # b.pdf's only: two full chunks and the tail


def test_a_download_streams_with_its_length_and_name(app, store):
    store.write("d.pdf", io.BytesIO(CONTENT))
    response = store.send("d.pdf", mimetype="application/pdf", download_name="图纸.pdf")
    response.direct_passthrough = False
    assert response.get_data() == CONTENT
    assert response.headers["Content-Length"] == str(len(CONTENT))
    assert "filename*=UTF-8''%E5%9B%BE%E7%BA%B8.pdf" in response.headers["Content-Disposition"]


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="FILE_STORE"):
        store_kind({"FILE_STORE": "s3"})
    assert store_kind({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x"}) == "database"
    assert store_kind({"SQLALCHEMY_DATABASE_URI": "sqlite:///x"}) == "disk"


def test_the_upload_folder_is_copied_into_the_database(app, tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "x.jpg").write_bytes(CONTENT)
    app.config.update(FILE_STORE="database", UPLOAD_DIR=str(folder))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["files", "import-disk"])
    again = runner.invoke(args=["files", "import-disk"])
    assert "已将 1 个上传文件存入数据库（0 个原已存在）" in first.output
    assert "已将 0 个上传文件存入数据库（1 个原已存在）" in again.output
    with app.test_request_context():
        with file_store().open("x.jpg") as reader:
            assert reader.read() == CONTENT
    app.config["FILE_STORE"] = "disk"
    refused = runner.invoke(args=["files", "import-disk"])
    assert refused.exit_code != 0 and "FILE_STORE=database" in refused.output
