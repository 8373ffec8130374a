"""One export standard (``forms_app/web/exports.py``), checked over every export the back office
has: found from the app's routes (a path naming an export or a file format, or a view that
answers with one of the standard's responses), so that a new export cannot be left out of
``EXPORTS`` without this module failing.

Each export is downloaded by a 经理 (who may export everything) over seeded rows and opened
with openpyxl: the title row with the export time and the filters in words, a bold header
frozen below them, every column's width set, at least one row; dates are dates (never text),
percentages are numbers in a % format, numbers are numbers. Its CSV has the byte-order mark
and the header of one of the workbook's sheets (its main table). A few exports are CSV only by nature (``CSV_ONLY``); the
registry export keeps the import's layout, header in row 1, so it re-imports as it is.
"""

from __future__ import annotations

import csv
import inspect
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from forms_app.accounts import roles
from forms_app.core.clock import today, utcnow
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.fees import ledger
from forms_app.households.keys import NewKey, record_key
from forms_app.service_requests.models import HouseholdVisit, ServiceFollowUp, ServiceRequest
from forms_app.surveys.catalog import all_surveys
from forms_app.surveys.forms import Answer, Submission
from forms_app.surveys.responses import store_response
from forms_app.training.models import TrainingAttendance, TrainingSession
from forms_app.web.exports import XLSX_MIMETYPE
from tests.cleaning.conftest import Inspector, inspection_fields
from tests.move_in.conftest import Owner, booking_fields
from tests.support.fees import make_bill
from tests.support.forms import csrf_token_from
from tests.support.households import register
from tests.support.renovation import file_application

pytestmark = pytest.mark.one_app_per_module

STAFF = "/forms/staff/"
# What an export view answers with (web/exports and the registry's import-layout writer).
RESPONDERS = frozenset(
    {
        "table_response",
        "xlsx_tables_response",
        "table_csv_response",
        "csv_response",
        "xlsx_workbook",
        "write_export",
        "XLSX_MIMETYPE",
    }
)
DATE, DATETIME, PERCENT, NUMBER = "date", "datetime", "percent", "number"
DAY = "date or datetime"  # what an export's seeded cells hold when it varies (surveys)


@dataclass(frozen=True)
class Export:
    """One way of asking an export: its query, and the kinds of typed cell the seeded
    workbook must hold (so that a date column really is checked, not empty)."""

    query: str = ""
    expects: frozenset = frozenset()
    import_layout: bool = False  # the header in row 1, no title rows: the file re-imports
    quality: bool = False  # the company's export: 品质部 downloads it, not a community's 经理

    def __str__(self) -> str:
        return self.query or "default"


def expects(*kinds: str) -> frozenset:
    return frozenset(kinds)


EXPORTS: dict[str, tuple[Export, ...]] = {
    "accounts.company_figures_export": (Export(expects=expects(PERCENT, NUMBER), quality=True),),
    "accounts.export_organisation": (Export(),),
    "accounts.rota_export": (Export(expects=expects(DATE)),),
    "cleaning_staff.export": (Export(expects=expects(DATE, PERCENT, NUMBER)),),
    "fees_bill.export": (Export(expects=expects(DATE, NUMBER)),),
    "fees_ledger.export": (Export(expects=expects(DATETIME, NUMBER)),),
    "fees_report.arrears": (Export(expects=expects(NUMBER)),),
    "fees_report.rates": (Export(expects=expects(PERCENT, NUMBER)),),
    "households_import.export": (Export(expects=expects(DATE, NUMBER), import_layout=True),),
    "households_keys.export": (Export(expects=expects(DATETIME)),),
    "households_staff.export_changes": (Export(expects=expects(DATETIME)),),
    "move_in_staff.export": (Export("date={move_day}", expects=expects(DATE)),),
    "renovation_staff.export_register": (Export(expects=expects(DATE, NUMBER)),),
    "service_requests_staff.export": (
        Export(expects=expects(DATETIME)),
        Export("columns=full", expects=expects(DATETIME, NUMBER)),
    ),
    "service_requests_staff.export_figures": (
        Export("by=week", expects=expects(DATE, PERCENT, NUMBER)),
        Export("by=month", expects=expects(DATE, PERCENT, NUMBER)),
    ),
    "service_requests_staff.export_visits": (Export(expects=expects(DATE, DATETIME)),),
    "surveys_staff.export": (Export(expects=expects(DAY, NUMBER)),),
    "training_staff.export_people": (Export(expects=expects(DATE, PERCENT, NUMBER)),),
    "training_staff.export_sessions": (Export(expects=expects(DATE, DATETIME)),),
}
# Exports that are lists to work from, not reports: CSV only, checked as CSV.
CSV_ONLY = {
    "households_import.problems": "一次导入检查发现的问题，一行一个",
    "surveys_staff.invitations_csv": "发给各户的调查邀请链接",
}

