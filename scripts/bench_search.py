"""Search benchmark: do realistic owner and staff queries land on the section that answers them?

The handbook has two halves, each with its own search: the public owner site (``mkdocs.yml``,
served at ``/``) and the staff handbook (``mkdocs-staff.yml``, served at ``/staff/``). Both are
built twice into temporary folders — with our configuration (jieba user dictionary, our
separator, index weights, query segmentation) and with mkdocs-material's default search
settings (a plain ``- search`` plugin) — served on 127.0.0.1, and every query is typed into the
real Material search box of its half in headless Chromium. Printed side by side:

- the tuning set (``QUERIES``), owners' queries in the owner site and staff queries in the
  staff handbook: the queries the search settings were tuned on;
- the owner questions (``OWNER_QUESTIONS``): whole questions as owners type them, kept apart
  from tuning, asked in the owner site; a hit is an owner page that answers.

    .venv/bin/python scripts/bench_search.py [--show N] [--json FILE]

A hit is the expected section (page path + heading anchor) among the first 1 or 3 results, in
the order the search dialog shows them.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.search import (  # noqa: E402
    HALF_PATHS,
    OWNER,
    OWNER_QUESTIONS,
    QUERIES,
    STAFF,
    Query,
    open_search,
    ranked_sections,
)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def build_site(config: Path, out: Path) -> None:
    subprocess.run(
        [
            str(Path(sys.executable).parent / "mkdocs"),
            "build",
            "--strict",
            "--quiet",
            "-f",
            str(config),
            "--site-dir",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        stderr=subprocess.DEVNULL,
    )


# Our search tuning on top of the theme: the index weights and the query segmentation fix.
SEARCH_TUNING_HOOK = "handbook_hooks/search_tuning.py"
SEARCH_TUNING_JS = "assets/javascripts/search-segment.js"


@contextmanager
def default_search_config(config_name: str):
    """A half's configuration with the theme's default search: a plain ``- search`` plugin,
    without our jieba dictionary, separator, index weights and query segmentation fix."""
    from mkdocs.utils.yaml import yaml_load

    def load(name):
        with open(ROOT / name, encoding="utf-8") as handle:
            return yaml_load(handle)

    ours, owner = load(config_name), load("mkdocs.yml")
    hooks = ours.get("hooks", owner.get("hooks", []))
    overrides = {
        "INHERIT": config_name,
        "plugins": ["search"],
        "hooks": [h for h in hooks if h != SEARCH_TUNING_HOOK],
        "extra": {"polyfills": [j for j in owner["extra"]["polyfills"] if j != SEARCH_TUNING_JS]},
    }
    fd, name = tempfile.mkstemp(prefix=".bench-default-", suffix=".yml", dir=ROOT)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(overrides, handle, ensure_ascii=False)  # JSON is valid YAML
        yield Path(name)
    finally:
        os.unlink(name)


CONFIGS = {OWNER: "mkdocs.yml", STAFF: "mkdocs-staff.yml"}


@contextmanager
def variant_configs(name: str):
    """{half: config file} of one variant: ours, or the theme's default search."""
    if name == OURS:
        yield {half: ROOT / config for half, config in CONFIGS.items()}
        return
    with (
        default_search_config(CONFIGS[OWNER]) as owner,
        default_search_config(CONFIGS[STAFF]) as staff,
    ):
        yield {OWNER: owner, STAFF: staff}


def build_both(configs: dict, out: Path) -> None:
    """The owner site into ``out``, the staff handbook into ``out/staff`` (served at /staff/)."""
    build_site(configs[OWNER], out)
    build_site(configs[STAFF], out / HALF_PATHS[STAFF].strip("/"))


OURS, DEFAULT = "本项目配置", "主题默认"


@contextmanager
def serve(directory: Path):
    """A static file server for a built site on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args):
        pass


def hits(ranked: list[str], query: Query, k: int) -> bool:
    return any(section in query.answers for section in ranked[:k])


def run(query_sets: dict[str, list[Query]], show: int) -> dict:
    """Build both variants of both halves, type every query into its half's search box;
    {set name: {variant: [(query, ranked)]}}."""
    from playwright.sync_api import sync_playwright

    results = {name: {} for name in query_sets}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        for number, variant in enumerate((OURS, DEFAULT)):
            out = Path(tmp) / f"site-{number}"
            with variant_configs(variant) as configs:
                build_both(configs, out)
            with serve(out) as url, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                page.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if urlsplit(route.request.url).hostname == "127.0.0.1"
                        else route.abort()
                    ),
                )
                for set_name, queries in query_sets.items():
                    rows = {}
                    for half, path in HALF_PATHS.items():
                        asked = [query for query in queries if query.who == half]
                        if not asked:
                            continue
                        open_search(page, url.rstrip("/") + path)
                        for query in asked:
                            rows[query] = ranked_sections(page, query.text)[:show]
                    results[set_name][variant] = [(query, rows[query]) for query in queries]
                browser.close()
    return results


def report(results: dict) -> str:
    """hit@1 / hit@3 per half and variant, side by side, then the misses."""
    lines = []
    for set_name, variants in results.items():
        names = list(variants)
        lines += [
            f"== {set_name}",
            f"{'':<14}{'指标':<8}" + "".join(f"{name:>16}" for name in names),
        ]
        for half in HALF_PATHS:
            rows = {name: [(q, r) for q, r in variants[name] if q.who == half] for name in names}
            total = len(rows[names[0]])
            if not total:
                continue
            for k in (1, 3):
                cells = []
                for name in names:
                    count = sum(hits(ranked, query, k) for query, ranked in rows[name])
                    cells.append(f"{count:>3}/{total} {count / total:6.1%}")
                label = f"{half}（{total} 条）"
                lines.append(f"{label:<14}hit@{k:<4}" + "".join(f"{cell:>18}" for cell in cells))
            other = HALF_PATHS[STAFF if half == OWNER else OWNER].strip("/")
            if other:
                leaked = sum(
                    1
                    for query, ranked in rows[names[0]]
                    for section in ranked[:3]
                    if section.startswith(other + "/")
                )
                lines.append(f"{'':<14}前三条中员工手册页面: {leaked}")
        for name in names:
            misses = [
                (query, ranked) for query, ranked in variants[name] if not hits(ranked, query, 1)
            ]
            lines += ["", f"{name} 未命中 (hit@1): {len(misses)}"]
            for query, ranked in misses:
                first = ranked[0] if ranked else "(无结果)"
                lines.append(
                    f"  [{query.who}] {query.text!r}: 期望 {' | '.join(query.answers)}; 第一条 {first}"
                )
        lines.append("")
    return "\n".join(lines)


QUERY_SETS = {
    "调优查询集（QUERIES）": QUERIES,
    "业主问题集（OWNER_QUESTIONS，未用于调优）": OWNER_QUESTIONS,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=3, help="results kept per query")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    results = run(QUERY_SETS, max(args.show, 3))
    print(report(results))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    set_name: {
                        name: [
                            {
                                "query": query.text,
                                "half": query.who,
                                "answers": query.answers,
                                "ranked": ranked,
                            }
                            for query, ranked in rows
                        ]
                        for name, rows in variants.items()
                    }
                    for set_name, variants in results.items()
                },
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
