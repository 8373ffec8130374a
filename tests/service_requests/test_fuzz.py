"""Odd values in every field (owner forms, 客服's intake, every step, visits, list filters):
never a 500, nothing stored or changed, the Chinese message beside the field."""

from __future__ import annotations

import re

import pytest

from forms_app.accounts import roles
from forms_app.core.clock import today
from tests.support.fuzz import (
    NOT_UTF8,
    ODD_DATE,
    ODD_NUMBER,
    ODD_TEXT,
    assert_chinese_errors,
    odd_post,
)

from .conftest import COMPLAINT_URL, REPAIR_URL, STAFF, complaint_fields, nonce_from, repair_fields

# Hundreds of small tests: one app object for them all, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

ODD_MOBILE = ["", "\x00", "１３８００１３８００", "٣" * 11, "x" * 5000, NOT_UTF8]
ODD_CHOICE = ["", "\x00", "x" * 5000, NOT_UTF8, ["bogus", "home"]]
TOO_LONG_OR_BROKEN = ["x" * 5000, NOT_UTF8]

HOUSEHOLD = (
    [(f, v) for f in ("building", "unit", "room") for v in ODD_NUMBER + [None, ["99", "5"]]]
    + [("owner_name", v) for v in ODD_TEXT + [None]]
    + [("owner_mobile", v) for v in ODD_MOBILE + [None]]
)
REPAIR_CASES = (
    HOUSEHOLD
    + [("location", v) for v in ODD_CHOICE + [None]]
    + [("description", v) for v in ODD_TEXT + [None]]
    + [("available_time", v) for v in ODD_TEXT + [None]]
    + [("place", v) for v in TOO_LONG_OR_BROKEN]
)
COMPLAINT_CASES = (
    HOUSEHOLD
    + [("department", v) for v in ODD_CHOICE + [None]]
    + [(f, v) for f in ("description", "wish") for v in ODD_TEXT + [None]]
)


def _refused(response, field, stored):
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">' in page, field
    assert_chinese_errors(page)
    assert stored.count() == 0


@pytest.mark.parametrize(
    "field, value", REPAIR_CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(REPAIR_CASES)]
)
def test_odd_repair_value_is_refused_beside_its_field(owner, stored, field, value):
    fields = {**owner.open_form(REPAIR_URL), **repair_fields()}
    if field == "place":
        fields.update(location="public")
    _refused(odd_post(owner.client, REPAIR_URL, fields, field, value), field, stored)


@pytest.mark.parametrize(
    "field, value", COMPLAINT_CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(COMPLAINT_CASES)]
)
def test_odd_complaint_value_is_refused_beside_its_field(owner, stored, field, value):
    fields = {**owner.open_form(COMPLAINT_URL), **complaint_fields()}
    _refused(odd_post(owner.client, COMPLAINT_URL, fields, field, value), field, stored)


@pytest.mark.parametrize("value", ["", "\x00", "short", "x" * 5000, NOT_UTF8, None])
def test_odd_nonce_is_refused(owner, stored, value):
    fields = {**owner.open_form(), **repair_fields()}
    response = odd_post(owner.client, REPAIR_URL, fields, "nonce", value)
    assert response.status_code == 400
    assert "请刷新页面后重新填写" in response.get_data(as_text=True)
    assert stored.count() == 0


def test_control_characters_never_reach_the_database(owner, stored, nul_sent_to_database):
    owner.file(
        fields=repair_fields(
            owner_name="\u200b周\x00建国", description="漏\x00水\u202e", available_time="晚上\x07"
        )
    )
    item = stored.request()
    assert (item.owner_name, item.description, item.available_time) == ("周建国", "漏水", "晚上")
    assert nul_sent_to_database == []


@pytest.mark.parametrize("value", ODD_CHOICE + [None, "online"])
def test_odd_intake_source_is_refused(staff, stored, value):
    desk = staff(roles.SERVICE)
    page = desk.client.get(f"{STAFF}/new/repair").get_data(as_text=True)
    fields = {"csrf_token": desk.token(), "nonce": nonce_from(page), **repair_fields()}
    _refused(
        odd_post(desk.client, f"{STAFF}/new/repair", fields, "source", value), "source", stored
    )


@pytest.fixture
def job(app, staff, owner, stored):
    """A repair filed online, and a function that moves it on as 客服 and 工程 would."""
    owner.file()
    item_id = stored.request().id
    desk, worker = staff(roles.SERVICE), staff(roles.ENGINEERING)
    worker_id = str(stored.user_id("engineering"))
    moves = {
        "dispatch": lambda: desk.step(
            item_id, "dispatch", {"assignee": worker_id, "urgency": "normal"}
        ),
        "arrive": lambda: worker.step(item_id, "arrive"),
        "finish": lambda: worker.step(item_id, "finish", {"result": "好了", "receipt": "absent"}),
    }

    def up_to(*actions):
        for action in actions:
            assert moves[action]().status_code == 303, action

    return item_id, up_to, {"service": desk, "engineering": worker, "manager": staff(roles.MANAGER)}


