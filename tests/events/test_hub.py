"""The domain-event hook: declared names only, handlers in order, in the caller's transaction."""

from __future__ import annotations

import pytest
from flask import Flask

from forms_app import events


@pytest.fixture
def hub_app():
    return Flask(__name__)


def test_handlers_run_in_order_of_subscription_with_the_event(hub_app):
    seen = []
    events.declare(hub_app, "x.done", "某事办完")
    events.subscribe(hub_app, "x.done", lambda event: seen.append(("first", event)))
    events.subscribe(hub_app, "x.done", lambda event: seen.append(("second", event)))
    events.check(hub_app)
    with hub_app.app_context():
        announced = events.announce("x.done", "x", 7, reference="ZX1")
        assert events.label("x.done") == "某事办完"
    assert [who for who, _ in seen] == ["first", "second"]
    assert all(event is announced for _, event in seen)
    assert (announced.record_type, announced.record_id, announced.data["reference"]) == (
        "x",
        7,
        "ZX1",
    )
    with pytest.raises(TypeError):
        announced.data["reference"] = "changed"  # handlers cannot change what others see


def test_an_event_nobody_declared_is_refused(hub_app):
    events.subscribe(hub_app, "x.typo", lambda event: None)
    with pytest.raises(events.UnknownEvent, match="x.typo"):
        events.check(hub_app)
    with hub_app.app_context(), pytest.raises(events.UnknownEvent):
        events.announce("x.never", "x", 1)


def test_a_name_is_declared_once(hub_app):
    events.declare(hub_app, "x.done", "某事办完")
    with pytest.raises(ValueError):
        events.declare(hub_app, "x.done", "又一次")


def test_an_event_with_no_subscriber_is_fine(hub_app):
    events.declare(hub_app, "x.done", "某事办完")
    with hub_app.app_context():
        assert events.announce("x.done", "x", 1).name == "x.done"


def test_the_app_declares_every_renovation_step(app):
    from forms_app.renovation.workflow import STEPS

    hub = app.extensions[events.EXTENSION_KEY]
    assert {f"renovation.{step.action}" for step in STEPS} <= hub.labels.keys()
    assert hub.labels["renovation.refund_deposit"] == "装修申请退还押金"
