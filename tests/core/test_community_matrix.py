"""Every staff route, for a 经理 of one community, with another community's records present
(issue 28): nothing of the other community is listed, opened, exported, counted or changed.

The records of the second community (馨园) are made after every GET page of the back office was
read once as the first community's (山水花园) 经理, who has none of its own: then each page must
read exactly as before - the lists, the counts on the home page, the figures, the exports. They
are the first records of each table, so every URL naming record 1 names one of 馨园's and must
stay the 404 it was. Then every POST that names a record is sent: none may change 馨园's rows.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from forms_app.accounts import roles
from forms_app.accounts.audit import record_audit
from forms_app.cleaning.models import CleaningInspection
from forms_app.core.clock import utcnow
from forms_app.core.community import acting_in, deployment_communities
from forms_app.core.community_scope import all_communities
from forms_app.core.database import write_connection, write_transaction
from forms_app.core.extensions import db
from forms_app.households.registry import seed_rooms
from forms_app.notifications.outbox import enqueue_rows, message_row
from forms_app.service_requests import states
from forms_app.service_requests.models import ServiceRequest
from forms_app.surveys.catalog import all_surveys
from tests.support.fees import make_bill
from tests.support.forms import csrf_token_from
from tests.support.households import register
from tests.support.renovation import file_application, walk
from tests.support.staff import PASSWORD, ROLE_USERS, login

from ..staff.test_access import staff_rules

pytestmark = pytest.mark.one_app_per_module

OTHER = "xinyuan"
# What differs between two reads of one page by design: the form's CSRF token, a form's one-time
# nonce, the script nonce of the page's Content-Security-Policy.
VOLATILE = re.compile(
    r'((?:name="csrf_token"|name="csrf-token"|name="nonce")[^>]*(?:value|content)=")[^"]+'
    r'|((?:nonce="|"csrf_token":"))[^"]+'
)
# Words only the other community's records hold.
MARKERS = ("馨园", "ZX-XINYUAN", "BX20261201-901", "13900009999")


def _read(response) -> tuple[int, object]:
    """What a person gets from a response: its status and its text (an xlsx: its cells)."""
    body = response.get_data()
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(body), read_only=True)
        return response.status_code, [list(ws.iter_rows(values_only=True)) for ws in book]
    return response.status_code, VOLATILE.sub(r"\1\2", body.decode("utf-8", "replace"))


def _urls(app, values: dict) -> dict[str, list[str]]:
    """{method: concrete URLs} of every back-office rule, each argument ``values``' or 1."""
    found: dict[str, list[str]] = {"GET": [], "POST": []}
    for rule in staff_rules(app):
        built = rule.build({n: values.get(n, 1) for n in rule.arguments}, append_unknown=False)[1]
        for method in ("GET", "POST"):
            if method in rule.methods and (method == "GET" or rule.arguments):
                found[method].append(built)
    return found


def _seed_the_other_community(app) -> None:
    """One record or more of 馨园 in each kind of table, each the first of its table; the
    test's 经理 is 馨园's 经理 too (an account of both communities)."""
    granted = app.test_cli_runner().invoke(
        args=["accounts", "grant", ROLE_USERS[roles.MANAGER], "--role", "经理"]
        + ["--community", OTHER]
    )
    assert granted.exit_code == 0, granted.output
    with app.app_context():
        community = deployment_communities()[OTHER]
    with acting_in(community):
        with app.app_context(), write_connection() as connection:
            seed_rooms(connection, community)
        room_id, _person = register(app, 1, 1, "101", "馨园业主", "13900009999")
        application = file_application(app, building=1, unit=1, room="101", owner_name="馨园业主")
        walk(app, application, "approve", "start")
        make_bill(app, room_id, "2026-11", 12345, community=OTHER)
        with app.app_context():
            now = utcnow()
            with write_transaction() as session:
                session.add(
                    CleaningInspection(
                        submission_nonce="matrix",
                        inspected_on=date(2026, 12, 1),
                        inspector_name="馨园检查员",
                        passed_count=3,
                        failed_count=1,
                        na_count=0,
                        key_failed_count=1,
                    )
                )
                session.add(
                    ServiceRequest(
                        kind=states.REPAIR,
                        reference="BX20261201-901",
                        filed_on=date(2026, 12, 1),
                        sequence=901,
                        submission_nonce="m" * 32,
                        source=states.PHONE,
                        recorded_by="馨园客服",
                        description="馨园的水管漏水",
                        building=1,
                        unit=1,
                        room="101",
                        owner_name="馨园业主",
                        owner_mobile="13900009999",
                        state=states.NEW,
                        urgency="normal",
                        due_at=now - timedelta(hours=5),
                        created_at=now - timedelta(hours=30),
                        updated_at=now,
                    )
                )
                record_audit("export", target="馨园的导出")
                row = message_row("renovation.new", reference="ZX-XINYUAN", room="1号楼1单元101室")
                enqueue_rows(session, [row])


