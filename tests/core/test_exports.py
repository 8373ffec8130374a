"""Exports never let a typed answer become a formula, and CSV opens as Chinese in Excel."""

import io

from openpyxl import load_workbook

from forms_app.web.exports import csv_response, safe_cell, xlsx_response

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
        response = xlsx_response(
            "登记.xlsx",
            "登记",
            ["业主", "电话", "备注"],
            [["李四", "13800138000", v] for v in HOSTILE],
        )
        body = b"".join(response.response)
    sheet = load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))

    # Depending on the XML writer a bare CR may come back as LF; what matters is the
    # apostrophe in front of every value.
    def normalized(text):
        return text.replace("\r", "\n")

    assert [normalized(r[2]) for r in rows] == [normalized("'" + v) for v in HOSTILE]
    assert rows[0][1] == "13800138000"
    for row in sheet.iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)
