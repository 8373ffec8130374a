"""我的办理: room + a mobile registered on it (一户一档) → one-time code by SMS → that household's
business only, for a short while, through a grant held on the server. Codes expire, work once,
are throttled per mobile and per address, and five wrong codes lock the mobile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forms_app.core.clock import utcnow
from forms_app.core.database import write_transaction
from forms_app.households.models import FAMILY
from forms_app.my_records.models import MyGrant, OwnerCode, WrongCode
from forms_app.renovation.models import RenovationApplication
from tests.move_in.conftest import TODAY
from tests.notifications.conftest import deliver_due, outbox
from tests.notifications.test_outbox import book
from tests.support.forms import csrf_token_from
from tests.support.households import register
from tests.support.renovation import file_application

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

START = "/forms/my/start"
CODE = "/forms/my/code"
MOBILE = "13800138000"


@pytest.fixture
def household(channels, module_app):
    """Room 1-1-101 registered to its owner (MOBILE) and a family member, with a renovation
    application (owner's mobile) and a move booked by another mobile; room 1-1-102 registered
    to another owner, with an application of its own. Made once for the module
    (``ModuleApp.seeded``) and copied back for each test that asks before storing anything."""
    app = channels
    app.config["TODAY"] = TODAY.isoformat()

    def seed() -> None:
        register(app, 1, 1, "101", "张业主", MOBILE)
        register(app, 1, 1, "101", "张家人", "13912345678", role=FAMILY)
        register(app, 1, 1, "102", "李业主", "13700137000")
        file_application(app, room="101")
        file_application(app, room="102", owner_mobile="13700137000")
        client = app.test_client()
        assert (
            book(client, building=1, unit=1, room="101", owner_mobile="139 1234 5678").status_code
            == 303
        )
        deliver_due(app)  # the filing messages, so only code messages are left to look at

    module_app.seeded_if_untouched(app, "household", seed)
    return app


def ask_code(client, mobile=MOBILE, building="1", unit="1", room="101"):
    page = client.get(START).get_data(as_text=True)
    return client.post(
        START,
        data={
            "csrf_token": csrf_token_from(page),
            "building": building,
            "unit": unit,
            "room": room,
            "owner_mobile": mobile,
        },
    )


def enter_code(client, code):
    page = client.get(CODE).get_data(as_text=True)
    return client.post(CODE, data={"csrf_token": csrf_token_from(page), "code": code})


def sms_code(app, sms) -> str:
    """The code as the SMS endpoint received it."""
    deliver_due(app)
    return sms.params()[-1][0]


def test_the_owner_home_links_to_my_records(client):
    assert 'href="/forms/my/start"' in client.get("/forms/").get_data(as_text=True)


def test_a_code_by_sms_opens_the_rooms_list_with_its_status_pages(household, sms):
    client = household.test_client()
    response = ask_code(client, mobile="138-0013-8000")
    assert response.status_code == 303 and response.location == CODE
    page = client.get(CODE).get_data(as_text=True)
    assert "138****8000" in page and "1号楼1单元101室" in page
    code = sms_code(household, sms)
    assert len(code) == 6 and code.isdigit()
    request = sms.received[-1].body
    assert (
        request["PhoneNumberSet"] == ["+8613800138000"] and request["TemplateParamSet"][1] == "10"
    )
    [message] = outbox(household, kind="my.code")
    assert code not in message.text  # not kept once delivered
    response = enter_code(client, code)
    assert response.status_code == 303 and response.location == "/forms/my/"
    listing = client.get("/forms/my/")
    assert listing.headers["Cache-Control"] == "private, no-store"
    html = listing.get_data(as_text=True)
    assert "装修申请" in html and "搬家预约" in html and "ZX" in html and "BJ" in html
    links = [part.split('"')[0] for part in html.split('class="button" href="')[1:]]
    assert len(links) == 2
    for link in links:
        assert client.get(link).status_code == 200
    # Only this room: 102's application is not listed.
    [other] = [
        m for m in outbox(household, kind="renovation.received") if m.recipient == "13700137000"
    ]
    assert other.reference not in html


def test_a_code_works_once(household, sms):
    client = household.test_client()
    ask_code(client)
    code = sms_code(household, sms)
    assert enter_code(client, code).status_code == 303
    client.post(
        "/forms/my/logout",
        data={"csrf_token": csrf_token_from(client.get("/forms/my/").get_data(as_text=True))},
    )
    assert client.get("/forms/my/").location == START
    other = household.test_client()
    with other.session_transaction() as session:
        session["my_pending"] = {"room": [1, 1, "101"], "mobile": MOBILE}
    response = enter_code(other, code)
    assert response.status_code == 400 and "验证码不正确或已使用" in response.get_data(as_text=True)


def test_an_expired_code_is_refused(household, sms):
    client = household.test_client()
    ask_code(client)
    code = sms_code(household, sms)
    with household.app_context(), write_transaction() as session:
        session.execute(update(OwnerCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = enter_code(client, code)
    assert response.status_code == 400 and "验证码已过期，请重新获取" in response.get_data(
        as_text=True
    )
    assert client.get("/forms/my/").location == START


def test_a_mobile_not_on_record_gets_the_same_answer_and_no_code(household, sms):
    client = household.test_client()
    response = ask_code(client, mobile="13600136000")
    assert response.status_code == 303
    assert "如果 136****6000 已登记在 1号楼1单元101室 名下" in client.get(CODE).get_data(
        as_text=True
    )
    deliver_due(household)
    assert outbox(household, kind="my.code") == []
    assert enter_code(client, "123456").status_code == 400


def test_a_new_code_waits_for_the_interval_and_the_form_keeps_what_was_typed(household):
    client = household.test_client()
    ask_code(client)
    response = ask_code(client, mobile="138 0013 8000")
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and "验证码刚刚发送过，请" in html
    assert 'value="13800138000"' in html and '<option selected value="101">' in html
    assert len(outbox(household, kind="my.code")) == 1


def test_codes_per_mobile_and_per_address_are_limited(household):
    household.config.update(
        MY_CODE_INTERVAL_SECONDS=0, MY_CODES_PER_MOBILE_PER_HOUR=2, MY_CODES_PER_ADDRESS_PER_HOUR=3
    )
    client = household.test_client()
    assert ask_code(client).status_code == 303
    assert ask_code(client).status_code == 303
    refused = ask_code(client)
    assert refused.status_code == 429
    assert "该手机号一小时内获取验证码次数已达上限" in refused.get_data(as_text=True)
    # Another mobile from the same address: one more, then the address is stopped.
    assert ask_code(client, mobile="13912345678").status_code == 303
    refused = ask_code(client, mobile="13700137000", room="102")
    assert refused.status_code == 429
    assert "当前网络获取验证码过于频繁" in refused.get_data(as_text=True)
    assert len(outbox(household, kind="my.code")) == 3


def test_a_code_dies_after_a_few_wrong_tries_from_any_address(household, sms):
    """Issue 26: each code takes MY_WRONG_TRIES_PER_CODE wrong tries, wherever they come from;
    then even the right one is refused and a new code is needed."""
    client = household.test_client()
    ask_code(client)
    code = sms_code(household, sms)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert "还可以再试 2 次" in enter_code(client, wrong).get_data(as_text=True)
    # The next try from another address still counts against the same code.
    elsewhere = household.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    with client.session_transaction() as kept:
        session_state = dict(kept)
    with elsewhere.session_transaction() as moved:
        moved.update(session_state)
    assert "还可以再试 1 次" in enter_code(elsewhere, wrong).get_data(as_text=True)
    assert "该验证码已经失效，请重新获取验证码" in enter_code(client, wrong).get_data(as_text=True)
    dead = enter_code(client, code)
    assert dead.status_code != 303
    assert "已经失效，请重新获取验证码" in dead.get_data(as_text=True)
    # A new code works.
    household.config["MY_CODE_INTERVAL_SECONDS"] = 0
    ask_code(client)
    assert enter_code(client, sms_code(household, sms)).status_code == 303


def test_wrong_codes_lock_the_mobile_from_that_address_only(household, sms):
    """Issue 26: a stranger's wrong codes lock the stranger's (mobile, address), not the owner:
    the owner on another address still gets a code and signs in."""
    household.config.update(MY_CODE_INTERVAL_SECONDS=0, MY_CODES_PER_MOBILE_PER_HOUR=10)
    stranger = household.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "10.6.6.6"
    for _ in range(2):
        ask_code(stranger)
        wrong = f"{(int(sms_code(household, sms)) + 1) % 10**6:06d}"
        for _ in range(3):
            response = enter_code(stranger, wrong)
            if response.status_code == 429:
                break
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "该手机号在当前网络已暂时锁定，请 30 分钟后再试" in html
    refused = ask_code(stranger)
    assert refused.status_code == 429 and "在当前网络已暂时锁定" in refused.get_data(as_text=True)
    owner = household.test_client()
    owner.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    assert ask_code(owner).status_code in (302, 303)
    assert enter_code(owner, sms_code(household, sms)).status_code == 303
    # The lock ends.
    with household.app_context(), write_transaction() as session:
        session.execute(update(WrongCode).values(created_at=utcnow() - timedelta(minutes=31)))
    assert ask_code(stranger).status_code in (302, 303)


def test_an_address_locked_for_many_mobiles_is_named_as_the_network(household, sms):
    household.config.update(MY_WRONG_CODES_PER_ADDRESS=2)
    client = household.test_client()
    ask_code(client)
    code = sms_code(household, sms)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    enter_code(client, wrong)
    response = enter_code(client, wrong)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "当前网络输错验证码次数过多，已暂时锁定" in html and "该手机号" not in html


def test_the_list_is_short_lived(household, sms):
    client = household.test_client()
    ask_code(client)
    enter_code(client, sms_code(household, sms))
    assert client.get("/forms/my/").status_code == 200
    with household.app_context(), write_transaction() as session:
        session.execute(update(MyGrant).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/forms/my/").location == START


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("owner_mobile", "", "请填写手机号"),
        ("owner_mobile", "1380013800O", "11位中国大陆手机号码"),
        ("owner_mobile", "138\x0000138000", "11位中国大陆手机号码"),
        ("owner_mobile", "%FF%FE", "11位中国大陆手机号码"),
        ("building", "99", "请选择小区内的楼栋"),
        ("building", "一", "请选择小区内的楼栋"),
        ("room", "9999", "没有9999室"),
        ("unit", "", "请选择单元"),
    ],
)
def test_bad_room_or_mobile_is_refused_next_to_the_field(household, field, value, message):
    client = household.test_client()
    page = client.get(START).get_data(as_text=True)
    data = {
        "csrf_token": csrf_token_from(page),
        "building": "1",
        "unit": "1",
        "room": "101",
        "owner_mobile": MOBILE,
        field: value,
    }
    response = client.post(START, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and 'class="field-error"' in html
    with household.app_context():
        from forms_app.core.extensions import db

        assert db.session.query(OwnerCode).count() == 0


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "请填写短信验证码"),
        ("12345", "验证码是 6 位数字"),
        ("abcdef", "验证码是 6 位数字"),
        ("1" * 5000, "验证码是 6 位数字"),
        ("12\x0034", "验证码是 6 位数字"),
    ],
)
def test_bad_codes_are_refused_without_a_500(household, value, message):
    client = household.test_client()
    ask_code(client)
    response = enter_code(client, value)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_full_width_digits_are_read(household, sms):
    client = household.test_client()
    ask_code(client)
    code = sms_code(household, sms)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert enter_code(client, f" {full_width[:3]} {full_width[3:]} ").status_code == 303


def test_the_code_page_without_a_request_and_junk_posts_never_fail(household):
    client = household.test_client()
    assert client.get(CODE).location == START
    token = csrf_token_from(client.get(START).get_data(as_text=True))
    assert client.post(CODE, data={"csrf_token": token, "code": "123456"}).location == START
    for data in (
        {"building": ["1", "2"], "unit": "1", "room": "101", "owner_mobile": MOBILE},
        {"building": "1" * 10000},
        {},
    ):
        response = client.post(START, data={"csrf_token": token, **data})
        assert response.status_code in (400, 303)
    assert client.post(START, data={"building": "1"}).status_code == 400  # no CSRF token


def test_staff_never_see_a_code_in_the_outbox(household, as_role):
    ask_code(household.test_client())
    [message] = outbox(household, kind="my.code")
    code = message.params[0]
    from forms_app.accounts import roles

    page = as_role(roles.MANAGER).get("/forms/staff/notifications/").get_data(as_text=True)
    assert "验证码（内容不显示）" in page and code not in page


@pytest.mark.parametrize(
    ("asked", "landing"),
    [
        ("/forms/notices/7", "/forms/notices/7"),  # a notice for households, from its SMS
        ("//evil.example/forms/", "/forms/my/"),  # never another host
        ("/staff/", "/forms/my/"),  # only the app's own pages
    ],
)
def test_signing_in_returns_to_the_page_that_asked(household, sms, asked, landing):
    client = household.test_client()
    client.get(START, query_string={"next": asked})
    ask_code(client)
    response = enter_code(client, sms_code(household, sms))
    assert response.status_code == 303 and response.location == landing


def test_another_communitys_room_of_the_same_number_stays_its_own(household, sms):
    """Issue 28: 1-1-101 of another community is another household. Its code does not open
    this one's, its records are not on this one's list; the limits on asking count across."""
    client = household.test_client()
    ask_code(client)
    code = sms_code(household, sms)
    # The code and the room's renovation application become another community's (plain Core
    # statements: no scope).
    with household.app_context(), write_transaction() as session:
        reference = session.scalar(
            select(RenovationApplication.reference).where(RenovationApplication.room == "101")
        )
        session.execute(OwnerCode.__table__.update().values(community="other"))
        table = RenovationApplication.__table__
        session.execute(table.update().where(table.c.room == "101").values(community="other"))
    refused = enter_code(client, code)
    assert refused.status_code != 303
    assert "验证码不正确或已使用" in refused.get_data(as_text=True)
    assert "验证码刚刚发送过" in ask_code(client).get_data(as_text=True)
    household.config["MY_CODE_INTERVAL_SECONDS"] = 0
    ask_code(client)
    assert enter_code(client, sms_code(household, sms)).status_code == 303
    html = client.get("/forms/my/").get_data(as_text=True)
    assert "BJ" in html and reference not in html
