"""`DATABASE_URL=postgresql://… make run` end to end: the Makefile migrates PostgreSQL and
starts gunicorn on it, and an owner and the staff go through their journeys over HTTP —
renovation apply → approve → start → 延期 → complete → accept → deposit refunded, a move-in
booking closed by staff, a questionnaire in the results — then a backup with pg_dump.

Runs on a throw-away PostgreSQL server (tests/support/postgres.py) in a database of its own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tarfile
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from tests.support import launcher
from tests.support.postgres import app_database
from tests.support.server import BIN, PROJECT_ROOT, free_port
from tests.support.staff import LOGIN_PATH

pytestmark = pytest.mark.long_module

TODAY = date(2026, 12, 1)  # inside the shipped surveys' windows
PASSWORD = "correct-horse-9"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NONCE = re.compile(r'name="nonce"[^>]*value="([^"]+)"')
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def own_database(postgres_url: str, name: str) -> str:
    """A fresh database on the test server, so other PostgreSQL tests' schemas don't mix in,
    owned by the ordinary role the app connects as (the README's ``createdb -O``)."""
    return app_database(postgres_url, name)


@pytest.fixture(scope="module")
def make_run(postgres_url, tmp_path_factory, built_sites):
    """`make run` with DATABASE_URL set, as the README says; stopped with its whole group.
    (After ``built_sites``: both bring the checkout's builds up to date, never at once.)"""
    instance = tmp_path_factory.mktemp("make-run-pg") / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(f'TODAY = "{TODAY}"\n', encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": own_database(postgres_url, "forms_make_run"),
        "INSTANCE_PATH": str(instance),
        "PORT": str(port),
        "VENV": str(BIN.parent),
    }
    log = open(instance.parent / "make-run.log", "w+", encoding="utf-8")
    process = subprocess.Popen(
        ["make", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # builds the handbook and its PDF first
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"make run exited with {process.returncode}:\n{log.read()[-3000:]}")
            try:
                if requests.get(base + "/forms/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        else:
            pytest.fail("make run did not serve /forms/healthz within 600 s")
        yield base, env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def flask(env: dict, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return launcher.run(
        [str(BIN / "flask"), "--app", "forms_app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=input,
        text=True,
        check=True,
    )


def token(html: str) -> str:
    return CSRF.search(html).group(1)


def staff_session(base: str, env: dict) -> requests.Session:
    flask(env, "create-user", "wang", "--role", "经理", input=PASSWORD + "\n")
    session = requests.Session()
    html = session.get(base + LOGIN_PATH, timeout=10).text
    response = session.post(
        base + LOGIN_PATH,
        timeout=10,
        data={"csrf_token": token(html), "username": "wang", "password": PASSWORD},
    )
    assert response.ok and "退出" in response.text
    return session


def test_owner_and_staff_journeys_on_postgresql(make_run):
    base, env = make_run
    assert "山水花园 物业服务手册" in requests.get(base + "/", timeout=10).text  # the handbook too
    # The second example community's guide and forms, at its own host name.
    port = base.rsplit(":", 1)[1]
    other = {"Host": f"xinyuan.localhost:{port}"}
    assert "馨园 物业服务手册" in requests.get(base + "/", headers=other, timeout=10).text
    assert "馨园" in requests.get(base + "/forms/renovation/apply", headers=other, timeout=10).text

    # The owner applies, with a drawing whose name says .html.
    owner = requests.Session()
    form = owner.get(base + "/forms/renovation/apply", timeout=10).text
    start = TODAY + timedelta(days=3)
    response = owner.post(
        base + "/forms/renovation/apply",
        timeout=30,
        allow_redirects=False,
        data={
            "csrf_token": token(form),
            "nonce": NONCE.search(form).group(1),
            "building": "1",
            "unit": "1",
            "room": "101",
            "owner_name": "王美华",
            "owner_mobile": "13800138000",
            "contractor_company": "金陵家装有限公司",
            "site_lead_name": "陈工",
            "site_lead_mobile": "13912345678",
            "workers": "6",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=45)).isoformat(),
            "work_items": ["plumbing_electric"],
            "description": "客厅铺地砖。",
            "includes_prohibited": "no",
            "ack_agreement": "y",
            "ack_fire_safety": "y",
            "ack_prohibitions": "y",
        },
        files={"attachments": ("图纸.html", JPEG, "text/html")},
    )
    assert response.status_code == 303, response.text[:1000]
    status_url = base + response.headers["Location"].split("?")[0]
    assert "待审核" in owner.get(status_url, timeout=10).text

    # The staff take it through the whole workflow.
    staff = staff_session(base, env)
    listing = staff.get(base + "/forms/staff/renovations", timeout=10).text
    application_id = re.search(r"/forms/staff/renovations/(\d+)", listing).group(1)
    detail_url = f"{base}/forms/staff/renovations/{application_id}"
    detail = staff.get(detail_url, timeout=10).text
    attachment = re.search(rf"/forms/staff/renovations/{application_id}/attachments/\d+", detail)
    download = staff.get(base + attachment.group(), timeout=10)
    assert download.content == JPEG and download.headers["Content-Type"] == "image/jpeg"
    assert "filename*=UTF-8''%E5%9B%BE%E7%BA%B8.jpg" in download.headers["Content-Disposition"]
    steps = [
        ("approve", {"confirm": "yes", "owner_confirmed": "yes"}),
        ("start", {}),
        ("extend", {"end_date": (start + timedelta(days=60)).isoformat(), "comment": "雨季"}),
        ("complete", {}),
        ("accept", {}),
        ("refund_deposit", {}),
    ]
    for action, fields in steps:
        page = staff.get(detail_url, timeout=10).text
        response = staff.post(
            f"{detail_url}/steps/{action}",
            timeout=10,
            allow_redirects=False,
            data={"csrf_token": token(page), **fields},
        )
        assert response.status_code == 303, (action, response.text[:1000])
    too_late = staff.post(
        f"{detail_url}/steps/extend",
        timeout=10,
        data={"csrf_token": token(page), "end_date": "9999-12-31", "comment": "x"},
    )
    assert too_late.status_code in (400, 409)
    assert "押金已退还" in owner.get(status_url, timeout=10).text
    assert (
        staff.get(f"{base}/forms/staff/renovations/99999999999999999999", timeout=10).status_code
        == 404
    )

    # A move-in booking, closed by the staff on the day's schedule.
    form = owner.get(base + "/forms/move-in/", timeout=10).text
    day = TODAY + timedelta(days=3)
    response = owner.post(
        base + "/forms/move-in/",
        timeout=10,
        allow_redirects=False,
        data={
            "csrf_token": token(form),
            "nonce": NONCE.search(form).group(1),
            "building": "5",
            "unit": "2",
            "room": "1202",
            "owner_name": "周建国",
            "owner_mobile": "13800138000",
            "move_date": day.isoformat(),
            "slot": "am1",
            "oversize": "no",
            "large_items": "冰箱",
        },
    )
    assert response.status_code == 303, response.text[:1000]
    schedule = staff.get(f"{base}/forms/staff/move-ins/?date={day.isoformat()}", timeout=10).text
    close = re.search(r"/forms/staff/move-ins/(\d+)/complete", schedule).group()
    assert (
        staff.post(
            base + close, data={"csrf_token": token(schedule)}, timeout=10, allow_redirects=False
        ).status_code
        == 303
    )

    # A questionnaire, in the results and the export.
    form = owner.get(base + "/forms/surveys/satisfaction", timeout=10).text
    answers = {
        f"q_{q}": "5"
        for q in (
            "customer_service",
            "maintenance",
            "security",
            "renovation",
            "cleaning",
            "greening",
            "overall",
        )
    }
    response = owner.post(
        base + "/forms/surveys/satisfaction",
        timeout=10,
        data={
            "csrf_token": token(form),
            "nonce": NONCE.search(form).group(1),
            **answers,
            "q_recommend": "9",
            "q_comments": "电梯很干净",
        },
    )
    assert response.ok, response.text[:1000]
    export = staff.get(base + "/forms/staff/surveys/satisfaction/export.csv", timeout=10)
    assert "电梯很干净" in export.content.decode("utf-8-sig")

    # A backup of the PostgreSQL database, which holds the uploads too (files/store.py): the
    # drawing is in the dump's stored_file_chunk table, and no host's folder has it.
    out = Path(env["INSTANCE_PATH"]) / "backups"
    flask(env, "backup", "--output", str(out))
    [archive] = out.glob("backup-*.tar.gz")
    with tarfile.open(archive) as tar:
        assert "database.pgdump" in tar.getnames()
        tar.extract("database.pgdump", out, filter="data")
    listing = subprocess.run(
        ["pg_restore", "--list", str(out / "database.pgdump")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"TABLE DATA public stored_file_chunk", listing)
    assert not any((Path(env["INSTANCE_PATH"]) / "uploads").glob("*"))
