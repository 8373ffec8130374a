"""What people type, made safe to store: shared by the owner forms (renovation, move-in,
surveys) and the staff back office (comments, findings, notes, search, login).

Text loses the control characters no keyboard types (PostgreSQL refuses NUL with an error) and
the spaces at its ends, including full-width and zero-width ones that make a blank field look
filled in. Text with U+FFFD is refused: a browser sends it only when the encoding was already
broken. Select options are read as numbers only when they are plain ASCII digits.

Urlencoded forms are decoded like multipart ones (``FormRequest``): invalid UTF-8 becomes
U+FFFD, which every text field then refuses with ``UNREADABLE_MESSAGE``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.formparser import FormDataParser
from wtforms.validators import ValidationError

# Dates as owners type them where the browser has no date picker.
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
UNREADABLE_MESSAGE = "含有无法识别的字符（可能是复制时的乱码），请删除后重新填写。"

# Tab and newline stay in multi-line text. Bidirectional overrides and isolates go too: they
# would show the rest of a name reversed in staff lists and exports.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"\r\n?")
_TAB_OR_NEWLINE = re.compile(r"[\t\n]")
_EDGE_SPACE = re.compile(r"^[\s\u200b-\u200d\u2060\ufeff]+|[\s\u200b-\u200d\u2060\ufeff]+$")
# str.isdigit() also passes "²" and "٣", which int() then refuses or reads as 3, and int()
# refuses more than 4300 digits: a select's number is a few ASCII digits or nothing.
_SELECT_NUMBER = re.compile(r"[0-9]{1,4}")


def clean_text(value):
    """Typed text as stored: line breaks unified, control characters dropped, ends trimmed."""
    if not isinstance(value, str):
        return value
    return _EDGE_SPACE.sub("", _CONTROL_CHARS.sub("", _LINE_BREAKS.sub("\n", value)))


def clean_line(value):
    """A one-line value (a name, a company): as ``clean_text``, without tabs or newlines."""
    value = clean_text(value)
    return _TAB_OR_NEWLINE.sub("", value) if isinstance(value, str) else value


def is_unreadable(text: str | None) -> bool:
    return bool(text) and "\ufffd" in text


def readable(_form, field):
    """WTForms validator: refuse text whose encoding was broken before it reached us."""
    if isinstance(field.data, str) and is_unreadable(field.data):
        raise ValidationError(UNREADABLE_MESSAGE)


def select_number(value) -> int | None:
    """The number of a building or unit option, or None for anything else."""
    return int(value) if isinstance(value, str) and _SELECT_NUMBER.fullmatch(value) else None


class _ReplacingFormDataParser(FormDataParser):
    """Werkzeug re-quotes invalid UTF-8 of an urlencoded body (``%FF%FE`` arrives as that
    literal text, which no check for U+FFFD sees) and drops a body with raw invalid bytes
    silently; multipart decodes both to U+FFFD. Decode urlencoded bodies the same way.

    Overrides a private method of Werkzeug 3.1; the fuzz tests' urlencoded cases fail if a
    new Werkzeug stops calling it."""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        body = stream.read().decode("utf-8", "replace")
        items = parse_qsl(body, keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class FormRequest(Request):
    """The app's request class (``create_app`` sets it): forms decoded as described above."""

    form_data_parser_class = _ReplacingFormDataParser
