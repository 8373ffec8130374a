"""The registry's pages are reached from the 住户档案 page by whoever may use them, and the
household timeline includes the domains that register a source (survey invitations, 走访)."""

from __future__ import annotations

from datetime import date

from forms_app.accounts.models import StaffUser
from forms_app.core.extensions import db
from forms_app.service_requests.visits import store_visit
from forms_app.surveys.models import SurveyInvitation
from tests.support.households import register

INDEX = "/forms/staff/households/"


def test_each_role_sees_the_registry_pages_it_may_use(app, as_role):
    links = {
        "claims": "/forms/staff/households/claims/",
        "keys": "/forms/staff/households/keys/",
        "import": "/forms/staff/households/import/",
        "export": "/forms/staff/households/import/export.xlsx",
    }
    expected = {
        "manager": {"claims", "keys", "import", "export"},
        "service_lead": {"claims", "import"},
        "service": {"claims"},
        "security": set(),
    }
    for role, names in expected.items():
        client = as_role(role)
        html = client.get(INDEX).get_data(as_text=True)
        shown = {name for name, url in links.items() if f'href="{url}"' in html}
        assert shown == names, role
        for name in names:
            assert client.get(links[name]).status_code == 200, (role, name)


def test_the_timeline_shows_survey_invitations_and_visits(app, as_role):
    room_id, _ = register(app, 2, 1, "301", "赵业主", "13800138011")
    with app.app_context():
        db.session.add(
            SurveyInvitation(
                survey="move-in-visit",
                building=2,
                unit=1,
                room="301",
                created_by="manager",
                used_on=date(2026, 11, 20),
            )
        )
        db.session.commit()
        actor = db.session.query(StaffUser).filter_by(username="service").one()
        store_visit(
            {
                "submission_nonce": "n" * 32,
                "kind": "weekly",
                "visited_on": date(2026, 11, 25),
                "building": 2,
                "unit": 1,
                "room": "301",
                "person": "赵业主",
                "opinion": "希望增加电动车充电桩",
                "follow_up": "",
                "owner_signed": True,
            },
            actor,
        )
    html = as_role("service").get(f"{INDEX}{room_id}").get_data(as_text=True)
    assert "邀请参加“" in html
    assert "已填写 2026-11-20" in html
    assert "走访" in html and "希望增加电动车充电桩" in html and "受访人 赵业主" in html


def test_the_desks_home_says_how_many_claims_wait(app, as_role):
    import secrets

    from forms_app.households.claims import NewClaim, file_claim
    from forms_app.households.registry import find_room

    home = as_role("service").get("/forms/staff/").get_data(as_text=True)
    assert 'id="claims-pending"' not in home
    with app.test_request_context():
        room = find_room(1, 1, "101")
        file_claim(
            NewClaim(room.id, "钱女士", "13800138012", "family", None),
            None,
            secrets.token_urlsafe(24),
        )
    home = as_role("service").get("/forms/staff/").get_data(as_text=True)
    assert 'id="claims-pending"' in home and "<strong>1</strong> 份房屋认证" in home
    assert 'id="claims-pending"' not in as_role("security").get("/forms/staff/").get_data(
        as_text=True
    )
