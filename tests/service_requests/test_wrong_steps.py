"""Every step of a repair or complaint sent in every state it does not start from, and by every
person who may not take it (every role, and a worker the job is not assigned to): each is
refused with a 4xx and a Chinese reason, and nothing stored changes. None answers 5xx."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from forms_app.accounts import roles
from forms_app.accounts.permissions import allowed
from forms_app.service_requests import states, workflow
from forms_app.service_requests.models import ServiceRequest
from tests.support.forms import staff_csrf_token
from tests.support.staff import create_staff, login

from .conftest import STAFF
from .test_workflow import phone_in

pytestmark = pytest.mark.one_app_per_module

HAN = re.compile(r"[\u4e00-\u9fff]")


def step_path(request_id: int, action: str) -> str:
    if action in ("arrive", "finish"):
        return f"{STAFF}/jobs/{request_id}/{action}"
    return f"{STAFF}/{request_id}/{action.replace('_', '-')}"


def good_values(action: str, worker_id: int) -> dict:
    """What a correct form of the step holds: a refusal is then about state or person."""
    return {
        "dispatch": {"assignee": str(worker_id), "urgency": "normal"},
        "assign": {"department": workflow.settings.departments()[0]},
        "arrive": {},
        "finish": {"result": "已更换角阀", "materials": "角阀", "receipt": "absent"},
        "answer": {"answer": "已加强夜间巡查。"},
        "follow_up": {"satisfied": "yes", "owner_view": "满意"},
        "close": {"reason": "业主已自行处理"},
    }[action]


def test_every_step_in_every_wrong_state_and_by_every_wrong_person_is_a_4xx(
    app, staff, stored, as_role
):
    create_staff(app, "other_worker", roles.ENGINEERING)
    other = app.test_client()
    login(other, "other_worker")
    people = {role: as_role(role) for role in roles.ROLES} | {"other_worker": other}
    tokens = {who: staff_csrf_token(client) for who, client in people.items()}
    worker_id = stored.user_id("engineering")
    with app.app_context():
        departments = workflow.settings.departments()
    assert departments
    desk = staff(roles.SERVICE)
    requests = {
        states.REPAIR: phone_in(desk),
        states.COMPLAINT: phone_in(desk, "complaint"),
    }
    failures = []
    for kind, request_id in requests.items():
        for state in states.STATES:
            for step in workflow.STEPS:
                for who, client in people.items():
                    role = roles.ENGINEERING if who == "other_worker" else who
                    may = (
                        kind in step.kinds
                        and state in step.sources
                        and allowed(role, step.permission)
                        and (
                            step.action not in ("arrive", "finish")
                            or who == roles.ENGINEERING
                            or allowed(role, "service.close")
                        )
                    )
                    if may:
                        continue
                    stored.execute(
                        update(ServiceRequest)
                        .where(ServiceRequest.id == request_id)
                        .values(state=state, assignee_id=worker_id, assignee_name="engineering")
                    )
                    _state, events = stored.state_and_events(request_id)
                    with app.app_context():
                        data = good_values(step.action, worker_id)
                    data["csrf_token"] = tokens[who]
                    response = client.post(
                        step_path(request_id, step.action),
                        data=data,
                        content_type="multipart/form-data",
                    )
                    state_after, events_after = stored.state_and_events(request_id)
                    where = f"{kind} {state} {step.action} as {who}: {response.status_code}"
                    if not 400 <= response.status_code < 500:
                        failures.append(where)
                    elif response.status_code != 404 and not HAN.search(
                        response.get_data(as_text=True)
                    ):
                        failures.append(where + " without a Chinese reason")
                    elif state_after != state or events_after != events:
                        failures.append(where + " changed the request")
    assert not failures, "\n".join(failures)