def _read_as_other(app, url: str):
    client = app.test_client()
    base = f"http://{OTHER}.localhost"
    assert login(client, ROLE_USERS[roles.MANAGER], PASSWORD, base_url=base).status_code == 302
    return _read(client.get(url, base_url=base))


def _rows_of_the_other_community(app) -> dict[str, list]:
    """Every row of 馨园 in every keyed table, as stored."""
    with app.app_context():
        tables = [t for t in db.metadata.sorted_tables if "community" in t.c]
        return {
            table.name: [
                tuple(row)
                for row in db.session.execute(
                    all_communities(
                        select(table).where(table.c.community == OTHER).order_by(*table.primary_key)
                    )
                )
            ]
            for table in tables
        }


def test_no_staff_route_lists_opens_exports_counts_or_changes_another_communitys_records(
    app, as_role
):
    manager = as_role(roles.MANAGER)
    with app.app_context():
        survey = next(iter(all_surveys().values()))
    values = {
        "slug": survey.slug,
        "question_id": survey.questions[0].id,
        "quiz_id": "service-code",
        "kind": "repair",
        "action": "approve",
        "fmt": "csv",
        "direction": "out",
        "digest": "1",
    }
    urls = _urls(app, values)
    assert len(urls["GET"]) >= 90 and len(urls["POST"]) >= 40
    before = {url: _read(manager.get(url)) for url in urls["GET"]}
    again = {url: _read(manager.get(url)) for url in urls["GET"]}

    _seed_the_other_community(app)
    # The other community's own 经理 does see them (the seeding made what the test hides).
    assert "馨园的导出" in str(_read_as_other(app, "/forms/staff/audit"))
    theirs = _rows_of_the_other_community(app)
    seeded = {name for name, rows in theirs.items() if rows}
    assert {"renovation_application", "service_request", "cleaning_inspection"} <= seeded
    assert {"fee_bill", "household_person", "notification", "audit_log"} <= seeded

    after = {url: _read(manager.get(url)) for url in urls["GET"]}
    # A page that reads differently each time by design (the audit log records each export
    # read, a quiz draws anew) is read for the other community's words instead.
    volatile = {url for url in urls["GET"] if again[url] != before[url]}
    assert volatile <= {"/forms/staff/audit", "/forms/staff/training/quizzes/service-code"}
    changed = [url for url in urls["GET"] if url not in volatile and after[url] != before[url]]
    assert not changed, f"pages that show another community's records: {changed}"
    for url in volatile:
        page = str(after[url][1])
        assert not [word for word in MARKERS if word in page], url

    token = csrf_token_from(manager.get("/forms/staff/").get_data(as_text=True))
    for url in urls["POST"]:
        response = manager.post(url, data={"csrf_token": token, "building": "1"})
        assert response.status_code >= 400 or "/login" not in (response.location or ""), url
    assert _rows_of_the_other_community(app) == theirs
