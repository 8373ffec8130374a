"""A double tap on PostgreSQL, where a write transaction takes no database-wide lock: the
second tap passes the nonce check while the first is still uncommitted. It must get the thank-
you page, not a 500, and the questionnaire is stored once.
Runs on a throw-away PostgreSQL server (tests/support/postgres.py).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from forms_app.core.community import community_key
from forms_app.core.extensions import db
from tests.support.postgres import app_on_postgres, wait_for_blocked
from tests.surveys.conftest import TODAY, form_tokens

ANSWERS = {
    "q_customer_service": "5",
    "q_maintenance": "4",
    "q_security": "4",
    "q_cleaning": "3",
    "q_renovation": "4",
    "q_greening": "2",
    "q_overall": "4",
}


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(postgres_url, tmp_path / "instance", monkeypatch, TODAY=TODAY) as app:
        yield app


def test_second_tap_while_the_first_is_uncommitted_gets_thanks(pg_app):
    client = pg_app.test_client()
    path = "/forms/surveys/satisfaction"
    tokens = form_tokens(client.get(path).get_data(as_text=True))
    statuses = []
    engine = create_engine(pg_app.config["PG_URL"])
    with pg_app.app_context():
        community = community_key()
    with engine.connect() as first_tap:
        # The first tap's INSERT, not yet committed when the second tap arrives.
        first_tap.execute(
            text(
                "INSERT INTO survey_response (community, survey, period, submitted_at, nonce)"
                " VALUES (:community, 'satisfaction', '2026-H2', now(), :nonce)"
            ),
            {"community": community, "nonce": tokens["nonce"]},
        )
        second = threading.Thread(
            target=lambda: statuses.append(
                client.post(path, data={**tokens, **ANSWERS}).status_code
            )
        )
        second.start()
        wait_for_blocked(first_tap, 1)  # the second tap waits on the unique nonce
        first_tap.commit()
    second.join(timeout=30)
    engine.dispose()
    assert statuses == [302]
    with pg_app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM survey_response")).scalar() == 1
