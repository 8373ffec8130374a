"""Answering a survey: stored once as one row per answer, bad input refused with Chinese
messages and the typed answers kept, closed surveys and repeats refused, nothing stored."""

from __future__ import annotations

import re

import pytest

from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from tests.surveys.conftest import count, form_tokens

# One app object for the module's tests, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

SATISFACTION_ANSWERS = {
    "q_customer_service": "5",
    "q_maintenance": "4",
    "q_security": "4",
    "q_cleaning": "3",
    "q_renovation": "4",
    "q_greening": "2",
    "q_overall": "4",
    "q_recommend": "9",
    "q_comments": "电梯轿厢很干净。",
}
NEEDS_ANSWERS = {
    "building": "8",
    "unit": "2",
    "room": "2501",
    "respondent_name": "张先生",
    "q_household": "3人",
    "q_personal_services": ["家政保洁", "其他（请注明）"],
    "q_personal_services_other": "代买菜",
    "q_preferred_contact": "微信",
}


def post(client, path, answers):
    tokens = form_tokens(client.get(path).get_data(as_text=True))
    return client.post(path, data={**tokens, **answers})


def rows(app, sql):
    with app.app_context():
        return db.session.execute(db.text(sql)).all()


def test_satisfaction_answers_are_stored_one_row_each_without_identity(app, client):
    response = post(client, "/forms/surveys/satisfaction", SATISFACTION_ANSWERS)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/forms/surveys/satisfaction/thanks")
    assert "提交成功" in client.get(response.headers["Location"]).get_data(as_text=True)

    [stored] = rows(
        app,
        "SELECT period, submitted_at, building, unit, room, respondent_name,"
        " invitation_id FROM survey_response",
    )
    period, submitted_at, *identity = stored
    assert period == "2026-H2"
    assert identity == [None] * 5
    # Anonymous: only the local day is kept (00:00 Beijing time = 16:00 UTC the day before).
    assert str(submitted_at).startswith("2026-11-30 16:00:00")
    answers = rows(app, "SELECT question_id, value, option, text FROM survey_answer ORDER BY id")
    assert answers[:2] == [("customer_service", 5, None, None), ("maintenance", 4, None, None)]
    assert ("recommend", 9, None, None) in answers
    assert answers[-1] == ("comments", None, None, "电梯轿厢很干净。")
    # No address is stored anywhere, only a keyed hash for throttling.
    [(client_hash,)] = rows(app, "SELECT client_hash FROM survey_submission")
    assert "127.0.0.1" not in client_hash and len(client_hash) == 40


def test_needs_survey_stores_room_and_other_note(app, client):
    assert post(client, "/forms/surveys/needs", NEEDS_ANSWERS).status_code == 302
    assert rows(app, "SELECT building, unit, room, respondent_name FROM survey_response") == [
        (8, 2, "2501", "张先生")
    ]
    assert rows(
        app,
        "SELECT option, text FROM survey_answer WHERE question_id='personal_services' ORDER BY id",
    ) == [("家政保洁", None), ("其他（请注明）", "代买菜")]


INVALID = [
    ("required missing", "satisfaction", {"q_cleaning": ""}, "cleaning", "请选择满意程度。"),
    ("value out of range", "satisfaction", {"q_cleaning": "7"}, "cleaning", "请选择有效的选项。"),
    (
        "score out of range",
        "satisfaction",
        {"q_recommend": "11"},
        "recommend",
        "分数应在 0–10 之间。",
    ),
    ("forged option", "needs", {"q_household": "10人"}, "household", "所选选项无效"),
    (
        "other without note",
        "needs",
        {"q_personal_services_other": ""},
        "personal_services",
        "选择了“其他”，请注明具体内容。",
    ),
    (
        "too many choices",
        "needs",
        {"q_activities": ["亲子活动", "健康讲座", "节日联欢", "兴趣小组"]},
        "activities",
        "最多只能选择 3 项。",
    ),
    ("unknown room", "needs", {"room": "9901"}, "room", "本小区没有这个房号"),
    (
        "text too long",
        "satisfaction",
        {"q_comments": "好" * 2001},
        "comments",
        "请不要超过 2000 个字",
    ),
]


@pytest.mark.parametrize("what, slug, change, field, message", INVALID, ids=[i[0] for i in INVALID])
def test_invalid_answer_is_refused_and_everything_typed_is_kept(
    app, client, what, slug, change, field, message
):
    answers = {**(SATISFACTION_ANSWERS if slug == "satisfaction" else NEEDS_ANSWERS), **change}
    response = post(client, f"/forms/surveys/{slug}", answers)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "您已填写的内容都已保留" in html
    anchor = "respondent" if field == "room" else f"q-{field}"
    assert re.search(rf'class="[^"]*has-error[^"]*" id="{anchor}"', html)
    # What was typed is still there.
    if slug == "satisfaction":
        assert re.search(r'name="q_customer_service" value="5" checked', html)
        if field != "comments":
            assert "电梯轿厢很干净。" in html
    else:
        assert re.search(r'name="q_preferred_contact" value="微信" checked', html)
        assert 'value="张先生"' in html
        if field != "personal_services":
            assert 'value="代买菜"' in html
    assert count(app, "survey_response") == 0 and count(app, "survey_answer") == 0


