"""一户一档 in the back office: finding a household, its page, each change and its refusal, the
history's masking, the audited reveal, the timeline and the records whose room is unknown."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.clock import today, utcnow
from forms_app.core.extensions import db
from forms_app.households.models import (
    TENANT,
    HouseholdChange,
    HouseholdPerson,
    HouseholdRoom,
)
from forms_app.households.registry import NewPerson, find_room, transfer
from forms_app.move_in.models import MoveInBooking
from forms_app.notifications.models import Notification
from forms_app.renovation.permits import REFERENCE
from forms_app.service_requests.models import ServiceRequest
from tests.support.forms import csrf_token_from
from tests.support.households import register
from tests.support.renovation import file_application

pytestmark = pytest.mark.one_app_per_module

BASE = "/forms/staff/households"
MOBILE = "13800138000"
OTHER_MOBILE = "13912340000"


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(HouseholdPerson)),
            db.session.scalar(select(func.count()).select_from(HouseholdChange)),
            db.session.scalar(select(func.sum(func.coalesce(HouseholdRoom.charge_area_centi, 0)))),
        )


def audits(app, action: str) -> list[AuditLog]:
    with app.app_context():
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


@pytest.fixture
def household(app):
    """3-1-1201 with its owner 张三 (since 2020) and a family member 李四."""
    room_id, owner_id = register(app, 3, 1, "1201", "张三", MOBILE)
    _, family_id = register(app, 3, 1, "1201", "李四", OTHER_MOBILE, role="family")
    return room_id, owner_id, family_id


def page_of(client, room_id: int) -> str:
    response = client.get(f"{BASE}/{room_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, room_id: int, path: str, data: dict):
    token = csrf_token_from(client.get(f"{BASE}/{room_id}").get_data(as_text=True))
    return client.post(f"{BASE}/{room_id}{path}", data={"csrf_token": token, **data})


# ----- finding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["3-1-1201", "3号楼1单元1201室", "张三", "张", "8000", "38000"])
def test_search_by_room_name_or_mobile_tail_links_the_household(app, as_role, household, query):
    room_id = household[0]
    html = as_role(roles.SECURITY).get(f"{BASE}/?q={query}").get_data(as_text=True)
    assert f'href="{BASE}/{room_id}"' in html
    assert "3号楼1单元1201室" in html and "138****8000" in html
    assert MOBILE not in html


def test_search_finds_nothing_for_a_stranger(app, as_role, household):
    html = as_role(roles.SERVICE).get(f"{BASE}/?q=王五").get_data(as_text=True)
    assert "没有找到" in html


# ----- the page --------------------------------------------------------------------------------


def test_the_page_shows_room_people_forms_and_keys_section(app, as_role, household):
    room_id, owner_id, _ = household
    html = page_of(as_role(roles.SERVICE), room_id)
    assert "3号楼1单元1201室" in html and "住宅" in html and "未交房" in html
    assert "张三" in html and "李四" in html and "138****8000" in html
    assert MOBILE not in html
    assert "主要联系人" in html
    for action in ("/room", "/people", "/transfer", "/contacts", f"/people/{owner_id}/end"):
        assert f'action="{BASE}/{room_id}{action}"' in html
    assert f'action="{BASE}/{room_id}/people/{owner_id}/reveal"' in html
    assert "办理记录" in html


def test_security_views_but_neither_edits_nor_reveals(app, as_role, household):
    room_id, owner_id, _ = household
    guard = as_role(roles.SECURITY)
    html = page_of(guard, room_id)
    assert "张三" in html and "138****8000" in html
    assert "/reveal" not in html and "办理过户" not in html and "/transfer" not in html
    before = counts(app)
    token = csrf_token_from(html)
    for path in ("/room", "/people", "/transfer", "/contacts", f"/people/{owner_id}/end"):
        response = guard.post(f"{BASE}/{room_id}{path}", data={"csrf_token": token})
        assert response.status_code == 403, path
    response = guard.post(f"{BASE}/{room_id}/people/{owner_id}/reveal", data={"csrf_token": token})
    assert response.status_code == 403
    assert MOBILE not in response.get_data(as_text=True)
    assert counts(app) == before and audits(app, "households.reveal") == []


def test_unknown_ids_and_another_communitys_room_are_404(app, as_role, household):
    room_id, owner_id, _ = household
    with app.app_context():
        other = HouseholdRoom(
            community="elsewhere", code="1-1-101", building=1, unit=1, number="101"
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        neighbour = find_room(3, 1, "1202").id
    client = as_role(roles.MANAGER)
    assert client.get(f"{BASE}/{other_id}").status_code == 404
    assert client.get(f"{BASE}/99999999").status_code == 404
    token = csrf_token_from(page_of(client, room_id))
    for path in (f"/{neighbour}/people/{owner_id}/end", f"/{neighbour}/people/{owner_id}/reveal"):
        response = client.post(BASE + path, data={"csrf_token": token, "on": "2024-01-01"})
        assert response.status_code == 404, path
    response = client.post(f"{BASE}/{other_id}/room", data={"csrf_token": token})
    assert response.status_code == 404


# ----- changes ---------------------------------------------------------------------------------


def test_room_facts_change_is_recorded_with_who_and_why(app, as_role, household):
    room_id = household[0]
    client = as_role(roles.SERVICE)
    day = (today() - timedelta(days=3)).isoformat()
    response = post(
        client,
        room_id,
        "/room",
        {"charge_area": "89.5", "handover": "occupied", "handover_on": day, "reason": "按房产证"},
    )
    assert response.status_code == 303
    html = client.get(response.location).get_data(as_text=True)
    assert "89.50 ㎡" in html and "已入住" in html
    assert "收费面积 未登记 → 89.50 ㎡" in html and "原因：按房产证" in html
    with app.app_context():
        change = db.session.scalars(select(HouseholdChange).filter_by(action="room")).one()
        assert change.reason == "按房产证" and "客服" in change.actor_name
        assert db.session.get(HouseholdRoom, room_id).charge_area_centi == 8950


@pytest.mark.parametrize(
    "data,field,message",
    [
        (
            {"charge_area": "八十", "handover": "undelivered", "reason": "x"},
            "charge_area",
            "收费面积请填写",
        ),
        (
            {"charge_area": "89.555", "handover": "undelivered", "reason": "x"},
            "charge_area",
            "两位小数",
        ),
        (
            {"charge_area": "89", "handover": "undelivered", "reason": ""},
            "reason",
            "请填写修改原因",
        ),
        ({"charge_area": "89", "handover": "moon", "reason": "x"}, "handover", "请选择交房状态"),
        (
            {"charge_area": "89", "handover": "occupied", "reason": "x"},
            "handover_on",
            "请填写交房日期",
        ),
        (
            {"charge_area": "89", "handover": "vacant", "handover_on": "2999-01-01", "reason": "x"},
            "handover_on",
            "不能晚于今天",
        ),
        (
            {"charge_area": "89", "handover": "vacant", "handover_on": "1-1-1", "reason": "x"},
            "handover_on",
            "格式应为",
        ),
        (
            {"charge_area": "89", "handover": "undelivered", "reason": "\ufffd"},
            "reason",
            "无法识别",
        ),
    ],
)
def test_room_facts_refused_beside_the_field_keeping_what_was_typed(
    app, as_role, household, data, field, message
):
    room_id = household[0]
    before = counts(app)
    response = post(as_role(roles.SERVICE), room_id, "/room", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="room-{field}-error"' in html and message in html
    assert f'value="{data["charge_area"]}"' in html
    assert "档案没有变化" in html
    assert counts(app) == before


def test_register_a_tenant_and_the_refusals(app, as_role, household):
    room_id = household[0]
    client = as_role(roles.SERVICE)
    since = (today() - timedelta(days=1)).isoformat()
    before = counts(app)
    tenant = {"name": "王租客", "role": "tenant", "mobile": "137 0000 1111", "since": since}
    response = post(client, room_id, "/people", tenant)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "租户须填写租约到期日" in html
    assert 'value="王租客"' in html and 'value="137 0000 1111"' in html
    for bad, field, message in (
        ({"mobile": "12345"}, "mobile", "11位"),
        ({"name": ""}, "name", "请填写姓名"),
        ({"role": "boss"}, "role", "请选择身份"),
        ({"since": "2999-01-01"}, "since", "不能晚于今天"),
        ({"lease_end": "2000-01-01"}, "lease_end", "不能早于登记日期"),
    ):
        data = {**tenant, "lease_end": "2030-12-31", **bad}
        html = post(client, room_id, "/people", data).get_data(as_text=True)
        assert f'id="person-{field}-error"' in html and message in html, field
    assert counts(app) == before
    lease = {**tenant, "lease_end": "2030-12-31", "emergency_contact": "yes"}
    response = post(client, room_id, "/people", lease)
    assert response.status_code == 303
    html = client.get(response.location).get_data(as_text=True)
    assert "王租客" in html and "租约至 2030-12-31" in html and "紧急联系人" in html
    assert "登记租户 王租客" in html
    with app.app_context():
        person = db.session.scalars(select(HouseholdPerson).filter_by(name="王租客")).one()
        assert (person.mobile, person.role, person.emergency_contact) == (
            "13700001111",
            TENANT,
            True,
        )
    # The same mobile as the same role again is refused by the registry, beside the field.
    response = post(client, room_id, "/people", lease)
    assert response.status_code == 400
    assert "该手机号已以相同身份登记在这户" in response.get_data(as_text=True)


def test_transfer_ends_everyone_and_refuses_future_or_earlier_dates(app, as_role, household):
    room_id, owner_id, family_id = household
    client = as_role(roles.SERVICE)
    on = today() - timedelta(days=10)
    data = {
        "on": on.isoformat(),
        "name_1": "赵新",
        "mobile_1": "13500001234",
        "name_2": "钱新",
        "mobile_2": "13500005678",
        "reason": "买卖合同 2026-88",
    }
    before = counts(app)
    for bad, field, message in (
        ({"on": (today() + timedelta(days=1)).isoformat()}, "on", "不能晚于今天"),
        ({"reason": ""}, "reason", "请填写过户原因"),
        ({"name_1": ""}, "name_1", "请填写新业主的姓名"),
        ({"mobile_2": "123"}, "mobile_2", "11位"),
        ({"name_2": ""}, "name_2", "请填写这位新业主的姓名"),
    ):
        response = post(client, room_id, "/transfer", {**data, **bad})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, field
        assert f'id="transfer-{field}-error"' in html and message in html, field
        assert 'value="赵新"' in html or field == "name_1"
    assert counts(app) == before
    response = post(client, room_id, "/transfer", data)
    assert response.status_code == 303
    html = client.get(response.location).get_data(as_text=True)
    current, former = html.split('id="former-people"')
    assert "赵新" in current and "钱新" in current and "张三" not in current
    assert "张三" in former and "李四" in former and "过户：买卖合同 2026-88" in former
    assert "过户：张三 → 赵新、钱新" in html
    # Before the last 过户: refused with the reason, nothing stored.
    before = counts(app)
    earlier = {**data, "on": (on - timedelta(days=1)).isoformat(), "name_2": "", "mobile_2": ""}
    response = post(client, room_id, "/transfer", earlier)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"过户日期不能早于上一次过户（{on.isoformat()}）" in html
    assert 'id="transfer-on-error"' in html
    assert counts(app) == before


def test_move_out_and_former_mobiles_stay_masked_even_to_the_manager(app, as_role, household):
    room_id, owner_id, family_id = household
    manager = as_role(roles.MANAGER)
    before = counts(app)
    for bad, field, message in (
        ({"reason": ""}, "reason", "请填写原因"),
        ({"on": "2999-01-01"}, "on", "不能晚于今天"),
        ({"on": "2019-01-01"}, "on", "不能早于登记日期"),
        ({"end_reason": "magic"}, "end_reason", "请选择"),
    ):
        data = {"on": today().isoformat(), "end_reason": "move_out", "reason": "搬走", **bad}
        response = post(manager, room_id, f"/people/{family_id}/end", data)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, field
        assert f'id="end-{family_id}-{field}-error"' in html and message in html, field
    assert counts(app) == before
    data = {"on": today().isoformat(), "end_reason": "move_out", "reason": "搬去外地"}
    response = post(manager, room_id, f"/people/{family_id}/end", data)
    assert response.status_code == 303
    html = manager.get(response.location).get_data(as_text=True)
    former = html.split('id="former-people"')[1]
    assert "李四" in former and "迁出：搬去外地" in former and "139****0000" in former
    assert OTHER_MOBILE not in html
    assert f"/people/{family_id}/reveal" not in html
    # The same 迁出 sent again (a second tap) changes nothing and says why.
    before = counts(app)
    response = post(manager, room_id, f"/people/{family_id}/end", data)
    assert response.status_code == 400
    assert "无需再办理" in response.get_data(as_text=True) and counts(app) == before
    token = csrf_token_from(html)
    response = manager.post(
        f"{BASE}/{room_id}/people/{family_id}/reveal", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert OTHER_MOBILE not in response.get_data(as_text=True)
    assert audits(app, "households.reveal") == []


def test_set_contacts_and_refusals(app, as_role, household):
    room_id, owner_id, family_id = household
    client = as_role(roles.SERVICE)
    before = counts(app)
    response = post(client, room_id, "/contacts", {"primary": "", "emergency": ""})
    assert response.status_code == 400
    assert "请选择主要联系人" in response.get_data(as_text=True)
    response = post(client, room_id, "/contacts", {"primary": "99999", "emergency": ""})
    assert response.status_code == 400
    assert "主要联系人须是这户现登记的人员" in response.get_data(as_text=True)
    assert counts(app) == before
    data = {"primary": str(family_id), "emergency": str(owner_id)}
    response = post(client, room_id, "/contacts", data)
    assert response.status_code == 303
    with app.app_context():
        family = db.session.get(HouseholdPerson, family_id)
        owner = db.session.get(HouseholdPerson, owner_id)
        assert family.primary_contact and not owner.primary_contact and owner.emergency_contact
    html = client.get(response.location).get_data(as_text=True)
    assert "主要联系人：李四；紧急联系人：张三" in html


def test_reveal_is_a_tap_to_call_link_and_audited(app, as_role, household):
    room_id, owner_id, _ = household
    client = as_role(roles.SERVICE)
    html = page_of(client, room_id)
    response = client.post(
        f"{BASE}/{room_id}/people/{owner_id}/reveal", data={"csrf_token": csrf_token_from(html)}
    )
    assert response.status_code == 200
    assert f'href="tel:{MOBILE}"' in response.get_data(as_text=True)
    [entry] = audits(app, "households.reveal")
    assert entry.target == "3-1-1201" and "张三" in entry.detail
    assert MOBILE not in entry.detail


# ----- the timeline ----------------------------------------------------------------------------


def service_request(app, building, unit, room, mobile=MOBILE, reference="BX20260101-001"):
    from forms_app.service_requests import states

    with app.app_context():
        item = ServiceRequest(
            kind=states.REPAIR,
            reference=reference,
            filed_on=today(),
            sequence=int(reference[-3:]),
            submission_nonce=secrets.token_hex(16),
            source=states.PHONE,
            recorded_by="客服",
            description="厨房漏水",
            building=building,
            unit=unit,
            room=room,
            owner_name="张三",
            owner_mobile=mobile,
        )
        db.session.add(item)
        db.session.commit()
        return item.id


def move_in_booking(app, building, unit, room, reference="BJ20260101-001"):
    with app.app_context():
        booking = MoveInBooking(
            reference=reference,
            filed_on=today(),
            sequence=int(reference[-3:]),
            submission_nonce=secrets.token_hex(16),
            move_date=today() + timedelta(days=3),
            slot="morning",
            seat=1,
            oversize=False,
            building=building,
            unit=unit,
            room=room,
            owner_name="张三",
            owner_mobile=MOBILE,
        )
        db.session.add(booking)
        db.session.commit()
        return booking.id


def message(app, recipient: str, created_at: datetime, reference: str):
    with app.app_context():
        db.session.add(
            Notification(
                kind="service.received",
                audience="owner",
                recipient=recipient,
                reference=reference,
                text="测试",
                params=[],
                idempotency_key=uuid.uuid4().hex,
                created_at=created_at,
            )
        )
        db.session.commit()


def test_timeline_holds_the_households_records_changes_and_messages(app, as_role, household):
    room_id, owner_id, family_id = household
    application_id = file_application(app, building=3, unit=1, room="1201", owner_mobile=MOBILE)
    request_id = service_request(app, 3, 1, "1201")
    booking_id = move_in_booking(app, 3, 1, "1201")
    service_request(app, 3, 1, "1202", reference="BX20260101-002")  # the neighbour's
    # 李四 left ten days ago: a message to 李四 before is this household's, one after is not.
    with app.test_request_context():
        from forms_app.households.registry import end_person

        end_person(family_id, today() - timedelta(days=10), "搬走")
    message(app, OTHER_MOBILE, utcnow() - timedelta(days=20), "ZXOLD-001")
    message(app, OTHER_MOBILE, utcnow() - timedelta(days=2), "ZXNEW-001")
    html = page_of(as_role(roles.SERVICE), room_id)
    timeline = html.split('id="timeline"')[1]
    assert "装修申请" in timeline and f"/forms/staff/renovations/{application_id}" in timeline
    assert f"/forms/staff/service/{request_id}" in timeline and "BX20260101-001" in timeline
    assert f"#booking-{booking_id}" in timeline and "BJ20260101-001" in timeline
    assert "BX20260101-002" not in timeline
    assert "登记业主 张三" in timeline and "原因：搬走" in timeline
    assert "装修申请已受理" in timeline or "renovation.received" not in timeline
    assert "发给 138****8000" in timeline  # the application's message to the owner
    assert "ZXOLD-001" in timeline and "ZXNEW-001" not in timeline
    assert MOBILE not in html and OTHER_MOBILE not in html


def test_timeline_takes_extra_sources(app, as_role, household):
    from forms_app.households.timeline import Entry, register_timeline_source

    def visits(room, people):
        return [Entry(at=datetime(2026, 1, 5, 9, 30), kind="走访", title="上门走访：一切正常")]

    register_timeline_source(app, visits)
    try:
        html = page_of(as_role(roles.SERVICE), household[0])
        assert "上门走访：一切正常" in html and "2026-01-05 09:30" in html
    finally:
        app.extensions["household_timeline_sources"].remove(visits)


# ----- records whose room is not in the registry -----------------------------------------------


def test_records_naming_no_registry_room_are_listed(app, as_role, household):
    lost = service_request(app, 3, 1, "9901", reference="BX20260101-003")
    service_request(app, 3, 1, "1201", reference="BX20260101-004")
    move_in_booking(app, 99, 1, "101", reference="BJ20260101-002")
    file_application(app, building=3, unit=1, room="1201")
    html = as_role(roles.SECURITY).get(f"{BASE}/unmatched").get_data(as_text=True)
    assert "BX20260101-003" in html and "3号楼1单元9901室" in html
    assert f"/forms/staff/service/{lost}" in html
    assert "BJ20260101-002" in html and "99号楼1单元101室" in html
    assert "BX20260101-004" not in html and not REFERENCE.search(html)
    assert as_role(roles.CLEANER).get(f"{BASE}/unmatched").status_code == 403


def test_odd_query_values_on_the_pages_never_fail(app, as_role, household):
    client = as_role(roles.MANAGER)
    for url in (f"{BASE}/", f"{BASE}/{household[0]}", f"{BASE}/unmatched"):
        for query in ("q=%00", "q=%ff", "q=" + "9" * 40, "q=%25_", "week=x", "fmt=x"):
            assert client.get(f"{url}?{query}").status_code == 200, (url, query)


FORM_NAMES = (
    "charge_area",
    "handover",
    "handover_on",
    "reason",
    "name",
    "role",
    "mobile",
    "since",
    "lease_end",
    "primary_contact",
    "emergency_contact",
    "on",
    "name_1",
    "mobile_1",
    "name_2",
    "mobile_2",
    "name_3",
    "mobile_3",
    "end_reason",
    "primary",
    "emergency",
)


@pytest.mark.parametrize(
    "value", ["²", "\x00", "\ufffd", "0001-01-01", "9999-12-31", "-1", "x" * 20000, "1" * 5000, " "]
)
def test_odd_values_in_every_form_change_nothing_and_never_fail(app, as_role, household, value):
    room_id, owner_id, _ = household
    client = as_role(roles.MANAGER)
    before = counts(app)
    for path in ("/room", "/people", "/transfer", "/contacts", f"/people/{owner_id}/end"):
        response = post(client, room_id, path, {name: value for name in FORM_NAMES})
        assert response.status_code == 400, (path, repr(value)[:10])
    assert counts(app) == before


def test_registry_transfer_used_directly_shows_in_history(app, as_role, household):
    """A 过户 made elsewhere (the import, a command) shows the same way."""
    room_id = household[0]
    with app.test_request_context():
        transfer(
            room_id,
            date(2024, 5, 1),
            [NewPerson("孙新", "13600001111", "owner", date(2024, 5, 1))],
            "法院判决",
        )
    html = page_of(as_role(roles.SERVICE), room_id)
    former = html.split('id="former-people"')[1]
    assert "张三" in former and "2020-01-01 至 2024-05-01" in former and "过户：法院判决" in former


# ----- on a 360 px phone -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory, migrated_database):
    """gunicorn on its own database: a 经理 and 3-1-1201 with a current and a former person."""
    from tests.support.server import LiveServer
    from tests.support.staff import PASSWORD as STAFF_PASSWORD
    from tests.support.staff import create_staff

    live = LiveServer(
        tmp_path_factory.mktemp("households-phone") / "instance",
        workers=1,
        database_template=migrated_database,
    )
    live.start()
    try:
        create_staff(live, roles.MANAGER, roles.MANAGER, STAFF_PASSWORD)
        with live.app() as app:
            room_id, _ = register(app, 3, 1, "1201", "张三", MOBILE)
            _, family_id = register(app, 3, 1, "1201", "李四", OTHER_MOBILE, role="family")
            with app.test_request_context():
                from forms_app.households.registry import end_person

                end_person(family_id, today(), "搬走")
            file_application(app, building=3, unit=1, room="1201", owner_mobile=MOBILE)
            service_request(app, 3, 1, "9901", reference="BX20260101-009")
        yield live, room_id
    finally:
        live.stop()


@pytest.mark.browser
def test_household_pages_on_a_phone_have_44_px_targets_and_no_sideways_scroll(served, phone):
    from tests.staff.test_phone_tools import SMALL_TARGETS, as_user

    server, room_id = served
    as_user(phone, server, roles.MANAGER)
    problems = {}
    for path in (
        f"{BASE}/?q=3-1-1201",
        f"{BASE}/{room_id}",
        f"{BASE}/changes",
        f"{BASE}/unmatched",
    ):
        assert phone.goto(server.url + path).status == 200, path
        for summary in phone.locator("main details > summary").all():
            summary.click()  # every form open, their fields measured too
        problems[path] = phone.evaluate(SMALL_TARGETS)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    phone.goto(server.url + f"{BASE}/{room_id}")
    phone.get_by_role("button", name="拨打").click()
    # The call page's stylesheet loaded before its targets are measured (unstyled, the desk's
    # top navigation shows with small links).
    phone.wait_for_load_state()
    assert phone.locator("#call-person").get_attribute("href") == f"tel:{MOBILE}"
    problems["call"] = phone.evaluate(SMALL_TARGETS)
    assert {path: small for path, small in problems.items() if small} == {}
