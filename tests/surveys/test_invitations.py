"""Invitation links: a 经理 creates one per household; each can be used once."""

from __future__ import annotations

import pytest

from forms_app.core.extensions import db
from tests.support.staff import login
from tests.surveys.conftest import CSRF, PASSWORD, count, form_tokens

pytestmark = pytest.mark.one_app_per_module

VISIT_ANSWERS = {
    "q_handover": "5",
    "q_renovation": "4",
    "q_moving": "4",
    "q_quality_fixes": "3",
    "q_service_center": "5",
    "q_moving_comment": "搬家时平推车很好用。",
}


def manager_client(app):
    client = app.test_client()
    login(client, "manager", PASSWORD)
    return client


def create_invitations(client, building="1", whom="all"):
    page = client.get("/forms/staff/surveys/move-in-visit/invitations").get_data(as_text=True)
    return client.post(
        "/forms/staff/surveys/move-in-visit/invitations",
        data={"csrf_token": CSRF.search(page).group(1), "building": building, "whom": whom},
        follow_redirects=True,
    )


def tokens(app):
    with app.app_context():
        return dict(
            db.session.execute(
                db.text(
                    "SELECT building || '-' || unit || '-' || room, token FROM survey_invitation"
                )
            ).all()
        )


def test_manager_creates_one_link_per_household_once(staff):
    client = manager_client(staff)
    page = create_invitations(client).get_data(as_text=True)
    # Building 1: 2 units x 18 floors x 2 rooms.
    assert "已新建 72 个邀请链接" in page
    assert "已邀请 <strong>72</strong> 户，已填写 <strong>0</strong> 户" in page
    again = create_invitations(client).get_data(as_text=True)
    assert "已新建 0 个邀请链接" in again
    assert count(staff, "survey_invitation") == 72
    listing = client.get("/forms/staff/surveys/move-in-visit/invitations.csv")
    lines = listing.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == "楼栋,单元,房号,链接,状态,填写日期" and len(lines) == 73
    assert "/forms/surveys/i/" in lines[1] and "未填写" in lines[1]
    with staff.app_context():
        actions = db.session.execute(db.text("SELECT action FROM audit_log")).scalars().all()
    assert "survey.invitations" in actions and "export" in actions


def test_invitation_used_twice_says_already_answered(staff):
    create_invitations(manager_client(staff))
    token = tokens(staff)["1-2-1801"]
    owner = staff.test_client()
    path = f"/forms/surveys/i/{token}"
    page = owner.get(path).get_data(as_text=True)
    assert "1号楼2单元1801室" in page and 'name="room"' not in page
    # A second phone in the household opens the same link before the first one submits.
    spouse = staff.test_client()
    spouse_page = spouse.get(path).get_data(as_text=True)
    response = owner.post(path, data={**form_tokens(page), **VISIT_ANSWERS})
    assert response.status_code == 302
    with staff.app_context():
        stored = db.session.execute(
            db.text("SELECT building, unit, room, invitation_id IS NOT NULL FROM survey_response")
        ).all()
    assert stored == [(1, 2, "1801", 1)]

    # The same link again, from the same or another phone.
    for client in (owner, staff.test_client()):
        again = client.get(path).get_data(as_text=True)
        assert "本住户已经提交过这份调查" in again and 'name="q_handover"' not in again
    late = spouse.post(path, data={**form_tokens(spouse_page), **VISIT_ANSWERS})
    assert "本住户已经提交过这份调查" in late.get_data(as_text=True)
    assert count(staff, "survey_response") == 1

    manager = manager_client(staff)
    listing = manager.get("/forms/staff/surveys/move-in-visit/invitations").get_data(as_text=True)
    assert "已填写 <strong>1</strong> 户" in listing
    csv_text = (
        manager.get("/forms/staff/surveys/move-in-visit/invitations.csv")
        .get_data()
        .decode("utf-8-sig")
    )
    assert f"1,2,1801,http://localhost{path},已填写,2026-12-01" in csv_text.splitlines()


