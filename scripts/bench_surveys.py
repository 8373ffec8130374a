"""Benchmark of the survey results page and the .xlsx export at 10,000 and 100,000 responses.

    .venv/bin/python scripts/bench_surveys.py [--sizes 10000 100000]

Seeds the satisfaction survey with bulk inserts into a fresh SQLite file, then measures, in
the app (test client, same code path as gunicorn):
- the results page (median of 5 requests after one warm-up);
- the .xlsx export (typed and styled: title, filter, bold frozen header, widths, number
  formats, a second sheet with the rates), run in a separate process so its peak memory
  (max RSS of that process, everything included) is measured alone;
- the baseline, in the same run: a bare openpyxl write-only workbook of the same cells (the
  same rows streamed from the same queries, appended as they come: no formula guard, no
  styles, no second sheet), also in a process of its own.
Targets at 100,000: results page < 300 ms; the export at most 1.5x the bare workbook's time
and under 150 MB peak. Machines differ; the ratio, measured side by side, is what counts.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from process_memory import peak_rss_kib  # scripts/ is on the path of a script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SURVEY = "satisfaction"
PASSWORD = "bench-password-9"
COMMENTS = [
    "电梯轿厢很干净。",
    "希望增加夜间巡逻。",
    '=HYPERLINK("x")',
    "绿化修剪及时，点赞！",
    "地下室灯光太暗，请维修。",
]
PERIODS = ["2025-H1", "2025-H2", "2026-H1", "2026-H2"]


def make_app(instance: Path):
    os.environ["INSTANCE_PATH"] = str(instance)
    from forms_app import create_app

    return create_app({"SITE_DIR": None, "WTF_CSRF_ENABLED": False})


def seed(app, count: int) -> None:
    """Bulk insert ``count`` satisfaction responses (about 8 answer rows each)."""
    from sqlalchemy import delete, insert

    from forms_app.core.database import write_transaction
    from forms_app.surveys.catalog import all_surveys
    from forms_app.surveys.models import SurveyAnswer, SurveyResponse

    rng = random.Random(count)
    with app.app_context():
        survey = all_surveys()[SURVEY]
        scale_ids = [q.id for q in survey.satisfaction_questions]
        with write_transaction() as session:
            session.execute(delete(SurveyAnswer))
            session.execute(delete(SurveyResponse))
        chunk = 10_000
        answer_id = 0
        for start in range(0, count, chunk):
            responses, answers = [], []
            for response_id in range(start + 1, min(start + chunk, count) + 1):
                period = PERIODS[response_id % len(PERIODS)]
                responses.append(
                    {
                        "id": response_id,
                        "survey": SURVEY,
                        "period": period,
                        "submitted_at": datetime(2026, 1, 1) + timedelta(minutes=response_id),
                        "nonce": f"bench-{response_id}",
                    }
                )
                rows = [
                    (qid, rng.choices([5, 4, 3, 2, 1], [45, 40, 9, 4, 2])[0], None)
                    for qid in scale_ids
                ]
                if rng.random() < 0.8:
                    rows.append(("recommend", rng.randint(0, 10), None))
                if rng.random() < 0.3:
                    rows.append(("comments", None, rng.choice(COMMENTS)))
                for qid, value, text in rows:
                    answer_id += 1
                    answers.append(
                        {
                            "id": answer_id,
                            "response_id": response_id,
                            "survey": SURVEY,
                            "period": period,
                            "question_id": qid,
                            "value": value,
                            "option": None,
                            "text": text,
                        }
                    )
            with write_transaction() as session:
                session.execute(insert(SurveyResponse), responses)
                session.execute(insert(SurveyAnswer), answers)


def logged_in_client(app):
    from tests.support.staff import login

    client = app.test_client()
    response = login(client, "bench-manager", PASSWORD)
    assert response.status_code == 302, "login failed"
    return client


def time_results_page(app) -> float:
    client = logged_in_client(app)
    url = f"/forms/staff/surveys/{SURVEY}"
    assert client.get(url).status_code == 200
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(timings)


def export_child(instance: str) -> None:
    """Run in a separate process: one .xlsx export, then print seconds, bytes, max RSS."""
    app = make_app(Path(instance))
    client = logged_in_client(app)
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(f"/forms/staff/surveys/{SURVEY}/export.xlsx")
    size = sum(len(chunk) for chunk in response.response)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert response.status_code == 200
    print(f"{elapsed:.3f} {cpu:.3f} {size} {peak_rss_kib()}")


def bare_child(instance: str) -> None:
    """Run in a separate process: the same cells into a bare write-only workbook."""
    from openpyxl import Workbook

    from forms_app.surveys.catalog import all_surveys
    from forms_app.surveys.export import export_header, export_rows

    app = make_app(Path(instance))
    with app.test_request_context():
        survey = all_surveys()[SURVEY]
        started, cpu_started = time.perf_counter(), time.process_time()
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=survey.title)
        sheet.append(export_header(survey))
        for row in export_rows(survey):
            sheet.append(row)
        with tempfile.TemporaryFile() as target:
            workbook.save(target)
            size = target.tell()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"{elapsed:.3f} {cpu:.3f} {size} {peak_rss_kib()}")


def run_child(flag: str, instance: Path) -> tuple[float, float, int, int]:
    child = subprocess.run(
        [sys.executable, __file__, flag, str(instance)], capture_output=True, text=True, check=True
    )
    seconds, cpu, size_bytes, peak_kib = child.stdout.split()[-4:]
    return float(seconds), float(cpu), int(size_bytes), int(peak_kib)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--export-child", help=argparse.SUPPRESS)
    parser.add_argument("--bare-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(args.export_child)
        return
    if args.bare_child:
        bare_child(args.bare_child)
        return

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        app = make_app(instance)
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
        result = app.test_cli_runner().invoke(
            args=["create-user", "bench-manager", "--role", "manager"], input=PASSWORD + "\n"
        )
        assert result.exit_code == 0, result.output

        print(
            f"{'responses':>10} {'answers':>9} {'seed s':>7} {'results ms':>11} "
            f"{'xlsx s':>7} {'(CPU s)':>8} {'bare s':>7} {'(CPU s)':>8} {'ratio':>6} "
            f"{'xlsx MB':>8} {'peak RSS MB':>12} {'bare RSS MB':>12}"
        )
        worst = None
        for size in args.sizes:
            started = time.perf_counter()
            seed(app, size)
            seeded = time.perf_counter() - started
            with app.app_context():
                from forms_app.core.extensions import db

                answers = db.session.execute(db.text("SELECT COUNT(*) FROM survey_answer")).scalar()
                db.session.remove()
            page = time_results_page(app)
            seconds, cpu, size_bytes, peak_kib = run_child("--export-child", instance)
            bare_seconds, bare_cpu, _bare_bytes, bare_kib = run_child("--bare-child", instance)
            ratio = cpu / bare_cpu
            worst = (size, ratio, peak_kib, page)
            print(
                f"{size:>10,} {answers:>9,} {seeded:>7.1f} {page * 1000:>11.1f} "
                f"{seconds:>7.2f} {cpu:>8.2f} {bare_seconds:>7.2f} {bare_cpu:>8.2f} "
                f"{ratio:>6.2f} {size_bytes / 1e6:>8.1f} {peak_kib / 1024:>12.1f} "
                f"{bare_kib / 1024:>12.1f}",
                flush=True,
            )
        print(
            "targets at 100,000: results page < 300 ms; export CPU time <= 1.5x the bare "
            "workbook's, peak < 150 MB"
        )
        print("(s is wall time; the ratio uses CPU time, steadier on a shared machine)")
        if worst:
            size, ratio, peak_kib, page = worst
            missed = []
            if ratio > 1.5:
                missed.append(f"export {ratio:.2f}x the bare workbook")
            if peak_kib / 1024 >= 150:
                missed.append(f"peak {peak_kib / 1024:.0f} MB")
            if size >= 100_000 and page >= 0.3:
                missed.append(f"results page {page * 1000:.0f} ms")
            if missed:
                print("MISSED at", f"{size:,}:", "; ".join(missed))
                sys.exit(1)


if __name__ == "__main__":
    main()
