"""The application on a real gunicorn with 2 workers: oversized uploads and concurrent owners."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from forms_app.core.community import load_community
from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication
from tests.support.forms import csrf_token_from
from tests.support.renovation import APPLY_URL, REFERENCE, application_fields, nonce_from
from tests.support.server import LiveServer

THREADS = 20
SUBMISSIONS = 200


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_database):
    live = LiveServer(
        tmp_path_factory.mktemp("renovation") / "instance", database_template=migrated_database
    )
    live.start()
    yield live
    live.stop()


def distinct_rooms(count: int) -> list[tuple[int, int, str]]:
    community = load_community()
    rooms = [
        (number, unit, room)
        for number, building in sorted(community.buildings.items())
        for unit in range(1, building.units + 1)
        for room in building.rooms()
    ]
    assert len(rooms) >= count
    return rooms[:count]


def submit_over_http(base: str, session: requests.Session, room: tuple[int, int, str]) -> str:
    """One owner's visit: open the form (fresh CSRF token), submit, read the reference."""
    form = session.get(base + APPLY_URL, timeout=30)
    form.raise_for_status()
    building, unit, number = room
    data = {
        **application_fields(building=building, unit=unit, room=number),
        "csrf_token": csrf_token_from(form.text),
        "nonce": nonce_from(form.text),
    }
    response = session.post(base + APPLY_URL, data=data, timeout=60, allow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    status = session.get(base + response.headers["Location"], timeout=30)
    status.raise_for_status()
    return REFERENCE.search(status.text).group()


def test_upload_over_the_size_limit_gets_the_chinese_page(server):
    session = requests.Session()
    form = session.get(server.url + APPLY_URL, timeout=10)
    oversized = b"%PDF-1.4\n" + b"0" * (53 * 1024 * 1024)
    response = session.post(
        server.url + APPLY_URL,
        data={"csrf_token": csrf_token_from(form.text), "nonce": nonce_from(form.text)},
        files={"attachments": ("巨大的图纸.pdf", oversized, "application/pdf")},
        timeout=60,
    )
    assert response.status_code == 413
    assert "文件太大" in response.text
    assert "每个附件不超过 10 MB" in response.text


def test_concurrent_owners_all_get_unique_references(server):
    rooms = distinct_rooms(SUBMISSIONS)
    sessions = [requests.Session() for _ in range(THREADS)]

    def owner(index: int) -> list[str]:
        return [
            submit_over_http(server.url, sessions[index], room) for room in rooms[index::THREADS]
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        references = [ref for batch in pool.map(owner, range(THREADS)) for ref in batch]

    assert len(references) == SUBMISSIONS
    assert len(set(references)) == SUBMISSIONS
    sequences = sorted(int(re.search(r"-(\d+)$", ref).group(1)) for ref in references)
    assert sequences == list(range(1, SUBMISSIONS + 1))

    with server.app() as app, app.app_context():
        stored = db.session.scalar(select(func.count(RenovationApplication.id)))
    assert stored == SUBMISSIONS


def test_the_same_form_sent_at_once_from_several_taps_files_one_application(server):
    building, unit, room = distinct_rooms(SUBMISSIONS + 1)[-1]  # a room the other tests leave alone
    session = requests.Session()
    form = session.get(server.url + APPLY_URL, timeout=10)
    data = {
        **application_fields(building=building, unit=unit, room=room),
        "csrf_token": csrf_token_from(form.text),
        "nonce": nonce_from(form.text),
    }

    def tap(_index: int) -> requests.Response:
        return session.post(
            server.url + APPLY_URL,
            data=data,
            timeout=60,
            allow_redirects=False,
            files={"attachments": ("平面图.pdf", b"%PDF-1.4 plan", "application/pdf")},
        )

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(tap, range(6)))

    assert {r.status_code for r in responses} == {303}
    assert len({r.headers["Location"] for r in responses}) == 1
    with server.app() as app, app.app_context():
        [application] = db.session.scalars(
            select(RenovationApplication).where(
                RenovationApplication.building == building,
                RenovationApplication.unit == unit,
                RenovationApplication.room == room,
            )
        ).all()
        stored_names = [a.stored_name for a in application.attachments]
    # The taps that lost the race removed the files they had written.
    assert [p.name for p in (server.instance_path / "uploads").iterdir()] == stored_names
