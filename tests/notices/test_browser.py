"""公告 as a phone and a printer meet them: the owner guide's home page lists the public notices
from the app (urgent first, each with its scope, markup shown as text, the building filter
remembered) without moving anything on the page; the home page works without the app and
without JavaScript; the A4 poster's QR code scans from the printed page."""

from __future__ import annotations

import functools
import http.server
import io
import threading
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from forms_app.core.clock import utcnow
from forms_app.core.database import write_transaction
from forms_app.notices.kinds import local_input
from forms_app.notices.models import Notice
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, create_staff, login, open_place

pytestmark = [pytest.mark.browser, pytest.mark.long_module]

LIST = "#home-notices-list"
ITEMS = f"{LIST} li.home-notices__item"


@pytest.fixture(scope="module")
def server(tmp_path_factory, built_site, migrated_database):
    live = LiveServer(
        tmp_path_factory.mktemp("notices") / "instance",
        site_dir=built_site,
        workers=1,
        database_template=migrated_database,
    )
    live.start()
    create_staff(live, "kf_lead", "客服主管", PASSWORD)
    with live.app() as app, app.app_context(), write_transaction() as session:
        now = utcnow()

        def notice(title, kind, scope_kind, scope, urgent=False, audience="public", minutes=60):
            session.add(
                Notice(
                    community="shanshui",
                    kind=kind,
                    title=title,
                    fields={},
                    body=f"{title}的正文。",
                    scope_kind=scope_kind,
                    scope=scope,
                    starts_at=now + timedelta(hours=12),
                    ends_at=now + timedelta(hours=20),
                    urgent=urgent,
                    audience=audience,
                    state="published",
                    created_by="测试",
                    publish_at=now - timedelta(minutes=minutes),
                    published_by="测试",
                )
            )

        notice("五号楼停电通知", "power", "buildings", [5], minutes=30)
        notice("<b>亲子运动会</b>", "activity", "community", [], minutes=10)
        notice("三号楼停水通知", "water", "buildings", [3], urgent=True, minutes=90)
        notice("欠费公示", "fees", "units", ["3-1"], audience="households", minutes=5)
    yield live
    live.stop()


def layout_shift(page) -> float:
    """The page's cumulative layout shift so far (the browser's own measure)."""
    return page.evaluate(
        """() => new Promise(resolve => {
            let total = 0;
            new PerformanceObserver(list => {
                for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
            }).observe({type: "layout-shift", buffered: true});
            setTimeout(() => resolve(total), 300);
        })"""
    )


def test_home_page_lists_public_notices_urgent_first_with_scope(server, phone):
    phone.goto(server.url + "/")
    expect(phone.locator(ITEMS)).to_have_count(3)
    items = phone.locator(ITEMS).all_inner_texts()
    assert items[0].startswith("紧急") and "三号楼停水通知" in items[0] and "3号楼 · " in items[0]
    assert "<b>亲子运动会</b>" in items[1] and "全小区" in items[1]  # markup shown as text
    assert "五号楼停电通知" in items[2] and "5号楼" in items[2]
    assert phone.locator(f"{LIST} b").count() == 0
    assert "欠费公示" not in phone.content()  # households only: never on the public page
    assert layout_shift(phone) == 0
    # The building filter: building 5 sees its notice and the community's, not building 3's.
    phone.select_option("#home-notices-building", "5")
    expect(phone.locator(ITEMS)).to_have_count(2)
    assert "三号楼停水通知" not in phone.locator(LIST).inner_text()
    # The phone remembers it.
    phone.reload()
    expect(phone.locator(ITEMS)).to_have_count(2)
    assert phone.locator("#home-notices-building").input_value() == "5"
    phone.locator(ITEMS, has_text="五号楼停电通知").locator("a").click()
    phone.wait_for_url("**/forms/notices/*")
    expect(phone.locator("#notice-scope")).to_have_text("5号楼")


