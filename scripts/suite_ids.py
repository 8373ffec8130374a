"""A pytest plugin for ``scripts/bench_suite.py``: run only the tests whose node ids are listed
in the file named by ``SUITE_IDS_FILE`` (one id per line, as ``pytest --collect-only -q``
prints them). Loaded with ``-p suite_ids`` and ``scripts/`` on ``PYTHONPATH``; the tests never
import it."""

from __future__ import annotations

import os
from pathlib import Path


def pytest_collection_modifyitems(config, items):
    listed = Path(os.environ["SUITE_IDS_FILE"]).read_text(encoding="utf-8").split("\n")
    wanted = {line.strip() for line in listed if line.strip()}
    kept = [item for item in items if item.nodeid in wanted]
    dropped = [item for item in items if item.nodeid not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept
