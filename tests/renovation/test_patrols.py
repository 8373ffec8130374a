"""Patrols: frequencies from the community file, the due list on a fixed clock, the checklist of
each kind from the rules file, a finding with its photo, old free-text patrols, bad input."""

from __future__ import annotations

import copy
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
from forms_app.core.community import DEFAULT_COMMUNITY_FILE, load_data
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication, RenovationEvent
from forms_app.renovation.patrol_checklist import (
    PatrolChecklistError,
    build_checklist,
)
from forms_app.renovation.patrol_checklist import items_for as checklist_for
from forms_app.renovation.patrols import (
    FindingPhoto,
    PatrolCheck,
    RenovationPatrol,
    patrol_kinds,
    patrols_due,
)
from forms_app.renovation.states import IN_PROGRESS
from tests.support.forms import csrf_token_from
from tests.support.renovation import checklist_answers, file_application, patrol_items, walk

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


def post_patrol(client, application_id, files=None, html=None, failed=None, **fields):
    """Post the patrol form of the page (``html``: the same rendered form again): every item
    of the kind 合格 but ``failed`` (item id → note); ``files`` go with the first failed item."""
    html = html or patrol_page(client, application_id)
    nonce = NONCE.search(html)  # no form when no patrol is due: post a made-up nonce then
    data = {
        "csrf_token": csrf_token_from(html),
        "nonce": nonce.group(1) if nonce else "a-nonce-no-page-rendered",
        "kind": "guard",
        "patrol_date": TODAY.isoformat(),
        "findings": "施工正常，垃圾已清运。",
        **checklist_answers(fields.get("kind", "guard"), failed, on=TODAY),
    }
    data.update(fields)
    if files:
        data[f"photos-{next(iter(failed))}"] = files
    return client.post(
        f"/forms/staff/renovations/{application_id}/patrols",
        data=data,
        content_type="multipart/form-data",
    )


def stored_state(app):
    """Patrols, checklist rows, photos and files: what a refused form must leave as it was."""
    with app.app_context():
        counts = tuple(
            db.session.scalar(select(func.count(model.id)))
            for model in (RenovationPatrol, PatrolCheck, FindingPhoto)
        )
    files = sorted(p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir())
    return counts, files


def on_site(app, days=2):
    app.config["TODAY"] = TODAY.isoformat()
    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    started_on(app, application_id, TODAY - timedelta(days=days))
    return application_id


GUARD_ITEMS = [item["id"] for item in patrol_items("guard")]


def test_the_checklist_of_each_kind_comes_from_the_rules_file(app, as_role):
    """The guard's form lists the guard's items, the 装修办's its own (clear-out is the guards'),
    with 不适用 only where the file allows it and each prohibited change's rule beside it."""
    application_id = on_site(app)
    with app.app_context():
        guard_items = [item.id for item in checklist_for("guard")]
        office_items = [item.id for item in checklist_for("office")]
    assert guard_items == GUARD_ITEMS and "clear-out" in guard_items
    assert "clear-out" not in office_items and set(office_items) < set(guard_items)
    guard = patrol_page(as_role(roles.SECURITY), application_id)
    assert 'value="guard"' in guard and 'value="office"' not in guard  # only the guard's kind
    for item in patrol_items("guard"):
        assert f'id="item-{item["id"]}"' in guard and item["text"] in guard
        assert (f'name="result-{item["id"]}" value="na"' in guard) == bool(
            item.get("not_applicable")
        )
    rules = {
        change["id"]: change["rule"]
        for change in load_data("renovation_rules.yml")["prohibited_changes"]
    }
    assert rules["illegal_building"] in guard and rules["use_change"] in guard
    # The default deadline: the community's 整改 days after today.
    assert f'name="deadline-passage" value="{TODAY + timedelta(days=3)}"' in guard
    office = patrol_page(as_role(roles.ENGINEERING), application_id)
    assert 'id="item-clear-out"' not in office and 'id="item-passes"' in office
    manager = patrol_page(as_role(roles.MANAGER), application_id)
    assert 'id="item-clear-out" data-kinds="guard"' in manager  # shown for that kind only


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda groups: groups[0]["items"].append(dict(groups[1]["items"][0])),
            "编号 'passes' 重复",
        ),
        (lambda groups: groups[0]["items"][0].update(kinds=["night"]), "未设置的巡查类型"),
        (lambda groups: groups[2]["items"][0].update(prohibited_change="x"), "指向不存在的 'x'"),
        (lambda groups: groups[1].update(items=[]), "没有检查项"),
        (lambda groups: groups[0]["items"][0].pop("text"), "缺少 text"),
    ],
)
def test_a_broken_checklist_is_refused_naming_the_file(change, message):
    raw = load_data("renovation_rules.yml")
    groups = copy.deepcopy(raw["patrol_checklist"])
    change(groups)
    prohibited = {c["id"]: c for c in raw["prohibited_changes"]}
    with pytest.raises(PatrolChecklistError, match=r"renovation_rules\.yml") as refused:
        build_checklist(groups, ["office", "guard"], prohibited)
    assert message in str(refused.value)


def test_every_prohibited_change_is_a_patrol_item():
    """违章装修 on a patrol is every prohibited change of the rules file, with its rule."""
    raw = load_data("renovation_rules.yml")
    checked = {
        item.get("prohibited_change")
        for group in raw["patrol_checklist"]
        for item in group["items"]
    }
    assert {change["id"] for change in raw["prohibited_changes"]} <= checked


def test_guard_records_a_checklist_with_a_finding_and_photo(app, as_role, client):
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    deadline = TODAY + timedelta(days=2)
    response = post_patrol(
        guard,
        application_id,
        failed={"clear-out": "19:10 仍有两名工人未离开"},
        files=[(io.BytesIO(PNG), "现场照片.png")],
        **{"deadline-clear-out": deadline.isoformat(), "result-passes": "na"},
    )
    assert response.status_code == 303
    html = patrol_page(guard, application_id)
    assert "19:10 仍有两名工人未离开" in html and "现场照片.png" in html
    assert (
        f"检查 {len(GUARD_ITEMS)} 项：{len(GUARD_ITEMS) - 2} 项合格，1 项不合格，1 项不适用" in html
    )
    with app.app_context():
        patrol = db.session.execute(select(RenovationPatrol)).scalar_one()
        assert [c.item_id for c in patrol.checks] == GUARD_ITEMS
        assert patrol.violation and patrol.inspector_name == "security（秩序维护）"
        (finding,) = patrol.failed
        assert (finding.note, finding.deadline, finding.status) == (
            "19:10 仍有两名工人未离开",
            deadline,
            "open",
        )
        assert finding.community == "shanshui"
        assert {c.result for c in patrol.checks if c.item_id == "passes"} == {"na"}
        assert all(c.status is None and c.note == "" for c in patrol.checks if c is not finding)
        photo = db.session.execute(select(FindingPhoto)).scalar_one()
        assert photo.check_id == finding.id and photo.step_id is None
    url = f"/forms/staff/renovations/{application_id}/finding-photos/{photo.id}"
    download = guard.get(url)
    assert download.status_code == 200 and download.data == PNG
    assert "attachment" in download.headers["Content-Disposition"]
    assert client.get(url).status_code == 302  # no session: to the login page
    other = url.replace(f"/renovations/{application_id}/", f"/renovations/{application_id + 1}/")
    assert guard.get(other).status_code == 404


def test_a_patrol_of_one_kind_ignores_the_items_of_another(app, as_role):
    """The manager records both kinds; the guards' clear-out item is not part of an office
    patrol, whatever the form sent for it."""
    application_id = on_site(app)
    manager = as_role(roles.MANAGER)
    response = post_patrol(
        manager, application_id, kind="office", **{"result-clear-out": "fail", "note-clear-out": ""}
    )
    assert response.status_code == 303
    with app.app_context():
        patrol = db.session.execute(select(RenovationPatrol)).scalar_one()
        assert "clear-out" not in [c.item_id for c in patrol.checks]
        assert patrol.kind == "office" and not patrol.violation


def test_an_old_patrol_without_a_checklist_shows_its_text(app, as_role):
    application_id = on_site(app)
    with app.app_context(), write_transaction() as session:
        inspector = session.execute(select(StaffUser)).scalars().first()
        session.add(
            RenovationPatrol(
                application_id=application_id,
                kind="guard",
                patrol_date=TODAY - timedelta(days=1),
                inspector_id=inspector.id,
                inspector_name="老记录",
                findings="现场整洁，工人已离开。",
                violation=True,
                violation_description="19:00 后仍在施工，已劝离",
            )
        )
    html = patrol_page(as_role(roles.SECURITY), application_id)
    assert "现场整洁，工人已离开。" in html
    assert '<span class="violation">有：19:00 后仍在施工，已劝离</span>' in html
    assert 'id="findings-heading"' not in html and 'id="findings"' in html  # the form's field only