# Text that is a date, a percentage or a number stored as text.
DATE_TEXT = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?")
PERCENT_TEXT = re.compile(r"-?\d+(\.\d+)?\s*%")
NUMBER_TEXT = re.compile(r"-?\d+(\.\d+)?")
# Columns whose digits are a code, not a quantity: they stay text (a mobile, a room number like
# 0801, a receipt number's leading zeros).
CODE_HEADERS = re.compile(r"手机|电话|房号|收据号|编号|用户名")


def export_endpoints(app) -> set[str]:
    """Every back-office endpoint that is an export, by its path or by its view's code."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(STAFF):
            continue
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        named = "export" in rule.rule or "fmt" in rule.arguments
        named = named or rule.rule.endswith((".csv", ".xlsx", ".xls"))
        if named or RESPONDERS & set(view.__code__.co_names):
            found.add(rule.endpoint)
    return found


def test_every_export_is_checked_here(app):
    found = export_endpoints(app)
    listed = set(EXPORTS) | set(CSV_ONLY)
    assert not found - listed, f"exports not checked by this module: {sorted(found - listed)}"
    assert not listed - found, f"listed here but not in the app: {sorted(listed - found)}"
    assert not set(EXPORTS) & set(CSV_ONLY)


# --- the seeded back office ----------------------------------------------------------------


def _months_back(day, months: int) -> str:
    index = day.year * 12 + day.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _seed_service(app) -> None:
    """A repair done, called back (satisfied) and closed, and a household visit."""
    with app.app_context():
        now = utcnow()
        with write_transaction() as session:
            repair = ServiceRequest(
                kind="repair",
                reference=f"BX{today():%Y%m%d}-001",
                filed_on=today(),
                sequence=1,
                submission_nonce="exports-standard-repair-0001",
                source="phone",
                recorded_by="经理",
                building=1,
                unit=1,
                room="101",
                owner_name="张业主",
                owner_mobile="13800138000",
                location="home",
                description="卫生间洗手盆下水管漏水，地面有积水，请尽快上门查看维修。",
                state="closed",
                urgency="normal",
                assignee_name="工程",
                dispatched_at=now - timedelta(hours=3),
                due_at=now + timedelta(hours=21),
                arrived_at=now - timedelta(hours=2),
                finished_at=now - timedelta(hours=1),
                result="已更换下水管",
                closed_at=now,
                created_at=now - timedelta(hours=4),
            )
            repair.follow_ups.append(
                ServiceFollowUp(
                    kind="repair",
                    first=True,
                    satisfied=True,
                    owner_view="满意",
                    caller_name="客服",
                    called_at=now,
                )
            )
            session.add(repair)
            session.add(
                HouseholdVisit(
                    submission_nonce="exports-standard-visit-0001",
                    kind="regular",
                    visited_on=today(),
                    building=1,
                    unit=1,
                    room="101",
                    person="张业主",
                    opinion="希望加强夜间巡逻。",
                    owner_signed=True,
                    visitor_name="客服",
                )
            )


def _seed_training(app) -> None:
    from forms_app.accounts.models import StaffUser

    with app.app_context():
        cleaner = db.session.query(StaffUser).filter_by(username=roles.CLEANER).one()
        with write_transaction() as session:
            record = TrainingSession(
                submission_nonce="exports-standard-session-0001",
                held_on=today(),
                topic="保洁服务品质检查标准",
                trainer_name="经理",
                recorded_by_name="经理",
            )
            record.attendances.append(
                TrainingAttendance(user_id=cleaner.id, user_name="保洁", how="ticked", at=utcnow())
            )
            session.add(record)


def _seed_surveys(app) -> None:
    with app.app_context():
        for survey in all_surveys().values():
            answers = []
            for question in survey.questions:
                if question.is_scale:
                    answers.append(Answer(question.id, value=4))
                elif question.is_text:
                    answers.append(Answer(question.id, text="很好"))
                else:
                    answers.append(Answer(question.id, option=question.options[0]))
            respondent = {"building": 1, "unit": 1, "room": "101", "respondent_name": "张业主"}
            store_response(
                survey,
                Submission(answers=answers, respondent={} if survey.anonymous else respondent),
                nonce=f"exports-standard-{survey.slug}"[:64].ljust(20, "0"),
            )


def _seed_fees(app, room_id: int) -> None:
    day = today()
    this_month = make_bill(app, room_id, f"{day:%Y-%m}", 20000)
    make_bill(app, room_id, _months_back(day, 3), 15000)  # overdue: 欠费账龄
    with app.app_context():
        ledger.record_payment(
            room_id,
            payer="张业主",
            method="cash",
            amount_fen=10000,
            bill_ids=[this_month],
            nonce="exports-standard-payment-0001",
        )


def _import_problems(client) -> str:
    """A dry run of an import file with a bad mobile; the path of its result page."""
    workbook = Workbook()
    workbook.active.append(["楼栋", "单元", "房号", "收费面积", "业主姓名", "手机号"])
    workbook.active.append([1, 1, 101, 80, "张三", "123"])
    content = io.BytesIO()
    workbook.save(content)
    page = STAFF + "households/import/"
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    checked = client.post(
        page,
        data={"csrf_token": token, "file": (io.BytesIO(content.getvalue()), "台账.xlsx")},
        content_type="multipart/form-data",
    )
    assert checked.status_code in (302, 303), checked.status_code
    return checked.headers["Location"]


def seed(app, as_role) -> dict:
    """At least one row for every export; returns the manager's session cookie and the path
    arguments the exports need."""
    manager = as_role(roles.MANAGER)
    room_id, _person = register(app, 1, 1, "101", "张业主", "13800138000")
    with app.test_request_context():
        record_key(room_id, NewKey("入户门钥匙 2 把", True, "张业主", "管理处钥匙柜 A-01"))
    _seed_fees(app, room_id)
    file_application(app)
    move_day = today() + timedelta(days=3)
    Owner(app.test_client()).book(booking_fields(day=move_day))
    Inspector(as_role(roles.SERVICE)).inspect(inspection_fields(day=today()))
    _seed_service(app)
    _seed_training(app)
    _seed_surveys(app)
    slug = _first_survey(app)
    token = csrf_token_from(manager.get(STAFF).get_data(as_text=True))
    manager.post(f"{STAFF}surveys/{slug}/invitations", data={"csrf_token": token, "building": 1})
    digest = _import_problems(manager).rstrip("/").rsplit("/", 1)[-1]
    quality = as_role(roles.QUALITY)
    return {
        "cookie": manager.get_cookie(app.config["SESSION_COOKIE_NAME"]).value,
        "quality_cookie": quality.get_cookie(app.config["SESSION_COOKIE_NAME"]).value,
        "move_day": move_day.isoformat(),
        "digest": digest,
        "slug": slug,
    }


def _first_survey(app) -> str:
    with app.app_context():
        return next(iter(all_surveys()))


@pytest.fixture
def seeded(app, module_app, as_role):
    """The seeded back office (made once for the module) and a 经理's client on it."""
    made = module_app.seeded(app, "exports", lambda: seed(app, as_role))
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], made["cookie"])
    return client, made


