"""Several communities in one deployment (issue 28): each a file of data/communities/, told
apart by the host a request is sent to; a record made in one is not seen from another."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
import yaml

from forms_app import create_app
from forms_app.accounts import roles
from forms_app.cleaning.models import CleaningInspection
from forms_app.core.community import (
    COMMUNITIES_DIR,
    CommunityDataError,
    ExampleCommunityInProduction,
    acting_in,
    deployment_communities,
)
from forms_app.core.extensions import db
from tests.support.apps import TEST_CONFIG
from tests.support.staff import PASSWORD, login

pytestmark = pytest.mark.one_app_per_module

XINYUAN = "http://xinyuan.localhost"


def test_every_shipped_community_is_served_and_marked_example(app):
    with app.app_context():
        served = deployment_communities()
    assert list(served) == ["shanshui", "xinyuan"]
    assert all(c.example for c in served.values())
    assert served["xinyuan"].hosts == ("xinyuan.localhost",)


def test_the_host_asked_for_picks_the_community(app, client):
    shanshui = client.get("/forms/renovation/apply").get_data(as_text=True)
    xinyuan = client.get("/forms/renovation/apply", base_url=XINYUAN).get_data(as_text=True)
    assert "山水花园" in shanshui and "馨园" not in shanshui
    assert "馨园" in xinyuan and "山水花园" not in xinyuan
    # Its own buildings: 馨园 has eight, 山水花园 twelve.
    assert 'value="12"' in shanshui and 'value="12"' not in xinyuan
    unknown = client.get("/forms/renovation/apply", headers={"Host": "elsewhere.example"})
    assert unknown.status_code == 400  # a host no community lists and not trusted


def test_a_record_of_one_community_is_not_seen_from_the_other(app, as_role, staff_accounts):
    with app.app_context():
        with acting_in(deployment_communities()["xinyuan"]):
            inspection = CleaningInspection(
                submission_nonce="x1",
                inspected_on=date(2026, 12, 1),
                inspector_name="甲",
                passed_count=1,
                failed_count=0,
                na_count=0,
                key_failed_count=0,
            )
            db.session.add(inspection)
            db.session.commit()
            made = inspection.id
            assert inspection.community == "xinyuan"
    manager = as_role(roles.MANAGER)  # logged in at the first community's host
    # The 经理 of both: a login holds for the host it was made at (a cookie per host).
    granted = app.test_cli_runner().invoke(
        args=["accounts", "grant", staff_accounts[roles.MANAGER], "--role", "经理"]
        + ["--community", "xinyuan"]
    )
    assert granted.exit_code == 0, granted.output
    assert (
        login(manager, staff_accounts[roles.MANAGER], PASSWORD, base_url=XINYUAN).status_code == 302
    )
    reference = f"JC{made:05d}"
    here = manager.get("/forms/staff/cleaning/", base_url=XINYUAN).get_data(as_text=True)
    assert reference in here
    assert manager.get(f"/forms/staff/cleaning/{made}", base_url=XINYUAN).status_code == 200
    there = manager.get("/forms/staff/cleaning/").get_data(as_text=True)
    assert reference not in there
    assert manager.get(f"/forms/staff/cleaning/{made}").status_code == 404


def _folder(tmp_path, change) -> str:
    folder = tmp_path / "communities"
    shutil.copytree(COMMUNITIES_DIR, folder)
    path = folder / "xinyuan.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["fees_file"] = str(COMMUNITIES_DIR.parent / "fees" / "shanshui.yml")
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw.update(id="shanshui"), "id 相同"),
        (lambda raw: raw.update(hosts=["shanshui.localhost"]), "shanshui.localhost"),
    ],
)
def test_two_files_with_one_key_or_one_host_stop_the_start(tmp_path, change, message):
    folder = _folder(tmp_path, change)
    with pytest.raises(CommunityDataError, match=message):
        create_app({**TEST_CONFIG, "COMMUNITIES_DIR": folder})


def test_production_refuses_any_example_community(tmp_path, monkeypatch, own_community_file):
    folder = tmp_path / "own"
    folder.mkdir()
    shutil.copy(own_community_file, folder / "a.yml")
    shutil.copy(COMMUNITIES_DIR / "xinyuan.yml", folder / "b.yml")  # still marked example
    monkeypatch.setenv("HTTPS", "1")
    with pytest.raises(ExampleCommunityInProduction, match="xinyuan|b.yml"):
        create_app({**TEST_CONFIG, "COMMUNITIES_DIR": str(folder), "PASSWORD_HASH_COST": "owasp"})


def test_each_community_is_served_its_own_guide(tmp_path, monkeypatch):
    """``make site`` writes site/<id>/ per community; the app serves the request's."""
    for key, name in (("shanshui", "山水花园"), ("xinyuan", "馨园")):
        (tmp_path / key).mkdir()
        (tmp_path / key / "index.html").write_text(f"<title>{name}</title>", encoding="utf-8")
    (tmp_path / "shanshui" / ".inputs").write_text("digest", encoding="utf-8")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    client = create_app({**TEST_CONFIG, "SITE_DIR": str(tmp_path)}).test_client()
    assert "山水花园" in client.get("/").get_data(as_text=True)
    assert "馨园" in client.get("/", base_url=XINYUAN).get_data(as_text=True)
    assert client.get("/xinyuan/").status_code == 404  # not another community's by path
    assert client.get("/.inputs").status_code == 404  # the build's stamp is never served