@pytest.fixture
def site_only(built_site):
    """The built owner site alone on loopback, as if the app were down."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_site))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_home_page_works_without_the_app(site_only, phone):
    phone.goto(site_only + "/")
    expect(phone.locator(LIST)).to_contain_text("公告暂时读取不到")
    assert phone.locator(".md-typeset .md-button").count() >= 4  # the page itself is whole
    assert phone.locator("#home-notices a[href='/forms/notices/']").count() >= 1
    assert layout_shift(phone) == 0


def test_home_page_without_javascript_keeps_the_link(server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/")
    assert page.locator(f"{LIST} a[href='/forms/notices/']").inner_text() == "小区公告"
    page.goto(server.url + "/forms/notices/")
    assert page.locator("#notices li").count() == 3
    context.close()


def test_poster_qr_scans_from_the_printed_page(server, browser):
    import zxingcpp
    from PIL import Image

    context = browser.new_context(
        viewport={"width": 794, "height": 1123}, device_scale_factor=2, locale="zh-CN"
    )
    page = context.new_page()
    login(page, "kf_lead", PASSWORD, base_url=server.url)
    page.goto(server.url + "/forms/staff/notices/?state=current")
    page.get_by_role("link", name="三号楼停水通知").click()
    page.get_by_role("link", name="打印张贴版（A4）").click()
    page.wait_for_url("**/poster")
    page.emulate_media(media="print")
    assert page.locator(".toolbar").is_hidden()
    poster = page.locator("#poster")
    expect(poster).to_contain_text("山水花园")
    expect(poster).to_contain_text("三号楼停水通知")
    # The whole sheet fits one A4 page (297 mm at 96 dpi, less the margins): the QR is on it.
    box = page.locator("#poster .qr svg").bounding_box()
    assert box["y"] + box["height"] < 1123 - 2 * 68 and box["width"] > 140
    image = Image.open(io.BytesIO(page.screenshot(full_page=True)))
    found = zxingcpp.read_barcodes(image)
    notice_id = page.url.rstrip("/").split("/")[-2]
    assert [code.text for code in found] == [f"{server.url}/forms/notices/{notice_id}"]
    context.close()


def test_a_lead_writes_and_publishes_a_notice_on_a_phone(server, phone):
    login(phone, "kf_lead", PASSWORD, base_url=server.url)
    open_place(phone, "公告")
    phone.wait_for_url("**/forms/staff/notices/")
    phone.get_by_role("link", name="停电", exact=True).click()
    phone.wait_for_url("**/new?kind=power")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.fill("#field_reason", "供电线路检修")
    phone.fill("#field_prepare", "请提前关闭电器")
    phone.check("input[name=scope_kind][value=units]")
    phone.locator("summary", has_text="选择单元").click()
    phone.check("input[name=units][value='3-1']")
    start = utcnow() + timedelta(days=2)
    phone.fill("#starts_at", local_input(start))
    phone.fill("#ends_at", local_input(start + timedelta(hours=4)))
    phone.check("input[name=audience][value=households]")
    phone.get_by_role("button", name="立即发布").click()
    phone.wait_for_url("**/forms/staff/notices/*")
    expect(phone.locator("#state")).to_have_text("在公告栏")
    expect(phone.locator("#scope")).to_have_text("3号楼1单元")
    expect(phone.locator(".flash")).to_contain_text("公告已发布")
    # A bad time comes back with the Chinese reason and what was typed.
    phone.goto(server.url + "/forms/staff/notices/new?kind=water")
    phone.fill("#field_reason", "水箱清洗")
    phone.fill("#field_prepare", "请储水")
    phone.fill("#starts_at", local_input(start))
    phone.fill("#ends_at", local_input(start - timedelta(hours=1)))
    phone.get_by_role("button", name="保存草稿").click()
    expect(phone.locator("#form-error")).to_have_text("结束时间须晚于开始时间。")
    assert phone.input_value("#field_reason") == "水箱清洗"
