"""钥匙托管: keys recorded on a room, handed out and back with the owner's consent, returned to
the owner for good; refusals; the 经理's register, its filter and exports; role gates."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.extensions import db
from forms_app.households.models import HouseholdChange, HouseholdKey, KeyHandover
from forms_app.households.registry import find_room
from tests.support.forms import csrf_token_from
from tests.support.fuzz import ODD_TEXT, assert_chinese_errors, odd_post
from tests.support.households import register

pytestmark = pytest.mark.one_app_per_module

ROOM = "/forms/staff/households/keys/rooms/{room_id}"


def room_id(app, building=3, unit=1, number="1201") -> int:
    with app.test_request_context():
        return find_room(building, unit, number).id


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def counts(app) -> tuple[int, int, int]:
    return count(app, HouseholdKey), count(app, KeyHandover), count(app, HouseholdChange)


def token(client, url) -> str:
    return csrf_token_from(client.get(url).get_data(as_text=True))


KEY = {
    "description": "入户门钥匙2把",
    "sealed": "yes",
    "left_by": "张三",
    "kept_at": "监控室钥匙柜A-12",
}
CONSENT = {"consent_way": "业主电话确认", "consent_owner": "张三"}


def record_key(client, rid, **changes) -> int:
    url = ROOM.format(room_id=rid)
    data = {"csrf_token": token(client, url), **KEY, **changes}
    response = client.post(f"{url}/keys", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    with client.application.app_context():
        return db.session.scalar(select(func.max(HouseholdKey.id)))


def move(client, rid, key_id, direction, **data):
    url = ROOM.format(room_id=rid)
    return client.post(
        f"{url}/{key_id}/{direction}", data={"csrf_token": token(client, url), **data}
    )


def state_of(app, key_id) -> str:
    with app.app_context():
        return db.session.get(HouseholdKey, key_id).state


@pytest.fixture
def guard(as_role):
    return as_role(roles.SECURITY)


def test_a_key_is_recorded_and_logged_on_the_room(app, guard):
    rid = room_id(app)
    key_id = record_key(guard, rid)
    with app.app_context():
        key = db.session.get(HouseholdKey, key_id)
        assert (key.room_id, key.description, key.sealed, key.left_by, key.kept_at) == (
            rid,
            "入户门钥匙2把",
            True,
            "张三",
            "监控室钥匙柜A-12",
        )
        assert key.state == "held" and key.received_by  # the guard who recorded it
        change = db.session.scalars(
            select(HouseholdChange).where(HouseholdChange.room_id == rid)
        ).one()
        assert change.action == "key.add" and "入户门钥匙2把" in change.summary
    page = guard.get(ROOM.format(room_id=rid)).get_data(as_text=True)
    assert "入户门钥匙2把" in page and "在管理处保管" in page and "登记借出" in page


def test_out_back_and_returned_with_consent(app, guard):
    rid = room_id(app)
    key_id = record_key(guard, rid)
    response = move(guard, rid, key_id, "out", person="李师傅", **CONSENT)
    assert response.status_code == 303
    assert state_of(app, key_id) == "out"
    assert move(guard, rid, key_id, "back", person="李师傅").status_code == 303
    assert state_of(app, key_id) == "held"
    returned = move(
        guard,
        rid,
        key_id,
        "returned",
        person="张三",
        consent_way="业主本人到场",
        consent_owner="张三",
    )
    assert returned.status_code == 303
    assert state_of(app, key_id) == "returned"
    with app.app_context():
        rows = db.session.scalars(select(KeyHandover).order_by(KeyHandover.id)).all()
        assert [(r.direction, r.person) for r in rows] == [
            ("out", "李师傅"),
            ("back", "李师傅"),
            ("returned", "张三"),
        ]
        assert rows[0].consent == "业主电话确认（业主：张三）"
        assert rows[1].consent == ""
        actions = db.session.scalars(
            select(HouseholdChange.action).order_by(HouseholdChange.id)
        ).all()
        assert actions == ["key.add", "key.out", "key.back", "key.returned"]
    page = guard.get(ROOM.format(room_id=rid)).get_data(as_text=True)
    assert "已退还业主" in page and "业主电话确认（业主：张三）" in page
    assert "登记借出" not in page.split('id="key-')[1]  # no more forms on a returned key


@pytest.mark.parametrize(
    "steps, direction, message",
    [
        (["out"], "out", "已借出，尚未归还"),
        ([], "back", "没有借出"),
        (["returned"], "out", "已退还业主"),
        (["returned"], "back", "已退还业主"),
        (["returned"], "returned", "已退还业主"),
        (["out"], "returned", "请先登记归还"),
    ],
)
def test_impossible_handovers_are_refused_with_the_reason(app, guard, steps, direction, message):
    rid = room_id(app)
    key_id = record_key(guard, rid)
    for step in steps:
        assert move(guard, rid, key_id, step, person="王五", **CONSENT).status_code == 303
    before = counts(app)
    response = move(guard, rid, key_id, direction, person="王五", **CONSENT)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(app) == before


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"description": ""}, "description", "请写明是哪些钥匙"),
        ({"left_by": "  "}, "left_by", "请填写留存钥匙的人"),
        ({"kept_at": "x" * 61}, "kept_at", "不能超过60个字"),
        ({"sealed": "maybe"}, "sealed", "是否装入密封袋"),
        ({"description": "钥匙\ufffd"}, "description", "无法识别的字符"),
    ],
)
def test_bad_key_input_is_refused_beside_the_field(app, guard, data, field, message):
    rid = room_id(app)
    url = ROOM.format(room_id=rid)
    before = counts(app)
    response = guard.post(f"{url}/keys", data={"csrf_token": token(guard, url), **KEY, **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="new-{field}-error"' in html and message in html
    assert "监控室钥匙柜A-12" in html or field == "kept_at"  # what was typed stays
    assert counts(app) == before


@pytest.mark.parametrize(
    "data, message",
    [
        ({"person": ""}, "请填写借用人姓名"),
        ({"person": "李师傅", "consent_way": "随便"}, "请选择业主同意的方式"),
        (
            {"person": "李师傅", "consent_way": "业主电话确认", "consent_owner": ""},
            "表示同意的业主姓名",
        ),
    ],
)
def test_a_handover_out_needs_who_and_the_owners_consent(app, guard, data, message):
    rid = room_id(app)
    key_id = record_key(guard, rid)
    before = counts(app)
    response = move(guard, rid, key_id, "out", **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    assert data.get("person", "") in html
    assert counts(app) == before and state_of(app, key_id) == "held"


def test_other_rooms_keys_and_unknown_ids_are_404(app, guard):
    rid = room_id(app)
    other = room_id(app, 3, 1, "1202")
    key_id = record_key(guard, rid)
    assert guard.get(ROOM.format(room_id=999999)).status_code == 404
    assert move(guard, other, key_id, "out", person="x", **CONSENT).status_code == 404
    assert move(guard, rid, 999999, "out", person="x", **CONSENT).status_code == 404
    assert move(guard, rid, key_id, "lost", person="x").status_code == 404
    assert state_of(app, key_id) == "held"


def test_a_handover_from_the_household_page_returns_there(app, guard):
    rid = room_id(app)
    key_id = record_key(guard, rid)
    back = f"/forms/staff/households/rooms/{rid}"
    response = move(guard, rid, key_id, "out", person="李师傅", next=back, **CONSENT)
    assert response.headers["Location"].endswith(back + "#keys")
    response = move(guard, rid, key_id, "back", person="李师傅", next="//evil.example/x")
    assert response.headers["Location"].endswith(ROOM.format(room_id=rid) + "#keys")


def test_the_register_is_the_managers(app, as_role, guard):
    rid = room_id(app)
    register(app, 3, 1, "1201", "张三", "13800138000")
    record_key(guard, rid)
    assert guard.get("/forms/staff/households/keys/").status_code == 403
    assert guard.get("/forms/staff/households/keys/export.csv").status_code == 403
    service = as_role(roles.SERVICE)
    assert service.get(ROOM.format(room_id=rid)).status_code == 200  # 客服 records keys
    assert service.get("/forms/staff/households/keys/").status_code == 403
    for role in (roles.ENGINEERING, roles.CLEANER, roles.FINANCE):
        assert as_role(role).get(ROOM.format(room_id=rid)).status_code == 403
    manager = as_role(roles.MANAGER)
    page = manager.get("/forms/staff/households/keys/").get_data(as_text=True)
    assert "3号楼1单元1201室" in page and "入户门钥匙2把" in page


def test_the_register_filters_by_state_and_exports(app, as_role, guard):
    rid = room_id(app)
    held = record_key(guard, rid, description="信报箱钥匙1把")
    out = record_key(guard, rid)
    move(guard, rid, out, "out", person="李师傅", **CONSENT)
    manager = as_role(roles.MANAGER)
    page = manager.get("/forms/staff/households/keys/?state=out").get_data(as_text=True)
    assert "入户门钥匙2把" in page and "信报箱钥匙1把" not in page and "李师傅" in page
    page = manager.get("/forms/staff/households/keys/?state=held").get_data(as_text=True)
    assert "信报箱钥匙1把" in page and "入户门钥匙2把" not in page
    bad = manager.get("/forms/staff/households/keys/?state=lost")
    assert bad.status_code == 200 and "请从列表中选择状态" in bad.get_data(as_text=True)
    assert held
    response = manager.get("/forms/staff/households/keys/export.csv?state=out")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "房屋" and len(rows) == 2
    assert rows[1][1] == "入户门钥匙2把" and rows[1][7] == "已借出" and "李师傅" in rows[1][8]
    xlsx = manager.get("/forms/staff/households/keys/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    with app.app_context():
        audits = db.session.scalars(select(AuditLog).where(AuditLog.target == "钥匙托管登记")).all()
        assert len(audits) == 2 and audits[0].action == "export"
    redirected = manager.get("/forms/staff/households/keys/export.csv?state=lost")
    assert redirected.status_code == 303
    assert manager.get("/forms/staff/households/keys/export.pdf").status_code == 404


def test_two_taking_out_the_same_key_one_is_refused(app, guard, as_role):
    rid = room_id(app)
    key_id = record_key(guard, rid)
    other = as_role(roles.SERVICE)
    url = ROOM.format(room_id=rid)
    first_token, second_token = token(guard, url), token(other, url)
    data = {"person": "李师傅", **CONSENT}
    first = guard.post(f"{url}/{key_id}/out", data={"csrf_token": first_token, **data})
    second = other.post(f"{url}/{key_id}/out", data={"csrf_token": second_token, **data})
    assert first.status_code == 303 and second.status_code == 400
    assert count(app, KeyHandover) == 1


@pytest.mark.parametrize("urlencoded", [False, True])
@pytest.mark.parametrize("value", [*ODD_TEXT, None])
def test_odd_values_in_every_key_field_change_nothing(
    app, guard, value, urlencoded, nul_sent_to_database
):
    rid = room_id(app)
    key_id = record_key(guard, rid)
    url = ROOM.format(room_id=rid)
    before = counts(app)
    fields = {"csrf_token": token(guard, url), **KEY}
    for field in KEY:
        response = odd_post(guard, f"{url}/keys", fields, field, value, urlencoded)
        assert response.status_code == 400, (field, value)
        assert_chinese_errors(response.get_data(as_text=True))
    moves = {"csrf_token": fields["csrf_token"], "person": "李师傅", **CONSENT}
    for field in ("person", "consent_way", "consent_owner"):
        response = odd_post(guard, f"{url}/{key_id}/out", moves, field, value, urlencoded)
        assert response.status_code == 400, (field, value)
        assert_chinese_errors(response.get_data(as_text=True))
    assert counts(app) == before and state_of(app, key_id) == "held"
    assert nul_sent_to_database == []
