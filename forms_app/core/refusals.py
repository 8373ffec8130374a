"""A request refused with a reason: the Chinese message a person reads and the form field it
concerns. Each domain's own refusals (a workflow step, a code, a move) are subclasses, so a
view shows any of them the same way: beside ``field``, or at the top when ``field`` is None."""

from __future__ import annotations


class Refused(Exception):
    """``message`` is for the person (Chinese); ``field`` the form field, None for the page."""

    default_field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field if field is not None else self.default_field
