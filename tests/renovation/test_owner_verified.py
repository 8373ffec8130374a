"""An application counts as the owner's only when its mobile is a registered owner's of the
room (一户一档) or staff confirm ownership in review; anyone else's never blocks the room for
the real owner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication
from tests.support.forms import csrf_token_from
from tests.support.households import register
from tests.support.renovation import file_application

pytestmark = pytest.mark.one_app_per_module

OWNER, STRANGER = "13800138000", "13600136000"
DETAIL = "/forms/staff/renovations/{}"


def verified(app, application_id):
    with app.app_context():
        return db.session.get(RenovationApplication, application_id).owner_verified


def approve(client, application_id, **data):
    page = client.get(DETAIL.format(application_id)).get_data(as_text=True)
    return client.post(
        DETAIL.format(application_id) + "/steps/approve",
        data={"csrf_token": csrf_token_from(page), "confirm": "yes", **data},
    )


@pytest.fixture
def room(app):
    register(app, 1, 1, "101", "张业主", OWNER)
    return app


def test_a_registered_owners_application_is_verified_and_holds_the_room(room, owner):
    page, _ = owner.submit_ok()
    with room.app_context():
        [application] = db.session.scalars(select(RenovationApplication)).all()
    assert application.owner_verified == "registry"
    again = owner.submit()
    assert again.status_code == 400 and application.reference in again.get_data(as_text=True)


def test_a_strangers_application_does_not_block_the_real_owner(room, owner):
    stranger_id = file_application(room, room="101", owner_mobile=STRANGER)
    assert verified(room, stranger_id) is None
    owner.submit_ok()  # the real owner files after the stranger: accepted
    with room.app_context():
        rows = db.session.execute(
            select(RenovationApplication.owner_mobile, RenovationApplication.owner_verified)
        ).all()
    assert sorted(rows) == [(STRANGER, None), (OWNER, "registry")]


def test_approving_an_unverified_application_needs_the_owner_checked(room, as_role):
    stranger_id = file_application(room, room="102", owner_mobile=STRANGER)
    service = as_role("service")
    page = service.get(DETAIL.format(stranger_id)).get_data(as_text=True)
    assert "未核实：手机号不是本房屋登记业主" in page and 'name="owner_confirmed"' in page
    refused = approve(service, stranger_id)
    assert refused.status_code == 400 and "请查验业主身份" in refused.get_data(as_text=True)
    assert verified(room, stranger_id) is None
    assert approve(service, stranger_id, owner_confirmed="yes").status_code == 303
    assert verified(room, stranger_id) == "staff"
    page = service.get(DETAIL.format(stranger_id)).get_data(as_text=True)
    assert "已核实：员工审核时查验" in page and 'name="owner_confirmed"' not in page


def test_an_unverified_application_is_not_approved_while_the_owners_holds_the_room(room, as_role):
    stranger_id = file_application(room, room="101", owner_mobile=STRANGER)
    owners_id = file_application(room, room="101", owner_mobile=OWNER)
    assert verified(room, owners_id) == "registry"
    refused = approve(as_role("service"), stranger_id, owner_confirmed="yes")
    assert refused.status_code == 409
    assert "已有一份业主已核实" in refused.get_data(as_text=True)
    assert verified(room, stranger_id) is None


def test_a_mobile_registered_after_filing_is_verified_at_approval(app, as_role):
    application_id = file_application(app, room="101", owner_mobile=OWNER)
    assert verified(app, application_id) is None
    register(app, 1, 1, "101", "张业主", OWNER)
    assert approve(as_role("service"), application_id).status_code == 303
    assert verified(app, application_id) == "registry"
