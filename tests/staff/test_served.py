"""The back office served by real gunicorn (2 workers) and driven by real Chromium."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select, update

from forms_app.accounts import roles
from forms_app.accounts.models import StaffUser
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication, RenovationEvent
from forms_app.renovation.patrols import PatrolCheck, RenovationPatrol
from forms_app.renovation.workflow import advance
from tests.support.forms import csrf_token_from
from tests.support.renovation import application_values, filed
from tests.support.server import LiveServer
from tests.support.staff import LOGIN_PATH, PASSWORD, create_staff, login

pytestmark = pytest.mark.long_module

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FIXED_TODAY = date(2026, 5, 10)


@contextmanager
def server_app(server: LiveServer):
    """An app object on the server's own database, to seed and inspect it."""
    with server.app() as app, app.app_context():
        yield app


def file_application(server, **overrides) -> tuple[int, str, str]:
    with server_app(server):
        application = filed(application_values(**overrides))
        return application.id, application.status_token, application.reference


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_database):
    live = LiveServer(
        tmp_path_factory.mktemp("staff") / "instance",
        workers=2,
        database_template=migrated_database,
    )
    live.start()
    for role in roles.ROLES:
        create_staff(live, role, role, PASSWORD)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def fixed_clock_server(tmp_path_factory, migrated_database):
    instance = tmp_path_factory.mktemp("staff-clock") / "instance"
    instance.mkdir(parents=True)
    (instance / "config.py").write_text(f'TODAY = "{FIXED_TODAY.isoformat()}"\n')
    live = LiveServer(instance, workers=2, database_template=migrated_database)
    live.start()
    create_staff(live, "guard", roles.SECURITY, PASSWORD)
    create_staff(live, "office", roles.ENGINEERING, PASSWORD)
    yield live
    live.stop()


def test_failed_logins_are_counted_across_both_workers(server):
    """Twelve wrong passwords sent four at a time: exactly five are checked, the rest throttled."""
    create_staff(server, "target", roles.SERVICE, PASSWORD)
    form = requests.get(server.url + LOGIN_PATH, timeout=10)
    token = csrf_token_from(form.text)
    cookies = form.cookies

    def attempt(password):
        return requests.post(
            server.url + LOGIN_PATH,
            cookies=cookies,
            allow_redirects=False,
            data={"csrf_token": token, "username": "target", "password": password},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(attempt, [f"wrong-{i}-password" for i in range(12)]))
    assert sorted(codes) == [401] * 5 + [429] * 7
    assert attempt(PASSWORD) == 429  # even the right password waits out the window


def test_copied_cookie_stops_working_after_logout(server, desktop):
    login(desktop, roles.MANAGER, PASSWORD, base_url=server.url)
    cookie = {c["name"]: c["value"] for c in desktop.context.cookies()}
    copied = requests.get(
        server.url + "/forms/staff/", cookies=cookie, allow_redirects=False, timeout=10
    )
    assert copied.status_code == 200
    desktop.click("text=退出")
    desktop.wait_for_url("**/forms/staff/login")
    assert "您已退出登录" in desktop.content()
    again = requests.get(
        server.url + "/forms/staff/", cookies=cookie, allow_redirects=False, timeout=10
    )
    assert again.status_code == 302


def as_user(page, server, username):
    page.context.clear_cookies()
    login(page, username, PASSWORD, base_url=server.url)
    assert page.url.endswith("/forms/staff/"), page.url


IRREVERSIBLE = {"approve": "批准", "reject": "驳回", "fail_acceptance": "验收不通过"}


def take(page, action, comment="", end_date=None):
    form = page.locator(f"#step-{action}")
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    owner_check = form.locator("input[name=owner_confirmed]")
    if owner_check.count():
        owner_check.check()  # the applicant's mobile is not a registered owner's: checked
    # The step is sent by the draft script, which then loads the application again (or, when
    # refused, posts the form the ordinary way so the page shows the message).
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
        if action in IRREVERSIBLE:
            # Steps that cannot be undone ask in a dialog, its own action first.
            dialog = page.locator("dialog.confirm-dialog")
            assert dialog.locator("button").all_inner_texts() == [
                f"确认{IRREVERSIBLE[action]}",
                "返回",
            ]
            dialog.locator("button.confirm-yes").click()


def record_patrol(page, kind, findings, failed=None, photo=False):
    """Tick the checklist all 合格, then ``failed`` (item id, note) 不合格 with a photo."""
    form = page.locator("#patrol-form")
    form.locator("#kind").select_option(kind)
    form.get_by_role("button", name="全部合格").click()
    if failed:
        item_id, note = failed
        item = form.locator(f"#item-{item_id}")
        item.locator(".result-fail").click()
        item.locator(f"#note-{item_id}").fill(note)
        if photo:
            item.locator(f"#photos-{item_id}").set_input_files(
                files=[{"name": "违规现场.png", "mimeType": "image/png", "buffer": PNG}]
            )
    form.locator("#findings").fill(findings)
    form.locator("button[type=submit]").click()
    # Saved, the inspector lands on what is still due (the next item one tap away).
    page.wait_for_url(re.compile(r"/forms/staff/patrols/due$"))
    expect(page.locator("body")).to_contain_text("巡查记录已保存")