def url_of(app, endpoint: str, fmt: str, made: dict, query: str = "", slug=None) -> str:
    (rule,) = app.url_map.iter_rules(endpoint)
    values = {"fmt": fmt, "slug": slug or made["slug"], "digest": made["digest"]}
    path = rule.build({n: values[n] for n in rule.arguments}, append_unknown=False)[1]
    query = "&".join(
        part
        for part in (query.format(**made), "" if "fmt" in rule.arguments else f"fmt={fmt}")
        if part
    )
    return f"{path}?{query}" if query else path


# --- the checks ----------------------------------------------------------------------------


def covered_columns(sheet) -> set[int]:
    """The columns whose width the file sets (openpyxl may group equal ones in a range)."""
    covered = set()
    for dimension in sheet.column_dimensions.values():
        if dimension.width and dimension.customWidth:
            covered.update(range(dimension.min, dimension.max + 1))
    return covered


def check_sheet(sheet, export: Export, found: set[str]) -> list[str]:
    """The standard's checks on one sheet; the kinds of typed cell seen are added to ``found``."""
    where = f"{sheet.title}"
    header_row = 1 if export.import_layout else 3
    if not export.import_layout:
        title, described = sheet["A1"], sheet["A2"]
        assert isinstance(title.value, str) and "导出于" in title.value, (where, title.value)
        assert title.font.bold, where
        assert isinstance(described.value, str), where
        assert re.fullmatch(r"筛选条件：\S.*", described.value), (where, described.value)
    header = [cell for cell in sheet[header_row] if cell.value is not None]
    assert header and all(isinstance(c.value, str) and c.value.strip() for c in header), where
    assert all(c.font.bold for c in header), (where, "header not bold")
    assert len(header) == sheet.max_column, (where, "cells beyond the header")
    assert sheet.freeze_panes == f"A{header_row + 1}", (where, sheet.freeze_panes)
    missing = set(range(1, len(header) + 1)) - covered_columns(sheet)
    assert not missing, (where, "no width", [get_column_letter(i) for i in sorted(missing)])
    labels = [c.value for c in header]
    rows = 0
    for row in sheet.iter_rows(min_row=header_row + 1):
        rows += 1
        for label, cell in zip(labels, row, strict=False):
            value, at = cell.value, (where, cell.coordinate, label, cell.value)
            if isinstance(value, datetime):
                assert cell.is_date, at
                found.update((DAY, DATETIME if "h" in cell.number_format else DATE))
            elif isinstance(value, bool):
                raise AssertionError(("是/否 expected, not a boolean", *at))
            elif isinstance(value, (int, float)):
                if "%" in cell.number_format:
                    found.add(PERCENT)
                else:
                    assert not label.endswith(("率", "完成度", "占比", "%", "％")), (
                        "a percentage without a % format",
                        *at,
                    )
                    found.add(NUMBER)
            elif isinstance(value, str):
                text = value.strip()
                assert not DATE_TEXT.fullmatch(text), ("a date as text", *at)
                assert not PERCENT_TEXT.fullmatch(text), ("a percentage as text", *at)
                if not CODE_HEADERS.search(label):
                    assert not NUMBER_TEXT.fullmatch(text), ("a number as text", *at)
    return labels if rows else []


