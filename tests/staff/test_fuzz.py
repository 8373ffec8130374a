"""Odd query strings and form values on every back-office page never end in a 500.

Every GET rule under /forms/staff/ (whichever package registered it) that reads its query
string is requested by a 经理, who may open all of them, with each filter, date, page and
search parameter - and every other name the page was seen to read - set to values nobody types
on purpose; then the list pages get names that clash with url_for's own keywords. Which names a
page reads is recorded once per module (``tests/support/fuzz.query_names_read``): a page that
reads none cannot fail on them. The lists hold more than one page, so their page links are rendered too.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from werkzeug.routing import IntegerConverter

from forms_app.accounts import roles
from forms_app.accounts.audit import record_audit
from forms_app.accounts.models import AuditLog, LoginAttempt
from forms_app.core.clock import today
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.core.row_ids import MAX_ROW_ID
from forms_app.renovation.models import RenovationApplication, RenovationEvent
from forms_app.renovation.patrols import RenovationPatrol
from forms_app.surveys.catalog import all_surveys
from forms_app.web.paging import PER_PAGE
from tests.support.forms import csrf_token_from, staff_csrf_token
from tests.support.fuzz import EVERY_NAME, NOT_UTF8, odd_post, query_names_read
from tests.support.renovation import checklist_answers, file_application, walk

from .test_access import staff_rules

# Hundreds of small tests: one app object for them all, renewed before each (tests/conftest.py).
pytestmark = pytest.mark.one_app_per_module

PARAMS = (
    "page",
    "week",
    "date",
    "date_from",
    "date_to",
    "month",
    "q",
    "state",
    "building",
    "period",
    "action",
    "area",
    "inspector",
    "failures",
    "rectification",
    "columns",
    "by",
)
# Already percent-encoded: %ff is not UTF-8, %00 a NUL, ² a digit int() refuses.
ODD_VALUES = [
    "-1",
    "0",
    "99999999999999999999",
    "%00",
    "%ff",
    quote("²"),
    quote("٣"),
    "0001-01-01",
    "9999-12-31",
    "0001-01",
    "9999-12",
    "x" * 5000,
    "1e3",
    "%20",
    quote("𠀀"),
    "[]",
    "1" * 5000,
    "%27%22%3E%3Csvg%20onload=alert(1)%3E",
    "%FF%FE%C0%AF",
]
# Query names that url_for would take as its own arguments if a view passed request.args on.
CLASHING = [
    "_scheme=javascript",
    "_external=1",
    "_method=POST",
    "_anchor=x",
    "endpoint=x",
    "slug=x",
    "question_id=x",
    "fmt=x",
    "values=x",
]


@pytest.fixture
def manager(app, module_app, as_role):
    """A 经理 and a back office with more than one page of applications and audit entries.

    Made once for the module (``ModuleApp.seeded``): the next tests get its database back and
    a client with the 经理's session cookie."""

    def seed() -> str:
        client = as_role(roles.MANAGER)
        first = file_application(app)
        walk(app, first, "approve", "start")
        for index in range(PER_PAGE + 1):
            file_application(app, building=2, unit=1 + index % 2, room=f"{101 + index // 2}")
        with app.app_context():
            with write_transaction():
                for _ in range(PER_PAGE + 1):
                    record_audit("export", target="test")
        return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    session_cookie = module_app.seeded(app, "manager", seed)
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], session_cookie)
    # Logged in as the 经理 (the session answer, not the home page: its 59 statements ran for
    # every test here).
    assert client.get("/forms/staff/drafts/session").get_json()["user"] == roles.MANAGER
    return client


def get_urls(app) -> list[str]:
    """A concrete URL for every GET rule of the back office."""
    with app.app_context():
        survey = next(s for s in all_surveys().values() if any(q.is_text for q in s.questions))
        text_question = next(q for q in survey.questions if q.is_text)
    known = {
        "application_id": 1,
        "attachment_id": 1,
        "photo_id": 1,
        "inspection_id": 1,
        "result_id": 1,
        "slug": survey.slug,
        "question_id": text_question.id,
        "fmt": "csv",
        "booking_id": 1,
        "action": "complete",
        "direction": "out",
        "digest": "1",
        "finding_id": 1,
    }
    urls = []
    for rule in staff_rules(app):
        if "GET" in rule.methods:
            values = {name: known.get(name, 1) for name in rule.arguments}
            urls.append(rule.build(values, append_unknown=False)[1])
    return urls


