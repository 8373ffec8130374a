"""Reading the path: marking sections read, progress on the staff home, a read mark lapsing when
its section's text changes, and read marks that cannot be stored."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote

from forms_app import create_app
from forms_app.accounts import roles
from forms_app.training.handbook_sections import default_config_file
from forms_app.training.models import TrainingReadMark
from tests.support.apps import TEST_CONFIG
from tests.support.staff import login

from .conftest import HOME, TODAY


def test_a_cleaner_reads_the_path_section_by_section(trainee, training, stored):
    cleaner = trainee(roles.CLEANER)
    path = training.path_for(roles.CLEANER)
    page = cleaner.html()
    assert f"已读 0/{len(path)} 节" in page
    # Each section opens in the handbook with 标为已读 at its end (?read=, read-mark.js).
    assert (
        'href="/staff/cleaning-standards/?read=cleaning-standards%2310-%E5%AE%A4%E5%86%85#10-室内"'
        in page
    )
    response = cleaner.mark_read(path[0])
    assert response.status_code == 303
    assert unquote(response.location).endswith(f"#section-{path[0].anchor}")
    page = cleaner.html()
    assert "已标记「S：SMILE（微笑）」为已读" in page
    assert f"已读 1/{len(path)} 节" in page
    cleaner.mark_read(path[0])  # a second tap changes nothing
    assert stored.count(TrainingReadMark) == 1


def test_the_path_and_its_progress_show_on_the_staff_home(trainee, training):
    guard = trainee(roles.SECURITY)
    for section in training.path_for(roles.SECURITY)[:3]:
        guard.mark_read(section)
    home = guard.html("/forms/staff/")
    assert 'id="training-home"' in home
    total = len(training.path_for(roles.SECURITY))
    assert f"已读 3/{total} 节" in home
    fourth = training.path_for(roles.SECURITY)[3]
    assert f'下一节：<a href="{fourth.url}">' in home
    assert "待通过的测验" in home and "装修管理要点" in home
    assert 'id="training-team"' not in home  # who is behind: the 经理's and 客服主管's panel


def changed_docs(tmp_path: Path) -> Path:
    """A copy of the handbook's pages with the READY section reworded."""
    from mkdocs.config import load_config

    copy = tmp_path / "docs"
    shutil.copytree(load_config(str(default_config_file())).docs_dir, copy)
    page = copy / "service-code.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace("服务的准备工作", "服务的准备"), "utf-8"
    )
    return copy


def test_a_read_mark_lapses_when_its_section_changes(app, trainee, training, tmp_path):
    staff = trainee(roles.SERVICE)
    for section in training.path_for(roles.SERVICE)[:3]:
        staff.mark_read(section)
    ready = training.path_for(roles.SERVICE)[2]
    assert ready.key == "service-code#rready准备好"

    # The handbook is updated and the app restarts: the same database, the new text.
    updated = create_app(
        {**TEST_CONFIG, "TODAY": TODAY, "STAFF_HANDBOOK_DOCS": str(changed_docs(tmp_path))}
    )
    client = updated.test_client()
    assert login(client, "service").status_code == 302
    page = client.get(HOME).get_data(as_text=True)
    assert page.count("内容已更新，需重读") == 1
    item = page.split('id="section-rready准备好"')[1].split("</li>")[0]
    assert "内容已更新，需重读" in item and "标为已重读" in item
    assert "已读 2/" in page and "1 节内容已更新需重读" in page
    # The page shown before the update carries the old digest: that mark is not taken.
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        HOME + "read", data={"csrf_token": token, "section": ready.key, "digest": ready.digest}
    )
    assert response.status_code == 303
    assert "内容刚刚更新了" in client.get(HOME).get_data(as_text=True)
    with updated.app_context():
        from forms_app.training.handbook_sections import current_handbook

        new_digest = current_handbook().sections[ready.key].digest
    assert new_digest != ready.digest
    client.post(
        HOME + "read", data={"csrf_token": token, "section": ready.key, "digest": new_digest}
    )
    page = client.get(HOME).get_data(as_text=True)
    assert "内容已更新，需重读" not in page and "已读 3/" in page


def test_read_marks_that_cannot_be_stored(trainee, training, stored):
    cleaner = trainee(roles.CLEANER)
    token = cleaner.csrf()
    missing = cleaner.client.post(
        HOME + "read",
        data={"csrf_token": token, "section": "service-code#没有这一节", "digest": "x"},
    )
    assert missing.status_code == 404
    assert "员工手册中没有这一节" in missing.get_data(as_text=True)
    not_on_path = training.path_for(roles.SERVICE)[-1]
    assert not_on_path not in training.path_for(roles.CLEANER)
    response = cleaner.mark_read(not_on_path)
    assert response.status_code == 400
    assert "不在您的阅读路径中" in response.get_data(as_text=True)
    for junk in ("", "\x00", "service-code#ssmile微笑\x00", "#", "x" * 5000):
        response = cleaner.client.post(HOME + "read", data={"csrf_token": token, "section": junk})
        assert response.status_code == 404, junk
    stale = cleaner.mark_read(training.path_for(roles.CLEANER)[0], digest="0" * 64)
    assert stale.status_code == 303
    assert stored.count(TrainingReadMark) == 0


def test_the_handbook_page_gets_what_its_read_button_needs(trainee, training):
    cleaner = trainee(roles.CLEANER)
    section = training.path_for(roles.CLEANER)[0]
    state = cleaner.client.get(f"{HOME}read/state", query_string={"section": section.key})
    assert state.status_code == 200 and "no-store" in state.headers["Cache-Control"]
    data = state.get_json()
    assert data["digest"] == section.digest and data["state"] == "unread" and data["csrf_token"]
    response = cleaner.client.post(
        data["action"],
        data={
            "csrf_token": data["csrf_token"],
            "section": data["section"],
            "digest": data["digest"],
        },
    )
    assert response.status_code == 303 and "#section-" in response.location
    again = cleaner.client.get(f"{HOME}read/state", query_string={"section": section.key})
    assert again.get_json()["state"] == "read"
    # Not on the reader's path, or no such section: nothing to mark.
    for key in ("renovation-control#装修巡查", "nope#x", ""):
        refused = cleaner.client.get(f"{HOME}read/state", query_string={"section": key})
        assert refused.status_code == 404 and "不在您的阅读路径" in refused.get_json()["error"]