def check_workbook(body: bytes, export: Export) -> list[list[str]]:
    """Every sheet checked; the first sheet has rows; returns each sheet's header (empty for
    a sheet without rows)."""
    book = load_workbook(io.BytesIO(body))
    found: set[str] = set()
    headers = [check_sheet(sheet, export, found) for sheet in book.worksheets]
    assert headers[0], "the first sheet has no rows: seed one"
    assert export.expects <= found, f"typed cells missing: {sorted(export.expects - found)}"
    return headers


def check_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "CSV without a byte-order mark"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows and all(rows[0]), rows[:1]
    assert len(rows) >= 2, "the CSV has no rows: seed one"
    return rows


CASES = [
    pytest.param(endpoint, export, id=f"{endpoint}[{export}]")
    for endpoint, exports in sorted(EXPORTS.items())
    for export in exports
]


@pytest.mark.parametrize("endpoint, export", CASES)
def test_the_export_meets_the_standard(app, seeded, endpoint, export):
    client, made = seeded
    if export.quality:
        client = app.test_client()
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], made["quality_cookie"])
    slugs = [made["slug"]]
    if endpoint == "surveys_staff.export":
        with app.app_context():
            slugs = list(all_surveys())  # every survey: its columns follow its questions
    for slug in slugs:
        url = url_of(app, endpoint, "xlsx", made, export.query, slug)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.location)
        assert response.mimetype == XLSX_MIMETYPE, url
        assert "filename*=UTF-8''" in response.headers["Content-Disposition"], url
        headers = check_workbook(response.data, export)
        url = url_of(app, endpoint, "csv", made, export.query, slug)
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/csv", url
        # The CSV holds one of the workbook's tables (its main one), same columns.
        assert check_csv(response.data)[0] in headers, url


@pytest.mark.parametrize("endpoint", sorted(CSV_ONLY))
def test_the_csv_only_exports(app, seeded, endpoint):
    client, made = seeded
    response = client.get(url_of(app, endpoint, "csv", made))
    assert response.status_code == 200 and response.mimetype == "text/csv", endpoint
    check_csv(response.data)


# Wide registers: the page offers the short default and the full set, in both formats.
WIDE = {"service_requests_staff.export": "/forms/staff/service/?kind=repair"}


@pytest.mark.parametrize("endpoint, page", sorted(WIDE.items()))
def test_wide_registers_offer_the_short_and_the_full_set(app, seeded, endpoint, page):
    client, made = seeded
    html = client.get(page).get_data(as_text=True)
    links = [urlsplit(unescape(href)) for href in re.findall(r'href="([^"]+)"', html)]
    for fmt in ("xlsx", "csv"):
        base = url_of(app, endpoint, fmt, made)
        offered = [parse_qs(link.query) for link in links if link.path == base]
        # Both sets, each keeping the list's filters.
        assert sorted(q.get("columns", ["short"])[0] for q in offered) == ["full", "short"], fmt
        assert all(q["kind"] == ["repair"] for q in offered), fmt
    xlsx = url_of(app, endpoint, "xlsx", made)
    short = load_workbook(io.BytesIO(client.get(f"{xlsx}?kind=repair").data)).active
    full = client.get(f"{xlsx}?kind=repair&columns=full").data
    assert short["A2"].value == "筛选条件：类别：报修"
    assert short.max_column < load_workbook(io.BytesIO(full)).active.max_column