@pytest.mark.parametrize(
    "today, title", [("2026-11-14", "调查尚未开始"), ("2027-01-01", "调查已结束")]
)
def test_survey_outside_its_window_stores_nothing(app, client, today, title):
    tokens = form_tokens(client.get("/forms/surveys/satisfaction").get_data(as_text=True))
    app.config["TODAY"] = today
    page = client.get("/forms/surveys/satisfaction").get_data(as_text=True)
    assert title in page and 'name="q_cleaning"' not in page
    response = client.post("/forms/surveys/satisfaction", data={**tokens, **SATISFACTION_ANSWERS})
    assert title in response.get_data(as_text=True)
    assert "本次提交的内容没有保存" in response.get_data(as_text=True)
    assert count(app, "survey_response") == 0
    assert "satisfaction" not in client.get("/forms/surveys/").get_data(as_text=True)


def test_same_browser_cannot_answer_twice(app, client):
    assert post(client, "/forms/surveys/satisfaction", SATISFACTION_ANSWERS).status_code == 302
    page = client.get("/forms/surveys/satisfaction").get_data(as_text=True)
    assert "您已提交过本调查" in page
    assert "您已提交" in client.get("/forms/surveys/").get_data(as_text=True)
    assert count(app, "survey_response") == 1


def test_double_tap_on_submit_stores_once(app, client):
    tokens = form_tokens(client.get("/forms/surveys/satisfaction").get_data(as_text=True))
    for _ in range(2):
        client.delete_cookie("surveys_done", path="/forms/surveys/")
        response = client.post(
            "/forms/surveys/satisfaction", data={**tokens, **SATISFACTION_ANSWERS}
        )
        assert response.status_code == 302
    assert count(app, "survey_response") == 1


def test_address_is_throttled_across_browsers(app):
    app.config["SURVEY_SUBMISSIONS_PER_ADDRESS_PER_HOUR"] = 2
    for _ in range(2):
        assert (
            post(app.test_client(), "/forms/surveys/satisfaction", SATISFACTION_ANSWERS).status_code
            == 302
        )
    response = post(app.test_client(), "/forms/surveys/satisfaction", SATISFACTION_ANSWERS)
    assert response.status_code == 429
    assert "请一小时后再试" in response.get_data(as_text=True)
    assert count(app, "survey_response") == 2


def test_invitation_only_survey_refuses_the_public_link(app, client):
    page = client.get("/forms/surveys/move-in-visit").get_data(as_text=True)
    assert "请使用专属链接" in page and 'name="q_handover"' not in page


def test_unknown_invitation_is_a_chinese_404(client):
    response = client.get("/forms/surveys/i/not-a-real-token-at-all")
    assert response.status_code == 404 and "调查链接无效" in response.get_data(as_text=True)


def test_open_surveys_are_listed(client):
    page = client.get("/forms/surveys/").get_data(as_text=True)
    assert "业主满意度调查" in page and "需求调查" in page
    assert "入住回访" not in page  # by personal link only


def test_address_hashes_are_kept_only_a_day(app):
    """In every community: an old hash of another community goes too."""
    with app.app_context():
        with write_transaction() as session:
            session.execute(
                db.text(
                    "INSERT INTO survey_submission (community, survey, client_hash, created_at)"
                    " VALUES ('other', 'satisfaction', 'old', '2020-01-01 00:00:00')"
                )
            )
    assert (
        post(app.test_client(), "/forms/surveys/satisfaction", SATISFACTION_ANSWERS).status_code
        == 302
    )
    assert [h for (h,) in rows(app, "SELECT client_hash FROM survey_submission")] != ["old"]
    assert count(app, "survey_submission") == 1


def test_double_tap_racing_on_two_workers_stores_once_and_answers_both(app, monkeypatch):
    """On PostgreSQL both taps can pass the nonce check before either commits; the unique
    nonce then refuses the second INSERT, which must answer with the first response."""
    from forms_app.surveys import responses
    from forms_app.surveys.catalog import all_surveys
    from forms_app.surveys.forms import Answer, Submission

    with app.app_context():
        survey = all_surveys()["satisfaction"]
        submission = Submission(answers=[Answer("overall", value=5)])
        first = responses.store_response(survey, submission, nonce="N" * 32)
        # The second tap's check ran before the first tap's commit became visible.
        real_check = responses.response_for_nonce
        calls = []

        def check_before_first_commit(session, nonce):
            calls.append(nonce)
            return None if len(calls) == 1 else real_check(session, nonce)

        monkeypatch.setattr(responses, "response_for_nonce", check_before_first_commit)
        second = responses.store_response(survey, submission, nonce="N" * 32)
    assert second == first
    assert count(app, "survey_response") == 1
