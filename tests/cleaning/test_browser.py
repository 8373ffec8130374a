"""On a 360 px phone: from the handbook's cleaning standards to a recorded inspection of 大堂 and
电梯轿厢 with one failure, through a refused first try that keeps what was entered; then the
保洁 of that building finds the failure on 我的区域的检查 and records its 整改."""

from __future__ import annotations

import re

import pytest

from forms_app.accounts import roles
from forms_app.accounts.models import StaffArea, StaffUser
from forms_app.cleaning.checklist import checklist
from forms_app.core.extensions import db
from tests.support.staff import create_staff, login, open_place

pytestmark = pytest.mark.browser

USER = "cleaning-phone"
CLEANER = "cleaner-phone"


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def choose(page, item_id: str, result: str) -> None:
    """Tap 合格 (pass), 不合格 (fail) or 不适用 (na) of one item."""
    page.locator(f"#item-{item_id} .result-{result}").click()


def test_an_inspector_records_lobby_and_lift_car_on_a_phone(live_server, phone):
    create_staff(live_server, USER, roles.SERVICE)
    # The staff handbook opens after the login, on the page asked for.
    phone.goto(live_server.url + "/staff/cleaning-standards/")
    phone.wait_for_url(re.compile(r"/forms/staff/login\?next=/staff/cleaning-standards/$"))
    login(phone, USER, base_url=live_server.url, next_path="/staff/cleaning-standards/")
    phone.wait_for_url(re.compile(r"/staff/cleaning-standards/$"))
    phone.get_by_role("link", name="保洁品质检查", exact=True).click()
    phone.wait_for_url(re.compile(r"/forms/staff/cleaning/$"))
    phone.get_by_role("link", name="新建检查").click()
    phone.wait_for_url(re.compile(r"/forms/staff/cleaning/new$"))

    lobby, car = checklist().areas["lobby"], checklist().areas["elevator-car"]
    assert phone.locator("#item-lobby-1").is_hidden()  # an area's items show once it is ticked
    phone.select_option("#building", "1")
    phone.fill("#spot", "1单元")
    phone.locator("#area-lobby .area-toggle").click()
    phone.locator("#area-elevator-car .area-toggle").click()
    for item in lobby.items + car.items:
        choose(phone, item.id, "pass")
    assert phone.locator("#note-elevator-car-2").is_hidden()
    choose(phone, "elevator-car-2", "fail")
    assert phone.locator("#note-elevator-car-2").is_visible()
    assert phone.locator("#item-floors-2").is_hidden()
    phone.locator("#area-floors .area-toggle").click()
    assert phone.locator("#item-floors-2 .same-as li", has_text="烟灰装置").is_visible()
    phone.locator("#area-floors .area-toggle").click()
    assert fits(phone)
    phone.get_by_role("button", name="提交检查结果").click()

    phone.locator("#error-summary").wait_for()
    assert "不合格时请写明问题" in phone.locator("#error-summary").inner_text()
    assert phone.locator("#spot").input_value() == "1单元"
    assert phone.locator("#building").input_value() == "1"
    assert phone.locator('input[name="result-lobby-7"][value="pass"]').is_checked()
    assert phone.locator('input[name="result-elevator-car-2"][value="fail"]').is_checked()
    phone.locator("#error-summary a").first.click()
    phone.fill("#note-elevator-car-2", "轿厢地面有水渍")
    phone.get_by_role("button", name="提交检查结果").click()

    phone.wait_for_url(re.compile(r"/forms/staff/cleaning/\d+\?saved=1$"))
    assert "检查记录已保存" in phone.locator(".flash").inner_text()
    assert phone.locator("#score").inner_text() == "91.7% 11/12 项合格"
    assert phone.locator("#key-failures").inner_text() == "1 项"
    failure = phone.locator("li.key-failure")
    assert failure.count() == 1
    assert "轿厢地面有水渍" in failure.inner_text()
    assert phone.locator("#area-elevator-car").evaluate("e => e.classList.contains('key-failure')")
    assert fits(phone)

    # The 保洁 of 1号楼 (the organisation gives them the building) puts it right.
    create_staff(live_server, CLEANER, roles.CLEANER)
    with live_server.app() as app, app.app_context():
        user = db.session.query(StaffUser).filter_by(username=CLEANER).one()
        user.areas = [StaffArea(community="shanshui", area="1号楼")]
        db.session.commit()
    phone.context.clear_cookies()
    login(phone, CLEANER, base_url=live_server.url)
    phone.wait_for_url(re.compile(r"/forms/staff/$"))
    open_place(phone, "我的区域")
    phone.wait_for_url(re.compile(r"/forms/staff/cleaning/mine$"))
    assert "轿厢地面有水渍" in phone.locator("#open-items").inner_text()
    assert fits(phone)
    phone.locator("#open-items a").first.click()
    phone.wait_for_url(re.compile(r"/forms/staff/cleaning/\d+#loop-\d+$"))
    loop = phone.locator(".loop").first
    assert loop.locator("input[type=file][data-shrink-photos]").count() == 1
    loop.locator("textarea").fill("已拖干轿厢地面")
    loop.get_by_role("button", name="提交整改").click()
    phone.locator(".flash", has_text="整改已记录").wait_for()
    assert phone.locator(".loop .loop-badge").first.inner_text() == "待复检"
    assert "已拖干轿厢地面" in phone.locator(".loop-history").inner_text()
    assert fits(phone)
