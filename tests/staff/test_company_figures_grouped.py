"""The company figures page asks every domain once for all communities (grouped queries inside
``every_community``), and shows for each community what that community's own pages show: its
收缴率 page, its 客服统计 page, its survey results and its 培训进度 - the same code, the
community's own entry of it. A community without any record has its zero samples ("—", n = 0);
an account of one community still reads only its own community's figures on its own pages."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime

import pytest
import yaml
from flask import url_for

from forms_app import create_app
from forms_app.accounts import roles
from forms_app.accounts.company import company_figures
from forms_app.accounts.models import StaffUser
from forms_app.accounts.passwords import hash_password
from forms_app.core.community import COMMUNITIES_DIR, acting_in, deployment_communities
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.fees import ledger
from forms_app.fees.accounts import refresh_bills
from forms_app.fees.arrears import month_rates
from forms_app.fees.models import PAYMENT, REVERSAL, WAIVER, FeeEntry
from forms_app.households.registry import find_room
from forms_app.service_requests import states
from forms_app.service_requests.figures import compute, month_of
from forms_app.service_requests.models import OwnerFeedback, ServiceFollowUp, ServiceRequest
from forms_app.surveys.dashboard import satisfaction_headlines
from forms_app.surveys.models import SurveyAnswer, SurveyResponse, period_of
from forms_app.training.definitions import current_training
from forms_app.training.models import TrainingAttempt, TrainingReadMark
from forms_app.training.records import everyone
from forms_app.web.template_filters import format_rate
from tests.support.apps import TEST_CONFIG
from tests.support.fees import make_bill
from tests.support.postgres import app_on_postgres
from tests.support.staff import PASSWORD, login

DAY = date(2026, 11, 20)
FIRST = DAY.replace(day=1)
MONTH = f"{FIRST:%Y-%m}"
# The two shipped communities, and a third with no record at all.
HOSTS = {
    "shanshui": "http://shanshui.localhost",
    "xinyuan": "http://xinyuan.localhost",
    "zhuyuan": "http://zhuyuan.localhost",
}
NAMES = {"shanshui": "山水花园", "xinyuan": "馨园", "zhuyuan": "竹园"}
KEYS = (
    "service.satisfaction",
    "service.repair_ok",
    "service.complaint_calls",
    "surveys.satisfaction",
    "fees.bill_rate",
    "fees.cash_rate",
    "training.completion",
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request, tmp_path_factory):
    """The shipped communities and 竹园 (a copy of 馨园's file under its own id, name and host),
    today fixed in November 2026, with the records below: on a copy of the migrated SQLite
    database, and on PostgreSQL as the app's role, where row-level security holds every
    statement (the company's figures go around it inside ``every_community``)."""
    folder = tmp_path_factory.mktemp("three") / "communities"
    shutil.copytree(COMMUNITIES_DIR, folder)
    shutil.copytree(COMMUNITIES_DIR.parent / "fees", folder.parent / "fees")  # found beside
    raw = yaml.safe_load((COMMUNITIES_DIR / "xinyuan.yml").read_text(encoding="utf-8"))
    raw.update(id="zhuyuan", name="竹园", hosts=["zhuyuan.localhost"])
    raw["fees_file"] = str((COMMUNITIES_DIR / raw["fees_file"]).resolve())
    (folder / "zhuyuan.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    instance = folder.parent / "instance"
    config = {"COMMUNITIES_DIR": str(folder), "TODAY": DAY.isoformat()}
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "postgresql":
            postgres_url = request.getfixturevalue("postgres_url")
            with app_on_postgres(postgres_url, instance, patch, **config) as made:
                _records(made)
                yield made
            return
        migrated = request.getfixturevalue("migrated_database")
        instance.mkdir()
        shutil.copyfile(migrated, instance / migrated.name)
        patch.setenv("INSTANCE_PATH", str(instance))
        made = create_app({**TEST_CONFIG, **config})
        _records(made)
        yield made
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


def _in(app, key: str):
    """A request context of community ``key`` (its host)."""
    return app.test_request_context(base_url=HOSTS[key])


def _bill(app, key: str, room: str, period: str, due: int, paid: int) -> tuple[int, int]:
    """A bill of room 1-1-``room``, paid ``paid`` at the counter; (room id, bill id)."""
    with _in(app, key):
        room_id = find_room(1, 1, room).id
        with acting_in(deployment_communities()[key]):
            bill = make_bill(app, room_id, period, due, community=key)
        if paid:
            ledger.record_payment(
                room_id, payer="业主", method="cash", amount_fen=paid, bill_ids=[bill]
            )
    return room_id, bill


def _entry(app, key, room_id, bill_id, kind, amount, day, reverses=None) -> int:
    """A ledger entry as written (a waiver, a reversal, a prepayment), the bills' kept totals
    refreshed; its id."""
    with _in(app, key), write_transaction() as session:
        row = FeeEntry(
            community=key,
            room_id=room_id,
            bill_id=bill_id,
            kind=kind,
            amount_fen=amount,
            method="cash" if kind == PAYMENT else None,
            day=day,
            actor="测试",
            reverses_id=reverses,
            reason="测试",
        )
        session.add(row)
        session.flush()
        bills = [bill_id] + ([session.get(FeeEntry, reverses).bill_id] if reverses else [])
        refresh_bills(session, [b for b in bills if b])
        return row.id


def _fees(app) -> None:
    """山水花园: November's bills 300 元 paid and 100 元 due, October's 50 元 still due at
    November's start; a payment on it reversed, and a prepayment on no bill (neither
    collected). 馨园: November's bill 200 元, 100 元 paid, 20 元 waived."""
    _bill(app, "shanshui", "101", MONTH, 30000, 30000)
    _bill(app, "shanshui", "102", MONTH, 10000, 0)
    room, october = _bill(app, "shanshui", "201", "2026-10", 5000, 0)
    wrong = _entry(app, "shanshui", room, october, PAYMENT, 5000, date(2026, 11, 10))
    _entry(app, "shanshui", room, None, REVERSAL, 5000, date(2026, 11, 11), reverses=wrong)
    _entry(app, "shanshui", room, None, PAYMENT, 3000, date(2026, 11, 12))
    room, november = _bill(app, "xinyuan", "101", MONTH, 20000, 10000)
    _entry(app, "xinyuan", room, november, WAIVER, 2000, date(2026, 11, 15))


def _request(kind: str, number: int, answered: datetime | None = None) -> ServiceRequest:
    return ServiceRequest(
        kind=kind,
        reference=f"{states.PREFIXES[kind]}20261105-{number:03d}",
        filed_on=date(2026, 11, 5),
        sequence=number,
        submission_nonce=f"nonce-{number}",
        source="online",
        recorded_by="业主",
        building=1,
        unit=1,
        room="101",
        owner_name="业主",
        owner_mobile="13800138000",
        description="卫生间漏水",
        state=states.CLOSED,
        answered_at=answered,
        created_at=datetime(2026, 11, 5, 2),
    )


def _call(request: ServiceRequest, first: bool, satisfied: bool) -> ServiceFollowUp:
    return ServiceFollowUp(
        request=request,
        kind=request.kind,
        first=first,
        satisfied=satisfied,
        owner_view="意见",
        caller_name="客服",
        called_at=datetime(2026, 11, 10, 2),
    )


def _service(app) -> None:
    """山水花园: calls 3 of 4 satisfied; repairs judged first 2 of 3 good (one by the owner
    online); complaints answered 2, called back 1. 馨园: one unsatisfied call on a repair, one
    complaint answered and not called back."""
    answered = datetime(2026, 11, 6, 2)
    with _in(app, "shanshui"), write_transaction() as session:
        good, again, online = (_request(states.REPAIR, n) for n in (1, 2, 3))
        called, waiting = (_request(states.COMPLAINT, n, answered) for n in (4, 5))
        session.add_all([good, again, online, called, waiting])
        session.add_all(
            [
                _call(good, True, True),
                _call(again, True, False),
                _call(again, False, True),
                _call(called, True, True),
            ]
        )
        session.add(
            OwnerFeedback(
                request=online,
                kind=states.REPAIR,
                action="confirm",
                fixed=True,
                rating=5,
                first=True,
                created_at=datetime(2026, 11, 9, 2),
            )
        )
    with _in(app, "xinyuan"), write_transaction() as session:
        repair, complaint = _request(states.REPAIR, 6), _request(states.COMPLAINT, 7, answered)
        session.add_all([repair, complaint, _call(repair, True, False)])


def _surveys(app) -> None:
    """satisfaction answers of 2026's second half: 山水花园 5, 4, 2 (2 of 3 satisfied) and one
    of the first half (not counted); 馨园 3 (0 of 1)."""
    answers = {"shanshui": [(5, "2026-H2"), (4, "2026-H2"), (2, "2026-H2"), (5, "2026-H1")]}
    answers["xinyuan"] = [(3, "2026-H2")]
    number = 0
    for key, values in answers.items():
        with _in(app, key), write_transaction() as session:
            for value, period in values:
                number += 1
                response = SurveyResponse(
                    survey="satisfaction",
                    period=period,
                    submitted_at=datetime(2026, 11 if period.endswith("2") else 5, 3, 2),
                    nonce=f"survey-{number}",
                )
                session.add(response)
                session.flush()
                session.add(
                    SurveyAnswer(
                        response_id=response.id,
                        survey="satisfaction",
                        period=period,
                        question_id="overall",
                        value=value,
                    )
                )


def _staff(app) -> None:
    """山水花园: a 经理 and a 保洁 who has read and passed everything on 山水花园's path, and an
    account of both communities (保洁 in each) who has read 山水花园's sections; 馨园: its 经理;
    竹园: nobody."""
    places = {
        "shanshui": {"ss-jingli": roles.MANAGER, "ss-baojie": roles.CLEANER},
        "xinyuan": {"xy-jingli": roles.MANAGER},
    }
    places["shanshui"]["both-baojie"] = places["xinyuan"]["both-baojie"] = roles.CLEANER
    for key, accounts in places.items():
        # Each community's memberships written as that community's (its row-level wall).
        with _in(app, key), write_transaction() as session:
            for username, role in accounts.items():
                user = session.query(StaffUser).filter_by(username=username).one_or_none()
                if user is None:
                    user = StaffUser(
                        username=username, display_name="", password_hash=hash_password(PASSWORD)
                    )
                    session.add(user)
                user.role = role
    with _in(app, "shanshui"):
        training = current_training()
        with write_transaction() as session:
            cleaner = session.query(StaffUser).filter_by(username="ss-baojie").one()
            both = session.query(StaffUser).filter_by(username="both-baojie").one()
            for section in training.path_for(roles.CLEANER):
                for user in (cleaner, both):
                    session.add(
                        TrainingReadMark(
                            user_id=user.id, section_key=section.key, digest=section.digest
                        )
                    )
            for quiz in training.quizzes_for(roles.CLEANER):
                session.add(
                    TrainingAttempt(
                        submission_nonce=f"quiz-{quiz.id}",
                        user_id=cleaner.id,
                        quiz_id=quiz.id,
                        quiz_title=quiz.title,
                        correct=len(quiz.questions),
                        total=len(quiz.questions),
                        pass_mark=quiz.pass_mark,
                        passed=True,
                    )
                )


def _records(app) -> None:
    for key in ("xinyuan", "zhuyuan"):
        seeded = app.test_cli_runner().invoke(args=["households", "seed", "--community", key])
        assert seeded.exit_code == 0, seeded.output
    _fees(app)
    _service(app)
    _surveys(app)
    _staff(app)


def own_figures(app, key: str) -> dict[str, tuple[int, int]]:
    """(part, sample) of each figure as the community's own pages compute it, in a request
    at its host."""
    with _in(app, key):
        bill_rate, cash_rate = month_rates(MONTH)["community"]
        service = {f.name: f for f in compute(month_of(FIRST))}
        period = period_of(FIRST)
        tallies = [
            h.results.overall[period]
            for h in satisfaction_headlines(FIRST)
            if period in h.results.overall
        ]
        people = everyone()
    found = {
        key: (service[name].numerator or 0, service[name].denominator or 0)
        for key, name in (
            ("service.satisfaction", "客户满意率"),
            ("service.repair_ok", "工程报修维修合格率"),
            ("service.complaint_calls", "客户投诉回访率"),
        )
    }
    found["surveys.satisfaction"] = (
        sum(t.satisfied for t in tallies),
        sum(t.value_count for t in tallies),
    )
    found["fees.bill_rate"] = (bill_rate.collected, max(bill_rate.base, 0))
    found["fees.cash_rate"] = (cash_rate.collected, max(cash_rate.base, 0))
    found["training.completion"] = (sum(1 for r in people if not r.behind), len(people))
    return found


# What the records above make, figure by figure: (part, sample).
EXPECTED = {
    "shanshui": {
        "service.satisfaction": (3, 4),
        "service.repair_ok": (2, 3),
        "service.complaint_calls": (1, 2),
        "surveys.satisfaction": (2, 3),
        "fees.bill_rate": (30000, 40000),
        "fees.cash_rate": (30000, 45000),
        "training.completion": (1, 3),
    },
    "xinyuan": {
        "service.satisfaction": (0, 1),
        "service.repair_ok": (0, 1),
        "service.complaint_calls": (0, 1),
        "surveys.satisfaction": (0, 1),
        "fees.bill_rate": (10000, 18000),
        "fees.cash_rate": (10000, 18000),
        "training.completion": (0, 2),
    },
    "zhuyuan": dict.fromkeys(KEYS, (0, 0)),
}


def _cells(page: str, name: str) -> dict[str, str]:
    """The figures' cells of one row of the company page, as text."""
    row = re.search(rf'<tr[^>]*data-community="{name}">(.*?)</tr>', page, re.S).group(1)
    return {
        key: re.sub(r"<[^>]+>", " ", text).split()[0]
        for key, text in re.findall(r'data-figure="([^"]+)">(.*?)</td>', row, re.S)
    }


def test_company_figures_are_each_communitys_own(app):
    with app.test_request_context():
        found = company_figures(FIRST)
    rows = dict(found.rows)
    assert list(rows) == [NAMES[key] for key in HOSTS]
    for key in HOSTS:
        own = own_figures(app, key)
        company = {k: (m.part, m.sample) for k, m in rows[NAMES[key]].items()}
        assert company == own == EXPECTED[key], key
    assert {k: (m.part, m.sample) for k, m in found.company.items()} == {
        k: tuple(map(sum, zip(*(EXPECTED[c][k] for c in HOSTS), strict=True))) for k in KEYS
    }
    # As the 品质部 reads it: 竹园's row has no rate and samples of nought.
    quality = app.test_client()
    with app.app_context():
        with write_transaction() as session:
            reader = StaffUser(
                username="quality", display_name="", password_hash=hash_password(PASSWORD)
            )
            reader.role = roles.QUALITY
            session.add(reader)
    assert login(quality, "quality", PASSWORD).status_code == 302
    page = quality.get(f"/forms/staff/company/figures?month={MONTH}").get_data(as_text=True)
    for key in HOSTS:
        shown = _cells(page, NAMES[key])
        assert set(shown) == set(KEYS)
        for figure, (part, sample) in EXPECTED[key].items():
            assert shown[figure] == format_rate(part / sample if sample else None), figure
    assert set(_cells(page, "竹园").values()) == {"—"}
    empty = re.search(r'<tr[^>]*data-community="竹园">(.*?)</tr>', page, re.S).group(1)
    assert empty.count("n = 0 ") + empty.count("n = 0.00 元") == len(KEYS)


def test_a_communitys_staff_see_only_their_own_figures(app):
    """Each 经理 at their own host: their community's rates, calls and people on their own
    pages, nothing of the other's; the other's pages and the company's are closed to them."""
    pages = {
        "rates": ("fees_report.rates", {"month": MONTH}),
        "service": ("service_requests_staff.figures", {"period": MONTH}),
        "people": ("training_staff.people", {}),
        "company": ("accounts.company_figures_page", {}),
    }
    with app.test_request_context():
        urls = {name: url_for(endpoint, **args) for name, (endpoint, args) in pages.items()}
    for key, other, username in (
        ("shanshui", "xinyuan", "ss-jingli"),
        ("xinyuan", "shanshui", "xy-jingli"),
    ):
        client = app.test_client()
        assert login(client, username, PASSWORD, base_url=HOSTS[key]).status_code == 302
        mine = EXPECTED[key]

        def read(name, client=client, key=key):
            response = client.get(urls[name], base_url=HOSTS[key])
            assert response.status_code == 200, (key, name)
            return response.get_data(as_text=True)

        rates = read("rates")
        assert format_rate(mine["fees.bill_rate"][0] / mine["fees.bill_rate"][1]) in rates
        service = read("service")
        for figure in ("service.satisfaction", "service.repair_ok", "service.complaint_calls"):
            assert "{} / {}".format(*mine[figure]) in service, (key, figure)
        people = read("people")
        done, total = mine["training.completion"]
        assert f"在职员工 {total} 人" in people
        assert f'<strong id="behind-count">{total - done}</strong>' in people
        # The other community's figures are on none of them, and its pages are closed.
        theirs = EXPECTED[other]
        assert "{} / {}".format(*theirs["service.satisfaction"]) not in service
        assert client.get(urls["company"], base_url=HOSTS[key]).status_code == 403
        assert client.get(urls["rates"], base_url=HOSTS[other]).status_code in (302, 403)
