"""我的办理 lets in only a mobile registered on the room today (一户一档), shows that household's
business from the person's own registration on, and ends with 退出 or with the person's
standing on the room (过户, 迁出, a lease's end)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from forms_app.core.extensions import db
from forms_app.households.models import TENANT
from forms_app.households.registry import NewPerson, end_person, transfer
from forms_app.my_records.models import MyGrant, OwnerCode
from forms_app.renovation.permits import REFERENCE
from tests.move_in.conftest import TODAY
from tests.my_records.test_my_records import CODE, START, ask_code, enter_code, sms_code
from tests.notifications.conftest import deliver_due, outbox
from tests.support.forms import csrf_token_from
from tests.support.households import register
from tests.support.renovation import file_application

pytestmark = pytest.mark.one_app_per_module

OWNER_MOBILE = "13800138000"
STRANGER = "13600136000"


@pytest.fixture
def room(channels):
    """1-1-101: its owner registered since 2020; a stranger filed an application for it with
    the stranger's own mobile."""
    app = channels
    app.config["TODAY"] = TODAY.isoformat()
    room_id, person_id = register(app, 1, 1, "101", "张业主", OWNER_MOBILE)
    file_application(app, room="101", owner_mobile=STRANGER)
    deliver_due(app)
    app.room_id, app.person_id = room_id, person_id
    return app


def sign_in(app, sms, mobile=OWNER_MOBILE):
    client = app.test_client()
    assert ask_code(client, mobile=mobile).status_code == 303
    assert enter_code(client, sms_code(app, sms)).status_code == 303
    return client


def test_a_stranger_who_filed_for_the_room_gets_no_code_and_the_same_answer(room, sms):
    """Filing something for another household's room grants nothing: the code page reads the
    same as for the registered owner, and no code is sent."""
    stranger, owner = room.test_client(), room.test_client()
    refused, accepted = ask_code(stranger, mobile=STRANGER), ask_code(owner)
    assert (refused.status_code, refused.location) == (accepted.status_code, accepted.location)
    stranger_page = stranger.get(CODE).get_data(as_text=True)
    owner_page = owner.get(CODE).get_data(as_text=True)

    def same(page, masked):
        return re.sub(r'name="csrf_token" value="[^"]+"', "", page.replace(masked, "X"))

    assert same(stranger_page, "136****6000") == same(owner_page, "138****8000")
    deliver_due(room)
    assert [m.recipient for m in outbox(room, kind="my.code")] == [OWNER_MOBILE]
    with room.app_context():
        sent = dict(db.session.execute(select(OwnerCode.mobile, OwnerCode.sent)).all())
    assert sent == {STRANGER: False, OWNER_MOBILE: True}
    assert enter_code(stranger, "000000").status_code == 400
    assert stranger.get("/forms/my/").location == START


def test_the_owner_sees_the_rooms_records_since_their_registration(room, sms):
    client = sign_in(room, sms)
    html = client.get("/forms/my/").get_data(as_text=True)
    assert "装修申请" in html and "张业主" in html
    # A new owner registered after the application was filed does not see it.
    later = TODAY + timedelta(days=1)
    room.config["TODAY"] = later.isoformat()
    with room.test_request_context():
        transfer(
            room.room_id, later, [NewPerson("王新业主", "13500135000", "owner", later)], "买卖合同"
        )
    new_owner = sign_in(room, sms, mobile="13500135000")
    html = new_owner.get("/forms/my/").get_data(as_text=True)
    assert "王新业主" in html and not REFERENCE.search(html) and "还没有" in html


def test_a_transfer_ends_the_former_owners_open_grant_at_once(room, sms):
    client = sign_in(room, sms)
    assert client.get("/forms/my/").status_code == 200
    with room.test_request_context():
        transfer(
            room.room_id, TODAY, [NewPerson("王新业主", "13500135000", "owner", TODAY)], "买卖"
        )
    assert client.get("/forms/my/").location == START
    # And asking again sends nothing to the former owner.
    room.config["MY_CODE_INTERVAL_SECONDS"] = 0
    before = len(outbox(room, kind="my.code"))
    assert ask_code(room.test_client()).status_code == 303
    assert len(outbox(room, kind="my.code")) == before


def test_moving_out_ends_a_family_members_grant(room, sms):
    _, member = register(room, 1, 1, "101", "张家人", "13912345678", role="family")
    client = sign_in(room, sms, mobile="13912345678")
    assert client.get("/forms/my/").status_code == 200
    with room.test_request_context():
        end_person(member, TODAY, "搬离本小区")
    assert client.get("/forms/my/").location == START


def test_tenants_are_not_let_in_by_default(room, sms):
    register(room, 1, 1, "101", "租户甲", "13312345678", role=TENANT, lease_end=date(2030, 1, 1))
    client = room.test_client()
    assert ask_code(client, mobile="13312345678").status_code == 303
    deliver_due(room)
    assert "13312345678" not in [m.recipient for m in outbox(room, kind="my.code")]


def test_logout_ends_the_grant_for_every_copy_of_the_cookie(room, sms):
    client = sign_in(room, sms)
    copy = room.test_client()
    with client.session_transaction() as original, copy.session_transaction() as copied:
        copied.update(dict(original))
    assert copy.get("/forms/my/").status_code == 200
    page = client.get("/forms/my/").get_data(as_text=True)
    client.post("/forms/my/logout", data={"csrf_token": csrf_token_from(page)})
    assert copy.get("/forms/my/").location == START
    with room.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(MyGrant).where(MyGrant.ended_at.is_not(None))
            )
            == 1
        )


def test_a_forged_grant_cookie_opens_nothing(room):
    client = room.test_client()
    for value in ("x" * 43, 12, None, {"room": [1, 1, "101"], "until": 9e12}):
        with client.session_transaction() as session:
            session["my_grant"] = value
        assert client.get("/forms/my/").location == START


def test_forms_opened_by_a_signed_in_household_are_prefilled(room, sms):
    client = sign_in(room, sms)
    for url in ("/forms/service/repair", "/forms/move-in/", "/forms/renovation/apply"):
        html = client.get(url).get_data(as_text=True)
        assert 'value="张业主"' in html and f'value="{OWNER_MOBILE}"' in html, url
        assert '<option selected value="101">' in html, url
    # Anyone else's browser gets empty forms.
    html = room.test_client().get("/forms/service/repair").get_data(as_text=True)
    assert "张业主" not in html and OWNER_MOBILE not in html


def test_the_start_page_leads_to_house_verification(client):
    html = client.get(START).get_data(as_text=True)
    assert 'href="/forms/households/claim"' in html
