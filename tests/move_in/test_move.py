"""改约: an owner moves a booking to another day or slot through the private link, with the
slot's capacity respected; bad days, full slots and closed bookings change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forms_app.core.extensions import db
from forms_app.move_in.models import CANCELLED
from forms_app.notifications.models import Notification

from .conftest import MOVE_DAY, SLOTS, TODAY, booking_fields, rooms

pytestmark = pytest.mark.one_app_per_module


def text(response) -> str:
    return response.get_data(as_text=True)


def move(owner, path, day, slot, **extra):
    """Send the chosen day and slot, confirmed (the review step is tested on its own)."""
    extra.setdefault("confirm", "yes")
    csrf = owner.open_form()["csrf_token"]
    return owner.client.post(
        path + "/move",
        data={
            "csrf_token": csrf,
            "move_date": day.isoformat() if hasattr(day, "isoformat") else day,
            "slot": slot,
            **extra,
        },
    )


def fill_slot(owner, day, slot, skip=0):
    """Book every place of a slot with other rooms."""
    for number, unit, room in rooms(slot["capacity"] + skip)[skip:]:
        owner.book(booking_fields(building=number, unit=unit, room=room, day=day, slot=slot["id"]))


def test_the_move_page_shows_what_is_left_of_each_slot(owner):
    _page, path = owner.book(booking_fields(building=12, unit=3, room="1101"))
    fill_slot(owner, MOVE_DAY, SLOTS[1])
    page = text(owner.client.get(path + "/move"))
    assert "原定" in page and f"{MOVE_DAY.isoformat()} {SLOTS[0]['label']}" in page
    own = re.search(rf'<input type="radio" name="slot" value="{SLOTS[0]["id"]}"[^>]*>', page)
    full = re.search(rf'<input type="radio" name="slot" value="{SLOTS[1]["id"]}"[^>]*>', page)
    free = re.search(rf'<input type="radio" name="slot" value="{SLOTS[2]["id"]}"[^>]*>', page)
    assert "disabled" in own.group() and "disabled" in full.group()
    assert "disabled" not in free.group()
    assert "已约满" in page and f"剩余{SLOTS[2]['capacity']}个" in page


def test_moving_to_a_free_slot_frees_the_old_place(owner, stored):
    _page, path = owner.book()
    later = MOVE_DAY + timedelta(days=2)
    response = move(owner, path, later, SLOTS[3]["id"])
    assert response.status_code == 303 and response.location == path
    page = text(owner.client.get(path))
    assert f"已改约到 {later.isoformat()} {SLOTS[3]['label']}" in page
    assert f'id="booking-when">{later.isoformat()} {SLOTS[3]["label"]}' in page
    [booking] = stored.bookings()
    assert (booking.move_date, booking.slot, booking.state) == (later, SLOTS[3]["id"], "booked")
    # The old place is free for another owner at once.
    fill_slot(owner, MOVE_DAY, SLOTS[0], skip=1)
    assert stored.count(move_date=MOVE_DAY, slot=SLOTS[0]["id"]) == SLOTS[0]["capacity"]


def messages(app, kind):
    with app.app_context():
        return [
            n.text
            for n in db.session.scalars(
                select(Notification).where(Notification.kind == kind).order_by(Notification.id)
            )
        ]


def test_the_owner_sees_the_new_day_and_slot_before_anything_changes(app, owner, stored):
    """The 改约 of issue 25: a new date typed and a slot picked move exactly there; the page
    before confirming, the record, the page after and the message all say the same."""
    _page, path = owner.book()
    later = MOVE_DAY + timedelta(days=13)
    when = f"{later.isoformat()} {SLOTS[3]['label']}"
    # One form: the day typed and the slot picked go together; nothing is stored yet.
    review = move(owner, path, later, SLOTS[3]["id"], confirm="", step="review")
    assert review.status_code == 200
    page = text(review)
    assert f'id="review-when">{when}<' in page
    assert f'<input type="hidden" name="move_date" value="{later.isoformat()}">' in page
    assert f'<input type="hidden" name="slot" value="{SLOTS[3]["id"]}">' in page
    assert page.count('name="move_date"') == 1
    [booking] = stored.bookings()
    assert (booking.move_date, booking.slot) == (MOVE_DAY, SLOTS[0]["id"])
    assert messages(app, "move_in.changed") == []
    # 重新选择 returns to the form with the same day and slot filled in.
    again = text(move(owner, path, later, SLOTS[3]["id"], confirm="", step="slots"))
    assert f'value="{later.isoformat()}"' in again
    assert re.search(rf'value="{SLOTS[3]["id"]}"[^>]* checked', again)
    # Confirmed: stored, shown and sent as reviewed.
    response = move(owner, path, later, SLOTS[3]["id"])
    assert response.status_code == 303
    after = text(owner.client.get(path))
    assert f"已改约到 {when}" in after and f'id="booking-when">{when}' in after
    [booking] = stored.bookings()
    assert (booking.move_date, booking.slot) == (later, SLOTS[3]["id"])
    [sms] = messages(app, "move_in.changed")
    assert f"已改到{when}" in sms


def test_the_review_refuses_a_full_slot_or_no_slot_and_changes_nothing(app, owner, stored):
    _page, path = owner.book(booking_fields(building=12, unit=3, room="1101"))
    fill_slot(owner, MOVE_DAY, SLOTS[1])
    full = move(owner, path, MOVE_DAY, SLOTS[1]["id"], confirm="", step="review")
    assert full.status_code == 409 and "该时段已约满" in text(full)
    none = move(owner, path, MOVE_DAY + timedelta(days=2), "", confirm="", step="review")
    assert none.status_code == 400
    assert '<p class="field-error" id="slot-error">请从列表中选择搬家时段。</p>' in text(none)
    assert stored.bookings()[0].slot == SLOTS[0]["id"]
    assert messages(app, "move_in.changed") == []


def test_moving_within_the_same_day_keeps_one_booking_for_the_room(owner, stored):
    _page, path = owner.book()
    assert move(owner, path, MOVE_DAY, SLOTS[2]["id"]).status_code == 303
    [booking] = stored.bookings()
    assert (booking.move_date, booking.slot) == (MOVE_DAY, SLOTS[2]["id"])


@pytest.mark.parametrize(
    "day, slot, field, message",
    [
        (TODAY, SLOTS[1]["id"], "move_date", "只能改到"),
        (TODAY - timedelta(days=3), SLOTS[1]["id"], "move_date", "只能改到"),
        (TODAY + timedelta(days=400), SLOTS[1]["id"], "move_date", "只能改到"),
        ("2026-02-30", SLOTS[1]["id"], "move_date", "请按 2026-12-01 的格式填写日期"),
        (MOVE_DAY, "night", "slot", "请从列表中选择搬家时段"),
        (MOVE_DAY, "", "slot", "请从列表中选择搬家时段"),
        (MOVE_DAY, SLOTS[0]["id"], "slot", "新的时间和原预约相同"),
    ],
)
def test_a_bad_day_or_slot_is_explained_and_nothing_changes(
    owner, stored, day, slot, field, message
):
    _page, path = owner.book()
    before = stored.bookings()
    response = move(owner, path, day, slot)
    assert response.status_code == 400
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', text(response))
    assert error and message in error.group(1)
    assert [(b.move_date, b.slot, b.seat) for b in stored.bookings()] == [
        (b.move_date, b.slot, b.seat) for b in before
    ]


def test_a_full_slot_is_refused(owner, stored):
    _page, path = owner.book(booking_fields(building=12, unit=3, room="1101"))
    fill_slot(owner, MOVE_DAY, SLOTS[1])
    response = move(owner, path, MOVE_DAY, SLOTS[1]["id"])
    assert response.status_code == 409
    assert "该时段已约满" in text(response)
    assert stored.count(slot=SLOTS[1]["id"]) == SLOTS[1]["capacity"]
    assert stored.bookings()[0].slot == SLOTS[0]["id"]


def test_a_day_the_room_already_has_a_booking_is_refused(owner, stored):
    _page, path = owner.book()
    other_day = MOVE_DAY + timedelta(days=1)
    owner.book(booking_fields(day=other_day, slot=SLOTS[2]["id"]))
    response = move(owner, path, other_day, SLOTS[1]["id"])
    assert response.status_code == 409
    assert "该房屋这一天已有搬家预约" in text(response)
    assert [(b.move_date, b.slot) for b in stored.bookings()] == [
        (MOVE_DAY, SLOTS[0]["id"]),
        (other_day, SLOTS[2]["id"]),
    ]


def test_a_cancelled_or_past_booking_cannot_be_moved(app, owner, stored):
    _page, path = owner.book()
    csrf = owner.open_form()["csrf_token"]
    owner.client.post(path + "/cancel", data={"csrf_token": csrf, "confirm": "yes"})
    response = move(owner, path, MOVE_DAY, SLOTS[1]["id"])
    assert response.status_code == 409 and "不能再改约" in text(response)
    assert stored.bookings()[0].state == CANCELLED

    _page, second = owner.book(booking_fields(room="1201"))
    app.config["TODAY"] = (MOVE_DAY + timedelta(days=1)).isoformat()
    assert 'id="move-booking"' not in text(owner.client.get(second))
    assert move(owner, second, MOVE_DAY + timedelta(days=5), SLOTS[1]["id"]).status_code == 409
    assert stored.bookings()[1].move_date == MOVE_DAY


def test_cancel_needs_the_confirmation(owner, stored):
    page, path = owner.book()
    assert 'name="confirm" value="yes" id="confirm-cancel"' in page
    csrf = owner.open_form()["csrf_token"]
    response = owner.client.post(path + "/cancel", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert "请勾选“确认取消这个预约”" in text(owner.client.get(path))
    assert stored.count(state="booked") == 1


def test_a_guessed_link_cannot_move_anything(owner, client, stored):
    _page, path = owner.book()
    token = path.rsplit("/", 1)[1]
    csrf = owner.open_form()["csrf_token"]
    for bad in (token[::-1], "x" * 40, "%00"):
        assert client.get(f"/forms/move-in/booking/{bad}/move").status_code == 404
        assert (
            owner.client.post(
                f"/forms/move-in/booking/{bad}/move",
                data={
                    "csrf_token": csrf,
                    "move_date": MOVE_DAY.isoformat(),
                    "slot": SLOTS[1]["id"],
                },
            ).status_code
            == 404
        )
    assert stored.bookings()[0].slot == SLOTS[0]["id"]


def test_the_booking_page_says_what_happens_next_with_its_link_to_copy(owner):
    page, path = owner.book()
    assert f'id="next-when">{MOVE_DAY.isoformat()} {SLOTS[0]["label"]}<' in page
    assert f"搬家当天（{MOVE_DAY.isoformat()}）及之前都可以在本页办理" in page
    assert f'id="status-url">http://localhost{path}<' in page
    assert re.search(r'<button [^>]*data-copy="status-url"[^>]*hidden>复制链接</button>', page)