def test_invitation_of_a_closed_survey_stores_nothing(staff):
    create_invitations(manager_client(staff))
    token = tokens(staff)["1-1-101"]
    owner = staff.test_client()
    page = owner.get(f"/forms/surveys/i/{token}").get_data(as_text=True)
    staff.config["TODAY"] = "2028-01-01"
    response = owner.post(f"/forms/surveys/i/{token}", data={**form_tokens(page), **VISIT_ANSWERS})
    assert "调查已结束" in response.get_data(as_text=True)
    assert count(staff, "survey_response") == 0
    with staff.app_context():
        assert (
            db.session.execute(
                db.text("SELECT COUNT(*) FROM survey_invitation WHERE used_on IS NOT NULL")
            ).scalar_one()
            == 0
        )


def test_invalid_invitation_answer_keeps_values_and_link_stays_usable(staff):
    create_invitations(manager_client(staff))
    token = tokens(staff)["1-1-102"]
    owner = staff.test_client()
    path = f"/forms/surveys/i/{token}"
    page = owner.get(path).get_data(as_text=True)
    response = owner.post(path, data={**form_tokens(page), **VISIT_ANSWERS, "q_handover": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "请选择满意程度。" in html
    assert "搬家时平推车很好用。" in html
    assert owner.post(path, data={**form_tokens(html), **VISIT_ANSWERS}).status_code == 302


def test_anonymous_survey_by_invitation_keeps_no_room(staff):
    client = manager_client(staff)
    page = client.get("/forms/staff/surveys/satisfaction/invitations").get_data(as_text=True)
    assert "匿名调查：答卷不与房号关联" in page
    client.post(
        "/forms/staff/surveys/satisfaction/invitations",
        data={"csrf_token": CSRF.search(page).group(1), "building": "11", "whom": "all"},
    )
    with staff.app_context():
        token = db.session.execute(
            db.text("SELECT token FROM survey_invitation WHERE survey='satisfaction' LIMIT 1")
        ).scalar_one()
    owner = staff.test_client()
    path = f"/forms/surveys/i/{token}"
    form = owner.get(path).get_data(as_text=True)
    answers = {
        f"q_{q}": "4"
        for q in (
            "customer_service",
            "maintenance",
            "security",
            "cleaning",
            "renovation",
            "greening",
            "overall",
        )
    }
    assert owner.post(path, data={**form_tokens(form), **answers}).status_code == 302
    with staff.app_context():
        assert db.session.execute(
            db.text("SELECT invitation_id, building, unit, room FROM survey_response")
        ).all() == [(None, None, None, None)]
        assert (
            db.session.execute(
                db.text("SELECT COUNT(*) FROM survey_invitation WHERE used_on IS NOT NULL")
            ).scalar_one()
            == 1
        )
    assert "本住户已经提交过这份调查" in owner.get(path).get_data(as_text=True)
    # No address hash either: the link itself is the limit.
    assert count(staff, "survey_submission") == 0


def test_invitations_go_to_registered_households_and_their_contacts(staff):
    """Per registered household (一户一档): one link each, sent by SMS to the 主要联系人; the
    page says how many households were invited and how many answered."""
    from forms_app.households.models import FAMILY
    from forms_app.notifications.models import Notification
    from tests.support.households import register

    register(staff, 1, 1, "101", "张业主", "13800138000")
    register(staff, 1, 1, "101", "张家人", "13912345678", role=FAMILY)
    register(staff, 1, 2, "1801", "李业主", "13700137000")
    register(staff, 2, 1, "101", "王业主", "13600136000")  # another building
    client = manager_client(staff)
    page = client.get("/forms/staff/surveys/move-in-visit/invitations").get_data(as_text=True)
    assert "现有登记住户 3 户" in page
    response = client.post(
        "/forms/staff/surveys/move-in-visit/invitations",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "building": "1",
            "whom": "registered",
            "send": "yes",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "已新建 2 个邀请链接" in html and "已通过短信发给各户主要联系人" in html
    assert "已邀请 <strong>2</strong> 户，已填写 <strong>0</strong> 户" in html
    assert sorted(tokens(staff)) == ["1-1-101", "1-2-1801"]
    with staff.app_context():
        sent = db.session.execute(
            db.select(Notification.recipient, Notification.text).where(
                Notification.kind == "survey.invitation"
            )
        ).all()
    assert sorted(recipient for recipient, _ in sent) == ["13700137000", "13800138000"]
    links = {token for token in tokens(staff).values()}
    assert all(any(t in text for t in links) for _, text in sent)
    # Again: nothing new, nothing sent twice.
    page = client.get("/forms/staff/surveys/move-in-visit/invitations").get_data(as_text=True)
    client.post(
        "/forms/staff/surveys/move-in-visit/invitations",
        data={"csrf_token": CSRF.search(page).group(1), "building": "1", "send": "yes"},
    )
    assert count(staff, "survey_invitation") == 2 and count(staff, "notification") == 2
    results = client.get("/forms/staff/surveys/move-in-visit").get_data(as_text=True)
    assert "已填写 0 户，共邀请 2 户" in results


def test_another_communitys_invitations_and_answers_are_nowhere_here(staff):
    """Issue 28: another community's invitation of the same room, its answered questionnaire
    and its throttle rows change no page, count, result, text list or export here; its link
    is a 404 here and stores nothing."""
    from types import SimpleNamespace

    from forms_app.surveys.models import (
        SurveyAnswer,
        SurveyInvitation,
        SurveyResponse,
        SurveySubmission,
    )
    from forms_app.surveys.staff_views import invitation_timeline

    manager = manager_client(staff)
    create_invitations(manager)
    ours = tokens(staff)["1-2-1801"]
    owner = staff.test_client()
    page = owner.get(f"/forms/surveys/i/{ours}").get_data(as_text=True)
    assert owner.post(f"/forms/surveys/i/{ours}", data={**form_tokens(page), **VISIT_ANSWERS})
    base = "/forms/staff/surveys/move-in-visit"
    urls = ["/forms/staff/", "/forms/staff/surveys/", base, f"{base}/texts/moving_comment"]
    urls += [f"{base}/export.csv", f"{base}/invitations", f"{base}/invitations.csv"]
    manager.get("/forms/staff/")  # the flash of the invitations
    before = {url: CSRF.sub("", manager.get(url).get_data(as_text=True)) for url in urls}
    with staff.app_context():
        theirs = SurveyInvitation(
            community="other",
            survey="move-in-visit",
            building=1,
            unit=2,
            room="1801",
            created_by="外小区经理",
        )
        theirs.used_on = None
        db.session.add(theirs)
        db.session.flush()
        response = SurveyResponse(
            community="other",
            survey="move-in-visit",
            period="2026-H2",
            submitted_at=db.func.now(),
            nonce="o" * 32,
            building=1,
            unit=2,
            room="1801",
            respondent_name="外小区业主",
        )
        db.session.add(response)
        db.session.flush()
        for question, value, text in (
            ("handover", 1, None),
            ("moving_comment", None, "外小区的话"),
        ):
            db.session.add(
                SurveyAnswer(
                    community="other",
                    response_id=response.id,
                    survey="move-in-visit",
                    period="2026-H2",
                    question_id=question,
                    value=value,
                    text=text,
                )
            )
        db.session.add(SurveySubmission(community="other", survey="needs", client_hash="x"))
        db.session.commit()
        link = theirs.token
    after = {url: CSRF.sub("", manager.get(url).get_data(as_text=True)) for url in urls}
    assert after == before
    stranger = staff.test_client()
    assert stranger.get(f"/forms/surveys/i/{link}").status_code == 404
    own = form_tokens(stranger.get("/forms/surveys/needs").get_data(as_text=True))
    posted = stranger.post(f"/forms/surveys/i/{link}", data={**own, **VISIT_ANSWERS})
    assert posted.status_code == 404
    assert count(staff, "survey_response") == 2
    assert "已新建 0 个邀请链接" in create_invitations(manager).get_data(as_text=True)
    with staff.test_request_context():
        room = SimpleNamespace(building=1, unit=2, number="1801")
        entries = invitation_timeline(room, [])
        assert [entry.actor for entry in entries] == ["manager（经理）", ""]  # made, answered
