"""The shared app of a ``one_app_per_module`` module comes back to each test as a new one would:
what one test stored, wrote or set is gone for the next. (Were it not, the fuzz tests'
"nothing was stored" checks could pass on what an earlier test left.)"""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from forms_app.accounts.models import StaffUser
from forms_app.core.extensions import db
from tests.support.staff import create_staff

pytestmark = pytest.mark.one_app_per_module


@pytest.mark.parametrize("turn", [1, 2, 3])
def test_each_test_finds_the_app_as_new(app, turn):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    with app.app_context():
        assert db.session.scalar(select(func.count(StaffUser.id))) == 0
    assert list(upload_dir.iterdir()) == []
    assert "LEFT_BY_A_TEST" not in app.config and app.config["TODAY"] is None

    create_staff(app, f"left-{turn}", "客服")
    (upload_dir / "left.txt").write_text("left", encoding="utf-8")
    (upload_dir / "folder").mkdir()
    app.config["LEFT_BY_A_TEST"] = turn
    app.config["TODAY"] = "2026-01-01"


def test_a_test_that_changes_the_environment_gets_an_app_made_in_it(
    request, monkeypatch, own_community_file, module_app
):
    monkeypatch.setenv("COMMUNITY_FILE", str(own_community_file))
    app = request.getfixturevalue("app")
    assert app is not module_app.app
    assert app.config["COMMUNITY_FILE"] == str(own_community_file)


def test_the_next_test_gets_the_shared_app_back(app, module_app):
    from tests.conftest import app_environ

    now = app_environ()
    changed = {
        name: (module_app.environ.get(name), now.get(name))
        for name in set(now) | set(module_app.environ)
        if now.get(name) != module_app.environ.get(name)
    }
    assert app is module_app.app, f"the environment changed: {changed}"
