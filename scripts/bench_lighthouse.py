"""Lighthouse (mobile) scores of the handbook and the renovation form as `make run` serves them,
beside the same docs built with mkdocs-material's default configuration.

Both builds render the same pages from the data files (the data and print hooks); the default
build drops everything this project configures on top of Material: the palette and contrast
CSS, `font: false`, the theme overrides (example notice, named search dialog), the Chinese
search tuning and the gzip copies. Each build is served the way `make run` serves it: gunicorn
(two workers) running the app, which serves the built site too. Lighthouse runs with Debian's
chromium; it comes from npm, installed once beside this script:

    (cd scripts/lighthouse && npm ci)
    .venv/bin/python scripts/bench_lighthouse.py [--runs 3]

Prints performance / accessibility / best-practices per page (the median of --runs runs).
Not a test: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LIGHTHOUSE = ROOT / "scripts" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
CATEGORIES = ("performance", "accessibility", "best-practices")
PAGES = {
    "首页": "/",
    "业主指南·装修指南": "/owner/renovation/",
    "装修申请表": "/forms/renovation/apply",
}
# Pages the two builds share: the form is the app's, not the handbook's.
APP_PAGES = {"装修申请表"}


def default_config(target: Path) -> Path:
    """mkdocs.yml reduced to Material's defaults: same docs, nav and page-rendering hooks."""
    source = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    ours = yaml.load(source, Loader=yaml.Loader)
    # The Markdown extensions stay as written (the Unicode slugify is a Python tag).
    extensions = re.search(r"^markdown_extensions:\n(?:[ #].*\n|\n)*", source, re.M).group(0)
    config = {
        "site_name": ours["site_name"],
        "docs_dir": str(ROOT / "docs"),
        "exclude_docs": ours.get("exclude_docs", ""),
        "use_directory_urls": True,
        "theme": {"name": "material", "language": "zh"},
        # Only the hooks that turn the pages' Jinja into text; no compression, no tuning.
        "hooks": [
            str(ROOT / "handbook_hooks" / name) for name in ("print_handbook.py", "data_pages.py")
        ],
        "plugins": ["search"],
        "nav": ours["nav"],
    }
    target.write_text(
        yaml.dump(config, allow_unicode=True, sort_keys=False) + extensions, encoding="utf-8"
    )
    return target


def build(config: Path, site_dir: Path) -> None:
    subprocess.run(
        [
            str(BIN / "mkdocs"),
            "build",
            "--quiet",
            "--config-file",
            str(config),
            "--site-dir",
            str(site_dir),
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """`make run`'s server for one built site: migrate, then gunicorn with two workers."""

    def __init__(self, site_dir: Path, instance: Path):
        self.env = {**os.environ, "SITE_DIR": str(site_dir), "INSTANCE_PATH": str(instance)}
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        subprocess.run(
            [str(BIN / "flask"), "--app", "forms_app", "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "forms_app.wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/forms/healthz", timeout=5)
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *_exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def lighthouse(url: str) -> dict[str, float]:
    """One mobile Lighthouse run: the three category scores."""
    result = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--output=json",
            "--output-path=stdout",
            "--quiet",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "CHROME_PATH": CHROME},
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"lighthouse failed for {url}: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    return {name: report["categories"][name]["score"] for name in CATEGORIES}


def median_scores(url: str, runs: int) -> dict[str, float]:
    samples = [lighthouse(url) for _ in range(runs)]
    return {name: statistics.median(s[name] for s in samples) for name in CATEGORIES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (median)")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists():
        print(
            "Lighthouse is not installed: run `(cd scripts/lighthouse && npm ci)` first.",
            file=sys.stderr,
        )
        return 1
    if not shutil.which(CHROME) and not Path(CHROME).exists():
        print(f"Chromium not found at {CHROME}: sudo apt-get install chromium", file=sys.stderr)
        return 1
    results: dict[str, dict[str, dict[str, float]]] = {"ours": {}, "defaults": {}}
    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as tmp:
        tmp = Path(tmp)
        builds = {
            "ours": ROOT / "mkdocs.yml",
            "defaults": default_config(tmp / "mkdocs-default.yml"),
        }
        for name, config in builds.items():
            build(config, tmp / name / "site")
            with Served(tmp / name / "site", tmp / name / "instance") as server:
                for label, path in PAGES.items():
                    if name == "defaults" and label in APP_PAGES:
                        continue
                    results[name][label] = median_scores(server.url + path, args.runs)
                    print(f"  {name:8} {label}: {results[name][label]}", file=sys.stderr)
    print(
        f"Lighthouse mobile, median of {args.runs} run(s): performance / accessibility / best practices"
    )
    print(f"{'page':<16}{'ours':>22}{'Material defaults':>26}")
    for label in PAGES:
        ours = " / ".join(f"{results['ours'][label][c]:.2f}" for c in CATEGORIES)
        if label in results["defaults"]:
            theirs = " / ".join(f"{results['defaults'][label][c]:.2f}" for c in CATEGORIES)
        else:
            theirs = "(same app page)"
        print(f"{label:<16}{ours:>22}{theirs:>26}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
