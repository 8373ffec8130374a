"""Every staff URL needs a session and the right role; attachments only under their application."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from forms_app.accounts import permissions, roles
from forms_app.core.extensions import db
from forms_app.files.uploads import check_upload
from forms_app.renovation.models import RenovationApplication
from forms_app.renovation.patrols import patrol_kinds
from forms_app.renovation.workflow import STEPS_BY_ACTION
from forms_app.surveys.catalog import all_surveys
from tests.support.forms import csrf_token_from, staff_csrf_token
from tests.support.renovation import application_values, filed

pytestmark = pytest.mark.one_app_per_module

PDF = b"%PDF-1.4\n% test drawing\n"
PUBLIC = {"accounts.login", "accounts.logout"}


def staff_rules(app):
    """Every rule under /forms/staff/, whichever package registered it, except login/logout."""
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.rule.startswith("/forms/staff/") and r.endpoint not in PUBLIC
        ),
        key=lambda r: r.rule,
    )


def file_with_attachment(app, room="101") -> tuple[int, int]:
    upload = FileStorage(io.BytesIO(PDF), filename="平面图.pdf", content_type="application/pdf")
    with app.app_context():
        application = filed(application_values(room=room), [check_upload(upload)])
        return application.id, application.attachments[0].id


def url_for_rule(rule, application_id, attachment_id) -> str:
    """A concrete URL for a rule; arguments this package does not know get a plain value."""
    known = {
        "application_id": application_id,
        "attachment_id": attachment_id,
        "photo_id": 1,
        "action": "approve",
        "fmt": "csv",
        "direction": "out",
        "digest": "1",
        "finding_id": 1,
    }
    values = {name: known.get(name, 1) for name in rule.arguments}  # "1" suits any converter
    return rule.build(values, append_unknown=False)[1]


def test_no_session_means_login_page_on_every_staff_url(app, client):
    application_id, attachment_id = file_with_attachment(app)
    rules = staff_rules(app)
    assert len(rules) >= 10
    token = csrf_token_from(client.get("/forms/staff/login").get_data(as_text=True))
    for rule in rules:
        url = url_for_rule(rule, application_id, attachment_id)
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.headers["Location"].startswith(
                "/forms/staff/login?next=/forms/staff"
            ), url
        else:
            response = client.post(url, data={"csrf_token": token, "comment": "x"})
            assert response.headers["Location"] == "/forms/staff/login", url
        assert response.status_code == 302, url
        assert "no-store" in response.headers["Cache-Control"], url


def test_a_logged_out_or_disabled_session_is_no_session(app, as_role, runner):
    application_id, attachment_id = file_with_attachment(app)
    engineer = as_role(roles.ENGINEERING)
    url = f"/forms/staff/renovations/{application_id}/attachments/{attachment_id}"
    response = engineer.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert "attachment" in response.headers["Content-Disposition"]
    runner.invoke(args=["disable-user", "engineering"])
    assert engineer.get(url).status_code == 302


def test_attachment_only_under_its_own_application(app, as_role, client):
    first, attachment = file_with_attachment(app, room="101")
    second, _ = file_with_attachment(app, room="102")
    staff = as_role(roles.SECURITY)
    assert (
        staff.get(f"/forms/staff/renovations/{second}/attachments/{attachment}").status_code == 404
    )
    assert staff.get(f"/forms/staff/renovations/{first}/attachments/99999").status_code == 404
    assert staff.get("/forms/staff/renovations/99999").status_code == 404


ROLE_ONLY = [
    ("/forms/staff/audit", {roles.MANAGER}),
    ("/forms/staff/accounts/", {roles.MANAGER}),
    ("/forms/staff/renovations/export.csv", {roles.MANAGER, roles.SERVICE, roles.SERVICE_LEAD}),
    ("/forms/staff/renovations/export.xlsx", {roles.MANAGER, roles.SERVICE, roles.SERVICE_LEAD}),
    (
        "/forms/staff/renovations",
        {
            roles.MANAGER,
            roles.SERVICE,
            roles.SERVICE_LEAD,
            roles.ENGINEERING,
            roles.ENGINEERING_LEAD,
            roles.SECURITY,
            roles.SECURITY_LEAD,
            roles.QUALITY,
        },
    ),
    ("/forms/staff/training/people/", {roles.MANAGER, roles.SERVICE_LEAD, roles.QUALITY}),
    ("/forms/staff/training/", set(roles.ROLES)),
    ("/forms/staff/company/figures", {roles.QUALITY}),
]


@pytest.mark.parametrize("url,allowed", ROLE_ONLY)
def test_role_restricted_pages(app, as_role, url, allowed):
    for role in roles.ALL_ROLES:
        response = as_role(role).get(url)
        if role in allowed:
            assert response.status_code == 200, (url, role)
        else:
            assert response.status_code == 403, (url, role)
            assert "此页面仅限" in response.get_data(as_text=True)


def test_every_staff_post_needs_the_csrf_token(app, as_role):
    application_id, attachment_id = file_with_attachment(app)
    manager = as_role(roles.MANAGER)
    posts = [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/forms/staff/") and "POST" in r.methods
    ]
    assert {r.endpoint for r in posts} >= {
        "accounts.logout",
        "renovation_staff.take_step",
        "renovation_staff.record_patrol",
    }
    for rule in posts:
        url = url_for_rule(rule, application_id, attachment_id)
        for token in (None, "forged"):
            data = {"comment": "x", "building": "all"}
            if token:
                data["csrf_token"] = token
            response = manager.post(url, data=data)
            assert response.status_code == 400, url
            assert "页面已过期" in response.get_data(as_text=True), url
    assert manager.get("/forms/staff/").status_code == 200  # logout without a token did nothing
    with app.app_context():
        assert db.session.get(RenovationApplication, application_id).state == "pending"


# The step posted in the matrix below: 批准.
STEP_POSTED = "approve"


def expected_roles(app, endpoint: str) -> frozenset:
    """Who may pass a route, read from the one permissions table: the view's own permission,
    and for a workflow step the step's."""
    if endpoint == "renovation_staff.take_step":
        return STEPS_BY_ACTION[STEP_POSTED].roles
    if endpoint == "notices_staff.new":  # who writes one: checked inside the page
        return permissions.roles_for("notices.draft") | permissions.roles_for("notices.urgent")
    permission = getattr(app.view_functions[endpoint], "permission", None)
    assert permission, f"{endpoint} has no staff_required(permission)"
    return permissions.roles_for(permission)


