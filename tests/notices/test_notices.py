"""公告 through the app as staff and households use it: who may publish, what the board and
我的办理 show to whom, one message per household in scope (after quiet hours unless urgent),
corrections and withdrawals in the open, set-time publication, the renovation 温馨提示, and every
bad input refused with a Chinese message and nothing stored."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from forms_app.accounts.models import DutyShift, StaffUser
from forms_app.accounts.organisation import shifts_around
from forms_app.core.clock import local_time, utcnow
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.notices import kinds as notice_kinds
from forms_app.notices import publishing
from forms_app.notices.models import Notice, NoticeRead, NoticeVersion
from forms_app.notifications.models import Notification
from tests.support.households import register, signed_in
from tests.support.staff import placement

pytestmark = pytest.mark.one_app_per_module

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def local(moment: datetime) -> str:
    return local_time(moment).strftime("%Y-%m-%dT%H:%M")


def form(**changes) -> dict:
    """A 停水 notice for building 3, tomorrow 09:00–17:00, public, not urgent."""
    start = utcnow() + timedelta(days=1)
    values = {
        "kind": "water",
        "title": "停水通知",
        "field_reason": "二次供水水箱清洗",
        "field_prepare": "请提前储水",
        "scope_kind": "buildings",
        "buildings": ["3"],
        "starts_at": local(start),
        "ends_at": local(start + timedelta(hours=8)),
        "audience": "public",
        "action": "draft",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def activity() -> dict:
    """A 社区活动 for the whole community, published at once."""
    return form(
        kind="activity",
        title="社区活动",
        field_place="中心广场",
        field_content="亲子运动会",
        scope_kind="community",
        buildings=None,
        action="publish",
    )


def post(client, path: str, data: dict):
    page = (
        client.get(path).get_data(as_text=True)
        if not path.endswith(("publish", "withdraw"))
        else None
    )
    token = CSRF.search(page).group(1) if page else _token(client)
    return client.post(path, data={**data, "csrf_token": token})


def _token(client) -> str:
    return CSRF.search(
        client.get("/forms/staff/notices/new?kind=water").get_data(as_text=True)
    ).group(1)


def notices(app) -> list[Notice]:
    with app.test_request_context():
        found = list(db.session.scalars(select(Notice).order_by(Notice.id)))
        db.session.expunge_all()
        return found


def messages(app, notice_id: int | None = None) -> list[Notification]:
    with app.test_request_context():
        query = select(Notification).where(Notification.record_type == "notice")
        if notice_id is not None:
            query = query.where(Notification.record_id == notice_id)
        found = list(db.session.scalars(query.order_by(Notification.id)))
        db.session.expunge_all()
        return found


@pytest.fixture
def homes(app):
    """Registered households: two in building 3 (one with two people), one in building 5."""
    register(app, 3, 1, "101", "张三", "13800000301")
    register(app, 3, 1, "101", "张三妻", "13800000302", role="family")
    register(app, 3, 2, "102", "李四", "13800000303")
    register(app, 5, 1, "101", "王五", "13800000501")
    return app


def test_a_draft_by_the_desk_is_published_by_the_lead_and_reaches_building_3_only(homes, as_role):
    desk = as_role("service")
    response = post(desk, "/forms/staff/notices/new?kind=water", form())
    assert response.status_code == 303
    [notice] = notices(homes)
    assert notice.state == "draft" and notice.scope == [3]
    assert "因二次供水水箱清洗，3号楼将于" in notice.body and "请提前储水。" in notice.body
    # The desk cannot publish; the page says who can.
    page = desk.get(f"/forms/staff/notices/{notice.id}").get_data(as_text=True)
    assert "草稿待客服主管或经理发布" in page
    refused = post(desk, f"/forms/staff/notices/{notice.id}/publish", {"action": "publish"})
    assert refused.status_code == 303 and notices(homes)[0].state == "draft"
    # Not on the board while a draft.
    board = homes.test_client().get("/forms/notices/board.json").get_json()
    assert board["notices"] == []
    lead = as_role("service_lead")
    # The lead's home says a draft waits for them.
    assert "草稿 1 条待您发布" in lead.get("/forms/staff/").get_data(as_text=True)
    post(lead, f"/forms/staff/notices/{notice.id}/publish", {"action": "publish"})
    [notice] = notices(homes)
    assert notice.state == "published"
    board = homes.test_client().get("/forms/notices/board.json")
    assert board.headers["Cache-Control"] == "public, max-age=60"
    [item] = board.get_json()["notices"]
    assert item["scope"] == "3号楼" and item["buildings"] == [3] and item["kind"] == "停水"
    # One message per household in scope, to its 主要联系人; nothing to building 5.
    sent = messages(homes, notice.id)
    assert sorted(m.recipient for m in sent) == ["13800000301", "13800000303"]
    assert all("3号楼" in m.text and "/forms/notices/" in m.text for m in sent)
    assert sent[0].params[0] == "停水"


def test_quiet_hours_hold_messages_that_are_not_urgent(homes):
    with homes.test_request_context():
        night = datetime(2026, 12, 7, 14, 30)  # 22:30 in China
        morning = notice_kinds.after_quiet_hours(night)
        assert local_time(morning).strftime("%Y-%m-%d %H:%M") == "2026-12-08 08:00"
        early = datetime(2026, 12, 7, 22, 0)  # 06:00 on the 8th in China
        assert local_time(notice_kinds.after_quiet_hours(early)).strftime("%d %H:%M") == "08 08:00"
        day = datetime(2026, 12, 7, 3, 0)  # 11:00
        assert notice_kinds.after_quiet_hours(day) == day


def test_urgent_notice_by_whoever_is_on_duty_with_the_reason(homes, as_role):
    guard = as_role("security")
    # Not urgent: a guard may not write it.
    response = post(guard, "/forms/staff/notices/new?kind=water", form(action="publish"))
    assert response.status_code == 400
    assert "其他公告请由客服起草" in response.get_data(as_text=True)
    assert notices(homes) == []
    # Urgent but not on duty: saved as a draft, not published.
    post(guard, "/forms/staff/notices/new?kind=water", form(urgent="1", action="publish"))
    [notice] = notices(homes)
    assert notice.state == "draft"
    # On the rota now: published, the reason required and recorded.
    with homes.test_request_context():
        now = local_time(utcnow()).replace(tzinfo=None)
        day, shift = shifts_around(now)[0]
        with write_transaction() as session:
            session.execute(placement("security", "security", is_head=False))
            user = session.scalar(select(StaffUser).where(StaffUser.username == "security"))
            session.add(
                DutyShift(
                    community="shanshui",
                    department="security",
                    day=day,
                    shift=shift.id,
                    user_id=user.id,
                )
            )
    no_reason = post(guard, f"/forms/staff/notices/{notice.id}/publish", {"action": "publish"})
    assert no_reason.status_code == 303 and notices(homes)[0].state == "draft"
    post(
        guard,
        f"/forms/staff/notices/{notice.id}/publish",
        {"action": "publish", "reason": "3号楼主管道爆裂，夜间无主管在岗"},
    )
    [notice] = notices(homes)
    assert notice.state == "published" and notice.publish_reason.startswith("3号楼主管道爆裂")
    # Urgent: sent at once, not held for the morning.
    assert all(m.next_attempt_at <= utcnow() for m in messages(homes, notice.id))
    page = guard.get(f"/forms/staff/notices/{notice.id}").get_data(as_text=True)
    assert "当班发布原因：3号楼主管道爆裂" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_at": "__before__"}, "结束时间须晚于开始时间"),
        ({"scope_kind": "buildings", "buildings": []}, "请选择公告适用的楼栋"),
        ({"scope_kind": "units", "units": []}, "请选择公告适用的单元"),
        ({"scope_kind": "buildings", "buildings": ["99"]}, "所选楼栋不在本小区"),
        ({"scope_kind": "units", "units": ["3-9"]}, "所选单元不在本小区"),
        ({"scope_kind": None}, "请选择公告适用的范围"),
        ({"field_reason": "  "}, "请填写“停水原因”"),
        ({"starts_at": "明天上午"}, "请填写开始时间"),
        ({"ends_at": "2020-01-01T10:00", "starts_at": "2020-01-01T09:00"}, "结束时间已经过去"),
        ({"field_prepare": "请3号楼1单元1801室的业主提前储水"}, "公开的公告不能写房号"),
        ({"field_prepare": "有事请联系13912345678"}, "公开的公告不能写房号"),
        ({"audience": "everyone"}, "请选择谁能看到"),
        ({"kind": "flood"}, "请选择公告种类"),
        ({"title": "停" * 61}, "标题不能超过 60 个字"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(homes, as_role, changes, message):
    values = form(**changes)
    if changes.get("ends_at") == "__before__":
        values["ends_at"] = local(utcnow() + timedelta(hours=20))
    response = post(as_role("service_lead"), "/forms/staff/notices/new?kind=water", values)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert notices(homes) == [] and messages(homes) == []


def test_markup_is_shown_as_text_everywhere(homes, as_role):
    lead = as_role("service_lead")
    post(
        lead,
        "/forms/staff/notices/new?kind=other",
        form(
            kind="other",
            title="<script>alert(1)</script>通知",
            field_content='<img src=x onerror="alert(2)">请知悉',
            action="publish",
        ),
    )
    [notice] = notices(homes)
    for path in (
        f"/forms/notices/{notice.id}",
        "/forms/notices/",
        f"/forms/staff/notices/{notice.id}",
    ):
        page = lead.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;通知" in page
    # The JSON carries the text as text; the home page's script writes it with textContent.
    item = homes.test_client().get("/forms/notices/board.json").get_json()["notices"][0]
    assert item["title"] == "<script>alert(1)</script>通知"


def test_households_only_notice_opens_for_the_households_it_concerns(homes, as_role):
    lead = as_role("service_lead")
    post(
        lead,
        "/forms/staff/notices/new?kind=fees",
        form(
            kind="fees",
            title="欠费公示",
            field_content="3号楼1单元101室 物业费 2026年11月 未交",
            scope_kind="units",
            units=["3-1"],
            audience="households",
            action="publish",
        ),
    )
    [notice] = notices(homes)
    assert notice.state == "published" and notice.scope == ["3-1"]
    stranger = homes.test_client()
    assert stranger.get("/forms/notices/board.json").get_json()["notices"] == []
    assert "欠费公示" not in stranger.get("/forms/notices/").get_data(as_text=True)
    # A stranger is sent to sign in; building 5 and unit 3-2 do not find it.
    assert stranger.get(f"/forms/notices/{notice.id}").status_code == 303
    five = signed_in(homes, "13800000501")
    assert five.get(f"/forms/notices/{notice.id}").status_code == 404
    assert "欠费公示" not in five.get("/forms/notices/mine").get_data(as_text=True)
    other_unit = signed_in(homes, "13800000303")
    assert other_unit.get(f"/forms/notices/{notice.id}").status_code == 404
    # The household in 3-1 sees it, unread, then read; staff see one household opened it.
    mine = signed_in(homes, "13800000301")
    listing = mine.get("/forms/notices/mine").get_data(as_text=True)
    assert "欠费公示" in listing and "未读" in listing
    assert "1 条未读" in mine.get("/forms/my/").get_data(as_text=True)
    page = mine.get(f"/forms/notices/{notice.id}")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    mine.get(f"/forms/notices/{notice.id}")
    assert "未读" not in mine.get("/forms/notices/mine").get_data(as_text=True)
    with homes.test_request_context():
        assert db.session.scalar(select(func.count()).select_from(NoticeRead)) == 1
    staff_page = lead.get(f"/forms/staff/notices/{notice.id}").get_data(as_text=True)
    assert re.search(
        r"范围内登记住户 1 户，已在我的办理中打开 <strong id=\"reads\">1</strong> 户", staff_page
    )
    # 收费公示 is not a messaged kind by default.
    assert messages(homes, notice.id) == []


def test_a_correction_is_shown_and_sends_again_only_when_time_or_scope_changes(homes, as_role):
    lead = as_role("service_lead")
    post(lead, "/forms/staff/notices/new?kind=water", form(action="publish"))
    [notice] = notices(homes)
    assert len(messages(homes, notice.id)) == 2
    wording = form(field_prepare="请提前储水，关闭水龙头", reason="补充注意事项")
    wording["starts_at"], wording["ends_at"] = local(notice.starts_at), local(notice.ends_at)
    response = post(lead, f"/forms/staff/notices/{notice.id}/correct", wording)
    assert response.status_code == 303
    assert len(messages(homes, notice.id)) == 2  # only the wording changed: no message
    # Without a reason: refused, nothing changed.
    refused = post(lead, f"/forms/staff/notices/{notice.id}/correct", form(buildings=["3", "5"]))
    assert refused.status_code == 400 and "请写明更正原因" in refused.get_data(as_text=True)
    assert notices(homes)[0].version == 2
    # The scope grows to building 5: every household in the new scope is told once more.
    wider = dict(wording, buildings=["3", "5"], reason="5号楼同时停水")
    post(lead, f"/forms/staff/notices/{notice.id}/correct", wider)
    sent = messages(homes, notice.id)
    assert len(sent) == 5 and sent[-1].kind == "notice.corrected"
    assert sorted(m.recipient for m in sent[2:]) == ["13800000301", "13800000303", "13800000501"]
    page = homes.test_client().get(f"/forms/notices/{notice.id}").get_data(as_text=True)
    assert "更正记录" in page and "5号楼同时停水" in page and "补充注意事项" in page
    with homes.test_request_context():
        assert db.session.scalar(select(func.count()).select_from(NoticeVersion)) == 2
    [item] = homes.test_client().get("/forms/notices/board.json").get_json()["notices"]
    assert item["corrected"] and item["scope"] == "3号楼、5号楼"


def test_withdrawn_and_ended_notices_leave_the_board(homes, as_role):
    lead = as_role("service_lead")
    post(lead, "/forms/staff/notices/new?kind=water", form(action="publish"))
    post(
        lead,
        "/forms/staff/notices/new?kind=lift",
        form(kind="lift", field_lifts="1号梯", action="publish"),
    )
    first, second = notices(homes)
    board = homes.test_client().get("/forms/notices/board.json").get_json()["notices"]
    assert [n["id"] for n in board] == [second.id, first.id]  # newest first
    empty = post(lead, f"/forms/staff/notices/{first.id}/withdraw", {"reason": ""})
    assert empty.status_code == 303 and notices(homes)[0].state == "published"
    post(lead, f"/forms/staff/notices/{first.id}/withdraw", {"reason": "水箱清洗改期"})
    assert notices(homes)[0].state == "withdrawn"
    told = [m for m in messages(homes, first.id) if m.kind == "notice.withdrawn"]
    assert len(told) == 2 and "已取消" in told[0].text
    page = homes.test_client().get(f"/forms/notices/{first.id}").get_data(as_text=True)
    assert "此公告已于" in page and "水箱清洗改期" in page
    # The second one's time ends: it leaves by itself.
    with homes.test_request_context(), write_transaction() as session:
        session.execute(
            update(Notice)
            .where(Notice.id == second.id)
            .values(ends_at=utcnow() - timedelta(seconds=1))
        )
    assert homes.test_client().get("/forms/notices/board.json").get_json()["notices"] == []
    assert "此公告的时间已过" in homes.test_client().get(f"/forms/notices/{second.id}").get_data(
        as_text=True
    )


def test_urgent_first_and_the_building_filter(homes, as_role):
    lead = as_role("service_lead")
    post(lead, "/forms/staff/notices/new?kind=water", form(urgent="1", action="publish"))
    post(
        lead,
        "/forms/staff/notices/new?kind=power",
        form(kind="power", title=None, buildings=["5"], action="publish"),
    )
    post(
        lead,
        "/forms/staff/notices/new?kind=activity",
        activity(),
    )
    urgent, five, everyone = notices(homes)
    board = homes.test_client().get("/forms/notices/board.json").get_json()["notices"]
    assert [n["id"] for n in board] == [urgent.id, everyone.id, five.id]
    assert board[0]["urgent"] and board[1]["buildings"] is None and board[2]["scope"] == "5号楼"
    page = homes.test_client().get("/forms/notices/?building=5").get_data(as_text=True)
    assert "社区活动" in page and "停电通知" in page and "停水通知" not in page
    page = homes.test_client().get("/forms/notices/?building=3").get_data(as_text=True)
    assert "停电通知" not in page and "停水通知" in page


def test_activity_messages_only_to_households_that_asked(homes, as_role):
    mine = signed_in(homes, "13800000301")
    page = mine.get("/forms/notices/mine").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    assert (
        mine.post("/forms/notices/mine", data={"csrf_token": token, "activity": "1"}).status_code
        == 303
    )
    assert "已开通" in mine.get("/forms/notices/mine").get_data(as_text=True)
    lead = as_role("service_lead")
    post(
        lead,
        "/forms/staff/notices/new?kind=activity",
        activity(),
    )
    [notice] = notices(homes)
    assert [m.recipient for m in messages(homes, notice.id)] == ["13800000301"]


def test_set_time_publication_waits_then_the_scan_sends(homes, as_role):
    lead = as_role("service_lead")
    at = local(utcnow() + timedelta(hours=2))
    post(lead, "/forms/staff/notices/new?kind=water", form(action="schedule", publish_at=at))
    [notice] = notices(homes)
    assert notice.state == "published" and notice.publish_at > utcnow()
    assert homes.test_client().get("/forms/notices/board.json").get_json()["notices"] == []
    assert homes.test_client().get(f"/forms/notices/{notice.id}").status_code == 404
    assert messages(homes) == []
    with homes.test_request_context():
        assert publishing.send_due() == 0
        with write_transaction() as session:
            session.execute(
                update(Notice)
                .where(Notice.id == notice.id)
                .values(publish_at=utcnow() - timedelta(minutes=1))
            )
        assert publishing.send_due() == 2
        assert publishing.send_due() == 0  # once per household, however often the scan runs
    assert len(homes.test_client().get("/forms/notices/board.json").get_json()["notices"]) == 1
    # A set time in the past is refused.
    past = post(
        lead,
        "/forms/staff/notices/new?kind=water",
        form(action="schedule", publish_at="2020-01-01T08:00"),
    )
    assert past.status_code == 303
    assert notices(homes)[-1].state == "draft"


def test_renovation_approval_puts_the_reminder_on_the_unit_board(homes, as_role):
    from forms_app.renovation.models import RenovationApplication
    from tests.support.renovation import file_application, walk

    application_id = file_application(homes, building=3, unit=1, room="1801")
    desk = as_role("service")  # the accounts exist for walk's 经理
    walk(homes, application_id, "approve")
    with homes.test_request_context():
        application = db.session.get(RenovationApplication, application_id)
        reference, end = application.reference, application.end_date
    [notice] = notices(homes)
    assert notice.source == f"renovation:{application_id}" and notice.scope == ["3-1"]
    assert notice.audience == "households" and "1801室" in notice.body and reference in notice.body
    assert "施工时间：工作日 08:00–12:00、14:00–18:00" in notice.body
    assert local_time(notice.ends_at).date() == end + timedelta(days=1)
    # Never public: the room is named.
    assert homes.test_client().get("/forms/notices/board.json").get_json()["notices"] == []
    mine = signed_in(homes, "13800000301")
    assert "装修温馨提示" in mine.get("/forms/notices/mine").get_data(as_text=True)
    five = signed_in(homes, "13800000501")
    assert "装修温馨提示" not in five.get("/forms/notices/mine").get_data(as_text=True)
    poster = desk.get(f"/forms/staff/notices/{notice.id}/poster").get_data(as_text=True)
    assert "装修温馨提示" in poster and "viewBox" in poster and "扫码查看网上公告" in poster
    # 延期 corrects the reminder's end in the open.
    walk(homes, application_id, "start", "extend")
    [notice] = notices(homes)
    assert local_time(notice.ends_at).date() == end + timedelta(days=8)
    assert notice.version == 2 and notice.corrected_at is not None
