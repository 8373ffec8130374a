"""Overdue patrols, found by the worker's periodic scan: one alert per patrol per day."""

from __future__ import annotations

from datetime import date, timedelta

from forms_app.accounts import roles
from forms_app.renovation.patrols import patrol_kinds
from tests.renovation.test_patrols import patrolled, started_on
from tests.support.renovation import file_application, walk

from .conftest import deliver_due, outbox

TODAY = date(2026, 5, 10)


def test_overdue_patrols_alert_staff_once_a_day(app, as_role):
    as_role(roles.MANAGER)  # creates the accounts walk() acts with
    app.config["TODAY"] = TODAY.isoformat()
    late = file_application(app, room="101")
    on_time = file_application(app, room="102")
    walk(app, late, "approve", "start")
    walk(app, on_time, "approve", "start")
    started_on(app, late, TODAY - timedelta(days=5))
    started_on(app, on_time, TODAY)
    with app.app_context():
        kinds = list(patrol_kinds().values())
    deliver_due(app)
    alerts = outbox(app, kind="renovation.patrol_overdue")
    assert len(alerts) == len(kinds)
    assert {a.record_id for a in alerts} == {late}
    for kind in kinds:
        [alert] = [a for a in alerts if kind["name"] in a.text]
        assert "1号楼1单元101室" in alert.text and "已逾期5天" in alert.text
        assert alert.reference in alert.text and f"/forms/staff/renovations/{late}" in alert.text
    # The worker scans again and again during the day: nothing new.
    deliver_due(app)
    deliver_due(app)
    assert len(outbox(app, kind="renovation.patrol_overdue")) == len(kinds)
    # The next day: the kind patrolled today is not overdue; everything else gets a new alert,
    # including the site that started today and was not patrolled.
    patrolled(app, late, kinds[0]["id"], TODAY)
    app.config["TODAY"] = (TODAY + timedelta(days=1)).isoformat()
    deliver_due(app)
    next_day = outbox(app, kind="renovation.patrol_overdue")[len(kinds) :]
    found = {
        (a.record_id, kind["name"])
        for a in next_day
        for kind in kinds
        if f"，{kind['name']}应于" in a.text
    }
    assert len(found) == len(next_day)
    assert found == {(late, k["name"]) for k in kinds[1:]} | {(on_time, k["name"]) for k in kinds}
