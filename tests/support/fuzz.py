"""Odd input every domain's fuzz tests send: values a browser never sends but a script, a broken
keyboard or a tampered request can, the bodies that carry them, the check that every message
beside a field is Chinese, and a watch on statements that would send a NUL to the database.

The fixture ``nul_sent_to_database`` (tests/conftest.py) is built on ``watch_nul``.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from urllib.parse import quote

from sqlalchemy import event
from werkzeug.datastructures import ImmutableMultiDict

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


@contextmanager
def watch_nul(engine):
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

    event.listen(engine, "before_cursor_execute", _check)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", _check)


# What a page did with its query string (``query_names_read``): read it whole (iterated,
# copied, counted) - every name counts as read.
EVERY_NAME = "*"


class _RecordingArgs(ImmutableMultiDict):
    """``request.args`` that notes every name the page (view, form or template) asks for."""

    names: set | None = None  # the set being filled, while ``query_names_read`` runs

    def _note(self, name) -> None:
        if _RecordingArgs.names is not None:
            _RecordingArgs.names.add(name)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._note(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


def _whole(method_name: str):
    base = getattr(ImmutableMultiDict, method_name)

    def method(self, *args, **kwargs):
        self._note(EVERY_NAME)
        return base(self, *args, **kwargs)

    return method


for _name in (
    "keys",
    "values",
    "items",
    "lists",
    "listvalues",
    "to_dict",
    "copy",
    "__iter__",
    "__len__",
    "__bool__",
    "__eq__",
    "__repr__",
    "__reduce_ex__",
):
    if hasattr(ImmutableMultiDict, _name):
        setattr(_RecordingArgs, _name, _whole(_name))


def query_names_read(app, client, url: str) -> set[str]:
    """The query-string names a GET of ``url`` reads (``EVERY_NAME`` if it reads the query
    whole): a name the page never asks for cannot make it fail, so the fuzz of odd query values
    skips pages that read none. The names are taken with every name in the URL's own query set
    (``?page=1&q=1``), so a name read only when another is present is found too."""
    plain = app.request_class
    app.request_class = type(
        "RecordingRequest", (plain,), {"parameter_storage_class": _RecordingArgs}
    )
    _RecordingArgs.names = names = set()
    try:
        client.get(url)
    finally:
        _RecordingArgs.names = None
        app.request_class = plain
    return names