def test_bad_patrol_input_is_refused_and_nothing_is_stored(app, as_role):
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    before = stored_state(app)
    png = lambda name="照片.png": (io.BytesIO(PNG), name)  # noqa: E731
    fail = {
        "result-passage": "fail",
        "note-passage": "材料没有走专用装修通道",
        "deadline-passage": (TODAY + timedelta(days=3)).isoformat(),
    }
    cases = [
        ({"result-working-hours": ""}, None, "请选择合格或不合格"),
        ({"result-passes": "maybe"}, None, "请选择合格、不合格或不适用"),
        ({"result-illegal-building": "na"}, None, "此项不能选「不适用」"),
        ({"result-passage": "fail"}, None, "不合格时请写明问题"),
        ({**fail, "note-passage": "x" * 501}, None, "问题说明不超过 500 字"),
        ({**fail, "deadline-passage": "2026-13-01"}, None, "请填写整改期限"),
        ({**fail, "deadline-passage": ""}, None, "请填写整改期限"),
        ({**fail, "deadline-passage": "2026-05-09"}, None, "整改期限不能早于巡查日期"),
        ({**fail, "deadline-passage": "2027-05-12"}, None, "请核对年份"),
        (fail, [(io.BytesIO(b"MZ not an image"), "照片.jpg")], "不是 PDF、JPG 或 PNG"),
        (fail, [(io.BytesIO(b"%PDF-1.4 x"), "图纸.pdf")], "不是 JPG 或 PNG 照片"),
        (fail, [(io.BytesIO(PNG + b"\x00" * (10 * 1024 * 1024)), "大.png")], "超过 10 MB"),
        (fail, [png(f"{i}.png") for i in range(4)], "每项照片最多 3 张"),
        ({"result-no-such-item": "pass"}, None, "表单中有不存在的检查项"),
        ({"findings": "x" * 2001}, None, "其他情况不超过 2000 字"),
        ({"patrol_date": "2026-13-01"}, None, "请填写巡查日期"),
        ({"patrol_date": (TODAY + timedelta(days=1)).isoformat()}, None, "不能晚于今天"),
        ({"patrol_date": (TODAY - timedelta(days=5)).isoformat()}, None, "不能早于开工日期"),
        ({"kind": "office"}, None, "请选择您可以记录的巡查类型"),
    ]
    for fields, files, message in cases:
        data = dict(fields)
        if files:
            data["photos-passage"] = files
        response = post_patrol(guard, application_id, **data)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, message
        assert message in html, (message, re.findall(r'field-error">([^<]*)<', html))
        assert 'id="patrol-errors"' in html, message  # the summary at the top of the form
        assert "施工正常" in html or "findings" in fields, message  # what was typed is kept
        assert stored_state(app) == before, message
    # Photos on two failed items: more than the form's total of five.
    response = post_patrol(
        guard,
        application_id,
        **fail,
        **{"result-rubbish-point": "fail", "note-rubbish-point": "垃圾堆在楼道"},
        **{"deadline-rubbish-point": fail["deadline-passage"]},
        **{"photos-passage": [png() for _ in range(3)]},
        **{"photos-rubbish-point": [png() for _ in range(3)]},
    )
    assert response.status_code == 400
    assert "一次巡查的照片合计最多 5 张" in response.get_data(as_text=True)
    assert stored_state(app) == before


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
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    html = patrol_page(guard, application_id)
    for _ in range(2):  # one rendered form sent twice
        response = post_patrol(
            guard,
            application_id,
            html=html,
            failed={"rubbish-point": "垃圾堆在楼道"},
            files=[(io.BytesIO(PNG), "现场.png")],
        )
        assert response.status_code == 303
    (patrols, checks, photos), files = stored_state(app)
    assert (patrols, checks, photos) == (1, len(GUARD_ITEMS), 1) and len(files) == 1
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
    assert stored_state(app)[0][0] == 2


def test_a_form_without_its_nonce_is_refused(app, as_role):
    application_id = on_site(app)
    guard = as_role(roles.SECURITY)
    for nonce in ("", "x", "%00" * 30):
        response = post_patrol(guard, application_id, nonce=nonce)
        assert response.status_code == 400
        assert "表单已失效，请刷新页面后重新填写" in response.get_data(as_text=True)
    assert stored_state(app)[0] == (0, 0, 0)
