"""Owners racing for the last places of a slot on a real gunicorn with 2 workers: never more
bookings than the capacity, every loser told the slot is full, no error."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
import requests

from forms_app.move_in.forms import SLOT_FULL_MESSAGE
from tests.support.forms import csrf_token_from
from tests.support.server import LiveServer

from .conftest import (
    BOOK_URL,
    MOVE_DAY,
    SLOTS,
    TODAY,
    booking_fields,
    nonce_from,
    rooms,
)

THREADS = 24


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_database):
    instance = tmp_path_factory.mktemp("move-in-live") / "instance"
    instance.mkdir(parents=True)
    (instance / "config.py").write_text(f'TODAY = "{TODAY.isoformat()}"\n', encoding="utf-8")
    live = LiveServer(instance, database_template=migrated_database).start()
    yield live
    live.stop()


def query(server, sql, *args):
    with sqlite3.connect(server.instance_path / "forms.sqlite3") as connection:
        return connection.execute(sql, args).fetchall()


def open_form(server) -> tuple[requests.Session, dict]:
    session = requests.Session()
    # The form's connection is not kept for the POST: opening 24 forms one after another can
    # take longer than gunicorn keeps an idle connection (2 s), and a POST sent on a connection
    # the server is closing is lost ("Remote end closed connection"), as a phone would retry.
    form = session.get(server.url + BOOK_URL, timeout=30, headers={"Connection": "close"})
    form.raise_for_status()
    return session, {"csrf_token": csrf_token_from(form.text), "nonce": nonce_from(form.text)}


def race(server, fields: list[dict]) -> list[requests.Response]:
    """Every owner opens the form first, then all press 提交 at the same moment."""
    opened = [open_form(server) for _ in fields]
    start = Barrier(len(fields))

    def submit(index: int) -> requests.Response:
        session, hidden = opened[index]
        start.wait()
        return session.post(
            server.url + BOOK_URL,
            data={**hidden, **fields[index]},
            timeout=60,
            allow_redirects=False,
        )

    with ThreadPoolExecutor(len(fields)) as pool:
        return list(pool.map(submit, range(len(fields))))


def test_racing_owners_never_overfill_a_slot(server):
    slot = SLOTS[0]
    everyone = rooms(THREADS + 1)
    first_room = everyone[0]
    session, hidden = open_form(server)
    early = session.post(
        server.url + BOOK_URL,
        allow_redirects=False,
        timeout=30,
        data={**hidden, **booking_fields(*first_room, slot=slot["id"])},
    )
    assert early.status_code == 303

    fields = [booking_fields(*room, slot=slot["id"]) for room in everyone[1:]]
    responses = race(server, fields)

    codes = sorted(r.status_code for r in responses)  # for the failure message
    winners = [r for r in responses if r.status_code == 303]
    assert len(winners) == slot["capacity"] - 1, codes
    losers = [r for r in responses if r.status_code != 303]
    assert {r.status_code for r in losers} <= {400, 409}, codes
    assert all(SLOT_FULL_MESSAGE in r.text for r in losers)
    [(active,)] = query(
        server,
        "SELECT count(*) FROM move_in_booking WHERE move_date = ? "
        "AND slot = ? AND state != 'cancelled'",
        MOVE_DAY.isoformat(),
        slot["id"],
    )
    assert active == slot["capacity"]
    seats = query(
        server, "SELECT seat FROM move_in_booking WHERE slot = ? ORDER BY seat", slot["id"]
    )
    assert [s for (s,) in seats] == list(range(1, slot["capacity"] + 1))


def test_racing_for_every_slot_of_a_day_fills_each_to_its_capacity(server):
    day = MOVE_DAY + timedelta(days=1)
    everyone = rooms(THREADS * 2)[THREADS + 1 :]
    fields = [
        booking_fields(*room, day=day, slot=SLOTS[i % len(SLOTS)]["id"])
        for i, room in enumerate(everyone)
    ]
    responses = race(server, fields)

    assert all(r.status_code in (303, 400, 409) for r in responses)
    booked = dict(
        query(
            server,
            "SELECT slot, count(*) FROM move_in_booking WHERE move_date = ? "
            "AND state != 'cancelled' GROUP BY slot",
            day.isoformat(),
        )
    )
    assert booked == {s["id"]: s["capacity"] for s in SLOTS}
    assert sum(r.status_code == 303 for r in responses) == sum(s["capacity"] for s in SLOTS)


def test_owners_moving_into_the_last_place_at_once_get_it_once(server):
    """Bookings moved to the same slot at the same moment: exactly the free places are
    taken, the others are told the slot is full and keep their old slot."""
    day = MOVE_DAY + timedelta(days=2)
    target = SLOTS[2]
    everyone = rooms(THREADS * 3)[THREADS * 2 + 1 : THREADS * 2 + 1 + 6]
    # Two bookings in each of the other slots, all moving to the third one.
    sources = [SLOTS[i]["id"] for i in (0, 0, 1, 1, 3, 3)]
    paths = []
    for room, source in zip(everyone, sources):
        session, hidden = open_form(server)
        booked = session.post(
            server.url + BOOK_URL,
            allow_redirects=False,
            timeout=30,
            data={**hidden, **booking_fields(*room, day=day, slot=source)},
        )
        assert booked.status_code == 303, booked.text
        paths.append((session, booked.headers["Location"]))
    start = Barrier(len(paths))

    def move(index: int) -> requests.Response:
        session, path = paths[index]
        csrf = csrf_token_from(session.get(server.url + path + "/move", timeout=30).text)
        start.wait()
        return session.post(
            server.url + path + "/move",
            allow_redirects=False,
            timeout=60,
            data={
                "csrf_token": csrf,
                "move_date": day.isoformat(),
                "slot": target["id"],
                "confirm": "yes",
            },
        )

    with ThreadPoolExecutor(len(paths)) as pool:
        responses = list(pool.map(move, range(len(paths))))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(303) == target["capacity"], codes
    assert all(SLOT_FULL_MESSAGE in r.text for r in responses if r.status_code != 303), codes
    booked = dict(
        query(
            server,
            "SELECT slot, count(*) FROM move_in_booking WHERE move_date = ? "
            "AND state != 'cancelled' GROUP BY slot",
            day.isoformat(),
        )
    )
    assert booked[target["id"]] == target["capacity"]
    assert sum(booked.values()) == len(paths)
    seats = query(
        server,
        "SELECT seat FROM move_in_booking WHERE move_date = ? AND slot = ? ORDER BY seat",
        day.isoformat(),
        target["id"],
    )
    assert [s for (s,) in seats] == list(range(1, target["capacity"] + 1))
