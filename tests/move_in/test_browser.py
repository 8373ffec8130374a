"""On a 360 px phone: from the handbook's 入住与搬家 page to a booking and its route; the gate's
schedule on a phone and on paper."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from playwright.sync_api import expect

from forms_app.accounts import roles
from tests.support.forms import csrf_token_from
from tests.support.server import LiveServer
from tests.support.staff import create_staff, login, open_place

from .conftest import (
    BOOK_URL,
    MOVE_DAY,
    MOVE_IN,
    PASSWORD,
    SLOTS,
    TODAY,
    booking_fields,
    nonce_from,
    rooms,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, built_site, built_staff_site, migrated_database):
    """gunicorn (2 workers) serving the built handbook and the app, today fixed."""
    instance = tmp_path_factory.mktemp("move-in-browser") / "instance"
    instance.mkdir(parents=True)
    (instance / "config.py").write_text(f'TODAY = "{TODAY.isoformat()}"\n', encoding="utf-8")
    live = LiveServer(
        instance,
        site_dir=built_site,
        staff_site_dir=built_staff_site,
        database_template=migrated_database,
    ).start()
    create_staff(live, "guard", roles.SECURITY, PASSWORD)
    yield live
    live.stop()


def book_over_http(server, **fields) -> None:
    session = requests.Session()
    form = session.get(server.url + BOOK_URL, timeout=30).text
    response = session.post(
        server.url + BOOK_URL,
        allow_redirects=False,
        timeout=30,
        data={
            "csrf_token": csrf_token_from(form),
            "nonce": nonce_from(form),
            **booking_fields(**fields),
        },
    )
    assert response.status_code == 303, response.text[:2000]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_owner_books_a_move_on_a_phone_and_sees_the_route(server, phone):
    full = SLOTS[1]
    for number, unit, room in rooms(full["capacity"]):
        book_over_http(server, building=number, unit=unit, room=room, slot=full["id"])

    phone.goto(server.url + "/owner/move-in/")
    phone.locator("#搬家预约 ~ p a.md-button", has_text="预约搬家").click()
    phone.wait_for_url(re.compile(r"/forms/move-in/$"))
    assert phone.locator("h1").inner_text() == "搬家预约"

    phone.select_option("#building", "5")
    assert phone.locator("#unit option:not([hidden])").count() == 1 + 2
    phone.select_option("#unit", "2")
    phone.select_option("#room", "1202")
    phone.fill("#owner_name", "周建国")
    phone.fill("#owner_mobile", "138 0013 8000")
    phone.fill("#move_date", MOVE_DAY.isoformat())
    phone.locator("#move_date").dispatch_event("change")
    full_choice = phone.locator(f'.slot-choice[data-slot="{full["id"]}"]')
    full_choice.locator(".slot-left", has_text="已约满").wait_for()
    assert full_choice.locator("input").is_disabled()
    free_choice = phone.locator(f'.slot-choice[data-slot="{SLOTS[0]["id"]}"]')
    assert free_choice.locator(".slot-left").inner_text() == f"剩余{SLOTS[0]['capacity']}个"
    free_choice.click()
    phone.locator("#oversize").get_by_label("没有").check()
    phone.fill("#large_items", "双开门冰箱、衣柜")
    phone.get_by_label("需要平推车").check()
    phone.get_by_label(re.compile("协助搬运大件物品")).check()
    assert fits(phone)
    phone.get_by_role("button", name="提交预约").click()

    phone.wait_for_url(re.compile(r"/forms/move-in/booking/[\w-]{32,}$"))
    assert re.fullmatch(r"BJ\d{8}-\d{3}", phone.locator("#reference").inner_text())
    assert phone.locator("#state").inner_text() == "已预约"
    assert phone.locator("#booking-room").inner_text() == "5号楼2单元1202室"
    when = f"{MOVE_DAY.isoformat()} {SLOTS[0]['label']}"
    assert phone.locator("#booking-when").inner_text() == when
    assert phone.locator("#route-entrance").inner_text() == "地下车库出入口岗"
    route = phone.locator("#route").inner_text()
    assert "乘电梯" in route and f"{MOVE_IN['garage_clearance_m']}米" in route
    help_given = phone.locator("#help").inner_text()
    assert "平推车" in help_given and "秩序维护巡逻人员" in help_given
    assert "水、电、气、电话、宽带" in phone.locator("#notices").inner_text()
    assert fits(phone)

    # Cancelling asks first: the dialog's own action comes first, 返回 keeps the booking.
    assert not phone.locator("#confirm-cancel").is_visible()
    phone.locator("#cancel-booking").click()
    dialog = phone.locator("dialog.confirm-dialog")
    assert dialog.locator("button").all_inner_texts() == ["确认取消这个预约", "返回"]
    dialog.get_by_role("button", name="返回").click()
    assert phone.locator("#state").inner_text() == "已预约"
    phone.locator("#cancel-booking").click()
    phone.get_by_role("button", name="确认取消这个预约").click()
    phone.locator("#state", has_text="已取消").wait_for()
    assert "名额已释放" in phone.content()


def test_gate_staff_read_the_day_on_a_phone_and_print_it(server, phone):
    book_over_http(
        server,
        building=9,
        unit=1,
        room="2501",
        day=MOVE_DAY,
        slot=SLOTS[3]["id"],
        oversize="yes",
        large_items="钢琴",
        wants_carry_help="y",
    )
    login(phone, "guard", PASSWORD, base_url=server.url)
    open_place(phone, "搬家预约")
    phone.locator("#filters-toggle").click()  # the day picker waits behind 选择日期 on a phone
    phone.fill("#date", MOVE_DAY.isoformat())
    phone.get_by_role("button", name="查看").click()
    phone.wait_for_url(re.compile(r"date=" + MOVE_DAY.isoformat()))

    block = phone.locator(f"#slot-{SLOTS[3]['id']}")
    assert "9号楼1单元2501室" in block.inner_text()
    assert f"超高 · {MOVE_IN['oversize_post']}" in block.inner_text()
    assert "138****8000" in block.inner_text()
    assert fits(phone)
    phone.get_by_role("link", name="家私搬运").click()
    phone.wait_for_url(re.compile(r"/staff/move-in-control/#"))
    expect(phone.locator("h2#家私搬运")).to_be_visible()
    phone.go_back()
    phone.emulate_media(media="print")
    assert not phone.locator(".topbar").is_visible()
    assert not phone.locator("form.filters").is_visible()
    assert block.is_visible()


def test_owner_moves_a_booking_to_another_slot_on_a_phone(server, phone):
    full = SLOTS[2]
    day = MOVE_DAY + timedelta(days=4)
    for number, unit, room in rooms(full["capacity"] + 1)[1:]:
        book_over_http(server, building=number, unit=unit, room=room, day=day, slot=full["id"])
    session = requests.Session()
    form = session.get(server.url + BOOK_URL, timeout=30).text
    booked = session.post(
        server.url + BOOK_URL,
        allow_redirects=False,
        timeout=30,
        data={
            "csrf_token": csrf_token_from(form),
            "nonce": nonce_from(form),
            **booking_fields(building=11, unit=3, room="1101", day=MOVE_DAY, slot=SLOTS[0]["id"]),
        },
    )
    phone.goto(server.url + booked.headers["Location"])

    phone.get_by_role("link", name="改约其他日期或时段").click()
    # Loaded, so its script listens to the date field (the click returns once the page starts
    # to load: on a busy machine the change below could come before the script ran).
    phone.wait_for_url(re.compile(r"/booking/[^/]+/move$"))
    assert (
        f"{MOVE_DAY.isoformat()} {SLOTS[0]['label']}" in phone.locator("#current-slot").inner_text()
    )
    # The owner types the new day and picks a slot in the same form (no separate 查看 step):
    # the slots follow the day typed, the full one cannot be chosen.
    phone.fill("#move_date", day.isoformat())
    phone.locator("#move_date").dispatch_event("change")
    expect(phone.locator("#slot-hint")).to_contain_text(day.isoformat())
    assert phone.locator(f"input[name=slot][value={full['id']}]").is_disabled()
    assert "已约满" in phone.locator("#slot").inner_text()
    assert fits(phone)
    phone.locator(f"input[name=slot][value={SLOTS[3]['id']}]").check()
    phone.get_by_role("button", name="下一步：核对新时间").click()
    # Before anything changes the owner sees exactly the day and slot chosen.
    when = f"{day.isoformat()} {SLOTS[3]['label']}"
    expect(phone.locator("#review-when")).to_have_text(when)
    expect(phone.locator("#review-heading")).to_be_focused()
    assert fits(phone)
    phone.get_by_role("button", name=f"确认改到 {when}").click()
    phone.wait_for_url(re.compile(r"/booking/[\w-]+$"))
    assert phone.locator("#booking-when").inner_text() == when
    assert f"已改约到 {when}" in phone.content()
