"""Domain events: a domain announces what happened — an application approved, a deposit
refunded — and other parts of the app react, without the announcing domain importing them.

This is how renovation can tell fees that a deposit was refunded, or notices that works
started, while never importing either: both sit on the same layer and must not know each other.

- The announcing domain declares its events in its ``init_app`` (``declare``): a name such as
  ``renovation.refund_deposit`` and the Chinese label staff read.
- A reacting part subscribes in its own ``init_app`` (``subscribe``); a name nobody declared is
  refused when the app is built, so a typo cannot silently never fire.
- ``announce`` calls the handlers in order of subscription, in the caller's database
  transaction: what a handler writes is committed or rolled back with the change itself, and a
  handler that raises aborts that change (nothing half done). Handlers must be quick and must
  not call outside hosts: sending goes through the notification outbox, which does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flask import Flask, current_app

EXTENSION_KEY = "domain_events"


@dataclass(frozen=True)
class Event:
    """What happened: the event's name, the record it concerns and the details."""

    name: str
    record_type: str
    record_id: int
    data: Mapping[str, Any] = field(default_factory=dict)


Handler = Callable[[Event], None]


@dataclass
class Hub:
    labels: dict[str, str] = field(default_factory=dict)
    handlers: dict[str, list[Handler]] = field(default_factory=dict)
    # Subscriptions made before the announcing domain declared its events (registration
    # order); checked when the app is complete.
    pending: list[str] = field(default_factory=list)


class UnknownEvent(LookupError):
    """An event nobody declared was announced or subscribed to."""


def _hub(app: Flask) -> Hub:
    hub = app.extensions.get(EXTENSION_KEY)
    if hub is None:
        hub = app.extensions[EXTENSION_KEY] = Hub()
    return hub


def declare(app: Flask, name: str, label: str) -> None:
    """Make an event known: the announcing domain calls this from its ``init_app``."""
    hub = _hub(app)
    if name in hub.labels:
        raise ValueError(f"event {name!r} declared twice")
    hub.labels[name] = label


def subscribe(app: Flask, name: str, handler: Handler) -> None:
    """Call ``handler(event)`` whenever ``name`` is announced (checked by ``check``)."""
    hub = _hub(app)
    hub.handlers.setdefault(name, []).append(handler)
    hub.pending.append(name)


def check(app: Flask) -> None:
    """Refuse subscriptions to events nobody declared; the factory calls this last."""
    hub = _hub(app)
    unknown = sorted({name for name in hub.pending if name not in hub.labels})
    if unknown:
        raise UnknownEvent(f"subscribed to events nobody declares: {', '.join(unknown)}")
    hub.pending.clear()


def label(name: str) -> str:
    return _hub(current_app).labels[name]


def announce(name: str, record_type: str, record_id: int, **data: Any) -> Event:
    """Tell every subscriber that ``name`` happened. Call inside the change's transaction."""
    hub = _hub(current_app)
    if name not in hub.labels:
        raise UnknownEvent(f"event {name!r} was never declared")
    event = Event(name, record_type, record_id, MappingProxyType(dict(data)))
    for handler in hub.handlers.get(name, ()):
        handler(event)
    return event
