"""The register: masked mobiles, filters and search, pages, exports safe for Excel, the audit log."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog, StaffUser
from forms_app.core.clock import today
from forms_app.core.community_scope import all_communities
from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.files.store import file_store
from forms_app.renovation.models import RenovationApplication, RenovationAttachment
from forms_app.renovation.patrols import PatrolPhoto, RenovationPatrol
from forms_app.renovation.states import IN_PROGRESS
from tests.support.forms import csrf_token_from, staff_csrf_token
from tests.support.renovation import application_fields, file_application, walk

pytestmark = pytest.mark.one_app_per_module

HOSTILE = "=cmd|' /C calc'!A0"


def references(html: str, app) -> set[str]:
    with app.app_context():
        all_refs = db.session.execute(select(RenovationApplication.reference)).scalars().all()
    return {ref for ref in all_refs if ref in html}


def test_list_and_detail_mask_mobiles_and_the_reveal_is_audited(app, as_role):
    application_id = file_application(app)
    staff = as_role(roles.SECURITY)
    html = staff.get("/forms/staff/renovations").get_data(as_text=True)
    assert "138****8000" in html and "13800138000" not in html
    response = staff.get(f"/forms/staff/renovations/{application_id}")
    detail = response.get_data(as_text=True)
    assert "138****8000" in detail and "13800138000" not in detail
    assert "拨打业主电话" in detail
    assert "no-store" in response.headers["Cache-Control"]
    token = csrf_token_from(detail)
    revealed = staff.post(
        f"/forms/staff/renovations/{application_id}/call", data={"csrf_token": token}
    )
    assert revealed.status_code == 200
    assert 'href="tel:13800138000"' in revealed.get_data(as_text=True)
    assert "no-store" in revealed.headers["Cache-Control"]
    with app.app_context():
        entries = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "renovation.call_owner")
        ).all()
        assert [(e.actor_name, e.target) for e in entries] == [
            (roles.SECURITY, db.session.get(RenovationApplication, application_id).reference)
        ]
    # Without a valid token nothing is shown and nothing recorded.
    forged = staff.post(f"/forms/staff/renovations/{application_id}/call", data={})
    assert forged.status_code == 400 and "13800138000" not in forged.get_data(as_text=True)
    # Cleaners see no owner's data: no reveal either.
    cleaner = as_role(roles.CLEANER)
    cleaner_token = staff_csrf_token(cleaner)
    refused = cleaner.post(
        f"/forms/staff/renovations/{application_id}/call", data={"csrf_token": cleaner_token}
    )
    assert refused.status_code == 403
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(AuditLog.id)).where(AuditLog.action == "renovation.call_owner")
            )
            == 1
        )


def test_filters_and_search(app, as_role):
    first = file_application(app, building=1, unit=1, room="101", owner_name="李雷")
    second = file_application(app, building=8, unit=2, room="2601", owner_name="韩梅梅")
    walk(app, second, "approve")
    with app.app_context():
        ref_first = db.session.get(RenovationApplication, first).reference
        ref_second = db.session.get(RenovationApplication, second).reference
    staff = as_role(roles.SERVICE)

    def found(query: str) -> set[str]:
        response = staff.get("/forms/staff/renovations" + query)
        assert response.status_code == 200, query
        return references(response.get_data(as_text=True), app)

    assert found("") == {ref_first, ref_second}
    assert found("?state=approved") == {ref_second}
    assert found("?building=8") == {ref_second}
    assert found("?q=李雷") == {ref_first}
    assert found("?q=8-2-2601") == {ref_second}
    assert found("?q=8号楼2单元2601") == {ref_second}
    assert found("?q=" + ref_first[-6:].lower()) == {ref_first}
    assert found("?q=%25") == set()  # LIKE wildcards are searched literally
    day = today().isoformat()
    assert found(f"?date_from={day}&date_to={day}") == {ref_first, ref_second}
    assert found("?date_from=2000-01-01&date_to=2000-01-02") == set()
    for query, message in [
        ("?date_from=2026-02-31", "开始日期格式应为"),
        ("?date_from=2026-05-02&date_to=2026-05-01", "结束日期不能早于开始日期"),
        ("?state=nonsense", "请选择列表中的状态"),
        ("?building=99", "请选择列表中的楼栋"),
    ]:
        html = staff.get("/forms/staff/renovations" + query).get_data(as_text=True)
        assert message in html, query
    assert staff.get("/forms/staff/renovations?page=abc").status_code == 200


def test_pages(app, as_role):
    for index in range(23):
        file_application(app, building=2, unit=1 + index % 2, room=f"{101 + index // 2}")
    staff = as_role(roles.SERVICE)
    first = staff.get("/forms/staff/renovations?building=2").get_data(as_text=True)
    assert "共 23 条，第 1 / 2 页" in first and "下一页" in first
    second = staff.get("/forms/staff/renovations?building=2&page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in second and len(references(second, app)) == 3
    assert "building=2" in second.split("上一页")[0].rsplit("href=", 1)[-1]


def hostile_application(app):
    return file_application(
        app,
        description=HOSTILE,
        contractor_company="@SUM(1+1)",
        owner_name="+王",
        site_lead_name="-陈",
    )


def test_csv_export_has_bom_and_neutralized_cells(app, as_role):
    hostile_application(app)
    response = as_role(roles.MANAGER).get("/forms/staff/renovations/export.csv")
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    record = dict(zip(header, row))
    assert record["施工说明"] == "'" + HOSTILE
    assert record["装修公司"] == "'@SUM(1+1)"
    assert record["业主"] == "'+王" and record["现场负责人"] == "'-陈"
    assert record["业主手机"] == "13800138000"
    assert record["状态"] == "待审核"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]


def test_xlsx_export_keeps_text_and_never_formulas(app, as_role):
    hostile_application(app)
    file_application(app, room="102")
    response = as_role(roles.SERVICE).get("/forms/staff/renovations/export.xlsx?q=1-1-101")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 2  # the header and the one filtered application
    record = dict(zip(rows[0], rows[1]))
    assert record["施工说明"] == "'" + HOSTILE
    assert record["业主手机"] == "13800138000"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    with app.app_context():
        audit = db.session.execute(select(AuditLog).where(AuditLog.action == "export")).scalar_one()
    assert audit.actor_name == "service" and "xlsx" in audit.detail and "1-1-101" in audit.detail


def test_the_register_workbook_reads_well(app, as_role):
    """Typed dates and numbers, the filter at the top, a bold frozen header, one sheet per table."""
    application_id = file_application(app, room="101")
    walk(app, application_id, "approve", "start")
    file_application(app, room="102")
    manager = as_role(roles.MANAGER)
    response = manager.get("/forms/staff/renovations/export.xlsx?state=in_progress&building=1")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["装修登记", "巡查记录", "巡查整改"]
    sheet = workbook["装修登记"]
    assert sheet["A1"].value.startswith("装修登记（导出于 ")
    assert sheet["A2"].value == "筛选条件：状态：施工中；楼栋：1号楼"
    assert sheet.freeze_panes == "A4"
    header = [cell for cell in sheet[3]]
    assert all(cell.font.b for cell in header)
    labels = [cell.value for cell in header]
    row = {label: cell for label, cell in zip(labels, sheet[4])}
    assert sheet.max_row == 4  # only the application on site
    assert (
        isinstance(row["开工日期"].value, datetime)
        and row["开工日期"].number_format == "yyyy-mm-dd"
    )
    assert row["施工人数"].value == 6 and row["施工人数"].data_type == "n"
    assert row["状态"].value == "施工中"
    assert sheet.column_dimensions["F"].width >= 20  # 装修公司, not Excel's default 8.43
    patrols = workbook["巡查记录"]
    assert patrols["A2"].value == "筛选条件：状态：施工中；楼栋：1号楼"
    assert [c.value for c in patrols[3]][:3] == ["申请编号", "房屋", "巡查日期"]


CONTROL = '\x0b=HYPERLINK("http://evil")\x1f'


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_control_characters_neither_break_an_export_nor_hide_a_formula(app, as_role, fmt):
    # Control characters are not allowed in .xlsx (openpyxl raises); stripped first, the
    # text behind them is still neutralized.
    file_application(app, description=CONTROL, owner_name="王\x08美华")
    response = as_role(roles.MANAGER).get(f"/forms/staff/renovations/export.{fmt}")
    assert response.status_code == 200
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.get_data())).active
        rows = list(sheet.iter_rows(min_row=3, values_only=True))
    else:
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    record = dict(zip(rows[0], rows[1]))
    assert record["施工说明"] == '\'=HYPERLINK("http://evil")'
    assert record["业主"] == "王美华"


def test_audit_log_for_the_manager(app, as_role):
    manager = as_role(roles.MANAGER)
    html = manager.get("/forms/staff/audit").get_data(as_text=True)
    assert "登录成功" in html and "创建账号" in html and "命令行" in html
    filtered = manager.get("/forms/staff/audit?action=user.create").get_data(as_text=True)
    assert "创建账号" in filtered and "<td>登录成功</td>" not in filtered


def test_another_communitys_application_is_nowhere_here(app, as_role, owner):
    """Applications belong to a community (issue 28). Another's - of the same room, on site,
    patrolled, with a drawing - is in no list, export or count of this one's staff, its pages
    and files are 404 and no step changes it; its owner's link opens nothing here, and it
    holds no room here."""
    theirs = file_application(app, owner_name="外区业主")
    walk(app, theirs, "approve", "start")
    with app.app_context(), write_transaction() as session:
        application = session.get(RenovationApplication, theirs)
        token = application.status_token
        inspector = session.scalars(select(StaffUser)).first()
        file = dict(original_name="外区.png", content_type="image/png", size=8)
        for name in ("a" * 32 + ".png", "b" * 32 + ".png"):
            file_store().write(name, io.BytesIO(b"\x89PNG\r\n\x1a\n"))
        application.attachments.append(RenovationAttachment(stored_name="a" * 32 + ".png", **file))
        patrol = RenovationPatrol(
            application_id=theirs,
            kind="guard",
            patrol_date=today(),
            inspector_id=inspector.id,
            inspector_name="外区保安",
            findings="外区巡查",
        )
        patrol.photos.append(PatrolPhoto(stored_name="b" * 32 + ".png", **file))
        session.add(patrol)
        session.flush()
        attachment_id, photo_id = application.attachments[0].id, patrol.photos[0].id
    manager = as_role(roles.MANAGER)

    def pipeline() -> dict[str, int]:
        html = manager.get("/forms/staff/").get_data(as_text=True)
        return {k: int(n) for k, n in re.findall(r"state=(\w+)\">[^<]*<strong>(\d+)<", html)}

    before = pipeline()
    # From here on it is another community's (a plain Core statement: no scope), its owner
    # verified: it would hold 1-1-101 if it were this community's.
    with app.app_context(), write_transaction() as session:
        for table in (RenovationApplication.__table__, RenovationPatrol.__table__):
            key = table.c.id if table.name == "renovation_application" else table.c.application_id
            session.execute(table.update().where(key == theirs).values(community="other"))
        session.execute(RenovationApplication.__table__.update().values(owner_verified="registry"))

    assert pipeline() == {**before, IN_PROGRESS: before[IN_PROGRESS] - 1}
    for page in ("/forms/staff/renovations", "/forms/staff/patrols/due"):
        assert "外区业主" not in manager.get(page).get_data(as_text=True)
    assert "外区" not in manager.get("/forms/staff/renovations/export.csv").get_data(True)
    workbook = load_workbook(io.BytesIO(manager.get("/forms/staff/renovations/export.xlsx").data))
    cells = [str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row]
    assert not [cell for cell in cells if "外区" in cell]
    base = f"/forms/staff/renovations/{theirs}"
    for path in ("", f"/attachments/{attachment_id}", f"/patrol-photos/{photo_id}"):
        assert manager.get(base + path).status_code == 404, path
    csrf = staff_csrf_token(manager)
    for path, data in (
        ("/steps/complete", {"nonce": "n" * 32}),
        ("/call", {}),
        ("/resend-link", {}),
        ("/patrols", {"kind": "guard", "nonce": "p" * 32}),
    ):
        assert manager.post(base + path, data={"csrf_token": csrf, **data}).status_code == 404
    with app.app_context():
        row = db.session.scalars(all_communities(select(RenovationApplication))).one()
        patrols = db.session.scalar(all_communities(select(func.count(RenovationPatrol.id))))
        assert (row.state, row.community, patrols) == (IN_PROGRESS, "other", 1)
    # The owner's side: its link opens nothing here, and 1-1-101 is free to apply for.
    assert owner.client.get(f"/forms/renovation/status/{token}").status_code == 404
    assert owner.client.get(f"/forms/renovation/status/{token}/permit").status_code == 404
    html, _status_url = owner.submit_ok(application_fields(room="101"))
    assert "外区业主" not in html
