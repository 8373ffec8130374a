"""Patrols: frequencies from the community file, the due list on a fixed clock, bad input."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, update

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog, StaffUser
from forms_app.accounts.permissions import TABLE
from forms_app.core.community import DEFAULT_COMMUNITY_FILE
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication, RenovationEvent
from forms_app.renovation.patrols import (
    PatrolPhoto,
    RenovationPatrol,
    patrol_kinds,
    patrols_due,
)
from forms_app.renovation.states import IN_PROGRESS
from tests.support.forms import csrf_token_from
from tests.support.renovation import file_application, walk

pytestmark = pytest.mark.one_app_per_module

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TODAY = date(2026, 5, 10)


def started_on(app, application_id, day: date):
    """Pretend work started on ``day`` (08:00 China time = 00:00 UTC)."""
    with app.app_context(), write_transaction() as session:
        session.execute(
            update(RenovationEvent)
            .where(
                RenovationEvent.application_id == application_id,
                RenovationEvent.to_state == IN_PROGRESS,
            )
            .values(created_at=datetime(day.year, day.month, day.day))
        )


def patrolled(app, application_id, kind, day: date):
    with app.app_context(), write_transaction() as session:
        inspector = session.execute(select(StaffUser)).scalars().first()
        session.add(
            RenovationPatrol(
                application_id=application_id,
                kind=kind,
                patrol_date=day,
                inspector_id=inspector.id,
                inspector_name=inspector.username,
                findings="正常",
                violation=False,
                violation_description="",
            )
        )


def test_every_patrol_kind_of_the_community_file_has_its_roles(app):
    with app.app_context():
        kinds = patrol_kinds()
    assert kinds and {f"renovation.patrol.{kind}" for kind in kinds} <= set(TABLE)
    raw = yaml.safe_load(Path(DEFAULT_COMMUNITY_FILE).read_text(encoding="utf-8"))
    assert [k["every_days"] for k in raw["renovation"]["patrols"]] == [
        k["every_days"] for k in kinds.values()
    ]


def test_due_list_on_a_fixed_clock(app, staff_accounts):
    app.config["TODAY"] = TODAY.isoformat()
    fresh = file_application(app, room="101")  # started today, never patrolled
    old = file_application(app, room="102")  # started 5 days ago, office patrol yesterday
    done = file_application(app, room="201")  # both kinds patrolled today
    pending = file_application(app, room="202")  # not started: never on the list
    for application_id in (fresh, old, done):
        walk(app, application_id, "approve", "start")
    started_on(app, fresh, TODAY)
    started_on(app, old, TODAY - timedelta(days=5))
    started_on(app, done, TODAY - timedelta(days=5))
    patrolled(app, old, "office", TODAY - timedelta(days=1))
    patrolled(app, old, "guard", TODAY - timedelta(days=3))
    patrolled(app, done, "office", TODAY)
    patrolled(app, done, "guard", TODAY - timedelta(days=1))
    with app.app_context():
        due = [
            (d.application.id, d.kind["id"], d.due_on, d.overdue_days) for d in patrols_due(TODAY)
        ]
    assert due == [
        (old, "guard", TODAY - timedelta(days=1), 1),
        (fresh, "office", TODAY, 0),
        (fresh, "guard", TODAY, 0),
        (old, "office", TODAY, 0),
    ] or due == [
        (old, "guard", TODAY - timedelta(days=1), 1),
        (old, "office", TODAY, 0),
        (fresh, "office", TODAY, 0),
        (fresh, "guard", TODAY, 0),
    ]
    assert pending not in {d[0] for d in due} and done not in {d[0] for d in due}
    with app.app_context():
        assert patrols_due(TODAY - timedelta(days=6)) == []


def test_frequencies_come_from_the_community_file(app, staff_accounts, tmp_path):
    raw = yaml.safe_load(Path(DEFAULT_COMMUNITY_FILE).read_text(encoding="utf-8"))
    for kind in raw["renovation"]["patrols"]:
        kind["every_days"] = 7
    other = tmp_path / "community.yml"
    other.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    started_on(app, application_id, TODAY - timedelta(days=20))
    for kind in ("office", "guard"):
        patrolled(app, application_id, kind, TODAY - timedelta(days=3))
    with app.app_context():
        assert len(patrols_due(TODAY)) == 2
        app.config["COMMUNITY_FILE"] = str(other)
        assert patrols_due(TODAY) == []


def patrol_page(client, application_id):
    return client.get(f"/forms/staff/renovations/{application_id}").get_data(as_text=True)


NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def post_patrol(client, application_id, files=None, html=None, **fields):
    """Post the patrol form of the page (``html``: the same rendered form again)."""
    html = html or patrol_page(client, application_id)
    nonce = NONCE.search(html)  # no form when no patrol is due: post a made-up nonce then
    data = {
        "csrf_token": csrf_token_from(html),
        "nonce": nonce.group(1) if nonce else "a-nonce-no-page-rendered",
        "kind": "guard",
        "patrol_date": TODAY.isoformat(),
        "findings": "施工正常，垃圾已清运。",
        "violation": "no",
        "violation_description": "",
    }
    data.update(fields)
    if files:
        data["photos"] = files
    return client.post(
        f"/forms/staff/renovations/{application_id}/patrols",
        data=data,
        content_type="multipart/form-data",
    )


def stored_state(app):
    with app.app_context():
        patrols = db.session.scalar(select(func.count(RenovationPatrol.id)))
    files = sorted(p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir())
    return patrols, files


def test_guard_records_a_patrol_with_a_violation_and_photo(app, as_role, client):
    app.config["TODAY"] = TODAY.isoformat()
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    started_on(app, application_id, TODAY - timedelta(days=2))
    guard = as_role(roles.SECURITY)
    html = patrol_page(guard, application_id)
    assert 'value="guard"' in html and 'value="office"' not in html  # only the guard's kind
    response = post_patrol(
        guard,
        application_id,
        violation="yes",
        violation_description="19:00 后仍有工人施工",
        files=[(io.BytesIO(PNG), "现场照片.png")],
    )
    assert response.status_code == 303
    html = patrol_page(guard, application_id)
    assert "19:00 后仍有工人施工" in html and "现场照片.png" in html
    with app.app_context():
        photo = db.session.execute(select(PatrolPhoto)).scalar_one()
        patrol = photo.patrol
        assert patrol.violation and patrol.inspector_name == "security（秩序维护）"
    url = f"/forms/staff/renovations/{application_id}/patrol-photos/{photo.id}"
    download = guard.get(url)
    assert download.status_code == 200 and download.data == PNG
    assert "attachment" in download.headers["Content-Disposition"]
    assert client.get(url).status_code == 302  # no session: to the login page
    assert (
        guard.get(
            f"/forms/staff/renovations/{application_id + 1}/patrol-photos/{photo.id}"
        ).status_code
        == 404
    )


def test_bad_patrol_input_is_refused_and_nothing_is_stored(app, as_role):
    app.config["TODAY"] = TODAY.isoformat()
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    started_on(app, application_id, TODAY - timedelta(days=2))
    guard = as_role(roles.SECURITY)
    before = stored_state(app)
    cases = [
        ({"findings": ""}, None, "请填写巡查情况"),
        ({"violation": "yes"}, None, "发现违规时请写明违规情况"),
        ({"violation": ""}, None, "请选择是否发现违规"),
        ({"patrol_date": "2026-13-01"}, None, "请填写巡查日期"),
        ({"patrol_date": (TODAY + timedelta(days=1)).isoformat()}, None, "不能晚于今天"),
        ({"patrol_date": (TODAY - timedelta(days=5)).isoformat()}, None, "不能早于开工日期"),
        ({"kind": "office"}, None, "请选择您可以记录的巡查类型"),
        ({}, [(io.BytesIO(b"MZ not an image"), "照片.jpg")], "不是 PDF、JPG 或 PNG"),
        ({}, [(io.BytesIO(b"%PDF-1.4 x"), "图纸.pdf")], "不是 JPG 或 PNG 照片"),
        ({}, [(io.BytesIO(PNG + b"\x00" * (10 * 1024 * 1024)), "大.png")], "超过 10 MB"),
        ({}, [(io.BytesIO(PNG), f"{i}.png") for i in range(6)], "照片最多 5 张"),
    ]
    for fields, files, message in cases:
        response = post_patrol(guard, application_id, files=files, **fields)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, message
        assert message in html, message
        assert "施工正常" in html or fields.get("findings") == ""  # typed findings kept
        assert stored_state(app) == before, message


def test_no_patrol_before_work_starts(app, as_role):
    application_id = file_application(app)
    walk(app, application_id, "approve")
    guard = as_role(roles.SECURITY)
    assert 'id="patrol-form"' not in patrol_page(guard, application_id)
    response = post_patrol(guard, application_id)
    assert response.status_code == 400
    assert "只有施工中的装修需要巡查" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RenovationApplication, application_id).state == "approved"
        assert db.session.scalar(select(func.count(RenovationPatrol.id))) == 0


def test_a_double_clicked_patrol_is_stored_once(app, as_role):
    app.config["TODAY"] = TODAY.isoformat()
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    started_on(app, application_id, TODAY - timedelta(days=2))
    guard = as_role(roles.SECURITY)
    html = patrol_page(guard, application_id)
    for _ in range(2):  # one rendered form sent twice
        response = post_patrol(
            guard, application_id, html=html, files=[(io.BytesIO(PNG), "现场.png")]
        )
        assert response.status_code == 303
    patrols, files = stored_state(app)
    assert patrols == 1 and len(files) == 1
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(AuditLog.id)).where(AuditLog.action == "renovation.patrol")
            )
            == 1
        )
    assert "没有重复保存" in guard.get(response.location).get_data(as_text=True)
    # The next form (a new nonce) is a patrol of its own, even with the same words.
    response = post_patrol(guard, application_id)
    assert response.status_code == 303
    assert stored_state(app)[0] == 2


def test_a_form_without_its_nonce_is_refused(app, as_role):
    app.config["TODAY"] = TODAY.isoformat()
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    started_on(app, application_id, TODAY - timedelta(days=2))
    guard = as_role(roles.SECURITY)
    for nonce in ("", "x", "%00" * 30):
        response = post_patrol(guard, application_id, nonce=nonce)
        assert response.status_code == 400
        assert "表单已失效，请刷新页面后重新填写" in response.get_data(as_text=True)
    assert stored_state(app)[0] == 0
