"""整改 → 复检 on PostgreSQL: two 复检 of one item sent at the same moment (PostgreSQL does not
serialize writers as SQLite does) are stored once, and the lists, filters and exports that
read the loop's state run there. Runs on a throw-away PostgreSQL server
(tests/support/postgres.py)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, select, text

from forms_app.accounts import roles
from forms_app.accounts.models import StaffArea, StaffUser
from forms_app.cleaning.models import CleaningFollowUp, CleaningResult
from forms_app.core.extensions import db
from tests.support.postgres import app_on_postgres, wait_for_blocked
from tests.support.staff import PASSWORD, create_staff, login

from .conftest import TODAY, Inspector, inspection_fields, results_for
from .test_rectification import MINE, forms_on, send


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(
        postgres_url, tmp_path / "instance", monkeypatch, TODAY=TODAY.isoformat()
    ) as app:
        for role in (roles.SERVICE, roles.CLEANING_LEAD, roles.CLEANER):
            create_staff(app, role, role, PASSWORD)
        with app.app_context():
            cleaner = db.session.scalars(select(StaffUser).filter_by(username="cleaner")).one()
            cleaner.areas = [StaffArea(community="shanshui", area="3号楼")]
            db.session.commit()
        yield app


def client_of(app, username):
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


def test_two_rechecks_at_once_are_stored_once_and_the_lists_read_the_state(pg_app):
    inspector = Inspector(client_of(pg_app, roles.SERVICE))
    lead, cleaner = client_of(pg_app, roles.CLEANING_LEAD), client_of(pg_app, roles.CLEANER)
    _page, inspection = inspector.inspect(
        inspection_fields(areas=("lobby",), **results_for("lobby", {"lobby-4": "烟头 6 个"}))
    )
    with pg_app.app_context():
        result = db.session.scalars(
            select(CleaningResult.id).filter_by(inspection_id=inspection, item_id="lobby-4")
        ).one()
    assert send(cleaner, inspection, result, "rectify", note="已清理").status_code == 303
    forms = [
        dict(forms_on(client, inspection)[(result, "recheck")])
        for client in (inspector.client, lead)
    ]
    statuses = []

    def post(client, form, outcome):
        url = form.pop("url")
        data = {**form, "outcome": outcome, "note": "仍有烟头"}
        statuses.append(client.post(url, data=data).status_code)

    # Another connection holds the item's next step, so both re-checks wait on its unique key.
    engine = create_engine(pg_app.config["PG_URL"])
    with engine.connect() as holder:
        holder.execute(
            text(
                "INSERT INTO cleaning_follow_up (community, submission_nonce, result_id, step,"
                " kind, note, actor_name, created_at) VALUES ('shanshui', 'holder-nonce-0000000000',"
                " :result, 2, 'passed', '', 'holder', now())"
            ),
            {"result": result},
        )
        threads = [
            threading.Thread(target=post, args=(inspector.client, forms[0], "passed")),
            threading.Thread(target=post, args=(lead, forms[1], "failed")),
        ]
        for thread in threads:
            thread.start()
        wait_for_blocked(holder, 2)
        holder.rollback()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    assert sorted(statuses) == [303, 409]
    with pg_app.app_context():
        steps = db.session.scalars(select(CleaningFollowUp.step).order_by("step")).all()
    assert steps == [1, 2]

    for url in (
        MINE,
        "/forms/staff/cleaning/?rectification=open",
        "/forms/staff/cleaning/?rectification=closed",
        "/forms/staff/cleaning/export.xlsx",
        "/forms/staff/cleaning/export.csv",
        "/forms/staff/",
    ):
        assert inspector.client.get(url).status_code == 200, url
    assert cleaner.get(MINE).status_code == 200 and cleaner.get("/forms/staff/").status_code == 200
