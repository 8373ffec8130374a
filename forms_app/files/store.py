"""Where uploaded files live: the app host's disk, or the database.

With SQLite (one host) files are kept in the upload folder, as they always were. With
PostgreSQL several app hosts may serve the same site, and a file one host stored must be
served by every other: the files are then kept in the database itself, in chunks of
``CHUNK_BYTES`` (table ``stored_file_chunk``), written and read a chunk at a time so a large
drawing is never held in memory whole. ``FILE_STORE`` chooses (``disk`` or ``database``); by
default ``database`` on PostgreSQL and ``disk`` on SQLite. ``flask --app forms_app files
import-disk`` copies the files of an upload folder into the database (moving a deployment
from one host to several).

Both stores keep the same promise: ``write`` never overwrites another file (the generated
name is created exclusively), and a file written for a submission that then fails is removed
again by ``StoredFiles`` (uploads.py), so nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import Response, current_app, send_file
from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import NotFound

from ..core.clock import utcnow
from ..core.community import community_key
from ..core.extensions import db
from ..core.private_files import create_private

DISK, DATABASE = "disk", "database"
CHUNK_BYTES = 256 * 1024


class FileExists(FileExistsError):
    """A stored name that is already taken (a generated name never is, in practice)."""


class StoredFile(db.Model):
    """A file kept in the database: its name (as the records name it), size and community."""

    __tablename__ = "stored_file"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class StoredFileChunk(db.Model):
    """One chunk of a stored file (``CHUNK_BYTES`` long but for the last)."""

    __tablename__ = "stored_file_chunk"

    name: Mapped[str] = mapped_column(
        ForeignKey("stored_file.name", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


def _chunks_of(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def _copy(store, source: str, name: str) -> bool:
    """Copy ``source`` to the new name ``name`` in ``store``; False when ``source`` is missing."""
    try:
        reader = store.open(source)
    except FileNotFoundError:
        return False
    with reader:
        store.write(name, reader)
    return True


class DiskStore:
    """Files in one folder of the app host (private: 0600 files in a 0700 folder)."""

    kind = DISK

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def write(self, name: str, stream: BinaryIO) -> None:
        try:
            handle = create_private(self.directory / name)  # exclusive create
        except FileExistsError as exc:
            raise FileExists(name) from exc
        try:
            with handle:
                shutil.copyfileobj(stream, handle, CHUNK_BYTES)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            self.delete(name)
            raise

    def exists(self, name: str) -> bool:
        return (self.directory / name).is_file()

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)

    def copy(self, source: str, name: str) -> bool:
        return _copy(self, source, name)

    def names(self) -> Iterator[str]:
        if self.directory.is_dir():
            yield from sorted(p.name for p in self.directory.iterdir() if p.is_file())

    def open(self, name: str) -> BinaryIO:
        return open(self.directory / name, "rb")

    def send(self, name: str, *, mimetype: str, download_name: str) -> Response:
        return send_file(
            self.directory / name,
            mimetype=mimetype,
            as_attachment=True,
            download_name=download_name,
            max_age=0,
        )


class _ChunkReader:
    """A read-only file object over a stored file's chunks (for copies and backups)."""

    def __init__(self, engine, name: str, size: int, chunks: int):
        self.size = size
        self._parts = DatabaseStore._read(engine, name, chunks)
        self._chunk, self._at = b"", 0

    def read(self, size: int = -1) -> bytes:
        parts = []
        wanted = size
        while wanted != 0:
            if self._at >= len(self._chunk):
                chunk = next(self._parts, None)
                if chunk is None:
                    break
                self._chunk, self._at = chunk, 0
            end = len(self._chunk) if wanted < 0 else min(len(self._chunk), self._at + wanted)
            parts.append(self._chunk[self._at : end])
            if wanted > 0:
                wanted -= end - self._at
            self._at = end
        return b"".join(parts)

    def close(self) -> None:
        self._parts.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


