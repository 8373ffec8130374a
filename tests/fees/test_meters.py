"""Meter readings on a phone: room by room (search, or walking a unit) and the public meters,
the previous reading shown, implausible readings saved only with a note, corrections only
with a reason and never once the period is billed, several readings saved all or none."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import func, select, update

from forms_app.accounts.models import AuditLog
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.fees import billing
from forms_app.fees.meters import room_meter
from forms_app.fees.models import MeterReading
from forms_app.households.models import HouseholdRoom
from forms_app.households.registry import find_room
from tests.support.forms import csrf_token_from

TODAY = date(2026, 12, 1)
PAGE = "/forms/staff/fees/meters"

pytestmark = pytest.mark.one_app_per_module


@pytest.fixture
def web(app):
    app.config["TODAY"] = TODAY.isoformat()
    return app


@contextmanager
def db_of(app):
    with app.test_request_context():
        yield
        db.session.remove()


@pytest.fixture
def room(web):
    with db_of(web):
        rid = find_room(1, 1, "101").id
        with write_transaction() as session:
            session.execute(
                update(HouseholdRoom).where(HouseholdRoom.id == rid).values(charge_area_centi=9000)
            )
    return rid


@pytest.fixture
def engineer(as_role):
    return as_role("engineering")


def readings(app) -> list[tuple]:
    with db_of(app):
        return [
            (r.meter, r.period, r.reading, r.flagged, r.note)
            for r in db.session.scalars(select(MeterReading).order_by(MeterReading.id))
        ]


def send(client, url, **fields):
    """The page's form sent (it posts to the page's path + /readings)."""
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url.split("?")[0] + "/readings", data={"csrf_token": token, **fields})


def test_room_by_room_with_the_previous_reading_shown(web, room, engineer):
    url = f"{PAGE}/rooms/{room}"
    first = send(engineer, f"{url}?period=2026-10", period="2026-10", reading_water="100")
    assert first.status_code == 303
    send(engineer, f"{url}?period=2026-11", period="2026-11", reading_water="110")
    page = engineer.get(f"{url}?period=2026-12").get_data(as_text=True)
    assert "上期读数：<strong>110</strong>（2026-11）" in page and "以往平均用量 10.00" in page
    # Save and go on to the next room of the unit.
    saved = send(
        engineer,
        f"{url}?period=2026-12",
        period="2026-12",
        reading_water="118",
        reading_electricity="50",
        then="next",
    )
    assert saved.status_code == 303
    next_room = find_id(web, 1, 1, "102")
    assert f"/rooms/{next_room}?period=2026-12" in saved.headers["Location"]
    assert readings(web)[-2:] == [
        (room_meter(room, "water"), "2026-12", "118", False, ""),
        (room_meter(room, "electricity"), "2026-12", "50", False, ""),
    ]


def find_id(app, building, unit, number) -> int:
    with db_of(app):
        return find_room(building, unit, number).id


def test_a_jump_or_a_reading_below_the_previous_needs_a_note(web, room, engineer):
    url = f"{PAGE}/rooms/{room}"
    for period, value in (("2026-09", "100"), ("2026-10", "110"), ("2026-11", "120")):
        send(engineer, url, period=period, reading_water=value)
    before = readings(web)
    jump = send(engineer, url, period="2026-12", reading_water="160", reading_electricity="5")
    assert jump.status_code == 400
    html = jump.get_data(as_text=True)
    assert "超过以往平均用量 10 的 3 倍" in html and "读数都没有保存" in html
    below = send(engineer, url, period="2026-12", reading_water="90")
    assert below.status_code == 400 and "小于上期读数 120" in below.get_data(as_text=True)
    assert readings(web) == before  # the electricity reading sent with the jump: not saved
    noted = send(
        engineer, url, period="2026-12", reading_water="90", note_water="换新表，旧表止码 125"
    )
    assert noted.status_code == 303
    assert readings(web)[-1][2:] == (
        "90",
        True,
        "本期读数 90 小于上期读数 120（换表或抄错？）。换新表，旧表止码 125",
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ("abc", "读数须是数字"),
        ("-5", "不能是负数"),
        ("12.345", "最多保留 2 位小数"),
        ("99999999999", "读数过大"),
        ("NaN", "读数须是数字"),
        ("1e5", None),
    ],
)
def test_bad_readings_are_refused(web, room, engineer, value, message):
    response = send(engineer, f"{PAGE}/rooms/{room}", period="2026-12", reading_water=value)
    if message is None:
        assert response.status_code == 303  # 1e5 is a number: 100000
        return
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert readings(web) == []


@pytest.mark.parametrize(
    "period, message", [("2026-13", "没有 13 月"), ("2027-02", "不能晚于下个月"), ("x", "年-月")]
)
def test_bad_periods_are_refused(web, room, engineer, period, message):
    response = send(engineer, f"{PAGE}/rooms/{room}", period=period, reading_water="5")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert readings(web) == []


def test_a_correction_needs_a_reason_and_is_refused_once_billed(web, room, engineer):
    url = f"{PAGE}/rooms/{room}"
    send(engineer, url, period="2026-11", reading_water="100")
    send(engineer, url, period="2026-12", reading_water="105")
    no_reason = send(engineer, url, period="2026-12", reading_water="106")
    assert no_reason.status_code == 400
    assert "更正读数须填写更正原因" in no_reason.get_data(as_text=True)
    fixed = send(engineer, url, period="2026-12", reading_water="106", reason_water="看错一位")
    assert fixed.status_code == 303
    assert readings(web)[-1][2] == "106" and "原读数 105" in readings(web)[-1][4]
    with db_of(web):
        assert db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "fees.meter_correct")
        )
        billing.issue_bills("2026-12", "测试")
    refused = send(engineer, url, period="2026-12", reading_water="107", reason_water="再改")
    assert refused.status_code == 400 and "账单已开具" in refused.get_data(as_text=True)
    assert readings(web)[-1][2] == "106"
    # The same reading again changes nothing and needs no reason.
    assert send(engineer, url, period="2026-12", reading_water="106").status_code == 303


def test_public_meters_and_the_walk_through_a_unit(web, room, engineer):
    page = engineer.get(f"{PAGE}/public?period=2026-12").get_data(as_text=True)
    assert "公共用水总表" in page and "公共用电总表" in page
    saved = send(
        engineer,
        f"{PAGE}/public",
        period="2026-12",
        **{"reading_public-water": "5000", "reading_public-electricity": "12000"},
    )
    assert saved.status_code == 303
    assert {r[0] for r in readings(web)} == {"public-water", "public-electricity"}
    walk = engineer.get(f"{PAGE}/?building=1&unit=1&period=2026-12").get_data(as_text=True)
    assert "101" in walk and "未抄" in walk
    found = engineer.get(f"{PAGE}/?q=1-1-101").get_data(as_text=True)
    assert f"/rooms/{room}" in found


def test_who_may_enter_readings(web, room, as_role):
    assert as_role("security").get(f"{PAGE}/").status_code == 403
    assert as_role("service").get(f"{PAGE}/").status_code == 200
    for query in ("period=2026-13", "building=x&unit=1", "q=%00", "period=9999-99"):
        assert as_role("manager").get(f"{PAGE}/?{query}").status_code == 200
        assert as_role("manager").get(f"{PAGE}/public?{query}").status_code == 200
