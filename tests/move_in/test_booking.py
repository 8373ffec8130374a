"""The owner's booking: the happy path with its route, every bad input, capacity, one booking
per room per day, double submits, CSRF, the private link and cancelling."""

from __future__ import annotations

import html as html_lib
import itertools
from datetime import timedelta

import pytest
import yaml
from sqlalchemy.exc import IntegrityError

from forms_app import create_app
from forms_app.core.community import DEFAULT_COMMUNITY_FILE, CommunityDataError
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.move_in.forms import SLOT_FULL_MESSAGE
from forms_app.move_in.models import CANCELLED, MoveInBooking

from .conftest import (
    BOOK_URL,
    COMMUNITY,
    MOVE_DAY,
    MOVE_IN,
    REFERENCE,
    SLOTS,
    TODAY,
    booking_fields,
    rooms,
)

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def test_booking_gives_a_private_confirmation_with_the_garage_route(owner, stored, client):
    page, path = owner.book(booking_fields(building=5, unit=2, room="1202", wants_carry_help="y"))

    assert REFERENCE.search(page)
    assert "5号楼2单元1202室" in page
    assert f"{MOVE_DAY.isoformat()} {SLOTS[0]['label']}" in page
    route = page.split('id="route"')[1].split("</section>")[0]
    assert "乘电梯" in route and MOVE_IN["oversize_post"] not in route
    # The seed's moving route goes through the garage posts; the renovation material
    # entrances per building are a different rule.
    assert "地下车库的出入口岗" in route
    for entrance in COMMUNITY.material_entrances:
        assert entrance["name"] not in route
    assert "平推车" in page and "秩序维护巡逻人员协助您搬运大件物品" in page
    assert "水、电、气、电话、宽带" in page
    response = client.get(path)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    [booking] = stored.bookings()
    assert (
        booking.owner_mobile,
        booking.oversize,
        booking.wants_trolley,
        booking.wants_carry_help,
    ) == ("13800138000", False, True, True)
    assert booking.state == "booked" and booking.seat == 1


def test_oversize_items_enter_at_the_oversize_post(owner):
    page, _ = owner.book(booking_fields(oversize="yes", large_items="钢琴（高2.4米）"))
    route = page.split('id="route"')[1].split("</section>")[0]
    assert f"从{MOVE_IN['oversize_post']}进入小区" in route
    assert "规划指定的区域转运家私" in route
    assert f"{MOVE_IN['garage_clearance_m']}米" in route


LAST_DAY = TODAY + timedelta(days=MOVE_IN["booking_days_ahead"])
INVALID = [
    ("building", {"building": ""}, "请选择楼栋。"),
    ("building", {"building": "99"}, "请选择小区内的楼栋。"),
    ("unit", {"unit": ""}, "请选择单元。"),
    ("unit", {"building": "1", "unit": "3"}, "1号楼只有1–2单元。"),
    ("room", {"room": ""}, "请选择房号。"),
    ("room", {"building": "11", "unit": "1", "room": "1501"}, "11号楼1单元没有1501室"),
    ("owner_name", {"owner_name": "  "}, "请填写业主姓名。"),
    ("owner_name", {"owner_name": "张" * 31}, "不能超过30个字。"),
    ("owner_mobile", {"owner_mobile": ""}, "请填写业主手机号。"),
    ("owner_mobile", {"owner_mobile": "12345678901"}, "11位中国大陆手机号码"),
    ("move_date", {"move_date": ""}, "请选择搬家日期。"),
    ("move_date", {"move_date": "12月5日"}, "请按2026-12-01的格式填写日期。"),
    ("move_date", {"move_date": TODAY.isoformat()}, "搬家日期最早可选明天（2026-12-02）"),
    ("move_date", {"move_date": (TODAY - timedelta(days=3)).isoformat()}, "最早可选明天"),
    (
        "move_date",
        {"move_date": (LAST_DAY + timedelta(days=1)).isoformat()},
        f"只能预约{MOVE_IN['booking_days_ahead']}天内的搬家（最晚{LAST_DAY.isoformat()}）",
    ),
    ("slot", {"slot": ""}, "请选择搬家时段。"),
    ("slot", {"slot": "night"}, "请从列表中选择搬家时段。"),
    (
        "oversize",
        {"oversize": ""},
        f"请选择是否有超过车库限高{MOVE_IN['garage_clearance_m']}米的大件物品。",
    ),
    ("oversize", {"oversize": "maybe"}, "请选择是否有超过车库限高"),
    ("large_items", {"large_items": "柜" * 501}, "大件物品不能超过500个字。"),
]