def test_the_workers_scans_run_in_every_community(app):
    from forms_app.core.community import community_key
    from forms_app.notifications.scans import register_scan
    from forms_app.notifications.worker import run_scans

    seen = []
    register_scan(app, "probe", lambda day: seen.append(community_key()) or 0)
    try:
        with app.app_context():
            run_scans()
    finally:
        del app.extensions["notification_scans"]["probe"]
    assert seen == ["shanshui", "xinyuan"]


def test_adding_a_community_is_its_file_and_households_seed(app, runner):
    from sqlalchemy import func, select

    from forms_app.core.community_scope import all_communities
    from forms_app.households.models import HouseholdRoom

    def rooms() -> dict[str, int]:
        query = select(HouseholdRoom.community, func.count()).group_by(HouseholdRoom.community)
        with app.app_context():
            return dict(db.session.execute(all_communities(query)).all())

    assert "xinyuan" not in rooms()  # the migrations seeded the first community only
    result = runner.invoke(args=["households", "seed", "--community", "nowhere"])
    assert result.exit_code != 0 and "shanshui、xinyuan" in result.output
    result = runner.invoke(args=["households", "seed"])
    assert result.exit_code == 0, result.output
    assert "馨园" in result.output
    # 馨园: buildings 1-4 of 18 floors and 5-8 of 11, two units of two rooms a floor.
    assert rooms()["xinyuan"] == 4 * 2 * 18 * 2 + 4 * 2 * 11 * 2
    again = runner.invoke(args=["households", "seed"])
    assert "补充 0 间房屋（馨园）" in again.output


def test_each_community_has_its_own_guide_and_staff_handbook_built(built_sites):
    """make site: 馨园's owner guide and staff handbook carry its name, its routes (all its own:
    no route of the seed's is printed for it) and its own search index."""
    guide = (built_sites / "site" / "xinyuan" / "index.html").read_text(encoding="utf-8")
    assert "<title>馨园 物业服务手册</title>" in guide
    control = built_sites / "site-staff" / "xinyuan" / "renovation-control" / "index.html"
    text = control.read_text(encoding="utf-8")
    assert "1、2、3、4号楼的业主装修材料从东车场出入口" in text
    assert "<li>号楼" not in text  # an entrance without the seed's buildings prints no route
    for half in ("site", "site-staff"):  # jieba's word breaks (\u200b) taken out
        index = built_sites / half / "xinyuan" / "search" / "search_index.json"
        words = index.read_text(encoding="utf-8").replace("\\u200b", "").replace("\u200b", "")
        assert "东车场出入口" in words and "3号车场出入口" not in words, half


def test_a_rooms_daily_filings_are_counted_in_its_own_community(app):
    """Both communities have 1号楼1单元101: an owner of one does not spend the other's budget."""
    from forms_app.accounts.public_posts import spend_room

    app.config["PUBLIC_FILINGS_PER_ROOM_PER_DAY"] = 1
    with app.test_request_context(base_url="http://localhost"):
        assert spend_room("repair", "报修", "1-1-101") is None
        assert "1" in spend_room("repair", "报修", "1-1-101")  # its one filing today is spent
    with app.test_request_context(base_url=XINYUAN):
        assert spend_room("repair", "报修", "1-1-101") is None
