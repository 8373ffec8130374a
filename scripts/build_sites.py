"""Build every community's handbook: its owner guide (site/<id>/) and its staff handbook
(site-staff/<id>/), each from the same docs/ with that community's data (``make site``).

A deployment's communities are the files of data/communities/ (``COMMUNITIES_DIR``), or only
``COMMUNITY_FILE`` when that is set, as the app serves them. Builds run in parallel, one MkDocs
process per core, and a community whose inputs have not changed since its last build is left as
it is: every file the build reads (docs/, theme/, the hooks, the shared data files, the
loaders under forms_app/core/, the MkDocs files, the Markdown packages' versions:
forms_app/core/build_inputs.py) and the community's own file and fee file are hashed into
``.inputs`` beside the build. Fifty
communities whose data did not change cost fifty hashes; one changed community costs two
builds; a change to a shared page rebuilds them all, ``--jobs`` at a time.

    python scripts/build_sites.py [--jobs N] [--pdf] [--force]

``--pdf`` also renders each owner guide's printable handbook (site/<id>/owner/handbook.pdf),
when its guide was rebuilt or the PDF is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forms_app.core.build_inputs import inputs_digest  # noqa: E402
from forms_app.core.community import COMMUNITIES_DIR, deployment_files, load_community  # noqa: E402
from forms_app.core.fee_standards import fee_file_for  # noqa: E402

HALVES = {"mkdocs.yml": "site", "mkdocs-staff.yml": "site-staff"}
STAMP = ".inputs"  # a hidden name: neither the app nor nginx serves it


def community_digest(shared: str, community_file: Path) -> str:
    community = load_community(community_file)
    digest = hashlib.sha256(shared.encode())
    for file in (community_file, fee_file_for(community)):
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()


def build_one(config: str, out: Path, community_file: Path, inputs: str, force: bool) -> str:
    """One half for one community, unless its last build had the same inputs."""
    stamp = out / STAMP
    if not force and stamp.is_file() and stamp.read_text() == inputs:
        return "unchanged"
    subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "--quiet"]
        + ["-f", config, "--site-dir", str(out)],
        cwd=ROOT,
        check=True,
        env={**os.environ, "COMMUNITY_FILE": str(community_file), "NO_MKDOCS_2_WARNING": "1"},
    )
    stamp.write_text(inputs)
    return "built"


def build_pdf(site: Path) -> str:
    pdf = site / "owner" / "handbook.pdf"
    marker = site / ".pdf-inputs"
    inputs = (site / STAMP).read_text()
    if pdf.is_file() and marker.is_file() and marker.read_text() == inputs:
        return "unchanged"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_pdf.py"), "--site-dir", str(site)],
        cwd=ROOT,
    )
    if result.returncode:
        return "skipped (the reason is above; the rest of the site is unaffected)"
    marker.write_text(inputs)
    return "built"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pdf", action="store_true", help="also each owner guide's PDF")
    parser.add_argument("--force", action="store_true", help="build even when nothing changed")
    args = parser.parse_args(argv)
    started = time.monotonic()
    shared = inputs_digest(skip=COMMUNITIES_DIR)
    jobs = []
    named, folder = os.environ.get("COMMUNITY_FILE"), os.environ.get("COMMUNITIES_DIR")
    for community_file in map(Path, deployment_files(named, folder)):
        key = load_community(community_file).key
        inputs = community_digest(shared, community_file)
        for config, folder in HALVES.items():
            jobs.append((key, config, ROOT / folder / key, community_file, inputs, args.force))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda job: (job, build_one(*job[1:])), jobs))
        pdfs = []
        if args.pdf:
            sites = [job[2] for job in jobs if job[1] == "mkdocs.yml"]
            pdfs = list(pool.map(lambda site: (site, build_pdf(site)), sites))
    for (key, config, *_rest), outcome in results:
        print(f"{key:<16} {HALVES[config]:<11} {outcome}")
    for site, outcome in pdfs:
        print(f"{site.name:<16} PDF         {outcome}")
    print(f"{len(jobs) // 2} 个小区，{time.monotonic() - started:.1f} 秒")
    return 0


if __name__ == "__main__":
    sys.exit(main())
