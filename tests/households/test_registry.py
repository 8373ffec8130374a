"""The registry's own rules: rooms seeded from the community file, 收费面积 as Decimal, people
who stand on a room from a date until a date, 过户 and 迁出 that keep the history, contacts,
and every change recorded with who and why."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from forms_app.core.community import current_community
from forms_app.core.database import write_connection
from forms_app.core.extensions import db
from forms_app.households.models import (
    FAMILY,
    OWNER,
    TENANT,
    HouseholdChange,
    HouseholdPerson,
    HouseholdRoom,
)
from forms_app.households.registry import (
    NewPerson,
    RegistryRefused,
    current_people,
    end_person,
    find_room,
    parse_area,
    registered_households,
    search,
    seed_rooms,
    set_contacts,
    set_room_facts,
    transfer,
)
from tests.support.households import register

TODAY = date(2026, 12, 1)

pytestmark = pytest.mark.one_app_per_module


@pytest.fixture
def ctx(app):
    app.config["TODAY"] = TODAY.isoformat()
    with app.test_request_context():
        yield app


def counts():
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (HouseholdRoom, HouseholdPerson, HouseholdChange)
    }


def test_rooms_are_seeded_once_from_the_community_file(ctx):
    community = current_community()
    expected = sum(b.units * b.floors * b.rooms_per_floor for b in community.buildings.values())
    assert counts()["household_room"] == expected
    with write_connection() as connection:
        assert seed_rooms(connection, community) == 0  # again: nothing added
    room = find_room(12, 3, "1102")
    assert room.label == "12号楼3单元1102室" and room.community == community.key
    assert room.handover == "undelivered" and room.charge_area is None
    assert find_room(12, 4, "101") is None and find_room(1, 1, "1\x00") is None


@pytest.mark.parametrize(
    "typed, centi",
    [("89.5", 8950), ("89.50㎡", 8950), (89.5, 8950), ("120", 12000), (" 66.66 平方米", 6666)],
)
def test_areas_are_decimal_hundredths(typed, centi):
    assert parse_area(typed) == centi


@pytest.mark.parametrize("typed", ["", "0", "-3", "89.555", "八十", "nan", "inf", True, None])
def test_bad_areas_are_refused(typed):
    assert parse_area(typed) is None


def test_room_facts_change_with_a_reason_and_are_recorded(ctx):
    room = find_room(1, 1, "101")
    with pytest.raises(RegistryRefused, match="请填写修改原因"):
        set_room_facts(room.id, 8950, "occupied", TODAY, "  ")
    with pytest.raises(RegistryRefused, match="交房日期不能晚于今天"):
        set_room_facts(room.id, 8950, "occupied", TODAY + timedelta(days=1), "交房")
    set_room_facts(room.id, 8950, "occupied", TODAY, "交房验收")
    db.session.expire_all()
    room = find_room(1, 1, "101")
    assert room.charge_area == Decimal("89.50") and room.handover_label == "已入住"
    [change] = db.session.scalars(select(HouseholdChange)).all()
    assert "收费面积 未登记 → 89.50 ㎡" in change.summary and change.reason == "交房验收"
    assert change.actor_name == "命令行"


def test_a_transfer_ends_the_household_and_keeps_its_history(ctx):
    room_id, _ = register(ctx, 1, 1, "101", "老业主", "13800138000", since=date(2015, 1, 1))
    register(ctx, 1, 1, "101", "老家人", "13900139000", role=FAMILY, since=date(2015, 1, 1))
    on = TODAY - timedelta(days=10)
    transfer(room_id, on, [NewPerson("新业主", "13700137000", OWNER, on)], "买卖合同 2026-0001")
    people = {p.name: p for p in db.session.scalars(select(HouseholdPerson))}
    assert people["老业主"].until == on and people["老业主"].end_reason == "transfer"
    assert people["老家人"].until == on
    assert [p.name for p in current_people(room_id)] == ["新业主"]
    assert people["新业主"].primary_contact and not people["老业主"].primary_contact
    summaries = db.session.scalars(select(HouseholdChange.summary)).all()
    assert any("过户：老业主 → 新业主" in s for s in summaries)


def test_a_transfer_in_the_future_or_before_the_last_is_refused(ctx):
    room_id, _ = register(ctx, 1, 1, "102", "甲", "13800138001", since=date(2015, 1, 1))
    buyer = [NewPerson("乙", "13800138002", OWNER, TODAY)]
    before = counts()
    with pytest.raises(RegistryRefused, match="过户日期不能晚于今天"):
        transfer(room_id, TODAY + timedelta(days=1), buyer, "合同")
    with pytest.raises(RegistryRefused, match="请填写过户原因"):
        transfer(room_id, TODAY, buyer, " ")
    with pytest.raises(RegistryRefused, match="不能早于现登记人员的登记日期"):
        transfer(room_id, date(2014, 1, 1), buyer, "合同")
    assert counts() == before
    transfer(room_id, date(2020, 1, 1), buyer, "合同")
    with pytest.raises(RegistryRefused, match="不能早于上一次过户（2020-01-01）"):
        transfer(room_id, date(2019, 6, 1), [NewPerson("丙", None, OWNER, TODAY)], "合同")
    with pytest.raises(RegistryRefused, match="同一天不能再办理一次"):
        transfer(room_id, date(2020, 1, 1), [NewPerson("丙", None, OWNER, TODAY)], "合同")


def test_moving_out_ends_one_person_and_the_contact_passes_on(ctx):
    room_id, owner = register(ctx, 1, 1, "201", "业主", "13800138003", since=date(2015, 1, 1))
    _, member = register(ctx, 1, 1, "201", "家人", "13800138004", role=FAMILY)
    with pytest.raises(RegistryRefused, match="请填写原因"):
        end_person(owner, TODAY, "")
    with pytest.raises(RegistryRefused, match="迁出日期不能晚于今天"):
        end_person(owner, TODAY + timedelta(days=1), "出国")
    end_person(owner, TODAY, "出国")
    assert [p.name for p in current_people(room_id)] == ["家人"]
    assert db.session.get(HouseholdPerson, member).primary_contact
    with pytest.raises(RegistryRefused, match="无需再办理"):
        end_person(owner, TODAY, "出国")


def test_a_tenants_rights_end_with_the_lease_by_themselves(ctx):
    lease_end = TODAY + timedelta(days=30)
    room_id, _ = register(ctx, 1, 1, "301", "租户", "13800138005", role=TENANT, lease_end=lease_end)
    assert [p.name for p in current_people(room_id)] == ["租户"]
    assert current_people(room_id, lease_end + timedelta(days=1)) == []
    with pytest.raises(RegistryRefused, match="租户须填写租约到期日"):
        from forms_app.households.registry import add_person

        add_person(room_id, NewPerson("租户二", "13800138006", TENANT, TODAY))


def test_contacts_are_people_of_the_household_today(ctx):
    room_id, owner = register(ctx, 1, 1, "401", "业主", "13800138007")
    _, member = register(ctx, 1, 1, "401", "家人", None, role=FAMILY)
    _, stranger = register(ctx, 1, 1, "402", "别家", "13800138008")
    with pytest.raises(RegistryRefused, match="须登记手机号"):
        set_contacts(room_id, member, None)
    with pytest.raises(RegistryRefused, match="主要联系人须是这户现登记的人员"):
        set_contacts(room_id, stranger, None)
    set_contacts(room_id, owner, member)
    assert db.session.get(HouseholdPerson, member).emergency_contact


def test_search_by_room_name_and_mobile_tail(ctx):
    register(ctx, 3, 1, "1201", "欧阳娜娜", "13812345678")
    for query in ("3-1-1201", "3号楼1单元1201室", "3栋1单元1201", "5678", "欧阳", "娜娜"):
        assert [f.room.label for f in search(query)] == ["3号楼1单元1201室"], query
    assert search("%") == [] and search("_") == [] and search("") == []
    assert {f.room.label for f in search("1201")} >= {"3号楼1单元1201室", "1号楼1单元1201室"}


def test_registered_households_name_their_contact(ctx):
    register(ctx, 5, 1, "101", "业主", "13800138009")
    register(ctx, 5, 1, "101", "家人", "13800138010", role=FAMILY)
    [household] = registered_households(5)
    assert (household.number, household.contact_mobile) == ("101", "13800138009")
