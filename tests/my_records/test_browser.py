"""On a 360 px phone in WeChat: from the forms' home to 我的办理, a code that really went
through gunicorn → outbox → worker → Tencent SMS SDK → a loopback SMS endpoint, and the
room's bookings with their status pages."""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from tests.move_in.conftest import BOOK_URL, TODAY, booking_fields, nonce_from
from tests.support import launcher
from tests.support.endpoints import (
    SMS_SECRET_ID,
    SMS_SECRET_KEY,
    FakeTencentSms,
    sms_config,
    wait_until,
)
from tests.support.forms import csrf_token_from
from tests.support.households import register_on_instance
from tests.support.server import BIN, PROJECT_ROOT, LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sms():
    with FakeTencentSms(SMS_SECRET_ID, SMS_SECRET_KEY) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def server(tmp_path_factory, sms, migrated_database):
    """gunicorn and the notification worker on one instance, SMS to the loopback endpoint."""
    instance = tmp_path_factory.mktemp("my-records-browser") / "instance"
    instance.mkdir(parents=True)
    (instance / "config.py").write_text(f'TODAY = "{TODAY.isoformat()}"\n', encoding="utf-8")
    env = {key: str(value) for key, value in sms_config(sms).items()}
    live = LiveServer(
        instance,
        extra_env={**env, "NOTIFY_POLL_SECONDS": "0.2"},
        database_template=migrated_database,
    ).start()
    # The household registered on 5-2-1202 (一户一档): only its mobile gets a code.
    register_on_instance(instance, 5, 2, "1202", "张业主", "13800138000")
    worker = launcher.launch(
        [str(BIN / "flask"), "--app", "forms_app", "notifications-worker"],
        cwd=PROJECT_ROOT,
        env=live.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield live
    worker.terminate()
    worker.wait(30)
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


def test_owner_follows_the_rooms_business_on_a_phone(server, sms, phone):
    book_over_http(server, building=5, unit=2, room="1202")
    # The booking's confirmation went out by SMS already (the worker runs beside gunicorn).
    wait_until(lambda: len(sms.received) == 1, timeout=60)
    reference = sms.params()[0][0]
    assert re.fullmatch(r"BJ\d{8}-\d{3}", reference)

    phone.goto(server.url + "/forms/")
    phone.get_by_role("link", name="我的办理").click()
    phone.wait_for_url(re.compile(r"/forms/my/start$"))
    phone.select_option("#building", "5")
    phone.select_option("#unit", "2")
    phone.select_option("#room", "1202")
    phone.fill("#owner_mobile", "13800138000")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.get_by_role("button", name="获取验证码").click()
    phone.wait_for_url(re.compile(r"/forms/my/code$"))
    assert "138****8000" in phone.locator("#code-sent").inner_text()

    wait_until(lambda: len(sms.received) == 2, timeout=60)
    code = sms.params()[1][0]
    phone.fill("#code", "000000" if code != "000000" else "111111")
    phone.get_by_role("button", name="查看我的办理").click()
    assert "还可以再试 2 次" in phone.locator(".field-error").inner_text()
    phone.fill("#code", code)
    phone.get_by_role("button", name="查看我的办理").click()
    phone.wait_for_url(re.compile(r"/forms/my/$"))
    item = phone.locator("#my-records li")
    assert item.count() == 1
    assert reference in item.inner_text() and "已预约" in item.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    item.get_by_role("link", name="查看进度").click()
    phone.wait_for_url(re.compile(r"/forms/move-in/booking/[\w-]{32,}$"))
    assert phone.locator("#reference").inner_text() == reference
