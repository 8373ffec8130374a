"""Exports never let a typed answer become a formula, and CSV opens as Chinese in Excel."""

import io

from openpyxl import load_workbook

from forms_app.web.exports import Column, Table, csv_response, safe_cell, xlsx_tables_response

HOSTILE = ["=cmd|' /C calc'!A0", "+86 138 0013 8000", "-1+2", "@SUM(A1)", "\tx", "\rx"]


def test_safe_cell_neutralizes_formula_prefixes():
    for value in HOSTILE:
        assert safe_cell(value) == "'" + value
    assert safe_cell("13800138000") == "13800138000"
    assert safe_cell("张三") == "张三"


def test_csv_has_bom_and_neutralized_cells(app):
    with app.test_request_context():
        response = csv_response("装修登记.csv", ["业主", "备注"], [["张三", v] for v in HOSTILE])
        body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "张三" in text
    assert "'=cmd" in text and "\n=cmd" not in text
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]


def test_xlsx_cells_are_text_not_formulas(app):
    with app.test_request_context():
        table = Table(
            "登记",
            [Column("业主"), Column("电话"), Column("备注")],
            [["李四", "13800138000", v] for v in HOSTILE],
        )
        response = xlsx_tables_response("登记.xlsx", [table], "2026-12-01 09:00")
        body = b"".join(response.response)
    sheet = load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))

    # Depending on the XML writer a bare CR may come back as LF; what matters is the
    # apostrophe in front of every value.
    def normalized(text):
        return text.replace("\r", "\n")

    assert [normalized(r[2]) for r in rows] == [normalized("'" + v) for v in HOSTILE]
    assert rows[0][1] == "13800138000"
    for row in sheet.iter_rows():
        assert all(cell.data_type != "f" for cell in row)


def test_a_sheet_title_excel_refuses_is_cleaned_not_a_500(app):
    # Survey titles come from data files a deployer edits: "/", ":", "?" … are not allowed.
    title = "2026/上半年:满意度?[一期]*\\" + "长" * 40
    with app.test_request_context():
        table = Table(title, [Column("问题")], [["回答"]])
        body = b"".join(xlsx_tables_response("调查.xlsx", [table], "2026-12-01 09:00").response)
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.title.startswith("2026 上半年 满意度 一期") and len(sheet.title) <= 31
    assert sheet["A4"].value == "回答"
