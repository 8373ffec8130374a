"""Odd values in every field of the booking form and in every query: never a 500, never
stored, the Chinese message beside the field; private links never looked up with junk."""

from __future__ import annotations

import pytest

from tests.support.fuzz import (
    NOT_UTF8,
    ODD_DATE,
    ODD_NUMBER,
    ODD_TEXT,
    assert_chinese_errors,
    odd_post,
)

from .conftest import BOOK_URL, booking_fields

# Hundreds of small tests: one app object for them all, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

ODD_MOBILE = ["", "\x00", "１３８００１３８００", "٣" * 11, "x" * 5000, NOT_UTF8]
ODD_CHOICE = ["", "\x00", "x" * 5000, NOT_UTF8, ["bogus", "am1"]]

CASES = (
    [(f, v) for f in ("building", "unit", "room") for v in ODD_NUMBER + [None, ["99", "5"]]]
    + [("owner_name", v) for v in ODD_TEXT + [None]]
    + [("owner_mobile", v) for v in ODD_MOBILE + [None]]
    + [("move_date", v) for v in ODD_DATE + [None]]
    + [(f, v) for f in ("slot", "oversize") for v in ODD_CHOICE + [None]]
    + [("large_items", v) for v in ["x" * 5000, NOT_UTF8]]
)


@pytest.mark.parametrize("field, value", CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(CASES)])
def test_odd_value_is_refused_beside_its_field(owner, stored, field, value):
    fields = {**owner.open_form(), **booking_fields()}
    response = odd_post(owner.client, BOOK_URL, fields, field, value)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # Radio groups carry their error inside their fieldset, the rest beside the control.
    assert f'<p class="field-error" id="{field}-error">' in page
    assert_chinese_errors(page)
    assert stored.count() == 0


@pytest.mark.parametrize("field", ["owner_name", "large_items", "owner_mobile", "room"])
def test_invalid_utf8_in_an_urlencoded_form_is_refused_beside_its_field(owner, stored, field):
    """As a browser sends this form: urlencoded, where %FF%FE%C0%AF is not text."""
    fields = {**owner.open_form(), **booking_fields()}
    response = odd_post(owner.client, BOOK_URL, fields, field, NOT_UTF8, urlencoded=True)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">' in page
    assert_chinese_errors(page)
    assert "%FF%FE" not in page
    assert stored.count() == 0


@pytest.mark.parametrize("value", ["", "\x00", "short", "x" * 5000, NOT_UTF8, None])
def test_odd_nonce_is_refused_without_reaching_the_database(
    owner, stored, nul_sent_to_database, value
):
    fields = {**owner.open_form(), **booking_fields()}
    response = odd_post(owner.client, BOOK_URL, fields, "nonce", value)
    assert response.status_code == 400
    assert "请刷新页面后重新填写" in response.get_data(as_text=True)
    assert stored.count() == 0
    assert nul_sent_to_database == []


def test_full_width_mobile_and_stray_control_characters_are_cleaned(owner, stored):
    owner.book(
        booking_fields(
            owner_name="\u200b周建国\x00",
            owner_mobile="１３８-００１３-８０００",
            large_items="冰箱\r\n衣柜\x07",
        )
    )
    [booking] = stored.bookings()
    assert (booking.owner_name, booking.owner_mobile, booking.large_items) == (
        "周建国",
        "13800138000",
        "冰箱\n衣柜",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/forms/move-in/booking/%00",
        "/forms/move-in/booking/abc%00def",
        "/forms/move-in/booking/%ff",
        "/forms/move-in/booking/" + "a" * 5000,
    ],
)
def test_junk_booking_links_are_404_without_reaching_the_database(
    client, nul_sent_to_database, path
):
    response = client.get(path)
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    assert nul_sent_to_database == []


def test_cancel_with_a_junk_link_is_refused(owner, client, nul_sent_to_database):
    owner.book()
    token = owner.open_form()["csrf_token"]
    for path in ("/forms/move-in/booking/%00/cancel", "/forms/move-in/booking/x%00y/cancel"):
        response = client.post(path, data={"csrf_token": token})
        assert response.status_code == 404
    assert nul_sent_to_database == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?date=",
        "?date=%00",
        "?date=%ff",
        "?date=0001-01-01",
        "?date=9999-12-31",
        "?date=" + "9" * 5000,
        "?date=2026-02-30",
        "?date[]=2026-12-04",
    ],
)
def test_odd_slot_queries_are_a_chinese_400(client, query):
    response = client.get("/forms/move-in/slots" + query)
    assert response.status_code == 400
    assert "日期" in response.get_json()["error"] or "可预约" in response.get_json()["error"]
    assert response.headers["Cache-Control"] == "private, no-store"


def test_markup_in_owner_text_is_escaped_on_the_confirmation(owner):
    page, _ = owner.book(
        booking_fields(owner_name="<b>周</b>", large_items='"><script>alert(1)</script>')
    )
    assert "<script>alert" not in page and "<b>周</b>" not in page
    assert "&lt;b&gt;周&lt;/b&gt;" in page


def test_the_form_is_never_cached(client):
    """Its one-time nonce finds the booking sent with it: a cached copy shared by two owners
    would send the second one to the first one's booking."""
    assert client.get(BOOK_URL).headers["Cache-Control"] == "private, no-store"


MOVE_CASES = [("move_date", v) for v in ODD_DATE + [None]] + [
    ("slot", v) for v in ODD_CHOICE + [None]
]


@pytest.mark.parametrize(
    "field, value", MOVE_CASES, ids=[f"move-{f}-{i}" for i, (f, _) in enumerate(MOVE_CASES)]
)
def test_odd_values_when_moving_a_booking_change_nothing(
    owner, stored, field, value, nul_sent_to_database
):
    _page, path = owner.book()
    before = [(b.move_date, b.slot, b.seat) for b in stored.bookings()]
    fields = {
        "csrf_token": owner.open_form()["csrf_token"],
        "move_date": "2026-12-05",
        "slot": "pm1",
        "confirm": "yes",
    }
    response = odd_post(owner.client, path + "/move", fields, field, value)
    assert response.status_code in (400, 409)
    assert_chinese_errors(response.get_data(as_text=True))
    assert [(b.move_date, b.slot, b.seat) for b in stored.bookings()] == before
    assert nul_sent_to_database == []