# {url: the query names it reads}, found once for the module (the seeded back office is the
# same for every test).
_NAMES_READ: dict[str, set[str]] = {}


def query_reading_urls(app, manager, names) -> dict[str, set[str]]:
    """{url: names it reads} for the back office's GET URLs that read any of ``names`` from
    their query string, or read it whole. Found by requesting each once with every fuzzed and
    clashing name set; a page that reads none of them cannot fail on their values, so the fuzz
    skips it, and a name a page reads that ``PARAMS`` lacks is fuzzed on that page too."""
    if not _NAMES_READ:
        probe = "&".join([f"{name}=1" for name in PARAMS] + CLASHING)
        for url in get_urls(app):
            _NAMES_READ[url] = query_names_read(app, manager, f"{url}?{probe}")
    names = {*names, EVERY_NAME}
    return {url: read for url, read in _NAMES_READ.items() if read & names}


def test_the_fuzz_finds_the_pages_that_read_their_query(app, manager):
    reading = query_reading_urls(app, manager, PARAMS)
    assert {"q", "state", "page"} <= reading["/forms/staff/renovations"]
    assert "/forms/staff/renovations/1/attachments/1" not in reading  # a file has no filters
    assert "staff" in reading["/forms/staff/fees/ledger/"]  # a name PARAMS lacks is found too
    assert len(reading) >= 30


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_query_values_never_fail(app, manager, value):
    for url, read in query_reading_urls(app, manager, PARAMS).items():
        names = sorted({*PARAMS, *read} - {EVERY_NAME})
        response = manager.get(url + "?" + "&".join(f"{name}={value}" for name in names))
        assert response.status_code < 500, (url, value)


def test_repeated_parameters_never_fail(app, manager):
    for url, read in query_reading_urls(app, manager, PARAMS).items():
        names = sorted({*PARAMS, *read} - {EVERY_NAME})
        query = "&".join(f"{name}=1&{name}=2&{name}[]=3" for name in names)
        assert manager.get(f"{url}?{query}").status_code < 500, url


@pytest.mark.parametrize("clash", CLASHING)
def test_names_url_for_would_take_never_fail(app, manager, clash):
    # state=bad makes the exports send the browser back to the list with the filters.
    names = {clash.split("=")[0], "page", "state"}
    for url in query_reading_urls(app, manager, names):
        for query in (f"{clash}&page=2", f"{clash}&state=bad&page=2"):
            response = manager.get(f"{url}?{query}")
            assert response.status_code < 500, (url, query)
            assert "javascript" not in response.headers.get("Location", ""), (url, query)
            assert "javascript:" not in response.get_data(as_text=True), (url, query)


def test_page_links_keep_only_the_filters(manager):
    url = "/forms/staff/renovations?building=2&_anchor=x&evil=1"
    html = manager.get(url).get_data(as_text=True)
    assert "page=2" in html and "building=2" in html
    assert "evil" not in html and "#x" not in html


def test_audit_page_links_keep_the_action_filter(manager):
    html = manager.get("/forms/staff/audit?action=export&_external=1").get_data(as_text=True)
    assert 'href="/forms/staff/audit?action=export&amp;page=2"' in html


def _token(client, url: str | None = None) -> str:
    """The session's CSRF token: a logged-in client's from its session, else the page's."""
    if url is None:
        return staff_csrf_token(client)
    return csrf_token_from(client.get(url).get_data(as_text=True))


@pytest.mark.parametrize("value", ["²", "٣x", "-1", "0", "x" * 5000, "\x00"])
def test_odd_building_in_posted_forms_is_refused_not_a_500(app, manager, value):
    with app.app_context():
        slug = next(iter(all_surveys()))
    token = _token(manager)
    response = manager.post(
        f"/forms/staff/surveys/{slug}/invitations", data={"csrf_token": token, "building": value}
    )
    assert response.status_code == 302
    response = manager.post(
        "/forms/staff/cleaning/new", data={"csrf_token": token, "building": value, "areas": "lobby"}
    )
    assert response.status_code == 400
    assert "请选择列表中的楼栋" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "²", "x" * 5000])
