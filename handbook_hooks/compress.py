"""MkDocs hook: write a gzip copy beside every text file of the built site.

Compressing once at build time, at the highest level, costs nothing per request: nginx serves
the copies with ``gzip_static on`` in production and ``forms_app/site.py`` serves them in
``make run``. Material's stylesheet, script bundle and the search index shrink to about a
third. Listed last among the hooks so that it sees the files the others rewrite after the
build (the search index).
"""

from __future__ import annotations

import gzip
from pathlib import Path

COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map"}
# Below this size the gzip header outweighs what compression saves.
MIN_SIZE = 512


def compress_site(site_dir: Path) -> int:
    """Write ``<file>.gz`` for each compressible file that gzip makes smaller; return the count."""
    written = 0
    for path in sorted(site_dir.rglob("*")):
        if path.suffix not in COMPRESSIBLE or not path.is_file():
            continue
        data = path.read_bytes()
        if len(data) < MIN_SIZE:
            continue
        # mtime=0: the same input gives the same bytes, so rebuilds change nothing needlessly.
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) < len(data):
            path.with_name(path.name + ".gz").write_bytes(packed)
            written += 1
    return written


def on_post_build(config, **_kwargs):
    compress_site(Path(config.site_dir))
