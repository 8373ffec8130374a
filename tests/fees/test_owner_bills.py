"""我的办理 → 我的账单: the signed-in household's bills still due with their lines, the settled
ones, receipts, the prepaid balance and deposits held; after 过户 the new owner sees the bills
from their own month on (plus what the 经理 carried), never the former owners' bills."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import select, update

from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.fees import billing
from forms_app.fees.models import FeeBill
from forms_app.households.models import HouseholdRoom
from forms_app.households.registry import NewPerson, find_room, transfer
from tests.support.households import register, signed_in

TODAY = date(2026, 12, 1)
PAGE = "/forms/fees/"

pytestmark = pytest.mark.one_app_per_module


@contextmanager
def db_of(app):
    with app.test_request_context():
        yield
        db.session.remove()


@pytest.fixture
def web(app):
    app.config["TODAY"] = TODAY.isoformat()
    return app


def billed_room(app) -> int:
    with db_of(app):
        rid = find_room(1, 1, "101").id
        with write_transaction() as session:
            session.execute(
                update(HouseholdRoom)
                .where(HouseholdRoom.id == rid)
                .values(charge_area_centi=8950, handover="occupied", handover_on=date(2020, 1, 1))
            )
    return rid


def test_without_a_grant_the_page_sends_to_my_records_start(web):
    response = web.test_client().get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].endswith("/forms/my/start")


def test_the_household_sees_its_bills_lines_and_balance(web):
    billed_room(web)
    register(web, 1, 1, "101", "张三", "13800138000", since=date(2015, 1, 1))
    with db_of(web):
        billing.issue_bills("2026-11", "测试")
        billing.issue_bills("2026-12", "测试")
        november = db.session.scalar(select(FeeBill).where(FeeBill.period == "2026-11"))
        billing.add_adjustment(november.id, "-161.10", "首月免收", "经理")
    client = signed_in(web, "13800138000")
    response = client.get(PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "2026年12月：待缴 161.10 元" in html and "物业管理费" in html
    assert "2026年11月：161.10 元，已结清" not in html  # adjusted to 0
    assert "2026年11月：0.00 元，已结清" in html and "首月免收" in html
    assert 'id="prepaid">0.00' in html
    # 我的办理 links here.
    assert 'href="/forms/fees/"' in client.get("/forms/my/").get_data(as_text=True)


def test_after_a_transfer_the_new_owner_sees_only_their_own_bills(web):
    rid = billed_room(web)
    register(web, 1, 1, "101", "老业主", "13800138000", since=date(2015, 1, 1))
    with db_of(web):
        billing.issue_bills("2026-11", "测试")
        transfer(rid, TODAY, [NewPerson("新业主", "13700137000", "owner", TODAY)], "买卖合同")
        billing.issue_bills("2026-12", "测试")
    html = signed_in(web, "13700137000").get(PAGE).get_data(as_text=True)
    assert "2026年12月" in html and "2026年11月" not in html
    assert "待缴 161.10 元" in html
    # The former owner's grant ended with the 过户.
    assert signed_in(web, "13800138000").get(PAGE).status_code == 302


def test_handed_over_mid_month_the_household_never_sees_the_developers_bill(web):
    rid = billed_room(web)
    with db_of(web):
        with write_transaction() as session:
            session.execute(
                update(HouseholdRoom)
                .where(HouseholdRoom.id == rid)
                .values(handover_on=date(2026, 12, 11))
            )
    register(web, 1, 1, "101", "张三", "13800138000", since=date(2015, 1, 1))
    with db_of(web):
        billing.issue_bills("2026-12", "测试")
        kinds = db.session.scalars(select(FeeBill.payer_kind).where(FeeBill.room_id == rid))
        assert sorted(kinds) == ["developer", "household"]
    html = signed_in(web, "13800138000").get(PAGE).get_data(as_text=True)
    # 161.10 × 21/31 = 109.13 is the household's; the developer's 51.97 is not shown.
    assert "2026年12月：待缴 109.13 元" in html and 'id="total-due">109.13' in html
    assert "51.97" not in html and "开发商" not in html
