"""From the owner guide's home page to every online service, by tapping, on a 390 px phone:
each procedure's page leads to its form in one tap, and the home page leads to 在线办理 and
我的办理. A journey that works only from a typed URL is not a journey."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE

pytestmark = pytest.mark.browser

# (what the owner taps on the home page, then on the guide page, the form's path, its heading)
JOURNEYS = [
    (["装修申请", "在线填写装修申请"], "/forms/renovation/apply", "装修申请"),
    (["搬家预约", "在线预约搬家"], "/forms/move-in/", "搬家预约"),
    (["报修", "在线报修"], "/forms/service/repair", "报修"),
    (["在线投诉"], "/forms/service/complaint", "投诉"),
    (["意见调查", "填写满意度调查"], "/forms/surveys/satisfaction", "满意度"),
    (["在线办理"], "/forms/", "在线办理"),
    (["我的办理"], "/forms/my/start", "我的办理"),
    (["全部公告"], "/forms/notices/", "小区公告"),
]


@pytest.fixture
def phone390(browser):
    context = browser.new_context(**{**PHONE, "viewport": {"width": 390, "height": 844}})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.mark.parametrize(("taps", "path", "heading"), JOURNEYS, ids=[j[1] for j in JOURNEYS])
def test_every_online_service_is_reached_by_tapping_from_the_home_page(
    live_server, phone390, taps, path, heading
):
    page = phone390
    page.goto(live_server.url + "/")
    for label in taps:
        target = page.locator("article").get_by_role("link", name=label, exact=True).first
        expect(target).to_be_visible()
        target.scroll_into_view_if_needed()
        before = page.url
        target.tap()
        page.wait_for_url(lambda url, before=before: url != before)
    page.wait_for_url(f"**{path}")
    expect(page.locator("h1").first).to_contain_text(heading)


def test_the_guide_names_the_online_way_first(live_server, phone390):
    """报修 and 投诉: the online way is the first answer, with its button, before the phone."""
    for guide, first, button in (
        ("/owner/repairs/", "在线报修", "在线报修"),
        ("/owner/complaints/", "在线投诉", "在线投诉"),
        ("/owner/move-in/", "在线预约", "在线预约搬家"),
    ):
        phone390.goto(live_server.url + guide)
        section = phone390.locator("article").inner_text()
        assert section.index(first) < section.index("电话"), guide
        expect(phone390.get_by_role("link", name=button, exact=True).first).to_be_visible()
