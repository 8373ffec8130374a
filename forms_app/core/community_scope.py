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
silent one. Plain Core statements on a ``Table`` (the owners' write path) name their community
themselves.
"""

from __future__ import annotations

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, with_loader_criteria

from .community import community_key

# Execution option that lets one statement read every community's rows.
ALL_COMMUNITIES = "all_communities"


class CommunityOwned:
    """Mixin for a table whose every row belongs to one community."""

    community: Mapped[str] = mapped_column(String(32), default=community_key)


def all_communities(statement):
    """``statement`` read across every community (the worker, scans, the company view)."""
    return statement.execution_options(**{ALL_COMMUNITIES: True})


def _scope_to_community(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the statement that loaded the parent row already carried the condition
    if state.execution_options.get(ALL_COMMUNITIES):
        return
    key = community_key()
    state.statement = state.statement.options(
        with_loader_criteria(
            CommunityOwned,
            lambda cls: cls.community == key,
            include_aliases=True,
            track_closure_variables=True,
        )
    )


def install_community_scope() -> None:
    """Listen on every ORM session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _scope_to_community):
        event.listen(Session, "do_orm_execute", _scope_to_community)