def test_every_staff_view_names_a_permission_of_the_table(app):
    names = {getattr(app.view_functions[r.endpoint], "permission", None) for r in staff_rules(app)}
    assert None not in names
    assert names <= set(permissions.TABLE)
    # Every permission of the table is used by a view, a workflow step or a patrol kind.
    used = names | {step.permission for step in STEPS_BY_ACTION.values()}
    with app.app_context():
        used |= {f"renovation.patrol.{kind}" for kind in patrol_kinds()}
    used.add("move_in.call_owner.any_day")  # checked inside move_in_staff.call_owner
    # Whose repairs and complaints one may open: checked inside (service_requests/scope.py).
    used |= {"service.view.all", "service.view.department"}
    # Checked inside the notices' pages and publishing.may_publish (who writes, who is on duty).
    used |= {"notices.draft", "notices.urgent"}
    # Whose cleaning inspections one sees and rectifies: checked inside (cleaning/areas.py).
    used.add("cleaning.all_areas")
    assert set(permissions.TABLE) == used


def test_every_back_office_action_checks_the_role(app, as_role):
    application_id, attachment_id = file_with_attachment(app)
    with app.app_context():
        survey = next(iter(all_surveys().values()))
    known = {
        "application_id": application_id,
        "attachment_id": attachment_id,
        "photo_id": 1,
        "inspection_id": 1,
        "result_id": 1,
        "booking_id": 1,
        "notification_id": 1,
        "action": "approve",
        "fmt": "csv",
        "request_id": 1,
        "kind": "repair",
        "slug": survey.slug,
        "question_id": survey.questions[0].id,
        "user_id": 1,
        "session_id": 1,
        "attempt_id": 1,
        "quiz_id": "service-code",
        "room_id": 1,
        "person_id": 1,
        "key_id": 1,
        "claim_id": 1,
        "bill_id": 1,
        "notice_id": 1,
        "receipt_id": 1,
        "entry_id": 1,
        "direction": "out",
        "digest": "1",
        "finding_id": 1,
    }
    actions = {
        (r.endpoint, method): r
        for r in staff_rules(app)
        for method in r.methods - {"HEAD", "OPTIONS"}
    }
    assert len(actions) >= 27
    # Every role, the company's read-only 品质部 too: it passes where the table lets it read
    # and is refused every POST (access.staff_required), with the message that says so.
    clients = {role: as_role(role) for role in roles.ALL_ROLES}
    # A session's CSRF token serves all its forms: read once per client, not before every POST.
    tokens = {role: staff_csrf_token(client) for role, client in clients.items()}
    for (endpoint, method), rule in sorted(actions.items()):
        values = dict(known, action="complete") if endpoint == "move_in_staff.close" else known
        values = (
            dict(values, action=STEP_POSTED) if endpoint == "renovation_staff.take_step" else values
        )
        url = rule.build({n: values[n] for n in rule.arguments}, append_unknown=False)[1]
        for role, client in clients.items():
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": tokens[role], "building": "1"})
            allowed = role in expected_roles(app, endpoint)
            if method == "POST" and permissions.read_only(role):
                allowed = False
                assert "只能查看，不能提交或修改" in response.get_data(as_text=True), endpoint
            assert (response.status_code != 403) == allowed, (endpoint, method, role)
