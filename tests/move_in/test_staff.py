"""The staff's day schedule: login required, mobiles masked, per-slot flags, closing a booking
with who and when, and the day's export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.community_scope import all_communities
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.move_in.models import MoveInBooking
from tests.support.forms import csrf_token_from

from .conftest import MOVE_DAY, MOVE_IN, SLOTS, TODAY, Owner, booking_fields

pytestmark = pytest.mark.one_app_per_module

SCHEDULE = "/forms/staff/move-ins/"
DAY = f"{SCHEDULE}?date={MOVE_DAY.isoformat()}"
HOSTILE = '=HYPERLINK("http://example.invalid","点我")'


@pytest.fixture
def booked(app, stored):
    """Three bookings on MOVE_DAY made through the owner's form; their ids in booking order."""
    owner = Owner(app.test_client())
    owner.book(booking_fields(building=1, unit=1, room="101", slot=SLOTS[0]["id"]))
    owner.book(
        booking_fields(
            building=2,
            unit=1,
            room="502",
            slot=SLOTS[0]["id"],
            oversize="yes",
            large_items="钢琴",
            wants_trolley="",
            wants_carry_help="y",
            owner_mobile="13912345678",
        )
    )
    owner.book(
        booking_fields(
            building=8,
            unit=2,
            room="2601",
            slot=SLOTS[2]["id"],
            owner_name="+李",
            large_items=HOSTILE,
        )
    )
    return [booking.id for booking in stored.bookings()]


def staff_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith("move_in_staff.")),
        key=lambda r: r.rule,
    )


def test_every_staff_url_needs_a_login(app, client, booked):
    token = csrf_token_from(client.get("/forms/move-in/").get_data(as_text=True))
    rules = staff_rules(app)
    assert len(rules) == 5  # schedule, close, export, resend-link, call the owner
    for rule in rules:
        url = (
            rule.rule.replace("<int:booking_id>", "1")
            .replace("<action>", "complete")
            .replace("<fmt>", "csv")
        )
        if "GET" in rule.methods:
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/forms/staff/login"), url
    with app.app_context():
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "move_in.close")) is None


# The office sees the day; cleaners (保洁) see no owner's data.
OFFICE = (roles.SERVICE, roles.SERVICE_LEAD, roles.ENGINEERING, roles.SECURITY, roles.MANAGER)


def test_cleaners_do_not_see_the_day(as_role, booked):
    assert as_role(roles.CLEANER).get(DAY).status_code == 403


@pytest.mark.parametrize("role", OFFICE)
def test_every_office_role_sees_the_day_with_masked_mobiles(as_role, booked, role):
    page = as_role(role).get(DAY).get_data(as_text=True)
    assert f'id="schedule-day">{MOVE_DAY.isoformat()}' in page
    assert "138****8000" in page and "139****5678" in page
    assert "13800138000" not in page and "13912345678" not in page
    first = page.split(f'id="slot-{SLOTS[0]["id"]}"')[1].split("</section>")[0]
    assert f"已约 2/{SLOTS[0]['capacity']}" in first
    assert "1号楼1单元101室" in first and "2号楼1单元502室" in first
    assert f"超高 · {MOVE_IN['oversize_post']}" in first and "钢琴" in first
    assert "平推车" in first and "搬运协助" in first
    third = page.split(f'id="slot-{SLOTS[2]["id"]}"')[1].split("</section>")[0]
    assert "8号楼2单元2601室" in third and str(escape(HOSTILE)) in third
    assert (
        "这个时段没有预约。" in page.split(f'id="slot-{SLOTS[1]["id"]}"')[1].split("</section>")[0]
    )
    assert "共 <strong>3</strong> 户搬家；超高大件 1 户" in page
    desk = role in (roles.SERVICE, roles.SERVICE_LEAD, roles.MANAGER)
    assert ("已完成</button>" in page) is desk
    assert ("导出 Excel" in page) is desk
    # The desk may call any day; the gate only on the day of the move (not today here).
    assert ("拨打业主电话" in page) is desk


def call(client, booking_id):
    page = client.get(DAY).get_data(as_text=True)
    return client.post(f"{SCHEDULE}{booking_id}/call", data={"csrf_token": csrf_token_from(page)})


def reveals(app):
    with app.app_context():
        return db.session.execute(
            select(AuditLog.actor_name, AuditLog.target).where(
                AuditLog.action == "move_in.call_owner"
            )
        ).all()


