"""A resident on a phone: from 我的办理's start page to 房屋认证, refused once without consent
(what was typed kept), filed; the desk finds it from its staff home and approves it; the
resident's status page says so — through gunicorn, nothing asked of any other host."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, create_staff

pytestmark = pytest.mark.browser

MOBILE = "13800138066"


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_database):
    instance = tmp_path_factory.mktemp("owner-browser") / "instance"
    live = LiveServer(instance, database_template=migrated_database).start()
    yield live
    live.stop()


def test_a_new_resident_asks_to_be_registered_and_the_desk_approves(server, phone):
    phone.goto(server.url + "/forms/my/start")
    phone.get_by_role("link", name="申请房屋认证").click()
    phone.wait_for_url(re.compile(r"/forms/households/claim$"))
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.select_option("#building", "3")
    phone.select_option("#unit", "1")
    phone.select_option("#room", "1201")
    phone.fill("#owner_name", "林小梅")
    phone.fill("#owner_mobile", MOBILE)
    phone.get_by_label("业主", exact=True).check()
    # Without consent: refused beside the box, what was typed kept.
    phone.get_by_role("button", name="提交认证申请").click()
    assert phone.locator(".field-error").count() >= 1
    assert phone.input_value("#owner_name") == "林小梅"
    phone.locator("input[name=consent]").check()
    phone.get_by_role("button", name="提交认证申请").click()
    phone.wait_for_url(re.compile(r"/forms/households/claim/[\w-]+"))
    status_url = phone.url
    assert "待审核" in phone.content()

    # The desk approves it in the back office.
    with server.app() as app:
        create_staff(app, "desk", "service", PASSWORD)
    desk = phone.context.browser.new_context()
    page = desk.new_page()
    page.goto(server.url + "/forms/staff/login")
    page.fill("#username", "desk")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/forms/staff/$"))
    page.get_by_role("link", name="房屋认证待审核").click()
    page.locator("td[data-label=编号] a").first.click()
    expect(page.locator("body")).to_contain_text("林小梅")  # after the link's navigation
    page.get_by_role("button", name=re.compile("^通过，登记为业主")).click()
    desk.close()

    phone.goto(status_url)
    assert "已通过" in phone.content()
