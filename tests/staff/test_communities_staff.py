"""Staff in many communities (issue 28): an account has a role in each community it belongs to,
and none elsewhere; the company's 品质部 reads every community and changes nothing; its figures
page puts the communities side by side, each figure with its sample, and the company's."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select, text

from forms_app.accounts import roles
from forms_app.accounts.company import company_figures, parse_month
from forms_app.accounts.models import StaffMembership, StaffUser
from forms_app.core.clock import today
from forms_app.core.community import acting_in, deployment_communities
from forms_app.core.extensions import db
from forms_app.fees import ledger
from forms_app.households.registry import find_room
from tests.staff.test_access import staff_rules, url_for_rule
from tests.support.fees import make_bill
from tests.support.forms import csrf_token_from
from tests.support.staff import PASSWORD, login

pytestmark = pytest.mark.one_app_per_module

XINYUAN = "http://xinyuan.localhost"
HOME = "/forms/staff/"


def cli(app, *args, password=None):
    return app.test_cli_runner().invoke(args=["accounts", *args], input=password)


def make(app, username, role, community=None):
    extra = ["--community", community] if community else []
    result = cli(app, "create", username, "--role", role, *extra, password=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def client_at(app, username, base_url=""):
    client = app.test_client()
    assert login(client, username, PASSWORD, base_url=base_url).status_code == 302
    return client


def memberships(app) -> list[tuple]:
    """Every membership of the deployment, for "nothing changed"."""
    with app.app_context():
        return db.session.execute(
            text(
                "SELECT staff_id, community, role, department, is_head FROM staff_membership"
                " ORDER BY id"
            )
        ).all()


def test_membership_decides_access_per_host(app, as_role):
    make(app, "ss-boss", "经理")  # 山水花园 only
    make(app, "xy-boss", "经理", "xinyuan")
    stranger = app.test_client()
    refused = login(stranger, "ss-boss", PASSWORD, base_url=XINYUAN)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "您不是本小区（馨园）的员工" in page and "山水花园（经理）" in page
    assert 'href="http://shanshui.localhost/forms/staff/"' in page  # where to go
    # No session was made there: the back office of 馨园 still asks for a login.
    assert stranger.get(HOME, base_url=XINYUAN).status_code == 302
    assert client_at(app, "ss-boss").get(HOME).status_code == 200

    boss = client_at(app, "xy-boss", XINYUAN)
    with app.app_context():
        ss_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "ss-boss"))
    for url in (
        "accounts/",
        "organisation/",
        "training/people/",
        "training/sessions/new",
        "organisation/rota",
    ):
        listed = boss.get(HOME + url, base_url=XINYUAN)
        assert listed.status_code == 200, url
        assert "ss-boss" not in listed.get_data(as_text=True), url
        assert "xy-boss" in listed.get_data(as_text=True) or url != "accounts/", url
    assert boss.get(f"{HOME}accounts/{ss_id}", base_url=XINYUAN).status_code == 404
    assert boss.get(f"{HOME}training/people/{ss_id}", base_url=XINYUAN).status_code == 404

    # A session whose membership ends is let in no more: the page says where it does work.
    both = client_at(app, "xy-boss", XINYUAN)
    with app.app_context(), acting_in(deployment_communities()["xinyuan"]):
        db.session.execute(
            StaffMembership.__table__.delete().where(
                StaffMembership.staff_id
                == select(StaffUser.id).where(StaffUser.username == "xy-boss").scalar_subquery()
            )
        )
        db.session.commit()
    gone = both.get(HOME + "accounts/", base_url=XINYUAN)
    assert gone.status_code == 403 and "您不是本小区（馨园）的员工" in gone.get_data(as_text=True)
    assert "不属于任何小区" in gone.get_data(as_text=True)


def test_roles_differ_per_community(app, as_role):
    make(app, "two-hats", "客服")
    make(app, "xy-chief", "经理", "xinyuan")
    granted = cli(app, "grant", "two-hats", "--role", "经理", "--community", "xinyuan")
    assert granted.exit_code == 0 and "馨园" in granted.output
    here, there = client_at(app, "two-hats"), client_at(app, "two-hats", XINYUAN)
    assert here.get(HOME + "accounts/").status_code == 403
    assert "two-hats" in there.get(HOME + "accounts/", base_url=XINYUAN).get_data(as_text=True)
    assert "（客服）" in here.get(HOME).get_data(as_text=True)
    assert "（经理）" in there.get(HOME, base_url=XINYUAN).get_data(as_text=True)
    listing = cli(app, "list").output
    assert "two-hats\ttwo-hats\t山水花园：客服；馨园：经理\t启用" in listing
    # 馨园's 经理 changes the role in 馨园; 山水花园's stays.
    with app.app_context():
        user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "two-hats"))
    page = there.get(f"{HOME}accounts/{user_id}", base_url=XINYUAN).get_data(as_text=True)
    assert "也在其他小区任职：山水花园（客服）" in page
    changed = there.post(
        f"{HOME}accounts/{user_id}/profile",
        data={"csrf_token": csrf_token_from(page), "display_name": "两顶帽", "role": "finance"},
        base_url=XINYUAN,
    )
    assert changed.status_code == 303
    assert ("山水花园：客服；馨园：财务") in cli(app, "list").output


def test_bad_membership_inputs_change_nothing(app, as_role):
    make(app, "elsewhere", "工程", "xinyuan")
    make(app, "xy-only-boss", "经理", "xinyuan")
    manager = as_role(roles.MANAGER)
    page = manager.get(HOME + "accounts/").get_data(as_text=True)
    token = csrf_token_from(page)
    with app.app_context():
        ids = dict(db.session.execute(select(StaffUser.username, StaffUser.id)).all())
    cli(app, "disable", "elsewhere")
    before = memberships(app)
    cases = [
        ({"username": "", "role": "service"}, "请填写要加入本小区的账号的用户名"),
        ({"username": "nobody", "role": "service"}, "没有用户名为 nobody 的账号"),
        ({"username": "xy-only-boss", "role": "boss"}, "请选择列表中的角色"),
        ({"username": "xy-only-boss", "role": roles.QUALITY}, "请选择列表中的角色"),
        ({"username": roles.QUALITY, "role": "service"}, "是公司的品质部账号"),
        ({"username": roles.SERVICE, "role": "finance"}, "已是本小区的员工（客服）"),
        ({"username": "elsewhere", "role": "service"}, "的账号已停用"),
    ]
    for data, message in cases:
        response = manager.post(HOME + "accounts/join", data={"csrf_token": token, **data})
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    me = ids[roles.MANAGER]
    for user_id, data, message in [
        (ids[roles.SERVICE], {}, "请先勾选“确认移出本小区”"),
        (me, {"leave_confirm": "1"}, "不能把自己移出本小区"),
        (ids["xy-only-boss"], {"leave_confirm": "1"}, None),  # another community's: 404
    ]:
        response = manager.post(
            f"{HOME}accounts/{user_id}/leave", data={"csrf_token": token, **data}
        )
        if message is None:
            assert response.status_code == 404
        else:
            assert response.status_code == 400 and message in response.get_data(as_text=True)
    # Not disabled from here while it works elsewhere: taken out instead.
    cli(app, "enable", "elsewhere")
    cli(app, "grant", "elsewhere", "--role", "工程")
    refused = manager.post(
        f"{HOME}accounts/{ids['elsewhere']}/active", data={"csrf_token": token, "active": "0"}
    )
    assert refused.status_code == 400 and "还在馨园任职" in refused.get_data(as_text=True)
    created = manager.post(
        HOME + "accounts/new",
        data={
            "csrf_token": token,
            "nonce": "n" * 32,
            "username": "xy-only-boss",
            "display_name": "重名",
            "role": "service",
            "password": "a-long-secret-1",
            "password_confirm": "a-long-secret-1",
        },
    )
    assert created.status_code == 400 and "加入本小区" in created.get_data(as_text=True)
    after = memberships(app)
    assert [m for m in after if m not in before] == [
        m for m in after if m[0] == ids["elsewhere"] and m[1] == "shanshui"
    ]  # only the one the command granted
    for args, message in [
        (["create", "q2", "--role", "品质部", "--community", "xinyuan"], "请去掉 --community"),
        (["grant", "elsewhere", "--role", "工程", "--community", "nowhere"], "没有 id 为 nowhere"),
        (["grant", "elsewhere", "--role", "boss"], "未知角色 boss"),
        (["grant", "nobody", "--role", "工程"], "账号 nobody 不存在"),
        (["grant", "elsewhere", "--role", "品质部"], "请用单独的账号"),
        (["grant", roles.QUALITY, "--role", "工程"], "不属于某个小区"),
    ]:
        result = cli(app, *args, password=PASSWORD + "\n")
        assert result.exit_code != 0 and message in result.output, args
    assert memberships(app) == after
    # Joined and taken out again through the pages: the account and its other roles stay.
    joined = manager.post(
        HOME + "accounts/join",
        data={"csrf_token": token, "username": "xy-only-boss", "role": "finance"},
    )
    assert joined.status_code == 303
    left = manager.post(
        f"{HOME}accounts/{ids['xy-only-boss']}/leave",
        data={"csrf_token": token, "leave_confirm": "1"},
    )
    assert left.status_code == 303
    assert memberships(app) == after


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        names = inspect(db.engine).get_table_names()
        return {
            name: db.session.scalar(select(func.count()).select_from(text(f'"{name}"')))
            for name in names
            if name not in ("staff_session", "staff_login_attempt", "alembic_version")
        }


def test_quality_reads_every_community_and_changes_nothing(app, as_role):
    reader = as_role(roles.QUALITY)
    assert login(reader, roles.QUALITY, PASSWORD, base_url=XINYUAN).status_code == 302
    for base in ("", XINYUAN):
        for url in (
            "",
            "renovations",
            "service/",
            "fees/bills/",
            "organisation/",
            "company/figures",
        ):
            assert reader.get(HOME + url, base_url=base or None).status_code == 200, (base, url)
    before = row_counts(app)
    token = csrf_token_from(reader.get(HOME).get_data(as_text=True))
    posts = [r for r in staff_rules(app) if "POST" in r.methods]
    assert len(posts) > 30
    for rule in posts:
        url = url_for_rule(rule, 1, 1)
        response = reader.post(url, data={"csrf_token": token, "building": "1"})
        assert response.status_code == 403, url
        assert "品质部只能查看，不能提交或修改" in response.get_data(as_text=True), url
    assert row_counts(app) == before


def _bill_and_pay(app, community: str, room: str, due: int, paid: int, period: str):
    with app.test_request_context(), acting_in(deployment_communities()[community]):
        room_id = find_room(1, 1, room).id
    bill = make_bill(app, room_id, period, due, community=community)
    if paid:
        with app.test_request_context(), acting_in(deployment_communities()[community]):
            ledger.record_payment(
                room_id, payer="业主", method="cash", amount_fen=paid, bill_ids=[bill]
            )


def test_company_figures_side_by_side_with_samples(app, as_role):
    seeded = app.test_cli_runner().invoke(args=["households", "seed", "--community", "xinyuan"])
    assert seeded.exit_code == 0, seeded.output
    month = f"{today():%Y-%m}"
    _bill_and_pay(app, "shanshui", "101", 30000, 30000, month)
    _bill_and_pay(app, "shanshui", "102", 10000, 0, month)
    _bill_and_pay(app, "xinyuan", "101", 20000, 10000, month)
    make(app, "xy-cleaner", "保洁", "xinyuan")
    reader = as_role(roles.QUALITY)
    page = reader.get(HOME + "company/figures").get_data(as_text=True)
    for words in ("山水花园", "馨园", "公司合计", "客户满意率", "工程报修维修合格率"):
        assert words in page, words
    for words in ("客户投诉回访率", "当月账单收缴率", "培训完成率", "n = 400.00 元应收"):
        assert words in page, words
    with app.test_request_context():
        found = company_figures(parse_month(month)[0])
    by_name = dict(found.rows)
    bill = "fees.bill_rate"
    assert (by_name["山水花园"][bill].part, by_name["山水花园"][bill].sample) == (30000, 40000)
    assert (by_name["馨园"][bill].part, by_name["馨园"][bill].sample) == (10000, 20000)
    assert found.company[bill].rate == Decimal(40000) / Decimal(60000)
    # Training: 山水花园's ten role accounts, 馨园's one (the company's 品质部 in neither).
    assert by_name["山水花园"]["training.completion"].sample == len(roles.ROLES)
    assert by_name["馨园"]["training.completion"].sample == 1
    for key, measure in found.company.items():
        rows = [measures[key] for _, measures in found.rows]
        assert measure.part == sum(m.part for m in rows), key
        assert measure.sample == sum(m.sample for m in rows), key
    export = reader.get(HOME + f"company/figures.csv?month={month}")
    table = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert table[0][:3] == ["小区", "指标", "统计期"]
    assert {row[0] for row in table[1:]} == {"山水花园", "馨园", "公司合计"}
    assert ["公司合计", "当月账单收缴率"] in [row[:2] for row in table]
    bad = reader.get(HOME + "company/figures?month=2026-13").get_data(as_text=True)
    assert "月份格式应为 2026-11" in bad