@pytest.mark.browser
def test_full_renovation_cycle_by_staff(server, desktop, phone):
    application_id, token, reference = file_application(server, room="1801", building=3)
    detail = f"{server.url}/forms/staff/renovations/{application_id}"
    status = f"{server.url}/forms/renovation/status/{token}"
    page = desktop

    as_user(page, server, roles.SERVICE)
    page.click("nav >> text=装修申请")
    page.fill("#q", reference)
    page.click("button:has-text('查询')")
    expect(page.locator("body")).to_contain_text("138****8000")  # after the search's navigation
    page.get_by_role("link", name=reference, exact=True).click()  # not the 筛选 button naming it
    assert page.locator("#owner-mobile").inner_text() == "138****8000"
    assert page.locator("#step-accept").count() == 0  # not the service desk's step
    take(page, "approve", "资料齐全，准予装修")
    assert page.locator("#state").inner_text() == "已批准"

    owner = page.context.new_page()
    owner.goto(status)
    assert owner.locator("#state").inner_text() == "已批准"
    owner.click("#permit-link")
    expect(owner.locator("body")).to_contain_text("装修许可证")  # after the link's navigation
    assert reference in owner.content()

    page.goto(detail)
    take(page, "start")
    page.goto(detail)
    record_patrol(page, "office", "现场整洁，按规定时间施工。")

    # The guard patrols with a phone.
    as_user(phone, server, roles.SECURITY)
    phone.goto(detail)
    record_patrol(
        phone, "guard", "其他正常。", failed=("clear-out", "19:10 仍有两名工人未离开"), photo=True
    )
    # The finding waits for 整改 on the guard's list, and on the application's page.
    finding = phone.locator("#open-findings tbody tr").first
    expect(finding).to_contain_text("规定清场时间后没有未离开小区的装修人员")
    finding.get_by_role("link").click()
    phone.wait_for_url(re.compile(rf"/renovations/{application_id}#finding-\d+$"))
    assert phone.locator("#patrols .violation").inner_text() == (
        "不合格：规定清场时间后没有未离开小区的装修人员（19:10 仍有两名工人未离开）"
    )
    assert phone.locator("#step-complete").count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # 整改 recorded, then the 复查 closes it; each lands on the list again.
    findings = phone.locator("#findings")
    findings.locator("textarea[name=note]").fill("已要求施工负责人19:00前清场")
    findings.get_by_role("button", name="记录整改完成").click()
    phone.wait_for_url(re.compile(r"/forms/staff/patrols/due#findings-heading$"))
    expect(finding).to_contain_text("待复查")
    finding.get_by_role("link").click()
    phone.wait_for_url(re.compile(rf"/renovations/{application_id}#finding-\d+$"))
    findings.locator(".result-pass").click()
    findings.get_by_role("button", name="保存复查结果").click()
    phone.wait_for_url(re.compile(r"/forms/staff/patrols/due#findings-heading$"))
    expect(phone.locator("#open-findings")).to_contain_text("没有待整改或待复查的项")
    phone.goto(detail)
    expect(findings.locator(".finding-status")).to_have_text("复查合格，已关闭")
    steps = findings.locator(".finding-steps li").all_inner_texts()
    assert "整改完成" in steps[0] and "已要求施工负责人19:00前清场" in steps[0]
    assert "复查合格" in steps[1]

    as_user(page, server, roles.ENGINEERING)
    page.goto(detail)
    take(page, "complete")
    take(page, "fail_acceptance")  # no reason: refused, nothing recorded
    assert "请填写需整改的项目" in page.content()
    assert page.locator("#state").inner_text() == "待验收"
    take(page, "fail_acceptance", "卫生间闭水试验不合格")
    assert page.locator("#state").inner_text() == "验收不通过"
    take(page, "complete", "已整改")
    take(page, "accept", "复验合格")
    assert page.locator("#state").inner_text() == "验收通过"

    as_user(page, server, roles.SERVICE)
    page.goto(detail)
    take(page, "refund_deposit", "押金已原路退还")
    assert page.locator("#state").inner_text() == "押金已退还"
    history = page.locator("#history").inner_text()
    for label in ("待审核", "已批准", "施工中", "待验收", "验收不通过", "验收通过", "押金已退还"):
        assert label in history
    assert "engineering（工程）" in history and "卫生间闭水试验不合格" in history

    owner.goto(status)
    assert owner.locator("#state").inner_text() == "押金已退还"
    with server_app(server):
        patrols = db.session.execute(
            select(RenovationPatrol.kind, RenovationPatrol.violation)
            .where(RenovationPatrol.application_id == application_id)
            .order_by(RenovationPatrol.id)
        ).all()
    assert patrols == [("office", False), ("guard", True)]