def test_the_desk_reveals_a_number_as_a_tap_to_call_link_and_it_is_audited(app, as_role, booked):
    service = as_role(roles.SERVICE)
    response = call(service, booked[1])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="tel:13912345678"' in html and "2号楼1单元502室" in html
    assert "查看号码已记入审计日志" in html
    assert [actor for actor, _target in reveals(app)] == [roles.SERVICE]
    # The list stays masked after the reveal.
    assert "13912345678" not in service.get(DAY).get_data(as_text=True)


def test_the_gate_calls_on_the_moving_day_only(app, as_role, booked):
    guard = as_role(roles.SECURITY)
    response = call(guard, booked[0])
    assert response.status_code == 403
    assert "只能在搬家当天查看业主电话" in response.get_data(as_text=True)
    assert reveals(app) == []
    app.config["TODAY"] = MOVE_DAY.isoformat()
    assert "拨打业主电话" in guard.get(DAY).get_data(as_text=True)
    response = call(guard, booked[0])
    assert response.status_code == 200 and 'href="tel:13800138000"' in response.get_data(
        as_text=True
    )
    assert len(reveals(app)) == 1
    engineer = as_role(roles.ENGINEERING)
    assert "拨打业主电话" not in engineer.get(DAY).get_data(as_text=True)
    assert call(engineer, booked[0]).status_code == 403
    assert call(guard, 9999).status_code == 404
    assert len(reveals(app)) == 1


def test_default_day_is_today_and_a_bad_date_says_so(as_role, booked):
    staff = as_role(roles.SECURITY)
    page = staff.get(SCHEDULE).get_data(as_text=True)
    assert f'id="schedule-day">{TODAY.isoformat()}</span>（今天）' in page
    assert "共 <strong>0</strong> 户搬家" in page
    page = staff.get(f"{SCHEDULE}?date=2026-13-45").get_data(as_text=True)
    assert "日期格式应为 年-月-日" in page and f'id="schedule-day">{TODAY.isoformat()}' in page
    next_day = (MOVE_DAY + timedelta(days=1)).isoformat()
    page = staff.get(f"{SCHEDULE}?date={next_day}").get_data(as_text=True)
    assert "共 <strong>0</strong> 户搬家" in page


def _close(client, booking_id, action):
    token = csrf_token_from(client.get(DAY).get_data(as_text=True))
    return client.post(
        f"{SCHEDULE}{booking_id}/{action}", data={"csrf_token": token, "confirm": "yes"}
    )


def test_service_marks_done_and_cancelled_with_who_and_when(app, as_role, booked, stored):
    service = as_role(roles.SERVICE)
    response = _close(service, booked[0], "complete")
    assert response.status_code == 303 and response.location == DAY
    page = service.get(DAY).get_data(as_text=True)
    assert "已将预约" in page and "标记为已完成" in page
    row = page.split(f'id="booking-{booked[0]}"')[1].split("</tr>")[0]
    assert "已完成" in row and "service" in row

    assert _close(as_role(roles.MANAGER), booked[1], "cancel").status_code == 303
    again = _close(service, booked[1], "complete")
    assert again.status_code == 303
    assert "已是「已取消」，不能再更改" in service.get(DAY).get_data(as_text=True)

    first, second, third = stored.bookings()
    assert (first.state, first.closed_by) == ("completed", "service（客服）") and first.closed_at
    assert (second.state, second.closed_by) == ("cancelled", "manager（经理）")
    assert third.state == "booked" and third.closed_at is None
    with app.app_context():
        audit = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "move_in.close").order_by(AuditLog.id)
        ).all()
        assert [(a.actor_name, a.target) for a in audit] == [
            ("service", first.reference),
            ("manager", second.reference),
        ]
        assert "标记为已完成" in audit[0].detail


@pytest.mark.parametrize("role", [roles.SECURITY, roles.ENGINEERING])
def test_gate_and_engineering_staff_cannot_close_or_export(as_role, booked, stored, role):
    staff = as_role(role)
    response = _close(staff, booked[0], "complete")
    assert response.status_code == 403
    assert "此页面仅限" in response.get_data(as_text=True)
    assert staff.get(f"{SCHEDULE}export.csv?date={MOVE_DAY.isoformat()}").status_code == 403
    assert [b.state for b in stored.bookings()] == ["booked"] * 3


