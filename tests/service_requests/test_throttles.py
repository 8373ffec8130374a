"""Anonymous public POSTs are throttled per address and per room, counted in the database so
every gunicorn worker shares one count; a staff session is exempt (issue 26). A refused post
says so in Chinese and stores nothing."""

from __future__ import annotations

import re

import requests
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.core.extensions import db
from forms_app.notifications.models import Notification
from forms_app.service_requests.models import ServiceRequest
from tests.support.server import LiveServer

from .conftest import REPAIR_URL, STAFF, Owner, nonce_from, repair_fields

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_one_address_files_at_most_its_hourly_posts(app, owner, staff):
    app.config["PUBLIC_POSTS_PER_ADDRESS_PER_HOUR"] = 3
    # A try with an error counts as much as a filing.
    assert owner.submit(fields=repair_fields(description="")).status_code == 400
    owner.file(fields=repair_fields(room="1201"))
    owner.file(fields=repair_fields(room="301"))
    response = owner.submit(fields=repair_fields(room="401"))
    assert response.status_code == 429
    assert "一小时内提交次数过多，本次提交未保存" in response.get_data(as_text=True)
    assert count(app, ServiceRequest) == 2
    alerts = count(app, Notification)
    # Another address is not held back by this one.
    other = Owner(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    other.file(fields=repair_fields(room="401"))
    assert count(app, ServiceRequest) == 3 and count(app, Notification) > alerts
    # Staff recording calls from the same address are not counted.
    desk = staff(roles.SERVICE)
    for room in ("501", "601", "701", "801"):
        page = desk.client.get(f"{STAFF}/new/repair").get_data(as_text=True)
        response = desk.post(
            f"{STAFF}/new/repair",
            {**repair_fields(room=room), "source": "phone", "nonce": nonce_from(page)},
        )
        assert response.status_code == 303
    assert count(app, ServiceRequest) == 7


def test_one_room_is_filed_for_at_most_its_daily_filings(app, owner):
    app.config["PUBLIC_FILINGS_PER_ROOM_PER_DAY"] = 2
    owner.file()
    owner.file()
    response = owner.submit()
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert 'id="room-error"' in page or "room-error" in page
    assert "该房屋今天已提交过 2 次报修，本次未保存" in page
    assert "卫生间洗手盆下水管漏水。" in page  # what was typed is kept
    assert count(app, ServiceRequest) == 2
    # A complaint for the room, and a repair for another room, have budgets of their own.
    owner.file(fields=repair_fields(room="1201"))
    assert count(app, ServiceRequest) == 3


def test_workers_of_one_server_share_the_count(tmp_path, migrated_database):
    """gunicorn with two workers, each request on a new connection: the address gets its
    limit in all, not the limit in each worker."""
    server = LiveServer(
        tmp_path / "instance",
        workers=2,
        extra_env={"PUBLIC_POSTS_PER_ADDRESS_PER_HOUR": "4"},
        database_template=migrated_database,
    ).start()
    try:
        answers = []
        for number in range(10):
            with requests.Session() as browser:
                html = browser.get(server.url + REPAIR_URL, timeout=30).text
                data = {
                    **repair_fields(room=f"{number + 2}01"),
                    "csrf_token": CSRF.search(html).group(1),
                    "nonce": nonce_from(html),
                }
                answers.append(
                    browser.post(
                        server.url + REPAIR_URL,
                        data=data,
                        headers={"Connection": "close"},
                        allow_redirects=False,
                        timeout=30,
                    ).status_code
                )
        assert answers == [303] * 4 + [429] * 6
        with server.app() as app:
            assert count(app, ServiceRequest) == 4
    finally:
        server.stop()
