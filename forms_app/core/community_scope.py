"""Every record of a community-owned table is read, changed and counted only in its community:
the one place that does it, so that a new domain cannot forget (issue 28).

A model that takes the ``CommunityOwned`` mixin gets a ``community`` column filled with the
request's community key (``core.community.community_key``) when a row is made, and every ORM
statement the session runs - a list, a ``session.get``, a count, a join, an ORM ``update`` or
``delete`` - is given the condition ``community = <the request's key>`` for it, through
SQLAlchemy's ``with_loader_criteria``. A record of another community is then simply not there:
its page is a 404, it is in no list, export or figure, and nothing changes it.

The few readers that must see every community (the notification worker delivering the whole
deployment's outbox, a scan over all communities, the company's figures) say so on their
statement with ``all_communities()`` - a visible, greppable way around the wall, never a
silent one - or run a block of work in ``every_community(reason)``, which the app log records
with its reason. Plain Core statements on a ``Table`` (the owners' write path) name their
community themselves.

On PostgreSQL the database holds a second wall behind this one (``core/row_security.py``):
row-level security lets a statement see and change only its community's rows, and the same two
ways - and only they - go around it.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import String, bindparam, event
from sqlalchemy.orm import Mapped, Session, mapped_column, with_loader_criteria

from .community import community_key

# Execution option that lets one statement read every community's rows.
ALL_COMMUNITIES = "all_communities"

log = logging.getLogger("forms_app.every_community")

# The reason of the ``every_community`` block running now, if any.
_every: ContextVar[str | None] = ContextVar("every_community", default=None)
# (reason, place) pairs this process has logged at INFO already.
_logged: set[tuple[str, str]] = set()


class CommunityOwned:
    """Mixin for a table whose every row belongs to one community."""

    community: Mapped[str] = mapped_column(String(32), default=community_key)


def all_communities(statement):
    """``statement`` read across every community (the worker, scans, the company view)."""
    return statement.execution_options(**{ALL_COMMUNITIES: True})


@contextmanager
def every_community(reason: str):
    """Run the block across every community: no statement in it is scoped to the request's
    community, neither by the ORM hook nor, on PostgreSQL, by row-level security. For work
    that is the whole deployment's by nature - delivering the outbox, a scan over every
    community, the company's figures, the migrations, a backup - never for a page of one
    community. ``reason`` (required) says why; the app log (logger
    ``forms_app.every_community``) records it with the place in the code: at INFO the first
    time a process takes that way, at DEBUG every time after (the worker takes it every poll).
    """
    if not (isinstance(reason, str) and reason.strip()):
        raise ValueError("every_community needs a reason")
    caller = sys._getframe(2)  # past contextlib's __enter__
    place = f"{caller.f_globals.get('__name__', '?')}:{caller.f_code.co_name}"
    level = logging.DEBUG if (reason, place) in _logged else logging.INFO
    _logged.add((reason, place))
    log.log(level, "越过小区隔离（全部小区）：%s [%s]", reason, place)
    token = _every.set(reason)
    try:
        yield
    finally:
        _every.reset(token)


def crossing_reason() -> str | None:
    """The reason of the ``every_community`` block running now, else None."""
    return _every.get()


def _scope_to_community(state) -> None:
    if _every.get() is not None:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the statement that loaded the parent row already carried the condition
    if state.execution_options.get(ALL_COMMUNITIES):
        return
    state.statement = state.statement.options(_CRITERIA)


# The request's key is a parameter the database gets at each execution (``community_key()``
# then), so the condition is one object made once, and a statement's cached SQL serves every
# community. A key taken from the lambda's closure instead made SQLAlchemy run the lambda again
# at every execution to find its value: that doubled the cost of a simple statement.
_KEY = bindparam("community_scope_key", callable_=community_key)
_CRITERIA = with_loader_criteria(
    CommunityOwned,
    lambda cls: cls.community == _KEY,
    include_aliases=True,
    track_closure_variables=False,
)


def install_community_scope() -> None:
    """Listen on every ORM session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _scope_to_community):
        event.listen(Session, "do_orm_execute", _scope_to_community)
