"""On the real server (gunicorn, two workers): the same form sent four times at once is one
inspection."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import requests

from forms_app.accounts import roles
from tests.support.forms import csrf_token_from
from tests.support.staff import LOGIN_PATH, create_staff

from .conftest import LIST_URL, NEW_URL, inspection_fields, nonce_from

USER = "cleaning-twice"


def logged_in(server) -> requests.Session:
    session = requests.Session()
    form = session.get(server.url + LOGIN_PATH, timeout=30).text
    response = session.post(
        server.url + LOGIN_PATH,
        timeout=30,
        allow_redirects=False,
        data={"csrf_token": csrf_token_from(form), "username": USER, "password": "correct-horse-9"},
    )
    assert response.status_code == 302
    return session


def listed(session, server) -> int:
    page = session.get(server.url + LIST_URL, timeout=30).text
    return int(re.search(r"共 (\d+) 条", page).group(1))


def test_the_same_form_sent_four_times_at_once_is_stored_once(live_server):
    create_staff(live_server, USER, roles.MANAGER)
    session = logged_in(live_server)
    form = session.get(live_server.url + NEW_URL, timeout=30).text
    data = {
        "csrf_token": csrf_token_from(form),
        "nonce": nonce_from(form),
        **inspection_fields(day=date.today() - timedelta(days=1)),
    }
    before = listed(session, live_server)
    cookies = session.cookies.get_dict()

    def send(_):
        return requests.post(
            live_server.url + NEW_URL, data=data, cookies=cookies, timeout=60, allow_redirects=False
        )

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(send, range(4)))
    assert [r.status_code for r in responses] == [303] * 4, [r.text[:500] for r in responses]
    assert len({r.headers["Location"] for r in responses}) == 1
    assert listed(session, live_server) == before + 1
