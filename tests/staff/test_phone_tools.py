"""Staff tools on a 360 px phone, served by gunicorn and driven by Chromium: each role's home
opens on its work for today, every tap target is at least 44×44 px on every staff page, and
drafts of staff forms survive a dead signal (Playwright takes the context offline)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog, StaffUser, actor_label
from forms_app.cleaning import inspections
from forms_app.cleaning.checklist import checklist
from forms_app.cleaning.forms import check_inspection
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.move_in.models import MoveInBooking
from forms_app.renovation.models import RenovationApplication, RenovationEvent
from forms_app.renovation.patrols import PatrolCheck, RenovationPatrol
from forms_app.renovation.workflow import advance
from forms_app.service_requests import intake
from forms_app.service_requests import states as service_states
from forms_app.service_requests.models import ServiceRequest
from tests.support.households import register
from tests.support.renovation import application_values, filed, patrol_items
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, create_staff, login

from .test_served import server_app

pytestmark = [pytest.mark.browser, pytest.mark.long_module]

TODAY = date(2026, 5, 10)
TAP = 44


def _manager(session):
    return session.execute(
        select(StaffUser).where(StaffUser.username == roles.MANAGER)
    ).scalar_one()


def seed(server: LiveServer) -> dict:
    """One site on site since two days (both patrols due), one waiting for review, one for
    acceptance, a move today, and one cleaning inspection."""
    ids = {}
    with server_app(server):
        on_site = filed(application_values(building=3, room="1801"))
        pending = filed(application_values(building=2, room="502"))
        done = filed(application_values(building=4, room="301"))
        manager = _manager(db.session)
        for application, actions in (
            (on_site, ("approve", "start")),
            (done, ("approve", "start", "complete")),
        ):
            for action in actions:
                with write_transaction():
                    advance(
                        db.session.merge(application),
                        action,
                        manager,
                        "测试",
                        confirmed=True,
                        owner_confirmed=True,
                    )
        with write_transaction() as session:
            session.execute(update(RenovationEvent).values(created_at=datetime(2026, 5, 8)))
            session.add(
                MoveInBooking(
                    reference="BJ20260501-001",
                    filed_on=TODAY - timedelta(days=9),
                    sequence=1,
                    submission_nonce="seeded-move-in-booking-nonce",
                    move_date=TODAY,
                    slot="am1",
                    seat=1,
                    oversize=True,
                    large_items="钢琴",
                    building=5,
                    unit=2,
                    room="1202",
                    owner_name="周建国",
                    owner_mobile="13800138000",
                )
            )
        form = MultiDict(
            [
                ("nonce", "seeded-inspection-nonce-1"),
                ("inspected_on", TODAY.isoformat()),
                ("areas", "basement"),
            ]
            + [(f"result-{item.id}", "pass") for item in checklist().areas["basement"].items]
        )
        checked = check_inspection(form, MultiDict(), checklist(), [1, 2, 3], TODAY)
        ids["inspection"], _ = inspections.store_inspection(checked, manager)
        ids.update(on_site=on_site.id, pending=pending.id, done=done.id)
        # A guard patrol of the site now awaiting acceptance, with a finding waiting for 复查:
        # its page and the patrol list show the finding and the 复查 form.
        with write_transaction() as session:
            patrol = RenovationPatrol(
                application_id=done.id,
                kind="guard",
                patrol_date=TODAY - timedelta(days=2),
                inspector_id=manager.id,
                inspector_name="manager（经理）",
                findings="",
                violation=True,
                violation_description="使用专用装修通道：材料走了客梯",
            )
            patrol.checks.append(
                PatrolCheck(
                    community="shanshui",
                    position=0,
                    group_name="装修垃圾、通道与材料",
                    item_id="passage",
                    item_text="使用专用装修通道",
                    result="fail",
                    note="材料走了客梯",
                    deadline=TODAY + timedelta(days=1),
                    status="fixed",
                )
            )
            session.add(patrol)
        ids["booking"] = db.session.scalar(select(MoveInBooking.id))
        ids["manager"] = manager.id
    # A repair done by the 工程 worker and waiting for its 回访 (the call comes first).
    with server_app(server):
        worker = db.session.execute(
            select(StaffUser).where(StaffUser.username == roles.ENGINEERING)
        ).scalar_one()
        repair, _ = intake.file_request(
            "repair",
            {
                "building": 5,
                "unit": 2,
                "room": "1202",
                "owner_name": "周建国",
                "owner_mobile": "13800138000",
                "location": "home",
                "description": "卫生间洗手盆下水管漏水。",
            },
            [],
            "seeded-repair-nonce",
            source="phone",
            actor=_manager(db.session),
        )
        with write_transaction() as session:
            session.execute(
                update(ServiceRequest)
                .where(ServiceRequest.id == repair.id)
                .values(
                    state=service_states.AWAITING_VISIT,
                    assignee_id=worker.id,
                    assignee_name=actor_label(worker),
                )
            )
        ids["repair"] = repair.id
    # A registered household with 收费面积, handed over, for the registry and fee pages.
    with server_app(server) as app:
        from forms_app.households.registry import find_room, set_room_facts

        ids["room"], _ = register(app, 3, 1, "1801", "张三", "13800138000")
        with app.test_request_context():
            set_room_facts(ids["room"], 8950, "occupied", date(2020, 1, 1), "交房")
            assert find_room(3, 1, "1801").id == ids["room"]
    return ids


@pytest.fixture(scope="module")
def tools(tmp_path_factory, migrated_database):
    instance = tmp_path_factory.mktemp("phone-tools") / "instance"
    instance.mkdir(parents=True)
    (instance / "config.py").write_text(f'TODAY = "{TODAY.isoformat()}"\n')
    live = LiveServer(instance, workers=2, database_template=migrated_database)
    live.start()
    try:  # a failing seed must not leave the server running
        for role in roles.ROLES:
            create_staff(live, role, role, PASSWORD)
        ids = seed(live)
        yield live, ids
    finally:
        live.stop()


def as_user(page, server, role):
    page.context.clear_cookies()
    login(page, role, PASSWORD, base_url=server.url)
    page.wait_for_url(re.compile(r"/forms/staff/$"))


# Every control and stand-alone link, with the element a finger actually hits (the label of a
# checkbox or radio). Links inside a sentence are exempt (WCAG 2.5.8 "inline").
SMALL_TARGETS = """() => {
  const small = [];
  const seen = new Set();
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    let target = el;
    if (el.matches('input[type=radio], input[type=checkbox]')) {
      target = el.closest('label') || document.querySelector(`label[for="${el.id}"]`) || el;
    }
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') {
      const around = el.parentElement.textContent.replace(el.textContent, '').trim();
      if (around) continue;
    }
    if (seen.has(target)) continue;
    seen.add(target);
    const box = target.getBoundingClientRect();
    if (!box.width && !box.height) continue;  // not shown (a closed section)
    if (box.width < 43.5 || box.height < 43.5) {
      small.push(`${target.tagName.toLowerCase()} "${(target.textContent || target.name || '')
        .trim().slice(0, 20)}" ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}"""


def staff_pages(ids) -> list[str]:
    return [
        "/forms/staff/",
        "/forms/staff/renovations",
        "/forms/staff/renovations?state=pending",
        f"/forms/staff/renovations/{ids['on_site']}",
        f"/forms/staff/renovations/{ids['pending']}",
        f"/forms/staff/renovations/{ids['done']}",
        "/forms/staff/patrols/due",
        "/forms/staff/move-ins/",
        "/forms/staff/surveys/",
        "/forms/staff/surveys/satisfaction",
        "/forms/staff/surveys/satisfaction/texts/comments",
        "/forms/staff/surveys/satisfaction/invitations",
        "/forms/staff/cleaning/",
        "/forms/staff/cleaning/new",
        f"/forms/staff/cleaning/{ids['inspection']}",
        "/forms/staff/cleaning/summary",
        "/forms/staff/cleaning/mine",
        "/forms/staff/audit",
        "/forms/staff/notifications/",
        "/forms/staff/organisation/",
        "/forms/staff/organisation/rota",
        f"/forms/staff/accounts/{ids['manager']}",
        # 一户一档 and 收费.
        "/forms/staff/households/",
        "/forms/staff/households/?q=3-1-1801",
        f"/forms/staff/households/{ids['room']}",
        "/forms/staff/households/changes",
        "/forms/staff/households/claims/",
        "/forms/staff/households/keys/",
        "/forms/staff/households/import/",
        "/forms/staff/fees/bills/",
        "/forms/staff/fees/meters/",
        f"/forms/staff/fees/meters/rooms/{ids['room']}",
        "/forms/staff/fees/meters/public",
        "/forms/staff/fees/ledger/",
        "/forms/staff/fees/ledger/counter",
        f"/forms/staff/fees/ledger/counter/{ids['room']}",
        "/forms/staff/fees/reports/arrears",
        "/forms/staff/fees/reports/rates",
        "/forms/staff/fees/reports/weekly",
        # 报修投诉 (the repair waits for its 回访), training, notices, accounts.
        "/forms/staff/service/",
        f"/forms/staff/service/{ids['repair']}",
        "/forms/staff/service/visits",
        "/forms/staff/service/jobs",
        "/forms/staff/service/figures",
        "/forms/staff/training/people/",
        "/forms/staff/training/sessions/",
        "/forms/staff/notices/",
        "/forms/staff/accounts/",
    ]


# What scrolls sideways: the page, or a box inside it (a wide table in its scrolling wrapper
# still makes a reader pan). Form controls scroll their own text and are left out.
SIDEWAYS = """() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const wide = [];
  if (document.documentElement.scrollWidth > window.innerWidth) {
    wide.push(`page ${document.documentElement.scrollWidth}`);
  }
  for (const el of document.querySelectorAll('main *')) {
    if (el.matches('input, select, textarea') || !el.clientWidth) continue;
    const overflow = getComputedStyle(el).overflowX;
    if ((overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      wide.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
    }
  }
  return wide;
}"""

# Tables of more than three columns with a row shown as a table row: on a phone every list
# row is a card (a table of three short columns, such as a survey question's answers, fits).
TABLE_ROWS = """() => [...document.querySelectorAll('main table')]
  .filter(t => t.rows.length && t.rows[0].cells.length > 3)
  .filter(t => [...t.rows].some(r => r.getClientRects().length && getComputedStyle(r).display === 'table-row'))
  .map(t => 'table' + (t.id ? '#' + t.id : '') + '.' + t.className)"""

# Each staff page's checks in one call: the failed-item fields opened (a patrol's and a 复查's
# 不合格 radios), then what the three measures above find and the charts' text sizes.
PAGE_CHECKS = f"""() => {{
  document.querySelectorAll('#patrol-form .result-fail input, .finding-step .result-fail input')
    .forEach(radio => {{ radio.checked = true; }});
  return {{
    small: ({SMALL_TARGETS})(),
    sideways: ({SIDEWAYS})(),
    table_rows: ({TABLE_ROWS})(),
    chart_text: [...document.querySelectorAll('.chart .bar-label, .chart .bar-value')]
      .map(e => parseFloat(getComputedStyle(e).fontSize)),
  }};
}}"""


def test_every_tap_target_of_every_staff_page_is_44_px(tools, phone):
    server, ids = tools
    phone.goto(server.url + "/forms/staff/login")
    problems = {"/forms/staff/login": phone.evaluate(SMALL_TARGETS)}
    # The measure itself finds a small button (it would otherwise pass on anything).
    phone.evaluate("""() => { const b = document.createElement('button');
        b.textContent = '小'; b.style.cssText = 'min-height:0;min-width:0;padding:0;height:20px';
        document.querySelector('main').appendChild(b); }""")
    assert any(line.startswith('button "小"') for line in phone.evaluate(SMALL_TARGETS))
    as_user(phone, server, roles.MANAGER)
    for path in staff_pages(ids):
        response = phone.goto(server.url + path)
        assert response.status == 200, path
        # Open the cleaning form's areas and the failed-item fields too (a patrol's and a
        # 复查's 不合格 fields as well).
        for toggle in phone.locator(".area-toggle input").all():
            toggle.check()
        found = phone.evaluate(PAGE_CHECKS)
        # Small targets; nothing scrolls sideways at 360 px, and every list shows its rows as
        # cards.
        problems[path] = found["small"] + found["sideways"] + found["table_rows"]
        # Chart labels and values are text at the page's size, not a drawing scaled down.
        sizes = found["chart_text"]
        assert all(size >= 14 for size in sizes), (path, sizes)
        if path in ("/forms/staff/surveys/satisfaction", "/forms/staff/cleaning/summary"):
            assert sizes, path
    phone.goto(server.url + "/forms/staff/move-ins/")
    phone.get_by_role("button", name="拨打业主电话").click()
    phone.wait_for_url(re.compile(r"/call$"))
    problems["call"] = phone.evaluate(SMALL_TARGETS)
    # The 回访 starts with the call: the owner's number is revealed (audited) from the 回访
    # step itself, and the call page leads back to the form that records it.
    phone.goto(f"{server.url}/forms/staff/service/{ids['repair']}")
    phone.locator("#follow-up-call").get_by_role("button", name="拨打业主电话").click()
    phone.wait_for_url(re.compile(r"/call$"))
    assert phone.locator("#call-owner").get_attribute("href") == "tel:13800138000"
    problems["回访 call"] = phone.evaluate(SMALL_TARGETS) + phone.evaluate(SIDEWAYS)
    phone.get_by_role("link", name=re.compile("返回报修")).click()
    phone.wait_for_url(re.compile(r"#step-follow_up$"))
    # Filters wait behind 筛选, which names the filters that are on.
    phone.goto(server.url + "/forms/staff/renovations")
    assert not phone.locator("#state").is_visible()
    phone.locator("#filters-toggle").click()
    phone.select_option("#state", "pending")
    phone.get_by_role("button", name="查询").click()
    phone.wait_for_url(re.compile(r"state=pending"))
    expect(phone.locator("#filters-toggle")).to_contain_text("状态：待审核")
    assert not phone.locator("#state").is_visible()
    problems["filters"] = phone.evaluate(SMALL_TARGETS)
    assert {path: small for path, small in problems.items() if small} == {}
    # At the desk the same lists are tables across the page's width, the filters in a row.
    phone.set_viewport_size({"width": 1366, "height": 900})
    for path in ("/forms/staff/renovations", "/forms/staff/audit", "/forms/staff/service/"):
        phone.goto(server.url + path)
        assert phone.locator("form.filters select").first.is_visible(), path
        assert not phone.locator("#filters-toggle").is_visible(), path
        assert phone.evaluate(TABLE_ROWS), path
        assert phone.evaluate("document.querySelector('main table').offsetWidth") > 1100, path
    with server_app(server):
        calls = db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "service.call_owner")
        )
    assert calls == 1


def test_each_role_opens_on_its_work_for_today(tools, phone):
    server, ids = tools
    first_panel = "#today-work .home-panel:first-child h2"
    as_user(phone, server, roles.SECURITY)
    assert phone.locator(first_panel).inner_text().startswith("今日待巡查")
    work = phone.locator("#today-work").inner_text()
    assert "秩序维护部巡查" in work and "装修办巡查" not in work  # only the guard's own kind
    assert "今日搬家" in work and "5号楼2单元1202室" in work
    assert "装修申请概况" not in work
    as_user(phone, server, roles.SERVICE)
    assert phone.locator(first_panel).inner_text().startswith("待审核的装修申请")
    assert "2号楼1单元502室" in phone.locator("#today-work").inner_text()
    as_user(phone, server, roles.ENGINEERING)
    assert phone.locator(first_panel).inner_text().startswith("待验收的装修申请")
    assert "4号楼1单元301室" in phone.locator("#today-work").inner_text()
    as_user(phone, server, roles.MANAGER)
    assert phone.locator(first_panel).inner_text().startswith("业主综合满意率")
    assert "本月保洁检查" in phone.locator("#today-work").inner_text()


def test_the_gate_calls_the_owner_on_moving_day_and_the_reveal_is_audited(tools, phone):
    server, ids = tools
    as_user(phone, server, roles.SECURITY)
    phone.goto(server.url + "/forms/staff/move-ins/")
    assert "138****8000" in phone.content() and "13800138000" not in phone.content()
    phone.get_by_role("button", name="拨打业主电话").click()
    assert phone.locator("#call-owner").get_attribute("href") == "tel:13800138000"
    with server_app(server):
        reveals = db.session.scalars(
            select(AuditLog.actor_name).where(AuditLog.action == "move_in.call_owner")
        ).all()
    assert roles.SECURITY in reveals


def patrols_of(server, application_id) -> int:
    with server_app(server):
        return db.session.scalar(
            select(func.count(RenovationPatrol.id)).where(
                RenovationPatrol.application_id == application_id
            )
        )


def test_a_patrol_typed_in_the_basement_is_sent_once_when_the_signal_returns(tools, phone):
    server, ids = tools
    before = patrols_of(server, ids["on_site"])
    as_user(phone, server, roles.SECURITY)
    phone.locator("#today-work a", has_text="3号楼1单元1801室").first.click()
    form = phone.locator("#patrol-form")
    assert form.locator("#kind").input_value() == "guard"
    form.locator("#findings").fill("地下室信号差：现场整洁，工人已离开。")
    form.get_by_role("button", name="全部合格").click()
    phone.context.set_offline(True)
    form.get_by_role("button", name="保存巡查记录").click()
    status = phone.locator("#draft-status")
    status.get_by_text("等待发送：1 份记录").wait_for()
    assert "网络恢复后自动发送" in status.inner_text()
    # Tapped again while waiting: the same draft (same nonce), not a second one.
    form.get_by_role("button", name="保存巡查记录").click()
    status.get_by_text("等待发送：1 份记录").wait_for()
    assert patrols_of(server, ids["on_site"]) == before

    phone.context.set_offline(False)
    phone.wait_for_url(re.compile(r"/forms/staff/patrols/due$"))
    assert "巡查记录已保存" in phone.content()
    assert phone.locator("#draft-status").inner_text().strip() == ""
    assert patrols_of(server, ids["on_site"]) == before + 1
    # The next due item is one tap away; the saved one is no longer on the guard's list.
    assert "3号楼1单元1801室 秩序维护部巡查" not in phone.locator("#due").inner_text()


def test_a_draft_for_a_site_that_changed_meanwhile_is_dropped_with_a_message(tools, phone):
    server, ids = tools
    with server_app(server):
        application = filed(application_values(building=6, room="601"))
        manager = _manager(db.session)
        for action in ("approve", "start"):
            with write_transaction():
                advance(
                    db.session.merge(application),
                    action,
                    manager,
                    "测试",
                    confirmed=True,
                    owner_confirmed=True,
                )
        with write_transaction() as session:
            session.execute(
                update(RenovationEvent)
                .where(RenovationEvent.application_id == application.id)
                .values(created_at=datetime(2026, 5, 8))
            )
        application_id = application.id
    as_user(phone, server, roles.SECURITY)
    phone.goto(f"{server.url}/forms/staff/renovations/{application_id}")
    form = phone.locator("#patrol-form")
    form.locator("#findings").fill("正常。")
    form.get_by_role("button", name="全部合格").click()
    phone.context.set_offline(True)
    form.get_by_role("button", name="保存巡查记录").click()
    phone.locator("#draft-status").get_by_text("等待发送").wait_for()
    with server_app(server):  # meanwhile the office closes the site for acceptance
        with write_transaction():
            advance(
                db.session.get(RenovationApplication, application_id),
                "complete",
                _manager(db.session),
                "完工",
            )
    phone.context.set_offline(False)
    message = phone.locator("#draft-status .problem")
    message.wait_for()
    assert "没有保存" in message.inner_text() and "待验收" in message.inner_text()
    assert patrols_of(server, application_id) == 0


def test_a_draft_kept_after_logout_waits_for_its_author(tools, phone):
    server, ids = tools
    before = patrols_of(server, ids["on_site"])
    as_user(phone, server, roles.MANAGER)
    phone.goto(f"{server.url}/forms/staff/renovations/{ids['on_site']}")
    form = phone.locator("#patrol-form")
    form.locator("#kind").select_option("office")
    form.locator("#findings").fill("经理抽查：正常。")
    form.get_by_role("button", name="全部合格").click()
    phone.context.set_offline(True)
    form.get_by_role("button", name="保存巡查记录").click()
    phone.locator("#draft-status").get_by_text("等待发送").wait_for()
    # The session ends on the server (a logout elsewhere) before the signal returns.
    phone.context.clear_cookies()
    phone.context.set_offline(False)
    phone.goto(server.url + "/forms/staff/login")
    status = phone.locator("#draft-status")
    status.wait_for(state="attached")  # the script has looked (the banner exists once it has)
    assert status.is_hidden() and "经理抽查" not in phone.content()
    assert patrols_of(server, ids["on_site"]) == before
    # Another member of staff on this phone neither sees it nor sends it under their name.
    login(phone, roles.SERVICE, PASSWORD, base_url=server.url)
    phone.wait_for_url(re.compile(r"/forms/staff/$"))
    status.wait_for(state="attached")
    assert status.is_hidden() and status.inner_text().strip() == ""
    assert "manager" not in phone.locator("main").inner_text()
    assert "经理抽查" not in phone.content()
    assert patrols_of(server, ids["on_site"]) == before
    assert "staff-drafts:manager" in databases(phone)
    as_user(phone, server, roles.MANAGER)
    phone.locator("#draft-status .sent").wait_for()
    assert patrols_of(server, ids["on_site"]) == before + 1
    phone.reload()
    assert patrols_of(server, ids["on_site"]) == before + 1


def databases(page) -> list[str]:
    """The IndexedDB databases of the page's origin."""
    return page.evaluate("async () => (await indexedDB.databases()).map(d => d.name)")


PATROLS = re.compile(r"/forms/staff/renovations/\d+/patrols$")


def patrol_kept(phone, server, ids, role, findings, kind="office", offline=True):
    """``role`` logs in, types a patrol and saves it without a signal (``offline``, or with
    the app's answer cut off by the test): the draft waits on the phone."""
    as_user(phone, server, role)
    phone.goto(f"{server.url}/forms/staff/renovations/{ids['on_site']}")
    form = phone.locator("#patrol-form")
    form.locator("#kind").select_option(kind)
    form.locator("#findings").fill(findings)
    form.get_by_role("button", name="全部合格").click()
    if offline:
        phone.context.set_offline(True)
    form.get_by_role("button", name="保存巡查记录").click()
    phone.locator("#draft-status").get_by_text("等待发送：1 份记录").wait_for()


def back_online_without_an_answer(phone):
    """The signal returns but the app's answer is cut off (a dead proxy): the retry fails
    and the draft keeps waiting."""
    phone.route(PATROLS, lambda route: route.abort())
    with phone.expect_event("requestfailed"):
        phone.context.set_offline(False)


def log_out(phone):
    """Tap 退出 as on a phone: in the tab bar's 更多 sheet."""
    phone.locator(".tabbar").get_by_role("link", name="更多").click()
    phone.locator("#staff-menu").get_by_role("button", name="退出").click()


def drafts_databases(page) -> list[str]:
    return [name for name in databases(page) if name.startswith("staff-drafts")]


def test_logging_out_deletes_the_accounts_drafts_after_asking(tools, phone):
    server, ids = tools
    before = patrols_of(server, ids["on_site"])
    patrol_kept(phone, server, ids, roles.SERVICE, "客服退出前未发送的记录。")
    assert "staff-drafts:service" in databases(phone)
    log_out(phone)
    question = phone.locator("#draft-logout")
    question.wait_for()
    assert "当前没有网络" in question.inner_text() and "巡查记录" in question.inner_text()
    assert phone.locator("#draft-send-and-leave").count() == 0  # nothing can be sent offline
    # 取消 keeps the session and the draft.
    phone.locator("#draft-stay").click()
    phone.locator("#draft-status").get_by_text("等待发送：1 份记录").wait_for()
    back_online_without_an_answer(phone)
    log_out(phone)
    question.wait_for()
    assert "本机还有 1 份您填写的记录未发送" in question.inner_text()
    phone.locator("#draft-discard-and-leave").click()
    phone.wait_for_url(re.compile(r"/forms/staff/login$"))
    assert "您已退出登录" in phone.content()
    assert drafts_databases(phone) == []
    phone.unroute(PATROLS)
    # The same person logs in again: nothing is waiting, nothing was sent.
    as_user(phone, server, roles.SERVICE)
    status = phone.locator("#draft-status")
    status.wait_for(state="attached")
    assert status.is_hidden() and "客服退出前" not in phone.content()
    assert patrols_of(server, ids["on_site"]) == before


def test_logging_out_online_sends_what_waits_then_deletes_it(tools, phone):
    server, ids = tools
    before = patrols_of(server, ids["on_site"])
    patrol_kept(phone, server, ids, roles.ENGINEERING, "工程巡查：退出前发送。")
    back_online_without_an_answer(phone)
    phone.unroute(PATROLS)
    log_out(phone)
    question = phone.locator("#draft-logout")
    question.wait_for()
    assert "本机还有 1 份您填写的记录未发送" in question.inner_text()
    phone.locator("#draft-send-and-leave").click()
    phone.wait_for_url(re.compile(r"/forms/staff/login$"))
    assert patrols_of(server, ids["on_site"]) == before + 1
    assert drafts_databases(phone) == []


def test_the_login_page_after_a_logout_deletes_that_accounts_drafts(tools, phone):
    """Should the script not have cleared them (the logout posted before it ran), the login
    page the logout lands on does, and leaves other accounts' drafts alone."""
    server, ids = tools
    before = patrols_of(server, ids["on_site"])
    patrol_kept(phone, server, ids, roles.SECURITY, "护卫巡查：未发送。", kind="guard")
    phone.context.clear_cookies()  # this session ends elsewhere: the draft waits for its author
    phone.context.set_offline(False)
    phone.locator("#draft-status").get_by_text("登录已失效").wait_for()
    phone.route(PATROLS, lambda route: route.abort())
    patrol_kept(phone, server, ids, roles.MANAGER, "经理巡查：未发送。", offline=False)
    assert {"staff-drafts:security", "staff-drafts:manager"} <= set(databases(phone))
    # The logout form posted as such, without the script's own asking and clearing.
    phone.evaluate("HTMLFormElement.prototype.submit.call(document.querySelector('form.logout'))")
    phone.wait_for_url(re.compile(r"/forms/staff/login$"))
    phone.locator("[data-clear-drafts=manager]").wait_for(state="attached")
    phone.wait_for_function(
        "async () => !(await indexedDB.databases()).some(d => d.name === 'staff-drafts:manager')"
    )
    assert "staff-drafts:security" in databases(phone)
    phone.unroute(PATROLS)
    assert patrols_of(server, ids["on_site"]) == before
    # Its author logs in again: sent once.
    as_user(phone, server, roles.SECURITY)
    phone.locator("#draft-status .sent").wait_for()
    assert patrols_of(server, ids["on_site"]) == before + 1
    assert drafts_databases(phone) == ["staff-drafts:security"]  # empty, kept until logout


LEGACY_DRAFTS = """async ([action, day, checklist]) => {
  const db = await new Promise((ok, fail) => {
    const request = indexedDB.open("staff-drafts", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("drafts", {keyPath: "nonce"});
    request.onsuccess = () => ok(request.result);
    request.onerror = () => fail(request.error);
  });
  const draft = (user, nonce, findings) => ({
    nonce, action, page: "/forms/staff/", label: "巡查记录", user, savedAt: day,
    entries: [["csrf_token", "stale"], ["nonce", nonce], ["kind", "guard"],
              ["patrol_date", day], ["findings", findings], ...checklist]});
  await new Promise((ok, fail) => {
    const tx = db.transaction("drafts", "readwrite");
    tx.objectStore("drafts").put(draft("security", "legacy-draft-security", "旧版本护卫草稿"));
    tx.objectStore("drafts").put(draft("cleaner", "legacy-draft-cleaner", "旧版本保洁草稿"));
    tx.oncomplete = ok; tx.onerror = () => fail(tx.error);
  });
  db.close();
}"""


def test_drafts_of_the_old_shared_database_go_to_their_author_only(tools, phone):
    """Drafts kept before drafts were per account (one shared database): each moves to its
    author's own when they log in; nobody else sees them."""
    server, ids = tools
    before = patrols_of(server, ids["on_site"])
    phone.goto(server.url + "/forms/staff/login")
    action = f"{server.url}/forms/staff/renovations/{ids['on_site']}/patrols"
    checklist = [[f"result-{item['id']}", "pass"] for item in patrol_items("guard")]
    phone.evaluate(LEGACY_DRAFTS, [action, TODAY.isoformat(), checklist])
    as_user(phone, server, roles.MANAGER)
    status = phone.locator("#draft-status")
    status.wait_for(state="attached")
    assert status.is_hidden() and "旧版本" not in phone.content()
    assert patrols_of(server, ids["on_site"]) == before
    as_user(phone, server, roles.SECURITY)
    status.locator(".sent").wait_for()
    assert patrols_of(server, ids["on_site"]) == before + 1
    left = phone.evaluate("""() => new Promise((ok) => {
      const request = indexedDB.open("staff-drafts", 1);
      request.onsuccess = () => {
        const all = request.result.transaction("drafts").objectStore("drafts").getAll();
        all.onsuccess = () => { ok(all.result.map(d => d.user)); request.result.close(); };
      };
    })""")
    assert left == ["cleaner"]


def test_an_inspection_with_all_pass_and_one_exception_survives_going_offline(tools, phone):
    server, ids = tools
    with server_app(server):
        before = db.session.scalar(select(func.count()).select_from(inspections.CleaningInspection))
    as_user(phone, server, roles.SERVICE)
    phone.goto(server.url + "/forms/staff/cleaning/new")
    phone.select_option("#building", "1")
    phone.get_by_role("button", name="大堂全部合格").click()
    lobby = checklist().areas["lobby"]
    assert all(
        phone.locator(f'input[name="result-{item.id}"][value=pass]').is_checked()
        for item in lobby.items
    )
    phone.locator("#item-lobby-4 .result-fail").click()  # the one exception
    phone.fill("#note-lobby-4", "烟头 5 个")
    phone.context.set_offline(True)
    phone.get_by_role("button", name="提交检查结果").click()
    phone.locator("#draft-status").get_by_text(
        "等待发送：1 份记录保存在本机（保洁品质检查）"
    ).wait_for()
    phone.context.set_offline(False)
    phone.wait_for_url(re.compile(r"/forms/staff/cleaning/\d+\?saved=1$"))
    assert "检查记录已保存" in phone.content()
    assert phone.locator("#next-due a").inner_text().startswith("检查下一处（1号楼）")
    assert "6/7 项合格" in phone.content()
    with server_app(server):
        assert (
            db.session.scalar(select(func.count()).select_from(inspections.CleaningInspection))
            == before + 1
        )
