"""Results arithmetic on a fixed set of responses, the results pages, and the exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from forms_app.core.community import DEFAULT_COMMUNITY_FILE
from forms_app.surveys.catalog import all_surveys
from forms_app.surveys.forms import Answer
from forms_app.surveys.results import ALL, survey_results
from tests.support.staff import login
from tests.surveys.conftest import PASSWORD, store

pytestmark = pytest.mark.one_app_per_module

H1, H2 = "2026-05-10", "2026-12-01"
XSS = "<script>alert(1)</script>"


def satisfaction(cleaning, overall, recommend=None, comment=None):
    answers = [Answer("cleaning", value=cleaning), Answer("overall", value=overall)]
    if recommend is not None:
        answers.append(Answer("recommend", value=recommend))
    if comment:
        answers.append(Answer("comments", text=comment))
    return answers


@pytest.fixture
def fixed(staff):
    """Six satisfaction responses over two half-years and three needs responses."""
    app = staff
    for answers, day in [
        (satisfaction(5, 4, 10, "保洁很好"), H1),
        (satisfaction(4, 3, 7), H1),
        (satisfaction(2, 4), H1),
        (satisfaction(1, 5, 0, XSS), H1),
        (satisfaction(5, 5, 9, "=1+1"), H2),
        (satisfaction(3, 2), H2),
    ]:
        store(app, "satisfaction", answers, today=day)
    room = {"building": 1, "unit": 1, "room": "101", "respondent_name": "+8613800138000"}
    for picks in (["家政保洁", "代收快递"], ["家政保洁"], ["其他（请注明）"]):
        household = "3人" if picks == ["家政保洁"] else "2人"
        answers = [Answer("household", option=household)] + [
            Answer("personal_services", option=p, text="-代买菜" if p.startswith("其他") else None)
            for p in picks
        ]
        store(app, "needs", answers, respondent=room)
    return app


def results_of(app, slug):
    with app.app_context():
        return survey_results(all_surveys()[slug], 0.9)


def test_satisfaction_arithmetic_per_period_and_overall(fixed):
    results = results_of(fixed, "satisfaction")
    assert results.responses == {"2026-H1": 4, "2026-H2": 2, ALL: 6}
    assert results.periods == ["2026-H1", "2026-H2"]

    cleaning = results.questions["cleaning"].periods
    assert cleaning["2026-H1"].average == pytest.approx(3.0)  # (5+4+2+1)/4
    assert cleaning["2026-H1"].satisfaction_rate == pytest.approx(0.5)  # 5 and 4
    assert cleaning["2026-H2"].average == pytest.approx(4.0)
    assert cleaning[ALL].average == pytest.approx(20 / 6)
    assert cleaning[ALL].satisfaction_rate == pytest.approx(3 / 6)

    overall = results.questions["overall"].periods
    assert overall["2026-H1"].satisfaction_rate == pytest.approx(0.75)
    assert overall[ALL].average == pytest.approx(23 / 6)
    assert overall[ALL].satisfaction_rate == pytest.approx(4 / 6)
    assert results.questions["overall"].rows(ALL) == [
        ("非常满意", 2, pytest.approx(2 / 6)),
        ("满意", 2, pytest.approx(2 / 6)),
        ("一般", 1, pytest.approx(1 / 6)),
        ("不满意", 1, pytest.approx(1 / 6)),
        ("非常不满意", 0, 0.0),
    ]

    categories = {c.name: c.periods for c in results.categories}
    assert categories["保洁"][ALL].satisfaction_rate == pytest.approx(0.5)
    assert categories["总体评价"]["2026-H2"].average == pytest.approx(3.5)
    assert categories["客户服务"][ALL].satisfaction_rate is None  # nobody answered
    # All satisfaction answers pooled: 7 of 12 satisfied.
    assert results.overall[ALL].satisfaction_rate == pytest.approx(7 / 12)
    assert results.overall["2026-H1"].satisfaction_rate == pytest.approx(5 / 8)
    assert results.meets_target(results.overall[ALL].satisfaction_rate) is False
    assert results.meets_target(0.9) is True

    recommend = results.questions["recommend"].periods[ALL]
    assert recommend.average == pytest.approx(26 / 4) and recommend.answered == 4
    assert (
        dict((label, count) for label, count, _ in results.questions["recommend"].rows())["10"] == 1
    )
    assert results.questions["comments"].periods[ALL].answered == 3


def test_multiple_choice_shares_count_respondents(fixed):
    results = results_of(fixed, "needs")
    services = {
        label: (count, share)
        for label, count, share in results.questions["personal_services"].rows()
    }
    assert services["家政保洁"] == (2, pytest.approx(2 / 3))
    assert services["代收快递"] == (1, pytest.approx(1 / 3))
    assert services["其他（请注明）"] == (1, pytest.approx(1 / 3))
    assert results.questions["personal_services"].periods[ALL].answered == 3
    household = {label: share for label, _, share in results.questions["household"].rows()}
    assert household["2人"] == pytest.approx(2 / 3) and household["1人"] == 0
    assert results.categories == []


def with_min_answers(app, tmp_path, minimum: int) -> None:
    """Point the app at a copy of the community file with another minimum sample."""
    raw = yaml.safe_load(Path(DEFAULT_COMMUNITY_FILE).read_text(encoding="utf-8"))
    raw["satisfaction"]["verdict_min_answers"] = minimum
    other = tmp_path / "community.yml"
    other.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    app.config["COMMUNITY_FILE"] = str(other)


def test_a_rate_on_too_few_answers_is_shown_with_its_count_but_not_judged(fixed):
    client = fixed.test_client()
    login(client, "service", PASSWORD)
    page = client.get("/forms/staff/surveys/satisfaction").get_data(as_text=True)
    # Six 答卷, fewer than the example community's minimum: a number, not a verdict.
    assert 'id="overall-rate">58.3%<' in page and "（6 份答卷）" in page
    assert "未达标" not in page and "样本不足，暂不判定" in page
    assert "少于 30 份答卷时只显示数字" in page
    manager = fixed.test_client()
    login(manager, "manager", PASSWORD)
    home = manager.get("/forms/staff/").get_data(as_text=True)
    assert "（6 份答卷）" in home and "未达标" not in home and "样本不足" in home


def test_both_satisfaction_figures_are_named_and_defined(fixed, tmp_path):
    with_min_answers(fixed, tmp_path, 2)
    client = fixed.test_client()
    login(client, "service", PASSWORD)
    page = client.get("/forms/staff/surveys/satisfaction").get_data(as_text=True)
    # 综合: 7 of 12 ratings satisfied; 总体评价: 4 of 6 owners answered 满意 or better.
    assert 'id="overall-rate">58.3%<' in page and 'id="headline-rate">66.7%<' in page
    definitions = page.split('id="definitions"')[1].split("</section>")[0]
    assert "<dt>综合满意率</dt>" in definitions and "<dt>总体评价满意率</dt>" in definitions
    assert "总体来说，您对本小区物业服务的满意程度" in definitions
    composite = page.split('id="composite-card"')[1].split('id="headline-card"')[0]
    assert "（6 份答卷）" in composite and "未达标" in composite


def test_each_category_names_the_seed_document_it_follows(fixed):
    client = fixed.test_client()
    login(client, "manager", PASSWORD)
    page = client.get("/forms/staff/surveys/satisfaction").get_data(as_text=True)
    table = page.split('id="category-table"')[1].split("</table>")[0]
    row = table.split("装修管理</th>")[1].split("</tr>")[0]
    assert "《物业公司装修服务控制要点及服务策略》" in row
    assert "《长城物业保洁服务品质检查标准》" in table.split("保洁</th>")[1].split("</tr>")[0]


def test_results_page_for_service_staff_with_chart_and_escaped_text(fixed, tmp_path):
    with_min_answers(fixed, tmp_path, 2)
    client = fixed.test_client()
    login(client, "service", PASSWORD)
    page = client.get("/forms/staff/surveys/satisfaction").get_data(as_text=True)
    assert '<figure class="chart"' in page and "虚线为目标 90%" in page
    assert 'id="response-count">6<' in page
    assert 'id="overall-rate">58.3%<' in page and "未达标" in page
    assert "2026年上半年" in page and "2026年下半年" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and XSS not in page
    # One period only.
    h2 = client.get("/forms/staff/surveys/satisfaction?period=2026-H2").get_data(as_text=True)
    assert 'id="response-count">2<' in h2 and 'id="overall-rate">50.0%<' in h2
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<text" not in page  # chart labels are page text, readable at 360 px


def test_who_may_see_results_and_invitations(fixed):
    client = fixed.test_client()
    anonymous = client.get("/forms/staff/surveys/satisfaction")
    assert anonymous.status_code == 302 and "/forms/staff/login" in anonymous.headers["Location"]
    login(client, "engineering", PASSWORD)
    assert client.get("/forms/staff/surveys/satisfaction").status_code == 403
    service = fixed.test_client()
    login(service, "service", PASSWORD)
    assert service.get("/forms/staff/surveys/").status_code == 200
    assert service.get("/forms/staff/surveys/satisfaction/export.csv").status_code == 200
    denied = service.get("/forms/staff/surveys/satisfaction/invitations")
    assert denied.status_code == 403 and "仅限经理" in denied.get_data(as_text=True)


def test_text_answers_are_paginated(fixed):
    for number in range(25):
        store(fixed, "satisfaction", [Answer("comments", text=f"意见{number:02d}")])
    client = fixed.test_client()
    login(client, "manager", PASSWORD)
    first = client.get("/forms/staff/surveys/satisfaction/texts/comments").get_data(as_text=True)
    assert "共 28 条" in first and "意见24" in first and "意见04" not in first
    second = client.get("/forms/staff/surveys/satisfaction/texts/comments?page=2").get_data(
        as_text=True
    )
    assert "意见04" in second and "&lt;script&gt;" in second and XSS not in second
    assert client.get("/forms/staff/surveys/satisfaction/texts/cleaning").status_code == 404
    other = client.get("/forms/staff/surveys/needs/texts/personal_services").get_data(as_text=True)
    assert "-代买菜" in other


def test_xlsx_export_has_every_response_and_no_formulas(fixed):
    client = fixed.test_client()
    login(client, "manager", PASSWORD)
    response = client.get("/forms/staff/surveys/satisfaction/export.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["业主满意度调查答卷", "满意率汇总"]
    sheet = workbook.active
    assert sheet["A2"].value == "筛选条件：全部答卷（调查期 2026-11-15 至 2026-12-31）"
    assert sheet.freeze_panes == "A4" and sheet["A3"].font.b
    header, *rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert header[:3] == ("编号", "提交日期", "期间") and "楼栋" not in header
    assert len(rows) == 6
    assert ("2026年上半年", "2026-05-10") in {(r[2], r[1].date().isoformat()) for r in rows}
    assert sheet["B4"].number_format == "yyyy-mm-dd" and sorted(r[0] for r in rows) == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    cleaning = header.index("5. 您对保洁（大堂、楼层、电梯轿厢、地下室、外围的清洁）的满意程度")
    # Anonymous: rows are not in the order they arrived, but each keeps its own answers.
    assert sorted((r[cleaning], r[-1] or "") for r in rows) == sorted(
        [
            ("非常满意", "保洁很好"),
            ("满意", ""),
            ("不满意", ""),
            ("非常不满意", XSS),
            ("非常满意", "'=1+1"),
            ("一般", ""),
        ]
    )
    comments = [r[-1] for r in rows]
    assert "'=1+1" in comments and "=1+1" not in comments
    for row in sheet.iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)
    summary = workbook["满意率汇总"]
    summary_header = [cell.value for cell in summary[3]]
    records = [dict(zip(summary_header, row)) for row in summary.iter_rows(min_row=4)]
    composite = next(
        r
        for r in records
        if r["服务类别"].value.startswith("综合满意率") and r["期间"].value == "全部"
    )
    assert composite["满意率"].value == pytest.approx(7 / 12)
    assert composite["满意率"].number_format == "0.0%" and composite["答卷数"].value == 6
    assert composite["是否达标"].value == "样本不足，暂不判定"
    renovation = next(r for r in records if r["服务类别"].value == "装修管理")
    assert "装修服务控制要点及服务策略" in renovation["依据的文件"].value


def test_csv_export_is_streamed_with_bom_and_neutralized(fixed):
    client = fixed.test_client()
    login(client, "manager", PASSWORD)
    response = client.get("/forms/staff/surveys/needs/export.csv")
    assert response.is_streamed
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[3:7] == ["楼栋", "单元", "房号", "称呼"]
    assert len(rows) == 3
    assert rows[0][6] == "'+8613800138000"
    services = header.index("3. 【个性需求】您希望物业提供哪些特约服务或代办服务？（可多选）")
    assert rows[0][services] == "家政保洁；代收快递"
    assert rows[2][services] == "其他（请注明）：-代买菜"


def test_anonymous_export_is_not_in_arrival_order_nor_numbered_by_it(staff):
    """With an access log, arrival order or database ids would tie a row to a visitor."""
    ids = [
        store(staff, "satisfaction", satisfaction(1 + n % 5, 3, n % 11, f"意见{n:02d}"))
        for n in range(40)
    ]
    client = staff.test_client()
    login(client, "manager", PASSWORD)
    body = client.get("/forms/staff/surveys/satisfaction/export.csv").get_data()
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    cleaning = header.index("5. 您对保洁（大堂、楼层、电梯轿厢、地下室、外围的清洁）的满意程度")
    recommend = next(i for i, name in enumerate(header) if "推荐" in name)
    assert [row[0] for row in rows] == [str(n) for n in range(1, 41)]
    arrival = [int(row[-1][2:]) for row in rows]
    assert sorted(arrival) == list(range(40)) and arrival != list(range(40))
    assert arrival != list(range(39, -1, -1))
    for row, n in zip(rows, arrival):  # every answer stays in its own row
        assert (row[cleaning], row[recommend]) == (
            ["非常不满意", "不满意", "一般", "满意", "非常满意"][n % 5],
            str(n % 11),
        )
    assert sorted(ids) == ids  # the database ids do arrive in order: they are not shown