@pytest.mark.parametrize(
    "field,change,message", INVALID, ids=[f"{f}-{i}" for i, (f, _c, _m) in enumerate(INVALID)]
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_stored(
    owner, stored, field, change, message
):
    fields = booking_fields(owner_name="周建国", large_items="双开门冰箱、衣柜")
    fields.update(change)
    response = owner.submit(fields)

    assert response.status_code == 400
    page = text(response)
    errors = page.split(f'id="{field}-error"', 1)
    assert len(errors) == 2, f"no error beside {field}"
    assert message in errors[1].split("</p>", 1)[0]
    assert "有1处需要修改" in page
    if field != "owner_name":
        assert 'value="周建国"' in page
    if field != "large_items":
        assert "双开门冰箱、衣柜</textarea>" in page
    assert stored.count() == 0


def test_every_typed_value_is_kept_after_an_error(owner):
    fields = booking_fields(
        building=11,
        unit=3,
        room="1102",
        slot=SLOTS[2]["id"],
        oversize="yes",
        wants_carry_help="y",
        owner_name="",
    )
    page = text(owner.submit(fields))
    assert 'id="owner_name-error"' in page
    for select, value in (("building", "11"), ("unit", "3"), ("room", "1102")):
        chosen = page.split(f'id="{select}"')[1].split("</select>")[0]
        assert f'selected value="{value}"' in chosen
    assert 'value="13800138000"' in page and f'value="{MOVE_DAY.isoformat()}"' in page
    assert f'checked id="slot-2" name="slot" type="radio" value="{SLOTS[2]["id"]}"' in page
    assert 'checked id="oversize-1" name="oversize" type="radio" value="yes"' in page
    assert 'checked id="wants_trolley"' in page and 'checked id="wants_carry_help"' in page


def test_home_page_offers_the_booking(client):
    page = client.get("/forms/").get_data(as_text=True)
    assert f'href="{BOOK_URL}"' in page and "预约搬家" in page


def test_a_stale_form_without_its_nonce_is_refused(owner, stored):
    hidden = owner.open_form()
    response = owner.submit(hidden={**hidden, "nonce": "short"})
    assert response.status_code == 400
    assert "页面已过期，请刷新页面后重新填写。" in text(response)
    assert stored.count() == 0


def test_post_without_csrf_token_is_refused(owner, stored):
    hidden = owner.open_form()
    response = owner.submit(hidden={"nonce": hidden["nonce"]})
    assert response.status_code == 400
    assert "页面已过期或来源无法验证" in text(response)
    assert stored.count() == 0


def test_the_same_form_sent_twice_makes_one_booking(owner, stored):
    hidden = owner.open_form()
    first = owner.submit(hidden=hidden)
    second = owner.submit(hidden=hidden)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert stored.count() == 1


def test_a_full_slot_is_shown_and_refused(owner, stored, client):
    slot = SLOTS[1]
    for number, unit, room in rooms(slot["capacity"]):
        owner.book(booking_fields(building=number, unit=unit, room=room, slot=slot["id"]))

    response = owner.submit(booking_fields(building=12, unit=3, room="1102", slot=slot["id"]))
    assert response.status_code == 400
    page = text(response)
    assert SLOT_FULL_MESSAGE in page.split('id="slot-error"')[1]
    full_choice = page.split(f'data-slot="{slot["id"]}"')[1].split("</label>")[0]
    assert "已约满" in full_choice and "disabled" in full_choice
    other = page.split(f'data-slot="{SLOTS[0]["id"]}"')[1].split("</label>")[0]
    assert f"剩余{SLOTS[0]['capacity']}个" in other
    assert stored.count() == slot["capacity"]

    availability = client.get(f"{BOOK_URL}slots?date={MOVE_DAY.isoformat()}").get_json()
    left = {s["id"]: s["remaining"] for s in availability["slots"]}
    assert left[slot["id"]] == 0 and left[SLOTS[0]["id"]] == SLOTS[0]["capacity"]
    # The same slot on another day is free.
    owner.book(
        booking_fields(
            building=12, unit=3, room="1102", slot=slot["id"], day=MOVE_DAY + timedelta(days=1)
        )
    )


def test_slot_availability_rejects_days_outside_the_window(client):
    for day in ("tomorrow", TODAY.isoformat(), (LAST_DAY + timedelta(days=1)).isoformat()):
        response = client.get(f"{BOOK_URL}slots?date={day}")
        assert response.status_code == 400
        assert response.get_json()["error"]


def test_one_active_booking_per_room_per_day(owner, stored):
    first, path = owner.book(booking_fields(slot=SLOTS[0]["id"]))
    reference = REFERENCE.search(first).group()

    response = owner.submit(booking_fields(slot=SLOTS[2]["id"]))
    assert response.status_code == 400
    message = text(response).split('id="move_date-error"')[1]
    assert f"该房屋这一天已有搬家预约（编号{reference}）" in message
    owner.book(booking_fields(day=MOVE_DAY + timedelta(days=2)))
    assert stored.count() == 2

    owner.client.post(
        path + "/cancel", data={"csrf_token": owner.open_form()["csrf_token"], "confirm": "yes"}
    )
    owner.book(booking_fields(slot=SLOTS[2]["id"]))
    assert stored.count() == 3


def test_cancelling_frees_the_place(owner, stored):
    slot = SLOTS[3]
    paths = [
        owner.book(booking_fields(building=n, unit=u, room=r, slot=slot["id"]))[1]
        for n, u, r in rooms(slot["capacity"])
    ]
    late = booking_fields(building=12, unit=3, room="1102", slot=slot["id"])
    assert owner.submit(late).status_code == 400

    response = owner.client.post(
        paths[0] + "/cancel", data={"csrf_token": owner.open_form()["csrf_token"], "confirm": "yes"}
    )
    assert response.status_code == 303 and response.location == paths[0]
    page = text(owner.client.get(paths[0]))
    assert "预约已取消，该时段的名额已释放。" in page
    assert 'id="state">已取消' in page
    assert 'id="cancel-booking"' not in page and 'id="route"' not in page
    # A second tap changes nothing and says nothing alarming.
    again = owner.client.post(
        paths[0] + "/cancel", data={"csrf_token": owner.open_form()["csrf_token"], "confirm": "yes"}
    )
    assert again.status_code == 303
    assert "不能再取消" not in text(owner.client.get(paths[0]))

    owner.book(late)
    assert stored.count(state=CANCELLED) == 1
    assert stored.count(slot=slot["id"]) == slot["capacity"] + 1


def test_a_past_booking_cannot_be_cancelled(app, owner, stored):
    _page, path = owner.book()
    app.config["TODAY"] = (MOVE_DAY + timedelta(days=1)).isoformat()
    page = owner.client.get(path).get_data(as_text=True)
    assert 'id="cancel-booking"' not in page
    owner.client.post(
        path + "/cancel", data={"csrf_token": owner.open_form()["csrf_token"], "confirm": "yes"}
    )
    assert "不能再取消" in text(owner.client.get(path))
    assert stored.count(state="booked") == 1


def test_wrong_or_guessed_tokens_are_404(owner, client):
    _page, path = owner.book()
    token = path.rsplit("/", 1)[1]
    for wrong in ("1", "BJ20261201-001", token[:-1] + ("A" if token[-1] != "A" else "B")):
        assert client.get(f"/forms/move-in/booking/{wrong}").status_code == 404
    response = client.post(
        f"/forms/move-in/booking/{token[::-1]}/cancel",
        data={"csrf_token": owner.open_form()["csrf_token"], "confirm": "yes"},
    )
    assert response.status_code == 404
    assert "页面不存在" in text(response)


def test_typed_markup_is_shown_as_text(owner):
    page, _ = owner.book(
        booking_fields(owner_name="<b>王</b>", large_items="<script>alert(1)</script>")
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;王&lt;/b&gt;" in page


@pytest.mark.parametrize(
    "change,message",
    [
        ({"slots": []}, "move_in.slots 须列出时段"),
        (
            {
                "slots": [
                    {"id": "am", "label": "08:00–10:00", "capacity": 2},
                    {"id": "am", "label": "10:00–12:00", "capacity": 2},
                ]
            },
            "id 重复: ['am']",
        ),
        ({"slots": [{"id": "am", "label": "08:00–10:00", "capacity": 0}]}, "capacity 须为正整数"),
        ({"booking_days_ahead": "一个月"}, "booking_days_ahead 须为正整数"),
        ({"garage_clearance_m": None}, "garage_clearance_m 须为数字"),
        ({"oversize_post": ""}, "move_in.oversize_post 不能为空"),
    ],
)
def test_a_broken_move_in_block_stops_the_app_at_start(tmp_path, monkeypatch, change, message):
    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    raw["move_in"].update(change)
    broken = tmp_path / "community.yml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(CommunityDataError) as error:
        create_app({"TESTING": True, "SITE_DIR": None, "COMMUNITY_FILE": str(broken)})
    assert str(broken) in str(error.value) and message in str(error.value)


def test_the_database_refuses_two_active_bookings_of_one_seat_or_one_room_day(app, owner):
    owner.book()
    numbers = itertools.count(100)

    def copy(**changes):
        with app.app_context():
            first = db.session.scalars(db.select(MoveInBooking)).first()
            columns = {
                c.name: getattr(first, c.name)
                for c in MoveInBooking.__table__.columns
                if c.name not in ("id", "token")
            }
            number = next(numbers)
            columns.update(
                reference=f"BJ-COPY-{number}",
                sequence=number,
                submission_nonce=f"copy-{number}",
                **changes,
            )
            with write_transaction() as session:
                session.add(MoveInBooking(**columns))

    with pytest.raises(IntegrityError):  # same day, slot and seat, another room
        copy(room="101", building=1, unit=1)
    with pytest.raises(IntegrityError):  # same room and day, another slot
        copy(slot=SLOTS[1]["id"], seat=1)
    copy(room="101", building=1, unit=1, state=CANCELLED)  # cancelled rows hold nothing


def test_booking_link_stays_out_of_referers_and_cancel_still_passes_the_https_check(owner):
    _page, path = owner.book()
    response = owner.client.get(path)
    assert response.headers["Referrer-Policy"] == "strict-origin"
    csrf = owner.open_form()["csrf_token"]
    # Under HTTPS Flask-WTF wants a same-site Referer; strict-origin sends the origin only.
    refused = owner.client.post(
        path + "/cancel", base_url="https://localhost", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert refused.status_code == 400
    cancelled = owner.client.post(
        path + "/cancel",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/"},
        data={"csrf_token": csrf, "confirm": "yes"},
    )
    assert cancelled.status_code == 303
    assert 'id="state">已取消' in text(owner.client.get(path))
