"""Files and folders only the service's own account may read: the database, the secret key,
uploads and backups hold owners' names, mobiles and drawings.

Created private (0600 files, 0700 folders) whatever the process umask, and made private again
at start-up where an older version left them readable by everyone.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | Path) -> Path:
    """Create the folder (and missing parents) if needed and make it 0700."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def sqlite_on_disk(database: str | None) -> bool:
    """Whether a SQLite database name is a file of its own: not in memory, not a ``file:``
    URI (whose files SQLite names itself)."""
    return bool(database) and database != ":memory:" and not database.startswith("file:")


def make_private(path: str | Path) -> None:
    """Make an existing file 0600 (nothing happens if it does not exist)."""
    try:
        os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass


def create_private(path: str | Path):
    """Open a new file for writing in binary mode, created 0600; fails if it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    return os.fdopen(descriptor, "wb")


def publish_once(path: str | Path, content: bytes) -> bool:
    """Create ``path`` holding ``content`` unless it exists; atomic across processes.

    The content is written to a private temporary file first and linked into place, so a
    process starting at the same moment sees either no file or the whole file, never an
    empty or half-written one. Returns whether this call created it.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp creates it 0600 with O_EXCL
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)
