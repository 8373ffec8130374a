"""Uploaded files (drawings, plans, patrol and inspection photos): checked by their content,
stored under generated names.

The owner's file name is kept only as data (``secure_filename`` would drop Chinese names),
and files are only ever sent back as downloads, never inline, named with the extension of the
type found in their content: a JPEG named ``图纸.html`` downloads as ``图纸.jpg`` and opens as
a picture, not as a page. A file whose first bytes hold web-page markup (a PDF/HTML polyglot)
is refused outright.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import abort, current_app
from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import FileStorage

from ..core.clock import utcnow
from ..core.extensions import db
from .store import file_store

MAX_NAME_CHARS = 255

# Magic bytes of the accepted types: (prefix, content type, extension of the stored file).
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
EXTENSIONS = {content_type: extension for _magic, content_type, extension in SIGNATURES}
# Other spellings of an accepted type's extension, kept when the owner used them.
SAME_TYPE = {".jpeg": ".jpg"}
# Browsers that sniff look for markup in the first 1445 bytes (WHATWG MIME sniffing); a
# drawing or photo never has any there.
SNIFF_BYTES = 1445
MARKUP = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg|hta:application)[\s>/]", re.IGNORECASE
)


class AttachmentError(ValueError):
    """An upload that the form refuses, with the Chinese message to show."""


@dataclass
class CheckedUpload:
    """An upload whose content was recognised, ready to be stored."""

    file: FileStorage
    original_name: str
    content_type: str
    extension: str
    size: int


def display_name(raw: str | None, extension: str) -> str:
    """The owner's file name as data: no path, no control characters, bounded length."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name.strip(". "):
        return "附件" + extension
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        keep = ("." + ext) if dot and len(ext) <= 10 else ""
        name = name[: MAX_NAME_CHARS - len(keep)] + keep
    return name


def check_upload(upload: FileStorage) -> CheckedUpload:
    """Recognise a PDF, JPEG or PNG by its first bytes and measure it."""
    stream = upload.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    name = upload.filename or "附件"
    if size == 0:
        raise AttachmentError(f"「{name}」是空文件。")
    limits = upload_limits()
    if size > limits.max_file_bytes:
        raise AttachmentError(f"「{name}」超过 {limits.max_file_mb} MB，请压缩后再上传。")
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            if MARKUP.search(head):
                raise AttachmentError(
                    f"「{name}」中含有网页代码，不能作为附件上传。"
                    "请上传图纸或照片的原始 PDF、JPG 或 PNG 文件。"
                )
            return CheckedUpload(
                upload, display_name(name, extension), content_type, extension, size
            )
    raise AttachmentError(f"「{name}」不是 PDF、JPG 或 PNG 文件（按文件内容识别，不看文件名）。")


def chosen_files(files: list[FileStorage] | None) -> list[FileStorage]:
    """The file inputs the owner actually filled (an empty input sends a nameless part)."""
    return [f for f in files or [] if isinstance(f, FileStorage) and f.filename]


@dataclass(frozen=True)
class UploadLimits:
    """How many files one form takes and how large each may be (settings in config.py)."""

    max_files: int
    max_file_bytes: int

    @property
    def max_file_mb(self) -> int:
        return self.max_file_bytes // (1024 * 1024)


def upload_limits() -> UploadLimits:
    config = current_app.config
    return UploadLimits(config["UPLOAD_MAX_FILES"], config["UPLOAD_MAX_FILE_BYTES"])


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


class StoredFiles:
    """Files written before the database commit; removed again unless ``keep()`` is called.

    Use it around the write transaction, then call ``keep()`` once the commit succeeded, so a
    failed or abandoned submission leaves no file behind. The files go to the app's file store
    (the upload folder, or the database when several hosts share it: store.py).
    """

    def __init__(self, uploads: list[CheckedUpload]):
        self.uploads = uploads
        self.store = file_store()
        self.names: list[str] = []
        self._kept = False

    def __enter__(self) -> StoredFiles:
        try:
            for upload in self.uploads:
                self._write(upload)
        except BaseException:
            self._remove()
            raise
        return self

    def _write(self, upload: CheckedUpload) -> None:
        stored_name = new_stored_name(upload.extension)
        upload.file.stream.seek(0)
        # Registered before writing so that a half-written file is removed as well.
        self.names.append(stored_name)
        self.store.write(stored_name, upload.file.stream)

    def keep(self) -> None:
        self._kept = True

    def _remove(self) -> None:
        for stored_name in self.names:
            self.store.delete(stored_name)
        self.names = []

    def __exit__(self, *_exc) -> None:
        if not self._kept:
            self._remove()


def new_stored_name(extension: str) -> str:
    """A generated name for a stored file: never the owner's, never guessable."""
    return secrets.token_hex(16) + extension


class StoredFileColumns:
    """Columns of a model row that describes one stored upload (mixed into each such model)."""

    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def download_name(original_name: str, content_type: str) -> str:
    """The original (Chinese) name with the extension of the type found in the content:
    ``图纸.html`` holding a JPEG becomes ``图纸.jpg``; ``照片.JPG`` and ``scan.jpeg`` stay."""
    extension = EXTENSIONS[content_type]
    stem, dot, suffix = original_name.rpartition(".")
    if not dot or not stem.strip(". "):
        stem, suffix = original_name, ""
    if SAME_TYPE.get("." + suffix.lower(), "." + suffix.lower()) == extension:
        return original_name
    return stem + extension


def send_attachment(attachment: StoredFileColumns):
    """Send a stored attachment as a download named for its content type (never inline)."""
    response = file_store().send(
        attachment.stored_name,
        mimetype=attachment.content_type,
        download_name=download_name(attachment.original_name, attachment.content_type),
    )
    # Should a browser ever show it anyway, it runs nothing and loads nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def send_file_under(model, file_id: int, parent_id: int, parent_of: Callable[[object], int]):
    """Send the stored file ``file_id`` of ``model`` only when it belongs to the record the URL
    names (``parent_of(file) == parent_id``); any other id is a 404, never another's file."""
    found = db.session.get(model, file_id)
    if found is None or parent_of(found) != parent_id:
        abort(404)
    return send_attachment(found)
