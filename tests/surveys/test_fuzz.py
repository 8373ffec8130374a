"""Odd values in every field of a questionnaire: never a 500, nothing stored, the Chinese message
inside the question's card; personal links never looked up with junk and never cached."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.surveys.models import SurveyInvitation, SurveyResponse, new_token
from tests.support.fuzz import NOT_UTF8, ODD_NUMBER, ODD_TEXT, assert_chinese_errors, odd_post
from tests.surveys.conftest import count, form_tokens

# Hundreds of small tests: one app object for them all, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

NEEDS = {
    "building": "8",
    "unit": "2",
    "room": "2501",
    "respondent_name": "张先生",
    "q_household": "3人",
    "q_personal_services": ["家政保洁", "其他（请注明）"],
    "q_personal_services_other": "代买菜",
    "q_preferred_contact": "微信",
}
SATISFACTION = {
    "q_customer_service": "5",
    "q_maintenance": "4",
    "q_security": "4",
    "q_cleaning": "3",
    "q_renovation": "4",
    "q_greening": "2",
    "q_overall": "4",
    "q_recommend": "9",
}
ODD_CHOICE = ["", "\x00", "x" * 5000, NOT_UTF8, ["bogus", "3人"], None]
ODD_SCALE = ["", "\x00", "0", "6", "-1", "５", "4.0", "9" * 5000, NOT_UTF8, None]
TOO_LONG_OR_UNREADABLE = ["x" * 5000, "好\ufffd", NOT_UTF8]

CASES = (
    # (survey, field, value, where the message shows: the card's id)
    [
        ("needs", f, v, "respondent")
        for f in ("building", "unit", "room")
        for v in ODD_NUMBER + [None, ["99", "8"]]
    ]
    + [("needs", "respondent_name", v, "respondent") for v in TOO_LONG_OR_UNREADABLE]
    + [("needs", "q_household", v, "q-household") for v in ODD_CHOICE]
    + [("needs", "q_personal_services", v, "q-personal_services") for v in ODD_CHOICE]
    + [
        ("needs", "q_personal_services_other", v, "q-personal_services")
        for v in ODD_TEXT[:5] + TOO_LONG_OR_UNREADABLE
    ]
    + [("needs", "q_other_needs", v, "q-other_needs") for v in TOO_LONG_OR_UNREADABLE]
    + [("needs", "q_potential_needs", v, "q-potential_needs") for v in TOO_LONG_OR_UNREADABLE]
    + [("satisfaction", "q_overall", v, "q-overall") for v in ODD_SCALE]
    + [
        ("satisfaction", "q_recommend", v, "q-recommend")
        for v in ["\x00", "-1", "11", "１0", "4.0", "9" * 5000, NOT_UTF8]
    ]
    + [("satisfaction", "q_comments", v, "q-comments") for v in TOO_LONG_OR_UNREADABLE]
)


def card(page: str, card_id: str) -> str:
    match = re.search(rf'<fieldset[^>]* id="{card_id}">(.*?)</fieldset>', page, re.S)
    assert match, f"no card {card_id}"
    return match.group(1)


@pytest.fixture
def app(app):
    """Every post of the fuzz comes from one address: lift the hourly limit."""
    app.config["SURVEY_SUBMISSIONS_PER_ADDRESS_PER_HOUR"] = 10_000
    return app


@pytest.mark.parametrize(
    "slug, field, value, card_id", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)]
)
def test_odd_value_is_refused_in_its_card(app, client, slug, field, value, card_id):
    path = f"/forms/surveys/{slug}"
    answers = NEEDS if slug == "needs" else SATISFACTION
    fields = {**form_tokens(client.get(path).get_data(as_text=True)), **answers}
    response = odd_post(client, path, fields, field, value)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="field-error"' in card(page, card_id)
    assert_chinese_errors(page)
    assert count(app, "survey_response") == 0


UNREADABLE_FIELDS = [
    ("needs", "respondent_name", "respondent"),
    ("needs", "q_personal_services_other", "q-personal_services"),
    ("needs", "q_other_needs", "q-other_needs"),
    ("satisfaction", "q_comments", "q-comments"),
]


@pytest.mark.parametrize("slug, field, card_id", UNREADABLE_FIELDS)
def test_invalid_utf8_in_an_urlencoded_form_is_refused_in_its_card(
    app, client, slug, field, card_id
):
    """As a browser sends a questionnaire: urlencoded, where %FF%FE%C0%AF is not text."""
    path = f"/forms/surveys/{slug}"
    answers = NEEDS if slug == "needs" else SATISFACTION
    fields = {**form_tokens(client.get(path).get_data(as_text=True)), **answers}
    response = odd_post(client, path, fields, field, NOT_UTF8, urlencoded=True)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "含有无法识别的字符" in card(page, card_id)
    assert count(app, "survey_response") == 0


@pytest.mark.parametrize("nonce", ["A" * 20 + "\n", "\x00" * 20, "x" * 5000, NOT_UTF8])
def test_odd_nonce_is_replaced_by_a_fresh_one(app, client, nul_sent_to_database, nonce):
    path = "/forms/surveys/satisfaction"
    fields = {**form_tokens(client.get(path).get_data(as_text=True)), **SATISFACTION}
    assert odd_post(client, path, fields, "nonce", nonce).status_code == 302
    with app.app_context():
        [stored] = db.session.scalars(select(SurveyResponse.nonce)).all()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", stored)
    assert nul_sent_to_database == []


def invitation(app) -> str:
    token = new_token()
    with app.app_context(), write_transaction() as session:
        session.add(
            SurveyInvitation(
                survey="move-in-visit",
                token=token,
                building=1,
                unit=2,
                room="1801",
                created_by="经理",
            )
        )
    return token


def test_personal_link_page_is_never_cached(app, client):
    response = client.get(f"/forms/surveys/i/{invitation(app)}")
    assert response.status_code == 200 and "1号楼2单元1801室" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Referrer-Policy"] == "strict-origin"


@pytest.mark.parametrize(
    "path",
    [
        "/forms/surveys/i/%00",
        "/forms/surveys/i/" + "A" * 20 + "%0A",
        "/forms/surveys/i/%ff",
        "/forms/surveys/i/" + "a" * 5000,
    ],
)
def test_junk_personal_links_are_a_chinese_404(client, nul_sent_to_database, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "调查链接无效" in response.get_data(as_text=True)
    assert nul_sent_to_database == []


def test_markup_in_answers_is_escaped_when_shown_again(client):
    path = "/forms/surveys/needs"
    fields = {
        **form_tokens(client.get(path).get_data(as_text=True)),
        **NEEDS,
        "respondent_name": '"><script>x</script>',
        "q_household": "",
    }
    page = odd_post(client, path, fields, "q_other_needs", "<img src=x onerror=alert(1)>").get_data(
        as_text=True
    )
    assert "<script>x" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_public_questionnaire_is_never_cached(client):
    """A cached copy shared by two owners would carry one nonce, and the second owner's
    answers would be taken for a repeat of the first one's and dropped."""
    assert client.get("/forms/surveys/satisfaction").headers["Cache-Control"] == "private, no-store"
