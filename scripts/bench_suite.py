"""Benchmark the test suite against the suite as it was when issue 8 asked for it to be halved.

    .venv/bin/python scripts/bench_suite.py [--baseline f03cc94] [--cache /tmp/bench-suite]
                                            [--skip-full]

The baseline commit is checked out into a git worktree with its own virtualenv (kept in
``--cache`` for the next run). Then, one after the other on the same machine:

1. the baseline's whole suite, with its own code and its own pytest options (``make test`` then);
2. this checkout's suite, restricted to the baseline's tests that still exist under the same
   node id: the same assertions, run the way ``make test`` runs them now;
3. this checkout's whole suite (skipped with ``--skip-full``).

Each run reports the tests passed, the wall time, the CPU time of pytest and the processes it
waited for (``getrusage(RUSAGE_CHILDREN)``) and the busy time of the whole machine
(``/proc/stat``; it also counts what pytest does not wait for: the browser's helpers, the
PostgreSQL and nginx servers, and anything else running). Target: run 2 takes at most half of
run 1's wall time. Exits 1 when a run fails or the target is missed. The machine is shared:
run it when nothing else is running, and read the figures side by side.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
BASELINE = "f03cc94"  # the last commit before issue 8's work: 817 tests
PASSED = re.compile(r"(\d+) passed")


@dataclass
class Run:
    name: str
    passed: int
    wall: float
    cpu: float
    busy: float


def machine_busy_seconds() -> float:
    """CPU time spent by the whole machine since boot, all cores (user, nice, system, irq)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def sh(*args: str, cwd: Path = PROJECT_ROOT, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, check=True, text=True, **kwargs)


def baseline_checkout(revision: str, cache: Path) -> Path:
    """A worktree of ``revision`` with its own virtualenv, made once and reused."""
    commit = sh("git", "rev-parse", revision, capture_output=True).stdout.strip()
    folder = cache / commit[:12]
    if not (folder / ".git").exists():
        cache.mkdir(parents=True, exist_ok=True)
        sh("git", "worktree", "add", "--detach", str(folder), commit)
    python = folder / ".venv" / "bin" / "python"
    if not (folder / ".venv" / "ready").exists():
        print(f"installing the baseline {commit[:12]} into {folder}/.venv …", flush=True)
        sh(sys.executable, "-m", "venv", "--clear", str(folder / ".venv"))
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-e", ".[test]"],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            raise SystemExit(f"pip install failed:\n{install.stdout}{install.stderr}")
        (folder / ".venv" / "ready").touch()
    return folder


def environment(**extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS")
    }
    return {**env, "NO_MKDOCS_2_WARNING": "1", **extra}


def timed_pytest(name: str, checkout: Path, *args: str, env: dict) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = machine_busy_seconds()
    started = time.perf_counter()
    result = subprocess.run(
        [str(checkout / ".venv" / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    busy = machine_busy_seconds() - busy_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-2000:], sep="\n")
        raise SystemExit(f"{name}: pytest exited with {result.returncode}")
    passed = PASSED.search(summary)
    run = Run(name, int(passed.group(1)) if passed else 0, wall, cpu, busy)
    print(
        f"  {name}: {run.passed} passed, {wall:.1f} s wall, {cpu:.1f} s CPU, "
        f"machine busy {busy:.1f} s",
        flush=True,
    )
    return run


def collected_ids(checkout: Path, env: dict) -> list[str]:
    result = subprocess.run(
        [
            str(checkout / ".venv" / "bin" / "pytest"),
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if "::" in line]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench-suite")
    parser.add_argument("--skip-full", action="store_true")
    options = parser.parse_args()

    base = baseline_checkout(options.baseline, options.cache)
    base_ids = collected_ids(base, environment())
    current_ids = set(collected_ids(PROJECT_ROOT, environment()))
    same = [node for node in base_ids if node in current_ids]
    print(
        f"baseline {options.baseline}: {len(base_ids)} tests; {len(same)} of them exist here "
        f"under the same id; this checkout has {len(current_ids)} tests",
        flush=True,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(same) + "\n")

    runs = [timed_pytest("1 baseline, whole suite", base, env=environment())]
    filtered = environment(PYTHONPATH=str(SCRIPTS), SUITE_IDS_FILE=listing.name)
    runs.append(
        timed_pytest("2 now, the baseline's tests", PROJECT_ROOT, "-p", "suite_ids", env=filtered)
    )
    if not options.skip_full:
        runs.append(timed_pytest("3 now, whole suite", PROJECT_ROOT, env=environment()))
    os.unlink(listing.name)

    print(f"\n{'run':34} {'tests':>6} {'wall s':>8} {'CPU s':>8} {'busy s':>8} {'wall vs 1':>10}")
    for run in runs:
        print(
            f"{run.name:34} {run.passed:6d} {run.wall:8.1f} {run.cpu:8.1f} {run.busy:8.1f} "
            f"{run.wall / runs[0].wall:10.0%}"
        )
    ratio = runs[1].wall / runs[0].wall
    verdict = "met" if ratio <= 0.5 else "MISSED"
    print(f"\ntarget: the baseline's tests in at most half its wall time: {ratio:.0%} ({verdict})")
    return 0 if ratio <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
