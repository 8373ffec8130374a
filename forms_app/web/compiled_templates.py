"""Templates compiled once per process, whichever app object renders them.

Jinja compiles a template's source to Python the first time an environment loads it, and every
app object has an environment of its own. A process that makes many apps (the test suite makes
one per test) compiled the same templates again for each; with this cache a template is
compiled once per process and reused by every app after. Jinja checks each entry against the
template source's checksum, so a changed template is compiled again. A production process makes
one app: for it nothing changes.
"""

from __future__ import annotations

from threading import Lock

from jinja2.bccache import Bucket, BytecodeCache


class ProcessBytecodeCache(BytecodeCache):
    """Jinja's bytecode cache held in this process's memory."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code


COMPILED_TEMPLATES = ProcessBytecodeCache()
