"""What a handbook build reads, hashed: the one definition both ``make site``
(scripts/build_sites.py, which rebuilds a community only when it changed) and the app's cached
reading of the staff handbook (training/handbook_sections.py) use.

The inputs are every file of docs/, theme/, handbook_hooks/, data/ and forms_app/core/ (the
loaders the hooks call), the two MkDocs files, and the versions of the packages that render
Markdown. A community's own file and its fee file are added by the caller.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .community import PROJECT_ROOT

SHARED_INPUTS = (
    "docs",
    "theme",
    "handbook_hooks",
    "data",
    "forms_app/core",
    "mkdocs.yml",
    "mkdocs-staff.yml",
)
PACKAGES = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions")


def _files(path: Path, skip: Path | None) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not (skip and skip in p.parents)
    )


def inputs_digest(extra: tuple[str | Path, ...] = (), skip: Path | None = None) -> str:
    """SHA-256 over the shared inputs, then ``extra`` (files or folders), each file's path and
    bytes; ``skip`` leaves a folder out (the communities, which a caller adds one by one)."""
    digest = hashlib.sha256()
    for name in (*SHARED_INPUTS, *extra):
        path = Path(name) if Path(name).is_absolute() else PROJECT_ROOT / name
        for file in _files(path, skip):
            digest.update(str(file).encode())
            digest.update(file.read_bytes())
    for package in PACKAGES:
        try:
            digest.update(f"{package}=={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(package.encode())
    return digest.hexdigest()
