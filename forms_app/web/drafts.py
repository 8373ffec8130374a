"""Staff forms sent from the phone's draft queue (``static/staff_drafts.js``).

A staff form opts in with one attribute, ``data-draft``, and a nonce field. The script then
keeps what was typed on the phone until the server has it, and sends it with the header
``X-Staff-Draft: 1`` — at once, or when the signal returns, possibly from another page and
hours later. Such a request is answered in JSON (what happened, a sentence for people, where
to go next) instead of a page, so the script can tell "saved", "already saved", "refused"
and "log in again" apart. The form's nonce makes a second send of one draft find the first
record instead of adding another. The script keeps each account's drafts apart on the device
and deletes them on logout; a draft reaching the server without a session (``LOGIN``) stays on
the device for its author alone.
"""

from __future__ import annotations

from functools import wraps

from flask import flash, jsonify, make_response, redirect, request

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


def answers_drafts(view):
    """For a staff view that answers with pages (a redirect once saved, the page again with
    its errors): the same outcomes in JSON when the request comes from the draft script —
    303 saved (the flashed message stays for the next page), 400 invalid, 409 conflict, 5xx
    an error worth retrying."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        if not is_draft_request() or response.is_json:
            return response
        code = response.status_code
        if code in (302, 303):
            return draft_reply(SAVED, "已保存。", location=response.location)
        if code == 400:
            return draft_reply(INVALID, "有需要修改的地方，请打开表单查看。", status=400)
        if code == 409:
            return draft_reply(CONFLICT, "记录已被他人处理或状态已变化，未保存。", status=409)
        return draft_reply(ERROR, "系统暂时出错，稍后自动重试。", status=code)

    return wrapper
