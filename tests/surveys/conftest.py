"""Survey fixtures: a fixed date inside every shipped survey's window, staff accounts, and
answers stored through the same code path as an owner's submission."""

from __future__ import annotations

import re

import pytest
import requests

from forms_app.accounts import roles
from forms_app.core.extensions import db
from forms_app.surveys.catalog import all_surveys
from forms_app.surveys.forms import Answer, Submission
from forms_app.surveys.models import new_token
from forms_app.surveys.responses import store_response
from tests.support.staff import LOGIN_PATH, create_staff

# Inside the windows of all three shipped surveys (data/surveys/*.yml).
TODAY = "2026-12-01"
PASSWORD = "correct-horse-9"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NONCE = re.compile(r'name="nonce"[^>]*value="([^"]+)"')


@pytest.fixture
def app(app):
    """The app on today's date fixed inside the shipped surveys' windows."""
    app.config["TODAY"] = TODAY
    return app


@pytest.fixture
def staff(app):
    """One account per role that matters here: 经理, 客服, 工程."""
    for role in (roles.MANAGER, roles.SERVICE, roles.ENGINEERING):
        create_staff(app, role, role, PASSWORD)
    return app


def form_tokens(html: str) -> dict:
    """The hidden csrf_token and nonce of a questionnaire page."""
    return {"csrf_token": CSRF.search(html).group(1), "nonce": NONCE.search(html).group(1)}


def store(app, slug: str, answers: list[Answer], today: str = TODAY, respondent=None) -> int:
    """Store one questionnaire through the service the owner form uses."""
    app.config["TODAY"] = today
    try:
        with app.app_context():
            survey = all_surveys()[slug]
            return store_response(
                survey, Submission(answers=answers, respondent=respondent or {}), nonce=new_token()
            )
    finally:
        app.config["TODAY"] = TODAY


def count(app, table: str) -> int:
    with app.app_context():
        return db.session.execute(db.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def requests_login(base_url: str, username: str) -> requests.Session:
    """A requests session logged in as a staff member through the real login form."""
    session = requests.Session()
    html = session.get(base_url + LOGIN_PATH, timeout=10).text
    response = session.post(
        base_url + LOGIN_PATH,
        timeout=10,
        data={"csrf_token": CSRF.search(html).group(1), "username": username, "password": PASSWORD},
    )
    assert response.ok and "退出" in response.text
    return session
