"""Renovation fixtures: a filled-in application, submitting it, reading what was stored."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import event, func, select

from forms_app.core.clock import today
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication, record_event
from tests.conftest import csrf_token_from

APPLY_URL = "/forms/renovation/apply"
NONCE_INPUT = re.compile(r'id="nonce" name="nonce" type="hidden" value="([^"]+)"')
REFERENCE = re.compile(r"ZX\d{8}-\d{3,}")


# What a browser never sends but a script, a broken keyboard or a tampered request can. Each
# domain's fuzz test posts these to every field. NOT_UTF8 is sent as bytes that are not UTF-8:
# raw FF FE in multipart, %FF%FE%C0%AF (C0 AF: an overlong "/") in an urlencoded body. No UTF-8
# page sends either; the server decodes both to U+FFFD.
NOT_UTF8 = "<bytes ff fe>"
NOT_UTF8_URLENCODED = "%FF%FE%C0%AF"
ODD_TEXT = ["", "   ", "\u3000", "\u200b", "\x00", "x" * 5000, NOT_UTF8]
ODD_NUMBER = ["", "\x00", "²", "１", "٣", "-1", "0", "9" * 30, "9" * 5000, "1.5", NOT_UTF8]
ODD_DATE = ["", "\x00", "0001-01-01", "9999-12-31", "2027-02-30", "x" * 5000, NOT_UTF8]
BOUNDARY = "odd-values-boundary"


FIELD_ERROR = re.compile(r'<p class="field-error"[^>]*>([^<]*)</p>')


def assert_chinese_errors(page: str) -> None:
    """Every message beside a field is written in Chinese (no WTForms default in English)."""
    messages = FIELD_ERROR.findall(page)
    assert messages, "no message beside any field"
    for message in messages:
        assert re.search(r"[\u4e00-\u9fff]", message), message


def multipart_body(fields: dict) -> bytes:
    """A multipart/form-data body; list values become repeated fields, NOT_UTF8 raw bytes."""
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data = b"\xff\xfe" if item == NOT_UTF8 else item.encode("utf-8")
            parts.append(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + data
                + b"\r\n"
            )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def urlencoded_body(fields: dict) -> str:
    """An application/x-www-form-urlencoded body; NOT_UTF8 as percent-escaped invalid UTF-8."""
    pairs = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            encoded = NOT_UTF8_URLENCODED if item == NOT_UTF8 else quote(item, safe="")
            pairs.append(f"{quote(name, safe='')}={encoded}")
    return "&".join(pairs)


def odd_post(client, url: str, fields: dict, field: str, value, urlencoded: bool = False):
    """POST ``fields`` with one field replaced by an odd value (``None``: field left out), as
    multipart (the default) or urlencoded, as a form without files is sent."""
    fields = {name: v for name, v in fields.items() if name != field}
    if value is not None:
        fields[field] = value
    if urlencoded:
        return client.post(
            url, data=urlencoded_body(fields), content_type="application/x-www-form-urlencoded"
        )
    return client.post(
        url, data=multipart_body(fields), content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


@pytest.fixture
def nul_sent_to_database(app):
    """Statements that sent a NUL character to the database: PostgreSQL refuses those with an
    error (a 500 for the owner), SQLite silently stores them."""
    sent: list[str] = []

    def _check(_conn, _cursor, statement, parameters, _context, executemany):
        rows = parameters if executemany else [parameters]
        for row in rows or []:
            # insertmanyvalues batches (several rows of one INSERT) arrive as flat values.
            values = (
                row.values()
                if isinstance(row, dict)
                else row
                if isinstance(row, (list, tuple))
                else [row]
            )
            if any(isinstance(v, str) and "\x00" in v for v in values or ()):
                sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _check)
    yield sent
    event.remove(engine, "before_cursor_execute", _check)


def nonce_from(html: str) -> str:
    match = NONCE_INPUT.search(html)
    assert match, "no nonce on the form"
    return match.group(1)


def application_fields(building=1, unit=1, room="101", **overrides) -> dict:
    """A complete, valid application as an owner fills it in."""
    start = today() + timedelta(days=3)
    fields = {
        "building": str(building),
        "unit": str(unit),
        "room": room,
        "owner_name": "王美华",
        "owner_mobile": "13800138000",
        "contractor_company": "金陵家装有限公司",
        "site_lead_name": "陈工",
        "site_lead_mobile": "13912345678",
        "workers": "6",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=45)).isoformat(),
        "work_items": ["plumbing_electric", "walls_floors"],
        "description": "客厅铺地砖，卫生间重做防水。",
        "includes_prohibited": "no",
        "ack_agreement": "y",
        "ack_fire_safety": "y",
        "ack_prohibitions": "y",
    }
    fields.update(overrides)
    return fields


class Owner:
    """An owner in the test client: opens the form, fills it in, sends it."""

    def __init__(self, client):
        self.client = client

    def open_form(self) -> dict:
        html = self.client.get(APPLY_URL).get_data(as_text=True)
        return {"csrf_token": csrf_token_from(html), "nonce": nonce_from(html)}

    def submit(self, fields: dict | None = None, hidden: dict | None = None, **kwargs):
        data = {**(hidden or self.open_form()), **(fields or application_fields())}
        return self.client.post(APPLY_URL, data=data, content_type="multipart/form-data", **kwargs)

    def submit_ok(self, fields: dict | None = None):
        """Submit and follow to the status page; return (status page html, status url)."""
        response = self.submit(fields)
        assert response.status_code == 303, response.get_data(as_text=True)
        status_url, _, query = response.location.partition("?")
        assert query == "new=1"
        return self.client.get(response.location).get_data(as_text=True), status_url


@pytest.fixture
def owner(client) -> Owner:
    return Owner(client)


@pytest.fixture
def stored(app):
    """Read what the database holds."""

    class Stored:
        def count(self) -> int:
            with app.app_context():
                return db.session.scalar(select(func.count(RenovationApplication.id)))

        def applications(self) -> list[RenovationApplication]:
            with app.app_context():
                rows = db.session.scalars(select(RenovationApplication)).all()
                for row in rows:
                    _ = row.attachments, row.events
                db.session.expunge_all()
                return rows

        def files(self) -> list[Path]:
            return sorted(Path(app.config["UPLOAD_DIR"]).iterdir())

    return Stored()


def move_to(app, reference: str, *steps: tuple[str, str]) -> None:
    """Move an application through states as staff would, with ``record_event``."""
    with app.app_context():
        with write_transaction() as session:
            application = session.scalar(
                select(RenovationApplication).where(RenovationApplication.reference == reference)
            )
            for state, comment in steps:
                record_event(application, state, actor_name="客服 李敏", comment=comment)
