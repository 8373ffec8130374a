"""The registry on PostgreSQL, where a write transaction takes no database-wide lock: two desks
entering one room's 过户 at once, and an import racing an owner's form. Runs on a throw-away
PostgreSQL server (tests/support/postgres.py)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text

from forms_app.core.extensions import db
from forms_app.households.importing import import_file
from forms_app.households.models import HouseholdChange, HouseholdPerson
from forms_app.households.registry import NewPerson, RegistryRefused, current_people, transfer
from forms_app.renovation.models import RenovationApplication
from tests.households.test_import import HEADER, xlsx
from tests.support.forms import csrf_token_from
from tests.support.households import register
from tests.support.postgres import app_on_postgres, wait_for_blocked
from tests.support.renovation import APPLY_URL, application_fields

TODAY = date(2026, 12, 1)


@pytest.fixture
def pg_app(postgres_url, tmp_path, monkeypatch):
    with app_on_postgres(
        postgres_url, tmp_path / "instance", monkeypatch, TODAY=TODAY.isoformat()
    ) as app:
        yield app


def test_two_transfers_of_one_room_at_once_take_effect_once(pg_app):
    room_id, _ = register(pg_app, 1, 1, "101", "老业主", "13800138000", since=date(2015, 1, 1))
    outcomes: list[str] = []

    def enter(buyer: str, mobile: str) -> None:
        with pg_app.test_request_context():
            try:
                transfer(room_id, TODAY, [NewPerson(buyer, mobile, "owner", TODAY)], "买卖合同")
                outcomes.append(f"ok {buyer}")
            except RegistryRefused as refused:
                outcomes.append(refused.message)

    engine = create_engine(pg_app.config["PG_URL"])
    with engine.connect() as other:
        other.execute(
            text("SELECT id FROM household_room WHERE id = :id FOR UPDATE"), {"id": room_id}
        )
        threads = [
            threading.Thread(target=enter, args=("甲", "13700137000")),
            threading.Thread(target=enter, args=("乙", "13600136000")),
        ]
        for thread in threads:
            thread.start()
        wait_for_blocked(other, 2)  # both desks wait on the room
        other.commit()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    assert len(outcomes) == 2
    [done] = [o for o in outcomes if o.startswith("ok")]
    [refused] = [o for o in outcomes if not o.startswith("ok")]
    assert "同一天不能再办理一次" in refused
    with pg_app.app_context():
        assert [p.name for p in current_people(room_id, TODAY)] == [done.split()[1]]
        ended = db.session.scalars(
            select(HouseholdPerson.name).where(HouseholdPerson.end_reason == "transfer")
        ).all()
        assert ended == ["老业主"]
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(HouseholdChange)
                .where(HouseholdChange.action == "transfer")
            )
            == 1
        )


def test_an_import_racing_an_owners_form_loses_neither(pg_app, tmp_path):
    """The import registers the owners of ten rooms while each files a renovation application
    with the same mobile: every application and every person is stored once, nothing fails,
    and a second import of the file changes nothing."""
    rooms = [f"{floor}01" for floor in range(1, 11)]
    path = xlsx(
        tmp_path / "台账.xlsx",
        HEADER,
        [[2, 1, room, "89.5", f"业主{room}", f"1380000{room:0>4}"] for room in rooms],
    )
    client = pg_app.test_client()
    forms = [client.get(APPLY_URL).get_data(as_text=True) for _ in rooms]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def run_import() -> None:
        with pg_app.test_request_context():
            start.wait()
            report = import_file(path, "台账.xlsx")
            assert report.clean and report.people_added == len(rooms)

    def file_forms() -> None:
        start.wait()
        for room, page in zip(rooms, forms, strict=True):
            fields = application_fields(building=2, room=room, owner_mobile=f"1380000{room:0>4}")
            response = client.post(
                APPLY_URL,
                data={**fields, "csrf_token": csrf_token_from(page), "nonce": nonce_of(page)},
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=run_import), threading.Thread(target=file_forms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [303] * len(rooms)
    with pg_app.app_context():
        stored = db.session.execute(
            select(RenovationApplication.room, RenovationApplication.owner_verified)
        ).all()
        assert sorted(room for room, _ in stored) == sorted(rooms)
        assert {verified for _, verified in stored} <= {"registry", None}
        people = db.session.scalar(select(func.count()).select_from(HouseholdPerson))
        assert people == len(rooms)
    with pg_app.test_request_context():
        assert import_file(path, "台账.xlsx").people_added == 0


def nonce_of(page: str) -> str:
    import re

    return re.search(r'name="nonce"[^>]*value="([^"]+)"', page).group(1)
