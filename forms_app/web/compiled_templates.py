"""Templates compiled once, whichever app object or process renders them.

Jinja compiles a template's source to Python the first time an environment loads it, and every
app object has an environment of its own. A process that makes many apps (the test suite makes
one per test) compiled the same templates again for each; with this cache a template is
compiled once per process and reused by every app after.

With ``TEMPLATE_CACHE_DIR`` set (``make`` uses ``build/template-cache``), the compiled code is
also kept in that folder for the next process: every gunicorn worker and every command otherwise
compiles each template it renders on its first request, a fifth of a new worker's first pages.
Like ``__pycache__``, the folder holds code the app runs: only the app's own user may write it.

Jinja checks each entry, from memory or from the folder, against the template source's checksum
and its own and Python's version, so a changed template is compiled again; an entry it cannot
read (cut short, another version) is compiled again and replaced. Files are written whole or not
at all (a temporary file renamed), so processes starting together can share the folder.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from threading import Lock

from jinja2.bccache import Bucket, BytecodeCache

CACHE_DIR_VARIABLE = "TEMPLATE_CACHE_DIR"


def cache_folder() -> Path | None:
    """The folder shared between processes, if ``TEMPLATE_CACHE_DIR`` names one."""
    folder = os.environ.get(CACHE_DIR_VARIABLE)
    return Path(folder) if folder else None


class ProcessBytecodeCache(BytecodeCache):
    """Jinja's bytecode cache held in this process's memory, and in ``cache_folder()``."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is None:
            code = _read(bucket.key)
            if code is not None:  # the next app of this process reads it from memory
                with self._lock:
                    self._code[bucket.key] = code
        if code is not None:
            bucket.bytecode_from_string(code)  # empty again if stale: Jinja compiles it

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code
        _write(bucket.key, code)


def _read(key: str) -> bytes | None:
    folder = cache_folder()
    if folder is None:
        return None
    try:
        return (folder / f"{key}.jinja").read_bytes()
    except OSError:
        return None


def _write(key: str, code: bytes) -> None:
    folder = cache_folder()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as part:
            part.write(code)
        os.replace(part.name, folder / f"{key}.jinja")
    except OSError:
        logging.getLogger(__name__).warning("无法写入模板缓存 %s", folder, exc_info=True)


COMPILED_TEMPLATES = ProcessBytecodeCache()