class DatabaseStore:
    """Files in the database, shared by every app host on it.

    Each file is written in its own short transaction (committed before the record that names
    it, like a file on disk), one chunk per statement; reading takes one chunk per statement
    on one connection held for the length of the download."""

    kind = DATABASE

    def write(self, name: str, stream: BinaryIO) -> None:
        size = chunks = 0
        try:
            with db.engine.begin() as connection:
                connection.execute(
                    insert(StoredFile).values(
                        name=name, community=community_key(), created_at=utcnow()
                    )
                )
                for chunk in _chunks_of(stream):
                    connection.execute(
                        insert(StoredFileChunk).values(name=name, seq=chunks, data=chunk)
                    )
                    size += len(chunk)
                    chunks += 1
                connection.execute(
                    StoredFile.__table__.update()
                    .where(StoredFile.name == name)
                    .values(size=size, chunks=chunks)
                )
        except IntegrityError as exc:
            raise FileExists(name) from exc

    def _row(self, name: str):
        with db.engine.connect() as connection:
            return connection.execute(
                select(StoredFile.size, StoredFile.chunks).where(StoredFile.name == name)
            ).first()

    def exists(self, name: str) -> bool:
        return self._row(name) is not None

    def delete(self, name: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(StoredFileChunk).where(StoredFileChunk.name == name))
            connection.execute(delete(StoredFile).where(StoredFile.name == name))

    @staticmethod
    def _read(engine, name: str, chunks: int) -> Iterator[bytes]:
        """The chunks one by one (outside the request too: a download streams after it)."""
        with engine.connect() as connection:
            for seq in range(chunks):
                yield connection.execute(
                    select(StoredFileChunk.data).where(
                        StoredFileChunk.name == name, StoredFileChunk.seq == seq
                    )
                ).scalar_one()

    def open(self, name: str) -> _ChunkReader:
        row = self._row(name)
        if row is None:
            raise FileNotFoundError(name)
        return _ChunkReader(db.engine, name, row.size, row.chunks)

    def copy(self, source: str, name: str) -> bool:
        return _copy(self, source, name)

    def names(self) -> Iterator[str]:
        with db.engine.connect() as connection:
            yield from connection.scalars(select(StoredFile.name).order_by(StoredFile.name))

    def send(self, name: str, *, mimetype: str, download_name: str) -> Response:
        try:
            reader = self.open(name)
        except FileNotFoundError:
            raise NotFound() from None
        response = send_file(
            reader, mimetype=mimetype, as_attachment=True, download_name=download_name, max_age=0
        )
        response.headers["Content-Length"] = str(reader.size)
        return response


def store_kind(config) -> str:
    """``FILE_STORE`` when set, else ``database`` on PostgreSQL and ``disk`` on SQLite."""
    chosen = (config.get("FILE_STORE") or "").strip().lower()
    if chosen:
        if chosen not in (DISK, DATABASE):
            raise ValueError("FILE_STORE 只能是 disk 或 database")
        return chosen
    url = str(config.get("SQLALCHEMY_DATABASE_URI", ""))
    return DATABASE if url.startswith("postgresql") else DISK


def file_store() -> DiskStore | DatabaseStore:
    """The app's file store (made once per app and setting)."""
    app = current_app._get_current_object()
    key = (store_kind(app.config), app.config["UPLOAD_DIR"])
    made = app.extensions.get("file_store")
    if made is None or made[0] != key:
        store = DatabaseStore() if key[0] == DATABASE else DiskStore(Path(key[1]))
        made = app.extensions["file_store"] = (key, store)
    return made[1]


def import_disk(directory: Path) -> tuple[int, int]:
    """Copy the files of an upload folder into the database store; (copied, already there)."""
    store = DatabaseStore()
    copied = present = 0
    for path in sorted(Path(directory).iterdir()) if Path(directory).is_dir() else []:
        if not path.is_file():
            continue
        if store.exists(path.name):
            present += 1
            continue
        with open(path, "rb") as reader:
            store.write(path.name, reader)
        copied += 1
    return copied, present