def test_unknown_booking_or_action_is_404(as_role, booked):
    service = as_role(roles.SERVICE)
    assert _close(service, 999, "complete").status_code == 404
    assert _close(service, booked[0], "delete").status_code == 404
    assert service.get(f"{SCHEDULE}export.pdf").status_code == 404


def test_csv_export_of_the_day_is_neutralized(app, as_role, booked):
    response = as_role(roles.MANAGER).get(f"{SCHEDULE}export.csv?date={MOVE_DAY.isoformat()}")
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 4
    records = [dict(zip(rows[0], row)) for row in rows[1:]]
    hostile = next(r for r in records if r["房屋"] == "8号楼2单元2601室")
    assert hostile["大件物品"] == "'" + HOSTILE and hostile["业主"] == "'+李"
    oversize = next(r for r in records if r["房屋"] == "2号楼1单元502室")
    assert oversize["业主手机"] == "13912345678"
    assert (oversize["超高大件"], oversize["进场位置"]) == ("是", MOVE_IN["oversize_post"])
    assert (oversize["平推车"], oversize["搬运协助"]) == ("否", "是")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    with app.app_context():
        audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "export"))
    assert audit.actor_name == "manager" and MOVE_DAY.isoformat() in audit.detail


def test_xlsx_export_keeps_text_and_never_formulas(as_role, booked):
    response = as_role(roles.SERVICE).get(f"{SCHEDULE}export.xlsx?date={MOVE_DAY.isoformat()}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet["A2"].value == f"筛选条件：搬家日期：{MOVE_DAY.isoformat()}"
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 4
    records = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert {r["业主手机"] for r in records} == {"13800138000", "13912345678"}
    assert any(r["大件物品"] == "'" + HOSTILE for r in records)
    assert all(r["搬家日期"].date() == MOVE_DAY for r in records)  # a date, not text
    assert {r["超高大件"] for r in records} == {"是", "否"}
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_another_communitys_booking_is_nowhere_here(app, as_role, owner, stored):
    """Bookings belong to a community (issue 28). Another's - of the same room, day, slot and
    seat - is not on this one's schedule, export or remaining places; no close, call or resend
    reaches it; its link opens nothing here; and its seat and room-day stay free here."""
    slot = SLOTS[0]["id"]
    fields = booking_fields(building=1, unit=1, room="101", slot=slot)
    _html, theirs_path = owner.book({**fields, "owner_name": "外区业主"})
    [theirs] = stored.bookings()
    # From here on it is another community's (a plain Core statement: no scope).
    with app.app_context(), write_transaction() as session:
        session.execute(MoveInBooking.__table__.update().values(community="other"))
    assert stored.bookings() == []
    places = owner.client.get(f"/forms/move-in/slots?date={MOVE_DAY.isoformat()}").get_json()
    assert {s["id"]: s["remaining"] for s in places["slots"]}[slot] == SLOTS[0]["capacity"]
    service = as_role(roles.SERVICE)
    assert "外区业主" not in service.get(DAY).get_data(as_text=True)
    export = service.get(f"{SCHEDULE}export.csv?date={MOVE_DAY.isoformat()}")
    assert "外区业主" not in export.get_data(as_text=True)
    token = csrf_token_from(service.get(DAY).get_data(as_text=True))
    for action in ("complete", "cancel", "call", "resend-link"):
        response = service.post(
            f"{SCHEDULE}{theirs.id}/{action}", data={"csrf_token": token, "confirm": "yes"}
        )
        assert response.status_code == 404, action
    assert owner.client.get(theirs_path).status_code == 404
    cancel = csrf_token_from(owner.client.get("/forms/move-in/").get_data(as_text=True))
    assert (
        owner.client.post(f"{theirs_path}/cancel", data={"csrf_token": cancel}).status_code == 404
    )
    # The same room, day, slot and seat are free here.
    owner.book(fields)
    [ours] = stored.bookings()
    assert (ours.room, ours.move_date, ours.slot, ours.seat) == ("101", MOVE_DAY, slot, theirs.seat)
    with app.app_context():
        row = db.session.scalars(
            all_communities(select(MoveInBooking).where(MoveInBooking.id == theirs.id))
        ).one()
        assert (row.community, row.state, row.closed_at) == ("other", "booked", None)
