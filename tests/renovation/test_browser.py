"""On a 360 px phone: from the handbook to a submitted application, then the printed permit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from flask import url_for
from playwright.sync_api import expect
from sqlalchemy import select

from forms_app.core.clock import today
from forms_app.core.community import load_community
from forms_app.core.extensions import db
from forms_app.renovation import permits
from forms_app.renovation.models import RenovationApplication
from tests.renovation.conftest import move_to
from tests.support.browser import PHONE
from tests.support.renovation import REFERENCE

pytestmark = [pytest.mark.browser, pytest.mark.long_module]


@pytest.fixture
def server_app(live_server):
    """The app bound to the live server's database, to act as staff would."""
    with live_server.app() as app:
        yield app


def fill_home(phone, building="5", unit="2", room="1202"):
    phone.select_option("#building", building)
    phone.select_option("#unit", unit)
    phone.select_option("#room", room)
    phone.fill("#owner_name", "周建国")
    phone.fill("#owner_mobile", "138 0013 8000")


def fill_works(phone, workers="5", start_offset=7, days=60):
    phone.fill("#contractor_company", "秦淮装饰工程有限公司")
    phone.fill("#site_lead_name", "刘师傅")
    phone.fill("#site_lead_mobile", "13912345678")
    phone.fill("#workers", workers)
    start = today() + timedelta(days=start_offset)
    phone.fill("#start_date", start.isoformat())
    phone.fill("#end_date", (start + timedelta(days=days)).isoformat())


def next_step(phone):
    phone.locator(".form-step:visible .step-next").click()


def step_status(phone) -> str:
    return phone.locator("#step-status").inner_text()