def test_odd_dates_in_workflow_and_patrol_forms(app, manager, value):
    with app.app_context():
        application_id = (
            db.session.query(RenovationApplication.id).filter_by(state="in_progress").scalar()
        )
    token = _token(manager)
    url = f"/forms/staff/renovations/{application_id}"
    response = manager.post(
        f"{url}/steps/extend", data={"csrf_token": token, "end_date": value, "comment": "雨季"}
    )
    assert response.status_code in (303, 400), value
    response = manager.post(
        f"{url}/patrols",
        data={
            "csrf_token": token,
            "kind": "office",
            "patrol_date": value,
            "findings": "正常",
            "violation": "no",
        },
    )
    assert response.status_code == 400, value


FIELDS = (
    "comment",
    "internal_note",
    "confirm",
    "end_date",
    "kind",
    "patrol_date",
    "findings",
    "violation",
    "violation_description",
    "building",
    "inspected_on",
    "spot",
    "areas",
    "nonce",
    "result-x",
    "note-x",
    "note",
    "outcome",
    "step",
    "username",
    "display_name",
    "role",
    "password",
    "password_confirm",
    "active",
    "section",
    "digest",
    "q-smile",
    "held_on",
    "topic",
    "trainer",
    "sections",
    "quiz",
    "attendees",
    "listed",
)
ODD_FORM_VALUES = [
    "²",
    "\x00",
    "\ufffd",
    "0001-01-01",
    "9999-12-31",
    "-1",
    "x" * 20000,
    "1" * 5000,
    " ",
]
STEPS = ("approve", "reject", "start", "extend", "complete")


@pytest.mark.parametrize("value", ODD_FORM_VALUES)
def test_odd_form_values_on_every_staff_post_never_fail(app, manager, value):
    with app.app_context():
        application_id = (
            db.session.query(RenovationApplication.id).filter_by(state="in_progress").scalar()
        )
        slug = next(iter(all_surveys()))
    known = {
        "application_id": application_id,
        "slug": slug,
        "booking_id": 1,
        "notification_id": 1,
        "request_id": 1,
        "kind": "repair",
        "user_id": 1,
        "session_id": 1,
        "quiz_id": "service-code",
        "room_id": 1,
        "person_id": 1,
        "key_id": 1,
        "claim_id": 1,
        "bill_id": 1,
        "notice_id": 1,
        "direction": "out",
        "digest": "1",
        "receipt_id": 1,
        "entry_id": 1,
        "inspection_id": 1,
        "result_id": 1,
        "finding_id": 1,
    }
    data = {name: value for name in FIELDS}
    data["csrf_token"] = _token(manager)
    for rule in staff_rules(app):  # every POST but login and logout
        if "POST" not in rule.methods:
            continue
        for action in STEPS if "action" in rule.arguments else ("complete",):
            values = dict(known, action=action)
            url = rule.build({n: values[n] for n in rule.arguments}, append_unknown=False)[1]
            assert manager.post(url, data=data).status_code < 500, (url, repr(value)[:20])
    stranger = app.test_client()
    login_data = {
        "csrf_token": _token(stranger, "/forms/staff/login"),
        "username": value,
        "password": value,
        "next": value,
    }
    assert stranger.post("/forms/staff/login", data=login_data).status_code < 500


def test_control_characters_are_not_stored(app, manager):
    """PostgreSQL refuses NUL in text: staff input loses control characters like owners' does."""
    with app.app_context():
        application_id = (
            db.session.query(RenovationApplication.id).filter_by(state="in_progress").scalar()
        )
    token = _token(manager)
    url = f"/forms/staff/renovations/{application_id}"
    assert (
        manager.post(
            f"{url}/patrols",
            data={
                "csrf_token": token,
                "kind": "office",
                "patrol_date": "",
                "findings": "正常\x00",
                **checklist_answers("office", {"passage": "\x00\x08"}, on=today()),
            },
        ).status_code
        == 400
    )  # the date is missing (and the note only control characters): the form comes back
    response = manager.post(
        f"{url}/patrols",
        data={
            "csrf_token": token,
            "nonce": "control-characters-patrol",
            "kind": "office",
            "findings": "垃圾\x00已清运\r\n第二行",
            "patrol_date": today().isoformat(),
            **checklist_answers("office", {"working-hours": "\x0b19:00 后施工\x00"}, on=today()),
        },
    )
    assert response.status_code == 303
    assert (
        manager.post(
            f"{url}/steps/complete", data={"csrf_token": token, "comment": "\x00完工\x07"}
        ).status_code
        == 303
    )
    stranger = app.test_client()
    stranger.post(
        "/forms/staff/login",
        data={
            "csrf_token": _token(stranger, "/forms/staff/login"),
            "username": "wang\x00",
            "password": "x",
        },
    )
    manager.get("/forms/staff/renovations?q=%00王")
    manager.get("/forms/staff/renovations/export.csv?q=%00王")
    with app.app_context():
        patrol = db.session.query(RenovationPatrol).one()
        assert patrol.findings == "垃圾已清运\n第二行"
        assert patrol.failed[0].note == "19:00 后施工"
        assert patrol.violation_description == "严格按装修规定时间施工：19:00 后施工"
        events = (
            db.session.query(RenovationEvent.comment).filter_by(application_id=application_id).all()
        )
        assert ("完工",) in events
        texts = [
            *db.session.query(LoginAttempt.username).all(),
            *db.session.query(AuditLog.target, AuditLog.detail).all(),
        ]
    assert not any("\x00" in value for row in texts for value in row), texts


