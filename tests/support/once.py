"""Work done once per test run, even when pytest-xdist runs the tests in several processes."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path


def once_per_run(tmp_path_factory, name: str, make: Callable[[Path], Path]) -> Path:
    """``make(folder)`` called once per run; every test process gets the path it returned.

    In one process the folder is a fresh temporary one. Under xdist the first worker to take
    the lock makes it in the temporary folder the workers share (the parent of their own);
    the others wait on the lock, then reuse it."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return make(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent
    done = shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            folder = shared / name
            folder.mkdir()
            done.write_text(str(make(folder)), encoding="utf-8")
    return Path(done.read_text(encoding="utf-8"))