def test_owner_applies_in_steps_on_a_phone_and_prints_the_permit(
    live_server, phone, server_app, tmp_path, camera_jpeg
):
    phone.goto(live_server.url + "/owner/renovation/")
    phone.get_by_role("link", name=re.compile("申请")).and_(
        phone.locator('a[href$="/forms/renovation/apply"]')
    ).first.click()
    phone.wait_for_url("**/forms/renovation/apply")
    assert phone.locator("h1").inner_text() == "装修申请"

    # Step 1 of 5 with a progress bar; 下一步 checks the step first, errors linked to fields.
    assert step_status(phone) == "第1步，共5步：房屋与业主"
    assert phone.locator(".form-step:visible").count() == 1
    next_step(phone)
    errors = phone.locator("#step-home .step-errors")
    assert "请选择楼栋。" in errors.inner_text()
    errors.get_by_role("link", name="请填写业主姓名。").click()
    expect(phone.locator("#owner_name")).to_be_focused()
    fill_home(phone)
    # The unit and room lists follow the building: 5号楼 has 2 units and 18 floors.
    assert phone.locator("#unit option:not([hidden])").count() == 1 + 2
    next_step(phone)

    assert step_status(phone) == "第2步，共5步：施工方与工期"
    fill_works(phone, days=-3)
    next_step(phone)
    assert "竣工日期须晚于开工日期。" in phone.locator("#step-works .step-errors").inner_text()
    # The community's limits are checked here, at the step of their fields, in the server's
    # words: the most workers, and the works period (max_duration_days, the start day counted).
    limits = load_community().renovation
    fill_works(phone, workers="99", days=limits["max_duration_days"])
    next_step(phone)
    errors = phone.locator("#step-works .step-errors")
    assert f"施工人数应在1–{limits['max_workers']}人之间。" in errors.inner_text()
    assert f"装修工期最长{limits['max_duration_days']}天（含开工当天）" in errors.inner_text()
    assert step_status(phone) == "第2步，共5步：施工方与工期"
    # The in-form guide opens in a new page: the step and what was typed stay here.
    with phone.context.expect_page() as guide:
        phone.locator("#guide-link").click()
    guide.value.wait_for_load_state()
    assert guide.value.url.endswith("/owner/renovation/")
    guide.value.close()
    assert step_status(phone) == "第2步，共5步：施工方与工期"
    assert phone.locator("#contractor_company").input_value() == "秦淮装饰工程有限公司"
    # A mobile number one digit short passes the phone's check; the server's is on submit.
    fill_works(phone, days=limits["max_duration_days"] - 1)
    phone.fill("#site_lead_mobile", "1391234567")
    next_step(phone)

    assert step_status(phone) == "第3步，共5步：装修内容"
    phone.get_by_label("墙地面").check()
    phone.get_by_label("厨卫防水").check()
    phone.fill("#description", "厨房卫生间重做防水，客厅铺木地板。")
    phone.locator("summary", has_text="擅自改变房屋用途").click()
    assert "属于违章装修" in phone.locator(".prohibited-list").inner_text()
    phone.get_by_label("包含其中一项或多项").check()
    assert phone.locator("#refused-now").is_visible()
    next_step(phone)
    assert "按规定禁止" in phone.locator("#step-content .step-errors").inner_text()
    phone.get_by_label("不包含以上任何一项").check()
    assert not phone.locator("#refused-now").is_visible()
    next_step(phone)

    # Step 4: a 12 MB camera photo is shrunk on the phone before it goes up; PDFs go as they are.
    assert step_status(phone) == "第4步，共5步：附件与服务"
    photo = camera_jpeg(tmp_path / "IMG_20261128_101500.jpg")
    phone.set_input_files(
        "#attachments",
        [
            {"name": photo.name, "mimeType": "image/jpeg", "buffer": photo.read_bytes()},
            {"name": "平面图.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"},
        ],
    )
    phone.locator("#shrink-status", has_text="照片已压缩").wait_for(timeout=90000)
    sizes = phone.evaluate(
        "Array.from(document.getElementById('attachments').files)"
        ".map(f => [f.name, f.type, f.size])"
    )
    assert sizes[0][:2] == ["IMG_20261128_101500.jpg", "image/jpeg"] and sizes[0][2] <= 1024 * 1024
    assert sizes[1] == ["平面图.pdf", "application/pdf", 15]
    phone.get_by_label(re.compile("借用彩条布")).check()
    next_step(phone)

    # Step 5: each agreement opens in place; all must be ticked.
    assert step_status(phone) == "第5步，共5步：阅读并确认"
    phone.locator("#text-ack_agreement summary").click()
    assert "禁止的装修行为" in phone.locator("#text-ack_agreement").inner_text()
    assert phone.locator("#submit-application").is_visible()
    for acknowledgment in phone.locator(".ack input[type=checkbox]").all():
        acknowledgment.check()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.get_by_role("button", name="提交申请").click()

    # The server refuses the mobile: its summary is at the top and has the focus, its step
    # opens, the files are already attached.
    phone.wait_for_load_state()
    expect(phone.locator("#form-errors")).to_contain_text("现场负责人手机号请填写11位")
    expect(phone.locator("#form-errors")).to_be_focused()
    assert step_status(phone) == "第2步，共5步：施工方与工期"
    phone.fill("#site_lead_mobile", "13912345678")
    for _ in range(2):
        next_step(phone)
    assert phone.locator("#kept-files .kept-name").all_inner_texts() == [
        "IMG_20261128_101500.jpg",
        "平面图.pdf",
    ]
    next_step(phone)
    phone.get_by_role("button", name="提交申请").click()

    phone.wait_for_url(re.compile(r"/forms/renovation/status/[\w-]{32,}\?new=1$"))
    assert phone.locator("#filed-notice").is_visible()
    reference = phone.locator("#reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    assert phone.locator("#state").inner_text() == "待审核"
    assert "5号楼2单元1202室" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    with server_app.app_context():
        application = db.session.scalar(
            select(RenovationApplication).where(RenovationApplication.reference == reference)
        )
        stored = [
            (a.original_name, a.content_type, a.size, a.stored_name)
            for a in application.attachments
        ]
    assert [row[:2] for row in stored] == [
        ("IMG_20261128_101500.jpg", "image/jpeg"),
        ("平面图.pdf", "application/pdf"),
    ]
    assert stored[0][2] <= 1024 * 1024
    from PIL import Image

    with Image.open(live_server.instance_path / "uploads" / stored[0][3]) as shrunk:
        assert max(shrunk.size) <= 2560

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
    assert phone.locator("#permit-qr svg").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.emulate_media(media="print")
    assert not phone.locator(".topbar").is_visible()
    assert not phone.locator("#print-permit").is_visible()
    assert phone.locator("#permit-hours").is_visible()
    assert phone.locator("#permit-qr svg").is_visible()
    phone.emulate_media(media="screen")
    with phone.expect_download() as download:
        phone.locator("#permit-image").click()
    assert download.value.suggested_filename == f"装修许可证-{reference}.png"


def test_the_form_is_one_page_without_javascript(live_server, browser):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        phone = context.new_page()
        phone.goto(live_server.url + "/forms/renovation/apply")
        assert phone.locator(".form-step:visible").count() == 5
        assert not phone.locator("#step-progress").is_visible()
        fill_home(phone, "7", "1", "301")
        fill_works(phone, days=-3)
        phone.get_by_label("水电改造").check()
        phone.get_by_label("不包含以上任何一项").check()
        phone.set_input_files(
            "#attachments",
            [{"name": "图纸.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}],
        )
        for acknowledgment in phone.locator(".ack input[type=checkbox]").all():
            acknowledgment.check()
        phone.get_by_role("button", name="提交申请").click()
        # Without script the server finds the dates in the wrong order; the file stays attached.
        assert "竣工日期须晚于开工日期" in phone.locator("#form-errors").inner_text()
        assert phone.locator("#kept-files .kept-name").all_inner_texts() == ["图纸.pdf"]
        fill_works(phone)
        phone.get_by_role("button", name="提交申请").click()
        phone.wait_for_url(re.compile(r"/forms/renovation/status/[\w-]{32,}\?new=1$"))
        assert "图纸.pdf" in phone.locator("body").inner_text()
    finally:
        context.close()


def test_resubmit_after_rejection_and_the_guard_checks_the_permit(live_server, phone, server_app):
    phone.goto(live_server.url + "/forms/renovation/apply")
    fill_home(phone, "2", "1", "801")
    next_step(phone)
    fill_works(phone, start_offset=0, days=30)
    next_step(phone)
    phone.get_by_label("吊顶").check()
    phone.get_by_label("不包含以上任何一项").check()
    next_step(phone)
    next_step(phone)
    for acknowledgment in phone.locator(".ack input[type=checkbox]").all():
        acknowledgment.check()
    phone.get_by_role("button", name="提交申请").click()
    phone.wait_for_url(re.compile(r"\?new=1$"))
    old_reference = phone.locator("#reference").inner_text()
    move_to(server_app, old_reference, ("rejected", "请补充吊顶材料说明。"))

    phone.reload()
    assert "请补充吊顶材料说明。" in phone.locator("#rejection-reason").inner_text()
    phone.get_by_role("link", name="修改后重新提交").click()
    assert old_reference in phone.locator("#resubmit-notice").inner_text()
    assert phone.locator("#owner_name").input_value() == "周建国"
    next_step(phone)
    assert phone.locator("#contractor_company").input_value() == "秦淮装饰工程有限公司"
    next_step(phone)
    assert phone.get_by_label("吊顶").is_checked()
    phone.fill("#description", "吊顶用石膏板。")
    next_step(phone)
    next_step(phone)
    for acknowledgment in phone.locator(".ack input[type=checkbox]").all():
        acknowledgment.check()
    phone.get_by_role("button", name="提交申请").click()
    phone.wait_for_url(re.compile(r"\?new=1$"))
    reference = phone.locator("#reference").inner_text()
    assert reference != old_reference
    assert old_reference in phone.locator("#previous-application").inner_text()

    move_to(server_app, reference, ("approved", "资料齐全"))
    phone.reload()
    phone.locator("#permit-link").click()
    phone.wait_for_url("**/permit")
    with server_app.test_request_context(base_url=live_server.url):
        application = db.session.scalar(
            select(RenovationApplication).where(RenovationApplication.reference == reference)
        )
        verify = url_for(
            "renovation.verify", token=permits.verification_token(application), _external=True
        )
        expected_qr = str(permits.qr_svg(verify))
    # The code on the permit is the one of the verification link (the page as served).
    served = requests.get(phone.url, timeout=30).text
    assert (
        re.search(r'<svg[^>]*class="permit-qr-code".*?</svg>', served, re.S).group() == expected_qr
    )

    # The guard scans it with another phone.
    guard = phone.context.browser.new_context(**PHONE)
    try:
        gate = guard.new_page()
        gate.goto(verify)
        assert gate.locator("#verdict").inner_text().startswith("许可证有效，今日可以施工")
        assert gate.locator("#verify-room").inner_text() == "2号楼1单元801室"
        assert "周建国" not in gate.content() and "13800138000" not in gate.content()
        gate.goto(verify[:-3] + "abc")
        assert gate.locator("#verdict").inner_text().startswith("无法核验")
    finally:
        guard.close()
