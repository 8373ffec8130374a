"""The permit's QR code read back as a guard's phone would: from a phone screenshot of the
permit, from the print rendering, from the PDF Chromium saves and from the PNG picture the owner
keeps; the permit fits one A4 page and the code is at least 30 mm wide with its quiet zone."""

from __future__ import annotations

import io
import math
from datetime import timedelta

import pytest
import requests
import segno
from sqlalchemy import select

from forms_app.core.clock import today
from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication
from tests.renovation.conftest import move_to
from tests.support.renovation import application_values, filed

pytestmark = [pytest.mark.browser]

A4_VIEWPORT = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 CSS px per inch
PDF_DPI = 200


@pytest.fixture(scope="module")
def permit(live_server):
    """An approved application with every optional line of the permit: (permit url, the
    verification url the code must carry)."""
    with live_server.app() as app:
        with app.app_context():
            application = filed(
                application_values(
                    building=12,
                    unit=3,
                    room="1101",
                    contractor_company="南京秦淮区金陵家装设计工程有限公司第三分公司",
                    wants_tarpaulin=True,
                    wants_extinguisher=True,
                    start_date=today(),
                    end_date=today() + timedelta(days=60),
                )
            )
            reference, token = application.reference, application.status_token
        move_to(app, reference, ("approved", "资料齐全，请按许可证施工。"))
        with app.test_request_context(base_url=live_server.url):
            from flask import url_for

            from forms_app.renovation import permits

            application = db.session.scalar(
                select(RenovationApplication).where(RenovationApplication.reference == reference)
            )
            verify = url_for(
                "renovation.verify", token=permits.verification_token(application), _external=True
            )
    return f"{live_server.url}/forms/renovation/status/{token}/permit", verify


def decoded(image) -> list[str]:
    import zxingcpp

    return [code.text for code in zxingcpp.read_barcodes(image)]


def modules(url: str) -> int:
    """Modules across the code without its quiet zone (the app makes it at level M)."""
    return segno.make(url, error="m", micro=False).symbol_size(border=0)[0]


def test_the_code_scans_from_a_phone_screenshot(permit, phone):
    from PIL import Image

    url, verify = permit
    phone.goto(url)
    code = phone.locator("#permit-qr svg")
    code.scroll_into_view_if_needed()
    box = code.bounding_box()
    # Whole, square and large on a 360 px screen; the page does not scroll sideways.
    assert box["width"] >= 200 and abs(box["width"] - box["height"]) < 1
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot = Image.open(io.BytesIO(phone.screenshot()))
    assert decoded(screenshot) == [verify]
    # What the guard's phone opens: the verification page, not the owner's private page.
    gate = requests.get(verify, timeout=30)
    assert gate.status_code == 200 and "许可证有效，今日可以施工" in gate.text


def test_the_printed_permit_is_one_a4_page_whose_code_scans(permit, browser):
    from PIL import Image

    url, verify = permit
    context = browser.new_context(viewport=A4_VIEWPORT, device_scale_factor=2, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(url)
        page.emulate_media(media="print")
        assert page.locator("#print-permit").is_hidden()
        # At least 30 mm with the quiet zone (96 CSS px = 25.4 mm).
        box = page.locator("#permit-qr svg").bounding_box()
        assert box["width"] * 25.4 / 96 >= 30
        screenshot = Image.open(io.BytesIO(page.screenshot(full_page=True)))
        assert decoded(screenshot) == [verify]
    finally:
        context.close()


def test_the_pdf_is_one_page_whose_code_scans_at_30_mm(permit, browser):
    import pypdfium2
    import zxingcpp
    from pypdf import PdfReader

    url, verify = permit
    context = browser.new_context(viewport=A4_VIEWPORT, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(url)
        # As 打印或保存为 PDF saves it: the print styles, A4, the page's own margins.
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
    finally:
        context.close()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=PDF_DPI / 72).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image)
    assert [code.text for code in found] == [verify]
    corners = found[0].position
    symbol_px = math.dist(
        (corners.top_left.x, corners.top_left.y), (corners.top_right.x, corners.top_right.y)
    )
    across = modules(verify)
    with_quiet_zone_mm = symbol_px * (across + 8) / across / PDF_DPI * 25.4
    assert with_quiet_zone_mm >= 30


def test_the_permit_saves_as_a_png_picture_that_scans(permit):
    from PIL import Image

    url, verify = permit
    response = requests.get(url + ".png", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".png" in disposition
    assert ".svg" not in disposition
    picture = Image.open(io.BytesIO(response.content))
    assert picture.format == "PNG" and picture.width == 1080
    assert decoded(picture) == [verify]
    # The old SVG picture is gone.
    assert requests.get(url + ".svg", timeout=30).status_code == 404


def test_the_status_page_copies_its_private_link_and_says_what_is_next(permit, phone):
    from playwright.sync_api import expect

    url, _verify = permit
    status_url = url.rsplit("/", 1)[0]
    phone.context.grant_permissions(["clipboard-read", "clipboard-write"])
    phone.goto(status_url)
    expect(phone.locator("#next-who")).to_contain_text("您")
    phone.get_by_role("button", name="复制链接").click()
    expect(phone.locator("#copy-status")).to_have_text("链接已复制，可粘贴到备忘录或收藏。")
    assert phone.evaluate("navigator.clipboard.readText()") == status_url
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
