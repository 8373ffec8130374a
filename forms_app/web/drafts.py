"""Staff forms sent from the phone's draft queue (``static/staff_drafts.js``).

A staff form opts in with one attribute, ``data-draft``, and a nonce field. The script then
keeps what was typed on the phone until the server has it, and sends it with the header
``X-Staff-Draft: 1`` — at once, or when the signal returns, possibly from another page and
hours later. Such a request is answered in JSON (what happened, a sentence for people, where
to go next) instead of a page, so the script can tell "saved", "already saved", "refused"
and "log in again" apart. The form's nonce makes a second send of one draft find the first
record instead of adding another.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, request

HEADER = "X-Staff-Draft"

SAVED = "saved"  # stored now
DUPLICATE = "duplicate"  # this nonce was stored before: nothing added
INVALID = "invalid"  # the form has mistakes to correct on the page
CONFLICT = "conflict"  # the record changed meanwhile (state, permission): dropped
LOGIN = "login"  # no session: kept until the same person logs in again
EXPIRED = "expired"  # the CSRF token is stale: the script fetches a new one and retries
ERROR = "error"  # anything else the server refused


def is_draft_request() -> bool:
    return request.headers.get(HEADER) == "1"


def draft_reply(
    outcome: str,
    message: str,
    *,
    location: str | None = None,
    errors: dict | None = None,
    status: int = 200,
):
    """The JSON answer to a draft send."""
    return jsonify(outcome=outcome, message=message, location=location, errors=errors or {}), status


def saved_reply(message: str, location: str, outcome: str = SAVED):
    """After a record is stored (or found stored): the message is flashed for the next page
    either way; the draft script gets JSON (it goes to ``location`` itself), a plain form post
    the usual POST → redirect → GET."""
    flash(message, "success")
    if is_draft_request():
        return draft_reply(outcome, message, location=location)
    return redirect(location, code=303)