def seed_on_site(server, room, started: date, patrols: dict[str, date], findings=None):
    """An application in 施工中 since ``started`` with the given last patrols; ``findings``
    (item text → 整改 deadline) are 不合格 items of its guard patrol, waiting for 整改."""
    application_id, _, reference = file_application(server, room=room)
    with server_app(server):
        guard = db.session.execute(select(StaffUser)).scalars().first()
        with write_transaction():
            application = db.session.get(RenovationApplication, application_id)
            manager = type(
                "Actor",
                (),
                {
                    "id": guard.id,
                    "username": "seed",
                    "name": "seed",
                    "role": roles.MANAGER,
                    "role_label": "经理",
                },
            )()
            advance(application, "approve", manager, confirmed=True, owner_confirmed=True)
            advance(application, "start", manager)
        with write_transaction() as session:
            session.execute(
                update(RenovationEvent)
                .where(
                    RenovationEvent.application_id == application_id,
                    RenovationEvent.to_state == "in_progress",
                )
                .values(created_at=datetime(started.year, started.month, started.day))
            )
            for kind, day in patrols.items():
                patrol = RenovationPatrol(
                    application_id=application_id,
                    kind=kind,
                    patrol_date=day,
                    inspector_id=guard.id,
                    inspector_name="guard",
                    findings="正常",
                    violation=False,
                    violation_description="",
                )
                for position, (text, deadline) in enumerate((findings or {}).items()):
                    if kind == "guard":
                        patrol.checks.append(
                            PatrolCheck(
                                community="shanshui",
                                position=position,
                                group_name="装修垃圾、通道与材料",
                                item_id=f"item-{position}",
                                item_text=text,
                                result="fail",
                                note="现场不符合",
                                deadline=deadline,
                                status="open",
                            )
                        )
                session.add(patrol)
    return reference


@pytest.mark.browser
def test_todays_patrol_list_on_a_fixed_clock(fixed_clock_server, desktop):
    day = timedelta(days=1)
    overdue = seed_on_site(
        fixed_clock_server,
        "101",
        FIXED_TODAY - 10 * day,
        {"office": FIXED_TODAY - 4 * day, "guard": FIXED_TODAY - 1 * day},
        # The guard's findings: one due in two days, one overdue since yesterday.
        {"使用专用装修通道": FIXED_TODAY + 2 * day, "装修垃圾（建渣）及时清运": FIXED_TODAY - day},
    )
    due_today = seed_on_site(fixed_clock_server, "102", FIXED_TODAY, {})
    seed_on_site(
        fixed_clock_server,
        "201",
        FIXED_TODAY - 3 * day,
        {"office": FIXED_TODAY, "guard": FIXED_TODAY - 1 * day},
    )
    # Each role sees the kinds it records: the guard 秩序维护部巡查, the 装修办 (工程) 装修办巡查.
    login(desktop, "guard", PASSWORD, base_url=fixed_clock_server.url)
    desktop.click("nav >> text=今日待巡查")
    desktop.wait_for_url("**/forms/staff/patrols/due")
    expect(desktop.locator("h1")).to_contain_text("今日待巡查（2026-05-10）")
    rows = [r.split("\t") for r in desktop.locator("#due tbody tr").all_inner_texts()]
    assert [(r[0], r[1], r[2]) for r in rows] == [("2026-05-10", "秩序维护部巡查", due_today)]
    assert rows[0][4] == "未巡查" and rows[0][5] == "今日到期"
    # Below, the guard's findings waiting for 整改: the overdue one first, marked.
    findings = [r.split("\t") for r in desktop.locator("#open-findings tbody tr").all_inner_texts()]
    assert [(r[0], r[1], r[3]) for r in findings] == [
        ("2026-05-09", "逾期 1 天", "装修垃圾（建渣）及时清运"),
        ("2026-05-12", "待整改", "使用专用装修通道"),
    ]
    assert desktop.locator("#open-findings tr.is-overdue").count() == 1
    desktop.context.clear_cookies()
    login(desktop, "office", PASSWORD, base_url=fixed_clock_server.url)
    desktop.click("nav >> text=今日待巡查")
    desktop.wait_for_url("**/forms/staff/patrols/due")
    rows = [r.split("\t") for r in desktop.locator("#due tbody tr").all_inner_texts()]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("2026-05-07", "装修办巡查", overdue),
        ("2026-05-10", "装修办巡查", due_today),
    ]
    assert rows[0][5] == "逾期 3 天" and rows[1][4] == "未巡查" and rows[1][5] == "今日到期"
    assert desktop.locator("#next-due a").inner_text() == "下一项：1号楼1单元101室 装修办巡查"
    # The 装修办 does not handle the guards' findings.
    assert (
        desktop.locator("#open-findings tbody").inner_text().strip() == "没有待整改或待复查的项。"
    )
