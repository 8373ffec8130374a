"""On a 360 px phone: from the handbook to a submitted application, then the printed permit."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forms_app import create_app
from forms_app.clock import today
from forms_app.community import load_community
from forms_app.extensions import db

from .conftest import REFERENCE, move_to

pytestmark = pytest.mark.browser


@pytest.fixture
def server_app(live_server, monkeypatch):
    """The app bound to the live server's database, to act as staff would."""
    monkeypatch.setenv("INSTANCE_PATH", str(live_server.instance_path))
    app = create_app({"SITE_DIR": None})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_owner_applies_on_a_phone_and_prints_the_permit(live_server, phone, server_app):
    phone.goto(live_server.url + "/owner/renovation/")
    phone.get_by_role("link", name=re.compile("申请")).and_(
        phone.locator('a[href$="/forms/renovation/apply"]')).first.click()
    phone.wait_for_url("**/forms/renovation/apply")
    assert phone.locator("h1").inner_text() == "装修申请"

    phone.select_option("#building", "5")
    # The unit and room lists follow the building: 5号楼 has 2 units and 18 floors.
    assert phone.locator("#unit option:not([hidden])").count() == 1 + 2
    phone.select_option("#unit", "2")
    phone.select_option("#room", "1202")
    phone.fill("#owner_name", "周建国")
    phone.fill("#owner_mobile", "138 0013 8000")
    phone.fill("#contractor_company", "秦淮装饰工程有限公司")
    phone.fill("#site_lead_name", "刘师傅")
    phone.fill("#site_lead_mobile", "13912345678")
    phone.fill("#workers", "5")
    start = today() + timedelta(days=7)
    phone.fill("#start_date", start.isoformat())
    phone.fill("#end_date", (start + timedelta(days=60)).isoformat())
    phone.get_by_label("墙地面").check()
    phone.get_by_label("厨卫防水").check()
    phone.fill("#description", "厨房卫生间重做防水，客厅铺木地板。")
    phone.get_by_label(re.compile("借用彩条布")).check()
    for acknowledgment in phone.locator(".ack input[type=checkbox]").all():
        acknowledgment.check()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.get_by_role("button", name="提交申请").click()

    phone.wait_for_url(re.compile(r"/forms/renovation/status/[\w-]{32,}\?new=1$"))
    assert phone.locator("#filed-notice").is_visible()
    reference = phone.locator("#reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    assert phone.locator("#state").inner_text() == "待审核"
    assert "5号楼2单元1202室" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    move_to(server_app, reference, ("approved", "资料齐全"))
    phone.reload()
    assert phone.locator("#state").inner_text() == "已批准"
    phone.locator("#permit-link").click()
    phone.wait_for_url("**/permit")
    entrance = load_community().material_entrance_for(5)
    assert phone.locator("h1").inner_text() == "装修许可证"
    assert phone.locator("#permit-room").inner_text() == "5号楼2单元1202室"
    assert entrance["name"] in phone.locator("#permit-entrance").inner_text()
    assert "双证" in phone.locator("#permit-workers").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.emulate_media(media="print")
    assert not phone.locator(".topbar").is_visible()
    assert not phone.locator("#print-permit").is_visible()
    assert phone.locator("#permit-hours").is_visible()
