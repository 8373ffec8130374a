"""Training sessions (培训记录): recorded by a 经理 or 客服主管 with attendees ticked, or signing
in on their own phones on the day; bad input is refused and nothing is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forms_app.accounts import roles
from forms_app.core.database import write_transaction
from forms_app.training.models import TrainingAttendance, TrainingSession
from tests.support.forms import csrf_token_from

from .conftest import HOME, SESSION_PATH, TODAY, nonce_from, sign_in_code

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

NEW = HOME + "sessions/new"


class Recorder:
    def __init__(self, trainee_):
        self.client = trainee_.client

    def open_form(self) -> dict:
        html = self.client.get(NEW).get_data(as_text=True)
        return {"csrf_token": csrf_token_from(html), "nonce": nonce_from(html)}

    def submit(self, fields: dict, hidden: dict | None = None):
        return self.client.post(NEW, data={**(hidden or self.open_form()), **fields})

    def record(self, fields: dict) -> int:
        response = self.submit(fields)
        assert response.status_code == 303, response.get_data(as_text=True)[:3000]
        return int(SESSION_PATH.search(response.location).group(1))


@pytest.fixture
def recorder(trainee):
    return Recorder(trainee(roles.SERVICE_LEAD))


def session_fields(stored, **overrides) -> dict:
    fields = {
        "held_on": TODAY.isoformat(),
        "starts_at": "00:00",
        "topic": "SERVICE 服务系统与接待规范",
        "trainer": str(stored.user("service_lead").id),
        "sections": ["service-code#ssmile微笑", "service-code#iinviting邀请"],
        "quiz": "service-code",
        "attendees": [str(stored.user("service").id)],
        "note": "每周客服培训",
    }
    fields.update(overrides)
    return fields


def test_the_service_lead_records_the_weekly_training(recorder, stored):
    session_id = recorder.record(session_fields(stored))
    page = recorder.client.get(f"{HOME}sessions/{session_id}").get_data(as_text=True)
    assert "SERVICE 服务系统与接待规范" in page and "service_lead（客服主管）" in page
    assert (
        "SERVICE 服务系统 › S：SMILE（微笑）" in page
        and "SERVICE 服务系统 › I：INVITING（邀请）" in page
    )
    assert "主持人勾选" in page
    assert stored.attendances(session_id) == {"service": "ticked"}
    listing = recorder.client.get(HOME + "sessions/").get_data(as_text=True)
    assert f"PX{session_id:05d}" in listing


def test_a_session_posted_twice_is_one_session(recorder, stored):
    hidden = recorder.open_form()
    first = recorder.submit(session_fields(stored), hidden)
    second = recorder.submit(session_fields(stored), hidden)
    assert first.location == second.location
    assert stored.count(TrainingSession) == 1 and stored.count(TrainingAttendance) == 1


def test_only_the_manager_and_the_service_lead_record_sessions(trainee):
    for role in roles.ROLES:
        response = trainee(role).client.get(NEW)
        assert (response.status_code == 200) == (role in {roles.MANAGER, roles.SERVICE_LEAD}), role


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("held_on", "", "请填写培训日期"),
        ("held_on", "2026-13-01", "格式应为"),
        ("held_on", (TODAY + timedelta(days=31)).isoformat(), "最多只能提前 30 天"),
        ("held_on", (TODAY - timedelta(days=400)).isoformat(), "请核对年份"),
        ("topic", "  ", "请填写培训主题"),
        ("topic", "x" * 101, "不超过 100 字"),
        ("trainer", "999", "请选择列表中的主讲人"),
        ("trainer", "", "请选择列表中的主讲人"),
        ("sections", ["service-code#没有"], "所选章节不在员工手册中"),
        ("quiz", "essay", "请选择列表中的测验"),
        ("attendees", ["999"], "参加人中有不存在或已停用的账号"),
        ("note", "x" * 501, "备注不超过 500 字"),
    ],
)
def test_bad_session_input_is_refused_beside_its_field_and_kept(
    recorder, stored, field, value, message
):
    response = recorder.submit(session_fields(stored, **{field: value}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error">' in page and message in page
    assert 'value="SERVICE 服务系统与接待规范"' in page or field == "topic"
    assert stored.count(TrainingSession) == 0 and stored.count(TrainingAttendance) == 0


def test_attendees_sign_in_on_their_own_phones_on_the_day(app, recorder, trainee, stored):
    session_id = recorder.record(session_fields(stored, attendees=[]))
    guard = trainee(roles.SECURITY)
    assert "今天的培训：SERVICE 服务系统与接待规范" in guard.html()
    url = f"{HOME}sessions/{session_id}/sign-in"
    attend = f"{HOME}sessions/{session_id}/attend"
    page = guard.html(url)
    assert "签到：security" in page
    response = guard.client.post(
        attend, data={"csrf_token": csrf_token_from(page), "code": sign_in_code(app, session_id)}
    )
    assert response.status_code == 303
    assert "已签到" in guard.html(url)
    again = guard.client.post(
        attend, data={"csrf_token": csrf_token_from(page), "code": sign_in_code(app, session_id)}
    )
    assert again.status_code == 303 and "您已经签到过了" in guard.html(url)
    assert stored.attendances(session_id) == {"security": "signed"}
    record = guard.html(HOME + "me")
    assert "SERVICE 服务系统与接待规范" in record and "本人签到" in record


def test_signing_in_on_another_day_is_refused(app, recorder, trainee, stored):
    session_id = recorder.record(
        session_fields(stored, attendees=[], held_on=(TODAY + timedelta(days=2)).isoformat())
    )
    guard = trainee(roles.SECURITY)
    url = f"{HOME}sessions/{session_id}/sign-in"
    attend = f"{HOME}sessions/{session_id}/attend"
    page = guard.html(url)
    assert "只能在培训当天" in page and "签到：" not in page
    response = guard.client.post(
        attend, data={"csrf_token": csrf_token_from(page), "code": sign_in_code(app, session_id)}
    )
    assert response.status_code == 400
    assert "只能在培训当天签到" in response.get_data(as_text=True)
    assert stored.attendances(session_id) == {}
    assert trainee(roles.SECURITY).client.get(f"{HOME}sessions/99999/sign-in").status_code == 404


def test_ticking_keeps_someone_who_signed_in_after_the_page_was_opened(
    app, recorder, trainee, stored
):
    session_id = recorder.record(session_fields(stored))
    detail = recorder.client.get(f"{HOME}sessions/{session_id}").get_data(as_text=True)
    guard = trainee(roles.SECURITY)
    url = f"{HOME}sessions/{session_id}/sign-in"
    attend = f"{HOME}sessions/{session_id}/attend"
    guard.client.post(
        attend,
        data={
            "csrf_token": csrf_token_from(guard.html(url)),
            "code": sign_in_code(app, session_id),
        },
    )
    # The page opened before the guard signed in: untick 客服, tick the cleaner.
    response = recorder.client.post(
        f"{HOME}sessions/{session_id}/attendees",
        data={
            "csrf_token": csrf_token_from(detail),
            "listed": [str(stored.user("service").id)],
            "attendees": [str(stored.user("cleaner").id)],
        },
    )
    assert response.status_code == 303
    assert stored.attendances(session_id) == {"security": "signed", "cleaner": "ticked"}


def test_ticking_an_unknown_account_changes_nothing(recorder, stored):
    session_id = recorder.record(session_fields(stored))
    token = csrf_token_from(
        recorder.client.get(f"{HOME}sessions/{session_id}").get_data(as_text=True)
    )
    for attendees, listed in ((["999"], []), (["\x00"], []), ([], ["abc"]), (["1" * 5000], [])):
        response = recorder.client.post(
            f"{HOME}sessions/{session_id}/attendees",
            data={"csrf_token": token, "attendees": attendees, "listed": listed},
        )
        assert response.status_code == 400
        assert "名单中有不存在的账号" in response.get_data(as_text=True)
    assert stored.attendances(session_id) == {"service": "ticked"}
    assert (
        recorder.client.post(
            f"{HOME}sessions/99999/attendees", data={"csrf_token": token}
        ).status_code
        == 404
    )


def test_signing_in_needs_the_code_shown_in_the_room(app, recorder, trainee, stored):
    """The code on the trainer's screen changes every minute; without it (from anywhere but
    the room) nobody signs in, and wrong guesses run out."""
    session_id = recorder.record(session_fields(stored, attendees=[]))
    screen = recorder.client.get(f"{HOME}sessions/{session_id}/code")
    assert screen.status_code == 200 and "no-store" in screen.headers["Cache-Control"]
    shown = screen.get_data(as_text=True)
    code = sign_in_code(app, session_id)
    assert f'id="code" aria-label="签到码">{code}</p>' in shown
    assert "<svg" in shown and "viewBox" in shown  # the QR code of the sign-in link
    guard = trainee(roles.SECURITY)
    url = f"{HOME}sessions/{session_id}/sign-in"
    attend = f"{HOME}sessions/{session_id}/attend"
    assert f'value="{code}"' in guard.html(f"{url}?code={code}")  # the QR fills it in
    page = guard.html(url)
    wrong = str((int(code) + 1) % 10000).zfill(4)
    for attempt in ("", wrong, "abcd", "9" * 50):
        response = guard.client.post(
            attend, data={"csrf_token": csrf_token_from(page), "code": attempt}
        )
        assert response.status_code == 400, attempt
        assert "签到码不对或已过期" in response.get_data(as_text=True)
    assert stored.attendances(session_id) == {}
    # A fifth wrong code: then even the right one waits.
    guard.client.post(attend, data={"csrf_token": csrf_token_from(page), "code": wrong})
    locked = guard.client.post(attend, data={"csrf_token": csrf_token_from(page), "code": code})
    assert locked.status_code == 400 and "输错 5 次" in locked.get_data(as_text=True)
    assert stored.attendances(session_id) == {}
    # Another person with the right code signs in, and how late is recorded.
    cleaner = trainee(roles.CLEANER)
    response = cleaner.client.post(
        attend, data={"csrf_token": csrf_token_from(cleaner.html(url)), "code": code}
    )
    assert response.status_code == 303
    assert stored.attendances(session_id) == {"cleaner": "signed"}
    detail = recorder.client.get(f"{HOME}sessions/{session_id}").get_data(as_text=True)
    assert (
        "迟到" in detail.split('id="attendance"')[1]
    )  # 00:00 start: anyone is late but at midnight
    # Only the recorders show the code.
    assert guard.client.get(f"{HOME}sessions/{session_id}/code").status_code == 403


def test_a_start_time_is_required(recorder, stored):
    for value, message in (
        ("", "请填写开始时间"),
        ("25:00", "00:00 到 23:59"),
        ("下午", "请填写开始时间"),
    ):
        response = recorder.submit(session_fields(stored, starts_at=value))
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert stored.count(TrainingSession) == 0


def test_todays_session_is_on_the_trainees_home(app, recorder, trainee, stored):
    session_id = recorder.record(session_fields(stored, attendees=[], starts_at="14:00"))
    guard = trainee(roles.SECURITY)
    home = guard.html("/forms/staff/")
    assert "今天的培训：<strong>SERVICE 服务系统与接待规范</strong>（14:00 开始）" in home
    assert f"/forms/staff/training/sessions/{session_id}/sign-in" in home
    guard.client.post(
        f"{HOME}sessions/{session_id}/attend",
        data={
            "csrf_token": csrf_token_from(guard.html(f"{HOME}sessions/{session_id}/sign-in")),
            "code": sign_in_code(app, session_id),
        },
    )
    assert "已签到" in guard.html("/forms/staff/").split(f'id="home-session-{session_id}"')[1]


def test_another_communitys_session_is_neither_listed_nor_opened(app, as_role):
    """Sessions belong to the community they were held in (issue 28); this one's staff see
    only theirs, while a person's own records keep every session they attended."""
    with app.app_context():
        with write_transaction() as session:
            other = TrainingSession(
                community="elsewhere",
                submission_nonce="n" * 32,
                held_on=TODAY,
                topic="别的小区的培训",
                trainer_name="外区讲师",
                recorded_by_name="外区讲师",
            )
            session.add(other)
            session.flush()
            other_id = other.id
    manager = as_role(roles.MANAGER)
    assert "别的小区的培训" not in manager.get("/forms/staff/training/sessions/").get_data(True)
    assert "别的小区的培训" not in manager.get(HOME).get_data(True)
    assert manager.get(f"/forms/staff/training/sessions/{other_id}").status_code == 404
    assert manager.get(f"/forms/staff/training/sessions/{other_id}/sign-in").status_code == 404
    export = manager.get("/forms/staff/training/sessions/export.csv")
    assert "别的小区的培训" not in export.get_data(True)
