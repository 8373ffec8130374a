"""A 12 MB camera photo on the staff forms that take photos besides 完工 — the renovation patrol
and the cleaning inspection — is shrunk on the phone before it is sent (the bytes on the wire,
as the browser's network stack counted them) and kept on the phone across a refused try."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from forms_app.accounts import roles
from tests.support.browser import PHONE
from tests.support.renovation import file_application, walk
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, create_staff, login

pytestmark = [pytest.mark.browser, pytest.mark.long_module]

PHOTO_POST = 20_000  # a POST larger than this carries a photo
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_database):
    live = LiveServer(
        tmp_path_factory.mktemp("shrink") / "instance",
        workers=1,
        database_template=migrated_database,
    )
    live.start()
    create_staff(live, "manager", roles.MANAGER, PASSWORD)  # walk() takes steps as "manager"
    yield live
    live.stop()


@pytest.fixture(scope="module")
def camera(tmp_path_factory, camera_jpeg):
    photo = camera_jpeg(tmp_path_factory.mktemp("camera") / "IMG_20261207_100000.jpg")
    assert photo.stat().st_size >= 12 * MB
    return photo


@pytest.fixture
def inspector(browser, server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(30000)
    login(page, "manager", PASSWORD, base_url=server.url)
    posts = []
    page.on("requestfinished", lambda r: posts.append(r) if r.method == "POST" else None)
    page.posts = lambda: [int(r.all_headers().get("content-length", -1)) for r in posts]
    yield page
    context.close()


def photo_posts(page) -> list[int]:
    return [size for size in page.posts() if size > PHOTO_POST]


def test_a_patrol_photo_is_shrunk_and_kept_after_a_refusal(server, inspector, camera):
    with server.app() as app:
        application_id = file_application(app, room="1801", building=3)
        walk(app, application_id, "approve", "start")
    page = inspector
    page.goto(f"{server.url}/forms/staff/renovations/{application_id}")
    form = page.locator("#patrol-form")
    form.locator("#item-passage .result-fail").click()
    form.locator("#photos-passage").set_input_files(str(camera))
    expect(form.locator("#shrink-status")).to_contain_text("照片已压缩", timeout=90000)
    form.locator("button[type=submit]").click()  # nothing else ticked, no note: refused
    expect(page.locator("#draft-status")).to_contain_text("1 张照片已保留", timeout=30000)
    form.get_by_role("button", name="全部合格").click()  # the 不合格 item stays 不合格
    form.locator("#note-passage").fill("材料没有走专用装修通道。")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/forms/staff/patrols/due$"), timeout=30000)
    expect(page.locator("body")).to_contain_text("巡查记录已保存")
    sent = photo_posts(page)
    assert sent and max(sent) <= MB + PHOTO_POST, page.posts()


def test_a_cleaning_photo_is_shrunk_and_kept_after_a_refusal(server, inspector, camera):
    page = inspector
    page.goto(f"{server.url}/forms/staff/cleaning/new")
    first = page.locator("input[type=file][name^=photos-]").first
    first.set_input_files(str(camera))
    expect(page.locator("#shrink-status")).to_contain_text("照片已压缩", timeout=90000)
    page.locator("button.submit").click()  # no results ticked: refused
    expect(page.locator("#draft-status")).to_contain_text("1 张照片已保留", timeout=30000)
    sent = photo_posts(page)
    assert sent and max(sent) <= MB + PHOTO_POST, page.posts()