# Beyond PostgreSQL's integer, SQLite's 64-bit integer and any machine integer; and no ids.
HUGE_IDS = ["2147483648", "9223372036854775808", "99999999999999999999", "1" * 5000, "0"]


def id_rules(app):
    """Every rule of the app with an id in its path (application, attachment, photo,
    inspection, booking …), whichever package registered it."""
    return [
        r
        for r in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in r._converters.values())
    ]


def path_with(rule, huge: str) -> str:
    """The rule's path with every id set to ``huge`` and other parts to a plain value."""

    def part(match):
        name = match.group(1)
        if isinstance(rule._converters[name], IntegerConverter):
            return huge
        return {"action": "extend", "fmt": "csv"}.get(name, "x")

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", part, rule.rule)


def test_every_id_route_is_bounded(app):
    rules = id_rules(app)
    assert {r.endpoint for r in rules} >= {
        "renovation_staff.renovation",
        "renovation_staff.take_step",
        "renovation_staff.record_patrol",
        "renovation_staff.attachment",
        "renovation_staff.patrol_photo",
        "cleaning_staff.detail",
        "cleaning_staff.photo",
        "cleaning_staff.rectify",
        "cleaning_staff.recheck",
        "cleaning_staff.follow_up_photo",
        "move_in_staff.close",
    }
    for rule in rules:
        for converter in rule._converters.values():
            if isinstance(converter, IntegerConverter):
                assert converter.max == MAX_ROW_ID, rule.rule


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_beyond_the_integer_range_are_404_on_every_route(app, manager, huge):
    token = _token(manager)
    for rule in id_rules(app):
        path = path_with(rule, huge)
        for method in sorted({"GET", "POST"} & rule.methods):
            response = manager.open(
                path,
                method=method,
                data={"csrf_token": token, "comment": "雨季", "end_date": "2030-01-01"},
            )
            assert response.status_code == 404, (method, path[:80], response.status_code)
            assert "页面不存在" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "form",
    [
        {"step": "extend", "end_date": "2099-01-01", "comment": NOT_UTF8},
        {"step": "patrols", "kind": "office", "findings": NOT_UTF8, **checklist_answers("office")},
        {
            "step": "patrols",
            "kind": "office",
            "findings": "正常",
            **checklist_answers("office", {"passage": NOT_UTF8}),
        },
    ],
)
def test_invalid_utf8_in_staff_text_is_refused_and_not_stored(app, manager, form):
    """Staff forms are urlencoded: %FF%FE%C0%AF in a text field gets the Chinese message."""
    with app.app_context():
        application_id = (
            db.session.query(RenovationApplication.id).filter_by(state="in_progress").scalar()
        )
        events = db.session.query(RenovationEvent).count()
    form = dict(form, csrf_token=_token(manager), patrol_date=today().isoformat())
    step = form.pop("step")
    url = f"/forms/staff/renovations/{application_id}/" + (
        "patrols" if step == "patrols" else f"steps/{step}"
    )
    field = next(name for name, value in form.items() if value == NOT_UTF8)
    response = odd_post(manager, url, form, field, NOT_UTF8, urlencoded=True)
    assert response.status_code == 400
    assert "含有无法识别的字符" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(RenovationEvent).count() == events
        assert db.session.query(RenovationPatrol).count() == 0


def test_every_pages_title_is_plain_text(app, manager):
    """A <title> holds text only: a block left open in a template would put a form in it."""
    for url in get_urls(app):
        response = manager.get(url)
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        title = re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S)
        assert title and "<" not in title.group(1) and len(title.group(1)) < 120, url
