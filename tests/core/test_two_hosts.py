"""Two app hosts that share only PostgreSQL, behind deploy/nginx.conf's upstream.

Each gunicorn has an instance folder of its own (no secret key file, no upload folder in
common) and no SECRET_KEY in its environment: the signing key is the one kept in the database
(core/shared_secret.py) and uploads are kept in the database (files/store.py). A file stored
through one host is served by the other, a login made on one is valid on the other, and the
public-form throttle counts the requests of both.
"""

from __future__ import annotations

import os
import re

import pytest
import requests

from tests.service_requests.conftest import REPAIR_URL, repair_fields
from tests.support.forms import csrf_token_from
from tests.support.nginx import start_nginx
from tests.support.postgres import migrated_app_database
from tests.support.renovation import APPLY_URL, application_fields, nonce_from
from tests.support.server import LiveServer
from tests.support.staff import LOGIN_PATH, create_staff

pytestmark = pytest.mark.long_module

# A drawing of several 256 KiB chunks whose bytes differ along its length.
DRAWING = b"%PDF-1.4\n" + bytes(range(256)) * (4 * 1024 + 37)
PER_HOUR = 5


@pytest.fixture(scope="module")
def hosts(postgres_url, tmp_path_factory, built_site, built_staff_site):
    base = tmp_path_factory.mktemp("two-hosts")
    url = migrated_app_database(postgres_url, "forms_two_hosts", base / "template-instance")
    env = {
        "DATABASE_URL": url,
        "PROXY_COUNT": "1",
        "PUBLIC_POSTS_PER_ADDRESS_PER_HOUR": str(PER_HOUR),
    }
    assert "SECRET_KEY" not in os.environ
    started = []
    try:
        for name in ("a", "b"):
            server = LiveServer(base / name / "instance", workers=1, extra_env=env, migrated=True)
            started.append(server.start())
        create_staff(started[0], "desk", "客服主管")
        nginx = start_nginx(
            base / "nginx",
            app_port=[s.port for s in started],
            site=built_site,
            staff_site=built_staff_site,
        )
    except BaseException:
        for server in started:
            server.stop()
        raise
    yield started, nginx
    nginx.stop()
    for server in started:
        server.stop()


def test_each_host_keeps_nothing_of_its_own(hosts):
    (a, b), _nginx = hosts
    for server in (a, b):
        assert not (server.instance_path / "secret_key").exists()
        uploads = server.instance_path / "uploads"
        assert not uploads.exists() or not any(uploads.iterdir())


def test_a_file_stored_through_one_host_is_served_by_the_other(hosts):
    (a, b), nginx = hosts
    owner = requests.Session()
    form = owner.get(a.url + APPLY_URL, timeout=30)
    response = owner.post(
        a.url + APPLY_URL,
        data={
            **application_fields(building=3, unit=1, room="301"),
            "csrf_token": csrf_token_from(form.text),
            "nonce": nonce_from(form.text),
        },
        files={"attachments": ("客厅平面图.pdf", DRAWING, "application/pdf")},
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code == 303, response.text[:2000]
    assert not any((a.instance_path / "uploads").glob("*"))  # nothing on host A's disk

    # The staff member logs in on host A; the same cookie is a login on host B.
    desk = requests.Session()
    page = desk.get(a.url + LOGIN_PATH, timeout=30)
    logged_in = desk.post(
        a.url + LOGIN_PATH,
        data={
            "username": "desk",
            "password": "correct-horse-9",
            "csrf_token": csrf_token_from(page.text),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert logged_in.status_code == 302, logged_in.text[:1000]
    listing = desk.get(b.url + "/forms/staff/renovations", timeout=30, allow_redirects=False)
    assert listing.status_code == 200 and "3号楼1单元301" in listing.text
    detail_path = re.search(r'href="(/forms/staff/renovations/\d+)"', listing.text).group(1)
    detail = desk.get(b.url + detail_path, timeout=30)
    link = re.search(rf'href="({detail_path}/attachments/\d+)"', detail.text).group(1)

    for host in (b.url, a.url, nginx.url):
        download = desk.get(host + link, timeout=60, headers={"Host": "127.0.0.1"})
        assert download.status_code == 200
        assert download.content == DRAWING
        assert download.headers["Content-Length"] == str(len(DRAWING))
        assert "attachment" in download.headers["Content-Disposition"]
        assert "%E5%AE%A2%E5%8E%85" in download.headers["Content-Disposition"]  # 客厅


def test_the_public_form_throttle_counts_both_hosts(hosts):
    (a, b), _nginx = hosts
    answers = []
    for number in range(PER_HOUR + 2):
        host = (a, b)[number % 2]
        with requests.Session() as phone:
            # One phone's address of its own (the hosts trust one proxy's X-Forwarded-For).
            phone.headers["X-Forwarded-For"] = "203.0.113.9"
            html = phone.get(host.url + REPAIR_URL, timeout=30).text
            answers.append(
                phone.post(
                    host.url + REPAIR_URL,
                    data={
                        **repair_fields(room=f"{number + 2}02"),
                        "csrf_token": csrf_token_from(html),
                        "nonce": nonce_from(html),
                    },
                    allow_redirects=False,
                    timeout=30,
                ).status_code
            )
    # Alternating hosts: each alone would have let all seven through.
    assert answers == [303] * PER_HOUR + [429] * 2
