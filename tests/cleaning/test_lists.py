"""The list with its filters, the monthly summary for 经理 and the exports."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.cleaning.checklist import checklist
from forms_app.core.extensions import db

from .conftest import LIST_URL, Inspector, inspection_fields, results_for

pytestmark = pytest.mark.one_app_per_module


def references(page: str) -> list[str]:
    return re.findall(r">(JC\d{5})</a>", page)


def record_month(as_role):
    """Four inspections by two inspectors over November and December."""
    service, manager = Inspector(as_role(roles.SERVICE)), Inspector(as_role(roles.MANAGER))
    service.inspect(inspection_fields(day=date(2026, 11, 20)))
    service.inspect(
        inspection_fields(
            areas=("lobby", "restroom"),
            day=date(2026, 12, 2),
            **results_for("lobby", {"lobby-4": "烟头 5 个", "lobby-6": '=HYPERLINK("http://x")'}),
            **results_for("restroom", {"restroom-9": "隔板涂写"}, na=("restroom-4",)),
        )
    )
    manager.inspect(
        inspection_fields(
            areas=("basement",),
            building="",
            day=date(2026, 12, 5),
            **results_for("basement", {"basement-2": "排水沟堵塞"}),
        )
    )
    manager.inspect(
        inspection_fields(
            areas=("lobby",),
            day=date(2026, 12, 8),
            **results_for("lobby", {"lobby-4": "烟头 4 个"}),
        )
    )
    return service, manager


def test_filters_by_dates_area_inspector_and_failures(as_role):
    service, manager = record_month(as_role)
    client = manager.client

    def listed(**args):
        response = client.get(LIST_URL, query_string=args)
        assert response.status_code == 200
        return references(response.get_data(as_text=True))

    assert listed() == ["JC00004", "JC00003", "JC00002", "JC00001"]
    assert listed(date_from="2026-12-01", date_to="2026-12-05") == ["JC00003", "JC00002"]
    assert listed(area="restroom") == ["JC00002"]
    assert listed(area="lobby", failures="yes") == ["JC00004", "JC00002"]
    assert listed(failures="no") == ["JC00001"]
    inspectors = re.findall(
        r'<option value="(\d+)"[^>]*>([^<]+)</option>', client.get(LIST_URL).get_data(as_text=True)
    )
    manager_id = next(i for i, name in inspectors if name.startswith("manager"))
    assert listed(inspector=manager_id) == ["JC00004", "JC00003"]


def test_nonsense_filters_are_explained_not_a_500(as_role):
    client = as_role(roles.SERVICE)
    page = html.unescape(
        client.get(
            LIST_URL,
            query_string={
                "date_from": "12/01",
                "area": "garden",
                "inspector": "x",
                "failures": "maybe",
                "page": "-3",
            },
        ).get_data(as_text=True)
    )
    for message in (
        "开始日期格式应为",
        "请选择列表中的区域",
        "请选择列表中的检查人",
        "请选择列表中的选项",
    ):
        assert message in page
    page = html.unescape(
        client.get(
            LIST_URL, query_string={"date_from": "2026-12-09", "date_to": "2026-12-01"}
        ).get_data(as_text=True)
    )
    assert "结束日期不能早于开始日期" in page


def test_the_monthly_summary_rates_areas_ranks_failures_and_lists_key_area_failures(as_role):
    _service, manager = record_month(as_role)
    response = manager.client.get("/forms/staff/cleaning/summary?month=2026-12")
    page = html.unescape(response.get_data(as_text=True))
    assert '<div class="big-number" id="inspection-count">3</div>' in page
    # 大堂: 14 checked, 3 failed; 公共洗手间: 9 applicable, 1 failed; 地下室: 3, 1 failed.
    area_rows = re.findall(
        r"<tr><td>([^<]+?)(?: <span[^>]*>★ 重点区域</span>)?</td>\s*"
        r'<td class="num"[^>]*>(\d+)</td><td class="num"[^>]*>(\d+) / (\d+)</td>',
        page,
    )
    assert area_rows == [
        ("大堂", "2", "11", "14"),
        ("公共洗手间", "1", "8", "9"),
        ("地下室", "1", "2", "3"),
    ]
    assert '<div class="big-number" id="overall-rate">80.8%</div>' in page  # 21 / 26
    most_failed = re.search(r'<table id="most-failed"[^>]*>(.*?)</table>', page, re.S).group(1)
    assert (
        re.findall(r'<td class="num"[^>]*>(\d+)</td><td class="num"[^>]*>\d+</td>', most_failed)[0]
        == "2"
    )
    assert most_failed.index("烟灰装置") < most_failed.index("排水沟")
    key_failures = re.search(
        r'<ul class="key-failure-list" id="key-failures">(.*?)</ul>', page, re.S
    ).group(1)
    assert key_failures.count("<li") == 4  # two in 大堂 on 12-02, one 12-08, one in 洗手间
    assert "排水沟堵塞" not in key_failures
    assert '<figure class="chart"' in page and "各区域合格率（2026-12）" in page
    november = html.unescape(
        manager.client.get("/forms/staff/cleaning/summary?month=2026-11").get_data(as_text=True)
    )
    assert '<div class="big-number" id="overall-rate">100%</div>' in november
    for month, message in (
        ("2026-13", "月份格式应为"),
        ("0001-01", "只能查看"),
        ("9999-12", "只能查看"),
    ):
        bad = manager.client.get(f"/forms/staff/cleaning/summary?month={month}")
        assert bad.status_code == 200 and message in bad.get_data(as_text=True)


def test_csv_export_has_a_bom_one_row_per_checked_item_and_neutralized_cells(app, as_role):
    _service, manager = record_month(as_role)
    response = manager.client.get(
        "/forms/staff/cleaning/export.csv", query_string={"date_from": "2026-12-01"}
    )
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["检查编号", "检查日期", "楼栋", "具体位置"]
    assert len(rows) - 1 == 7 + 10 + 3 + 7
    notes = [row[9] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in notes
    failed = [row for row in rows[1:] if row[8] == "不合格"]
    # The standard's words, never the data file's ids.
    texts = {item_id: item.text for item_id, (_area, item) in checklist().items.items()}
    assert [row[7] for row in failed] == [
        texts[i] for i in ("lobby-4", "lobby-6", "restroom-9", "basement-2", "lobby-4")
    ]
    assert not any(cell in texts for row in rows for cell in row)
    with app.app_context():
        entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "export")).one()
        assert entry.target == "保洁品质检查" and "csv" in entry.detail


def test_xlsx_export_keeps_a_formula_as_text(as_role):
    _service, manager = record_month(as_role)
    response = manager.client.get("/forms/staff/cleaning/export.xlsx?area=lobby")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["检查记录", "检查明细", "整改与复检"]
    sheet = workbook["检查明细"]
    assert sheet["A2"].value == "筛选条件：区域：大堂"
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert values[0][0] == "检查编号"
    assert len(values) - 1 == (7 + 5) + (7 + 10) + 7  # every item of the inspections with a 大堂
    notes = [row[9] for row in values[1:]]
    assert '\'=HYPERLINK("http://x")' in notes
    assert all(
        cell.data_type == "s"
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    )
    inspections = workbook["检查记录"]
    header = [cell.value for cell in inspections[3]]
    first = dict(zip(header, inspections[4]))
    assert first["合格率"].number_format == "0.0%" and 0 <= first["合格率"].value <= 1
    assert isinstance(first["合格项"].value, int)


def test_an_export_with_nonsense_filters_goes_back_to_the_list(as_role):
    response = as_role(roles.SERVICE).get("/forms/staff/cleaning/export.csv?date_to=tomorrow")
    assert response.status_code == 303
    assert as_role(roles.SERVICE).get("/forms/staff/cleaning/export.pdf").status_code == 404


def test_another_communitys_inspection_is_neither_listed_opened_nor_counted(
    app, inspector, as_role
):
    """Inspections belong to the community inspected (issue 28): one made elsewhere (its row
    moved to another key here) leaves this community's list, export, summary, 整改 list and
    pages, and its failed item is nobody's 整改 here."""
    from forms_app.cleaning.models import CleaningInspection

    first = checklist().areas["lobby"].items[0].id
    failing = inspection_fields(areas=("lobby",))
    failing.update(results_for("lobby", failures={first: "地面有污渍"}))
    _html, elsewhere = inspector.inspect(failing)
    _html, here = inspector.inspect(inspection_fields(areas=("lobby",), spot="本小区的大堂"))
    with app.app_context():
        db.session.get(CleaningInspection, elsewhere).community = "elsewhere"
        db.session.commit()
    manager = as_role(roles.MANAGER)
    listing = manager.get(LIST_URL).get_data(as_text=True)
    assert f"JC{here:05d}" in listing and f"JC{elsewhere:05d}" not in listing
    export = manager.get(LIST_URL + "export.csv").get_data(as_text=True)
    assert f"JC{here:05d}" in export and f"JC{elsewhere:05d}" not in export
    assert manager.get(f"{LIST_URL}{elsewhere}").status_code == 404
    assert "地面有污渍" not in manager.get(LIST_URL + "mine").get_data(as_text=True)
    summary = manager.get(LIST_URL + "summary").get_data(as_text=True)
    assert "地面有污渍" not in summary