TEXT_REQUIRED = ODD_TEXT + [None]
# (step, field, odd values); one test per field, its odd values posted one after another.
STEP_CASES = [
    ("dispatch", "assignee", ODD_NUMBER + [None]),
    ("dispatch", "urgency", ODD_CHOICE + [None]),
    ("dispatch", "comment", TOO_LONG_OR_BROKEN),
    ("finish", "result", TEXT_REQUIRED),
    ("finish", "materials", TOO_LONG_OR_BROKEN),
    ("finish", "receipt", ODD_CHOICE + [None]),
    ("finish", "receipt_name", TEXT_REQUIRED),
    ("follow_up", "satisfied", ODD_CHOICE + [None]),
    ("follow_up", "owner_view", TEXT_REQUIRED),
    ("follow_up", "supervisor", ODD_NUMBER + [None]),
    ("close", "reason", TEXT_REQUIRED),
]
BEFORE = {
    "dispatch": (),
    "finish": ("dispatch", "arrive"),
    "follow_up": ("dispatch", "arrive", "finish"),
    "close": ("dispatch",),
}
VALID = {
    "dispatch": {"assignee": None, "urgency": "normal", "comment": "带工具"},
    "finish": {
        "result": "好了",
        "materials": "无",
        "receipt": "confirmed",
        "receipt_name": "周建国",
    },
    "follow_up": {"satisfied": "no", "owner_view": "还漏", "supervisor": None},
    "close": {"reason": "重复"},
}
WHO = {"dispatch": "service", "finish": "engineering", "follow_up": "service", "close": "manager"}


@pytest.mark.parametrize(
    "action, field, values", STEP_CASES, ids=[f"{a}-{f}" for a, f, _ in STEP_CASES]
)
def test_odd_step_value_is_refused_beside_its_field(
    job, stored, stored_state, action, field, values
):
    item_id, up_to, people = job
    up_to(*BEFORE[action])
    before = stored_state()
    member = people[WHO[action]]
    worker_id = str(stored.user_id("engineering"))
    fields = {
        "csrf_token": member.token(),
        **{k: (v if v is not None else worker_id) for k, v in VALID[action].items()},
    }
    path = (
        f"{STAFF}/jobs/{item_id}/finish"
        if action == "finish"
        else f"{STAFF}/{item_id}/{action.replace('_', '-')}"
    )
    for value in values:
        response = odd_post(member.client, path, fields, field, value)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, (value, page[:2000])
        assert f'id="{action}-{field}-error"' in page, value
        assert re.search(r"[\u4e00-\u9fff]", page.split(f'id="{action}-{field}-error">')[1][:80])
        assert stored_state() == before, value


@pytest.fixture
def stored_state(stored):
    def _state():
        item = stored.request()
        return item.state, len(item.events), len(item.follow_ups), len(item.photos)

    return _state


VISIT_CASES = [
    ("kind", ODD_CHOICE + [None]),
    ("visited_on", ODD_DATE + [None]),
    ("building", ODD_NUMBER + [None]),
    ("room", ["", "\x00", "x" * 5000, NOT_UTF8, None]),
    ("person", ODD_TEXT + [None]),
    ("opinion", ODD_TEXT + [None]),
    ("follow_up", TOO_LONG_OR_BROKEN),
]


@pytest.mark.parametrize("field, values", VISIT_CASES, ids=[f for f, _ in VISIT_CASES])
def test_odd_visit_value_is_refused_beside_its_field(app, staff, stored, field, values):
    desk = staff(roles.SERVICE)
    page = desk.client.get(f"{STAFF}/visits").get_data(as_text=True)
    with app.app_context():
        day = today().isoformat()
    fields = {
        "csrf_token": desk.token(),
        "nonce": re.search(r'name="nonce" value="([^"]+)"', page).group(1),
        "kind": "regular",
        "visited_on": day,
        "building": "1",
        "unit": "1",
        "room": "101",
        "person": "王先生",
        "opinion": "好",
        "follow_up": "",
    }
    for value in values:
        response = odd_post(desk.client, f"{STAFF}/visits", fields, field, value)
        assert response.status_code == 400, value
        assert f'<p class="field-error" id="{field}-error">' in response.get_data(as_text=True)
    assert stored.visits() == 0


def test_odd_register_filters_and_periods_never_fail(staff):
    desk = staff(roles.MANAGER)
    for name in ("kind", "state", "source", "overdue", "date_from", "date_to", "q", "page"):
        for value in ("\x00", "x" * 5000, "%FF%FE", "2026-02-30", "-1"):
            response = desk.client.get(f"{STAFF}/", query_string={name: value})
            assert response.status_code == 200, (name, value)
            exported = desk.client.get(f"{STAFF}/export.csv", query_string={name: value})
            assert exported.status_code in (200, 303), (name, value)
    for value in ("\x00", "x" * 5000, "all", "FULL", "full "):
        exported = desk.client.get(
            f"{STAFF}/export.xlsx", query_string={"columns": value, "kind": "repair"}
        )
        assert exported.status_code == 303 and "kind=repair" in exported.location, value
        page = desk.client.get(exported.location).get_data(as_text=True)
        assert "请选择导出常用列或全部列。" in page, value
    for value in ("\x00", "x" * 5000, "2026-W99", "0000-01"):
        response = desk.client.get(f"{STAFF}/figures", query_string={"period": value})
        assert response.status_code == 200 and 'id="period-error"' in response.get_data(
            as_text=True
        )


def test_unknown_things_are_404(staff):
    desk = staff(roles.MANAGER)
    for path in (
        "/jobs/99999",
        "/99999",
        "/99999/photos/1",
        "/new/other",
        "/figures/export.pdf",
        "/export.json",
    ):
        assert desk.client.get(STAFF + path).status_code == 404, path
