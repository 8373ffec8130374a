"""导入/导出房屋台账: the dry run reports every problem by row and column, a clean file imports
in one go, a second import changes nothing, bad files store nothing, the export re-imports
cleanly; through the command and the staff page, with the role gate."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from forms_app.accounts import roles
from forms_app.accounts.models import AuditLog
from forms_app.core.extensions import db
from forms_app.households import importing
from forms_app.households.models import (
    FAMILY,
    OCCUPIED,
    OWNER,
    SHOP,
    TENANT,
    UNDELIVERED,
    VACANT,
    HouseholdChange,
    HouseholdPerson,
    HouseholdRoom,
)
from forms_app.households.registry import find_room, set_room_facts
from tests.support.forms import csrf_token_from
from tests.support.households import register

pytestmark = pytest.mark.one_app_per_module

HEADER = ["楼栋", "单元", "房号", "收费面积", "业主姓名", "手机号"]
PAGE = "/forms/staff/households/import/"


def xlsx(path: Path, header, rows) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def xlsx_bytes(header, rows) -> bytes:
    buffer = io.BytesIO()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(buffer)
    return buffer.getvalue()


def counts(app) -> dict:
    with app.app_context():
        count = lambda model, *where: db.session.scalar(  # noqa: E731
            select(func.count()).select_from(model).where(*where)
        )
        return {
            "rooms": count(HouseholdRoom),
            "people": count(HouseholdPerson),
            "changes": count(HouseholdChange),
            "imports": count(AuditLog, AuditLog.action == "households.import"),
            "exports": count(AuditLog, AuditLog.action == "households.export"),
        }


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["households", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


CLEAN_ROWS = [
    [1, 1, 101, 89.5, "张三", "13800138000"],
    ["2号楼", "1单元", "1201", "101.25", "李四", "１３９ ００１３ ９０００"],
    ["２栋", 2.0, 1202.0, 120, "王五", 13700137000],
    ["3幢", "2", "302", "", "赵六", ""],
]


def test_a_clean_file_imports_once_and_a_second_import_changes_nothing(app, tmp_path):
    path = xlsx(
        tmp_path / "台账.xlsx",
        [*HEADER, "身份", "入住日期", "房屋类型", "租约到期日"],
        [
            [*CLEAN_ROWS[0], "业主", datetime(2019, 5, 1), None, None],
            [*CLEAN_ROWS[0][:4], "张小三", "13800138001", "家庭成员", "2019/05/01", "", ""],
            [*CLEAN_ROWS[1], "", "", "住宅", None],
            [*CLEAN_ROWS[2], "租户", "2024-01-01", None, "2099-12-31"],
            [*CLEAN_ROWS[3], None, None, None, None],
            [None, None, "s-101", "35.5", "钱七", "13600136000", "业主", None, "商铺", None],
            [None, None, "B1-023", None, None, None, None, None, "车位", None],
            [None, None, None, None, None, None, None, None, None, None],  # blank: skipped
        ],
    )
    before = counts(app)
    checked = run(app, "import", str(path))
    assert checked.exit_code == 0, checked.output
    assert "检查通过（未保存）" in checked.output and "新增登记 6 人" in checked.output
    assert "新增商铺/车位 2 间" in checked.output
    assert counts(app) == before  # the dry run stores nothing

    done = run(app, "import", str(path), "--apply")
    assert done.exit_code == 0, done.output
    assert "已导入" in done.output and "新增登记 6 人" in done.output
    after = counts(app)
    assert after["people"] == before["people"] + 6
    assert after["rooms"] == before["rooms"] + 2
    assert after["imports"] == before["imports"] + 1
    # One change per room changed: 1-1-101, 2-1-1201, 2-2-1202, 3-2-302, S-101, B1-023.
    assert after["changes"] == before["changes"] + 6
    with app.app_context():
        room = db.session.scalar(select(HouseholdRoom).where(HouseholdRoom.code == "1-1-101"))
        assert room.charge_area_centi == 8950
        people = {
            p.name: p
            for p in db.session.scalars(
                select(HouseholdPerson).where(HouseholdPerson.room_id == room.id)
            )
        }
        assert people["张三"].role == OWNER and people["张三"].primary_contact
        assert people["张三"].since == date(2019, 5, 1)
        assert people["张小三"].role == FAMILY and not people["张小三"].primary_contact
        li = db.session.scalar(select(HouseholdPerson).where(HouseholdPerson.name == "李四"))
        assert li.mobile == "13900139000"
        wang = db.session.scalar(select(HouseholdPerson).where(HouseholdPerson.name == "王五"))
        assert wang.role == TENANT and wang.lease_end == date(2099, 12, 31)
        assert wang.mobile == "13700137000"
        zhao = db.session.scalar(select(HouseholdPerson).where(HouseholdPerson.name == "赵六"))
        assert zhao.mobile is None
        shop = db.session.scalar(select(HouseholdRoom).where(HouseholdRoom.code == "S-101"))
        assert shop.kind == SHOP and shop.charge_area_centi == 3550 and shop.unit is None
        change = db.session.scalar(
            select(HouseholdChange).where(HouseholdChange.room_id == room.id)
        )
        assert change.summary.startswith("导入：") and change.actor_name == "命令行"
        assert "89.50" in change.summary
        audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "households.import"))
        assert audit.target == "台账.xlsx" and audit.actor_name == "命令行"

    again = run(app, "import", str(path), "--apply")
    assert again.exit_code == 0, again.output
    assert "新增登记 0 人" in again.output and "收费面积变更 0 户" in again.output
    final = counts(app)
    assert {k: v for k, v in final.items() if k != "imports"} == {
        k: v for k, v in after.items() if k != "imports"
    }


def test_an_import_adds_and_updates_but_never_ends_anyone(app, tmp_path):
    register(app, 1, 1, "101", "老业主", "13800138000")
    register(app, 1, 1, "101", "家人", "13800138009", role=FAMILY)
    path = xlsx(
        tmp_path / "a.xlsx",
        HEADER,
        [[1, 1, 101, "90.12", "老业主", "13800138000"], [1, 1, 101, "", "新家人", "13900000001"]],
    )
    before = counts(app)
    result = run(app, "import", str(path), "--apply")
    assert result.exit_code == 0, result.output
    assert "新增登记 1 人" in result.output and "已登记未变 1 人" in result.output
    assert "不会结束文件中没有的已登记人员" in result.output
    with app.app_context():
        people = db.session.scalars(select(HouseholdPerson)).all()
        assert {p.name for p in people} == {"老业主", "家人", "新家人"}
        assert all(p.until is None for p in people)
        # The room had a 主要联系人 already: the newcomer (not an owner) does not take it.
        assert [p.name for p in people if p.primary_contact] == ["老业主"]
        change = db.session.scalars(
            select(HouseholdChange).order_by(HouseholdChange.id.desc())
        ).first()
        assert "收费面积 未登记 → 90.12 ㎡" in change.summary and "新家人" in change.summary
    assert counts(app)["people"] == before["people"] + 1


def test_the_dry_run_lists_every_problem_by_row_and_column_and_stores_nothing(app, tmp_path):
    path = xlsx(
        tmp_path / "bad.xlsx",
        [*HEADER, "身份", "入住日期", "房屋类型"],
        [
            [1, 1, 101, "89.5", "张三", "13800138000", "", "", ""],  # row 2: fine
            [99, 1, 101, "89.5", "张三", "13800138000", "", "", ""],  # 3: unknown room
            [1, 1, 102, "89.5", "张三", "1380013800", "", "", ""],  # 4: bad mobile
            [1, 1, 201, "89.5", "", "13800138000", "", "", ""],  # 5: missing name
            [1, 1, 202, "89.555", "张三", "13800138000", "", "", ""],  # 6: bad area
            [1, 1, 301, "-3", "张三", "13800138000", "", "2020-13-01", ""],  # 7: area, date
            [1, 1, 101, "89.5", "张三", "13800138000", "", "", ""],  # 8: duplicate of 2
            [1, 1, 101, "90", "李四", "13900139000", "", "", ""],  # 9: conflicting area
            [1, 1, 302, "", "张三", "13800138000", "房东", "2099-01-01", "别墅"],  # 10
            ["一号楼", "甲", "十", "", "张三", "", "", "", ""],  # 11
            [1, 1, 401, "", "张三", "", "租户", "", ""],  # 12: tenant without lease end
        ],
    )
    before = counts(app)
    result = run(app, "import", str(path), "--apply")
    assert result.exit_code == 1
    out = result.output
    expected = [
        "第 3 行 C 列（房号）：房屋台账中没有这间房：99号楼1单元101室",
        "第 4 行 F 列（手机号）：手机号“1380013800”无效",
        "第 5 行 E 列（业主姓名）：请填写姓名",
        "第 6 行 D 列（收费面积）：收费面积“89.555”无效",
        "第 7 行 D 列（收费面积）：收费面积“-3”无效",
        "第 7 行 H 列（入住日期）：入住日期“2020-13-01”无效",
        "第 8 行 F 列（手机号）：与第 2 行重复",
        "第 9 行 D 列（收费面积）：1号楼1单元101室 的收费面积与第 2 行（89.50）不一致",
        "第 10 行 G 列（身份）：身份“房东”无法识别",
        "第 10 行 H 列（入住日期）：入住日期 2099-01-01 晚于今天",
        "第 10 行 I 列（房屋类型）：房屋类型“别墅”无法识别",
        "第 11 行 A 列（楼栋）：楼栋“一号楼”无法识别",
        "第 11 行 B 列（单元）：单元“甲”无法识别",
        "第 11 行 C 列（房号）：房号“十”无法识别",
        "第 12 行 G 列（身份）：租户须填写租约到期日",
    ]
    for line in expected:
        assert line in out, line
    assert "共发现 15 处问题，未导入任何内容" in out
    # Problems come in row order.
    assert out.index("第 3 行") < out.index("第 4 行") < out.index("第 10 行")
    assert counts(app) == before


def test_headers_are_matched_by_name_and_unknown_or_missing_ones_refused(app, tmp_path):
    shuffled = xlsx(
        tmp_path / "order.xlsx",
        ["手机号", " 业主姓名 ", "收费面积", "房号", "单元", "楼栋"],
        [["13800138000", "张三", 88, 101, 1, 1]],
    )
    assert run(app, "import", str(shuffled)).exit_code == 0
    bad = xlsx(
        tmp_path / "headers.xlsx",
        ["楼栋", "单元", "房号", "面积", "业主姓名", "业主姓名"],
        [[1, 1, 101, 88, "张三", "李四"]],
    )
    result = run(app, "import", str(bad))
    assert result.exit_code == 1
    assert "第 1 行 D 列（面积）：无法识别的表头“面积”" in result.output
    assert "第 1 行 F 列（业主姓名）：表头“业主姓名”重复（已在 E 列）" in result.output
    assert "缺少必需的列“收费面积”" in result.output
    assert "缺少必需的列“手机号”" in result.output


def test_formulas_are_refused_and_their_cached_values_never_used(app, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([1, 1, 101, "=80+9.5", "张三", "13800138000"])
    sheet.append([1, 1, 102, 70, "李四", '="13900139000"'])
    path = tmp_path / "formula.xlsx"
    workbook.save(path)
    before = counts(app)
    result = run(app, "import", str(path), "--apply")
    assert result.exit_code == 1
    assert "第 2 行 D 列（收费面积）：单元格含公式" in result.output
    assert "第 3 行 F 列（手机号）：单元格含公式" in result.output
    assert counts(app) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件是空的"),
        (b"building,unit\n1,1\n", "这不是 Excel（.xlsx）文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel（.xls）"),
        (b"PK\x03\x04" + b"\0" * 100, "文件已损坏"),
    ],
)
def test_files_that_are_not_xlsx_are_refused_in_chinese(app, tmp_path, content, message):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    before = counts(app)
    result = run(app, "import", str(path), "--apply")
    assert result.exit_code == 1
    assert "文件：" in result.output and message in result.output
    assert counts(app) == before


def test_a_zip_that_is_not_a_workbook_is_refused(app, tmp_path):
    path = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    result = run(app, "import", str(path))
    assert result.exit_code == 1 and "无法作为 Excel 工作簿读取" in result.output


def test_oversized_files_and_too_many_rows_are_refused(app, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 4000)
    big = xlsx(tmp_path / "big.xlsx", HEADER, [[1, 1, 101, 80, "张" * 30, "13800138000"]] * 200)
    result = run(app, "import", str(big))
    assert result.exit_code == 1 and "文件超过 0 MB" in result.output
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 20 * importing.MB)
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    many = xlsx(
        tmp_path / "many.xlsx",
        HEADER,
        [[1, 1, room, 80, "张三", "13800138000"] for room in (101, 102, 201, 202, 301)],
    )
    before = counts(app)
    result = run(app, "import", str(many), "--apply")
    assert result.exit_code == 1
    assert "第 5 行：数据超过 3 行" in result.output
    assert counts(app) == before


def test_a_room_kind_that_disagrees_with_the_registry_is_refused(app, tmp_path):
    path = xlsx(
        tmp_path / "kind.xlsx",
        [*HEADER, "房屋类型"],
        [[None, None, "1-1-101", 20, "张三", "13800138000", "车位"]],
    )
    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert "第 2 行 G 列（房屋类型）：编号 1-1-101 已登记为住宅" in result.output


def test_the_export_reimports_cleanly_and_changes_nothing(app, tmp_path):
    register(app, 1, 1, "101", "张三", "13800138000", since=date(2018, 3, 4))
    register(app, 1, 1, "101", "无手机", None, role=FAMILY)
    register(app, 2, 2, "1802", "租客", "13900139000", role=TENANT, lease_end=date(2099, 1, 31))
    set_handover(app, "1-1-101", OCCUPIED, date(2018, 3, 4))
    set_handover(app, "2-2-1802", VACANT, date(2019, 6, 30))
    seed = xlsx(
        tmp_path / "seed.xlsx",
        [*HEADER, "房屋类型"],
        [
            [1, 1, 101, "89.57", "张三", "13800138000", ""],
            [None, None, "S-1", "12.3", None, None, "商铺"],
            [3, None, "B2-7", None, "车主", "13700137000", "车位"],
        ],
    )
    assert run(app, "import", str(seed), "--apply").exit_code == 0
    out = tmp_path / "export.xlsx"
    exported = run(app, "export", str(out))
    assert exported.exit_code == 0, exported.output
    before = counts(app)
    assert before["exports"] == 1
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][:6]) == [
        "楼栋",
        "单元",
        "房号",
        "房屋类型",
        "收费面积",
        "业主姓名",
    ]
    with app.app_context():
        room_count = db.session.scalar(select(func.count()).select_from(HouseholdRoom))
    # One row per person now, one per empty room: 101 has 2 people, B2-7 and 2-2-1802 one.
    assert len(rows) - 1 == room_count + 1
    assert ("B2-7", "车位", None, "车主", "13700137000") in [(r[2], *r[3:7]) for r in rows]
    assert (None, None, "S-1", "商铺", 12.3, None, None) in [r[:7] for r in rows]
    assert list(rows[0][-2:]) == ["交房状态", "交房日期"]
    handovers = {(r[0], r[1], r[2]): r[-2:] for r in rows[1:]}
    assert handovers[(1, 1, "101")] == ("已入住", datetime(2018, 3, 4))
    assert handovers[(2, 2, "1802")] == ("空置", datetime(2019, 6, 30))
    assert handovers[(1, 1, "102")] == ("未交房", None)
    assert handovers[(None, None, "S-1")] == ("未交房", None)
    again = run(app, "import", str(out), "--apply")
    assert again.exit_code == 0, again.output
    assert "新增登记 0 人" in again.output and "已登记未变 4 人" in again.output
    assert "收费面积变更 0 户" in again.output and "新增商铺/车位 0 间" in again.output
    assert "交房状态变更 0 户" in again.output
    after = counts(app)
    assert after["people"] == before["people"] and after["changes"] == before["changes"]
    assert after["rooms"] == before["rooms"]
    assert handover_of(app, "1-1-101") == (OCCUPIED, date(2018, 3, 4))


# ----- 交房状态 and 交房日期 -------------------------------------------------------------------

HANDOVER_HEADER = [*HEADER, "交房状态", "交房日期"]


def set_handover(app, code: str, state: str, on: date | None) -> None:
    building, unit, number = code.split("-")
    with app.test_request_context():
        room = find_room(int(building), int(unit), number)
        set_room_facts(room.id, room.charge_area_centi, state, on, "测试")


def handover_of(app, code: str) -> tuple:
    with app.app_context():
        room = db.session.scalar(select(HouseholdRoom).where(HouseholdRoom.code == code))
        return room.handover, room.handover_on


def test_handover_columns_set_the_state_and_a_second_import_changes_nothing(app, tmp_path):
    set_handover(app, "1-1-301", OCCUPIED, date(2019, 1, 2))  # back to 未交房 by the file
    set_handover(app, "1-1-302", VACANT, date(2019, 1, 2))  # not in the columns: kept
    path = xlsx(
        tmp_path / "交房.xlsx",
        [*HANDOVER_HEADER, "房屋类型"],
        [
            [1, 1, 101, 89.5, "张三", "13800138000", "已入住", datetime(2020, 5, 1)],
            [1, 1, 101, None, "张小三", "13800138001", None, None],  # says nothing: fine
            [1, 1, 101, None, "张太太", "13800138002", "已入住", "2020/05/01"],  # the same
            [1, 1, 102, 70, None, None, " 空置 ", "2021-03-04"],  # a room without people
            [1, 1, 201, 70, "李四", "13900139000", "未交房", None],  # already 未交房
            [1, 1, 202, 70, "王五", "13700137000", None, None],  # says nothing
            [1, 1, 301, 70, None, None, "未交房", ""],
            [1, 1, 302, 70, None, None, "", None],
            [None, None, "S-9", 20, None, None, "已入住", "2022-02-02", "商铺"],
        ],
    )
    before = counts(app)
    checked = run(app, "import", str(path))
    assert checked.exit_code == 0, checked.output
    assert "交房状态变更 4 户" in checked.output  # 101, 102, 301 and the new S-9
    assert "不填交房状态的房屋保持原来的交房状态" in checked.output
    assert counts(app) == before
    assert handover_of(app, "1-1-101") == (UNDELIVERED, None)

    done = run(app, "import", str(path), "--apply")
    assert done.exit_code == 0, done.output
    assert "交房状态变更 4 户" in done.output
    assert handover_of(app, "1-1-101") == (OCCUPIED, date(2020, 5, 1))
    assert handover_of(app, "1-1-102") == (VACANT, date(2021, 3, 4))
    assert handover_of(app, "1-1-201") == (UNDELIVERED, None)
    assert handover_of(app, "1-1-202") == (UNDELIVERED, None)
    assert handover_of(app, "1-1-301") == (UNDELIVERED, None)
    assert handover_of(app, "1-1-302") == (VACANT, date(2019, 1, 2))
    assert handover_of(app, "S-9") == (OCCUPIED, date(2022, 2, 2))
    with app.app_context():
        summaries = {
            code: summary
            for code, summary in db.session.execute(
                select(HouseholdRoom.code, HouseholdChange.summary)
                .join(HouseholdRoom, HouseholdRoom.id == HouseholdChange.room_id)
                .where(HouseholdChange.action == "import")
            )
        }
    assert "交房状态 未交房 → 已入住（2020-05-01）" in summaries["1-1-101"]
    assert "交房状态 未交房 → 空置（2021-03-04）" in summaries["1-1-102"]
    assert "交房状态 已入住 → 未交房" in summaries["1-1-301"]
    assert "交房状态 已入住（2022-02-02）" in summaries["S-9"]
    assert "交房状态" not in summaries["1-1-201"] and "交房状态" not in summaries["1-1-202"]
    assert "交房状态" not in summaries["1-1-302"]  # only its 收费面积 changed
    after = counts(app)

    again = run(app, "import", str(path), "--apply")
    assert again.exit_code == 0, again.output
    assert "交房状态变更 0 户" in again.output and "收费面积变更 0 户" in again.output
    assert {k: v for k, v in counts(app).items() if k != "imports"} == {
        k: v for k, v in after.items() if k != "imports"
    }


def test_bad_handover_cells_are_refused_by_row_and_column_and_nothing_is_stored(app, tmp_path):
    path = xlsx(
        tmp_path / "交房有误.xlsx",
        HANDOVER_HEADER,
        [
            [1, 1, 101, 80, "张三", "13800138000", "已入住", "2020-05-01"],  # 2: fine
            [1, 1, 102, 80, "李四", "13900139000", "已入住", None],  # 3: no date
            [1, 1, 201, 80, None, None, "空置", "2099-01-01"],  # 4: in the future
            [1, 1, 202, 80, None, None, "已交房", "2020-01-01"],  # 5: unknown word
            [1, 1, 301, 80, None, None, "未交房", "2020-01-01"],  # 6: date for 未交房
            [1, 1, 302, 80, None, None, None, "2020-01-01"],  # 7: date without a state
            [1, 1, 401, 80, None, None, "空置", "2020-13-01"],  # 8: not a date
            [1, 1, 101, None, "张太太", "13800138002", "空置", "2020-05-01"],  # 9: state ≠ 2
            [1, 1, 101, None, "张小三", "13800138001", "已入住", "2020-06-01"],  # 10: date ≠ 2
        ],
    )
    before = counts(app)
    result = run(app, "import", str(path), "--apply")
    assert result.exit_code == 1
    expected = [
        "第 3 行 H 列（交房日期）：已入住的房屋须填写交房日期",
        "第 4 行 H 列（交房日期）：交房日期 2099-01-01 晚于今天",
        "第 5 行 G 列（交房状态）：交房状态“已交房”无法识别：只能填未交房、空置或已入住",
        "第 6 行 H 列（交房日期）：未交房的房屋不能填写交房日期",
        "第 7 行 G 列（交房状态）：填写了交房日期，请同时填写交房状态",
        "第 8 行 H 列（交房日期）：交房日期“2020-13-01”无效",
        "第 9 行 G 列（交房状态）：1号楼1单元101室 的交房状态与第 2 行（已入住（2020-05-01））不一致",
        "第 10 行 H 列（交房日期）：1号楼1单元101室 的交房状态与第 2 行（已入住（2020-05-01））不一致",
    ]
    for line in expected:
        assert line in result.output, line
    assert "共发现 8 处问题，未导入任何内容" in result.output
    assert counts(app) == before
    assert handover_of(app, "1-1-101") == (UNDELIVERED, None)


def test_a_handover_state_without_the_date_column_is_refused(app, tmp_path):
    path = xlsx(
        tmp_path / "无日期列.xlsx",
        [*HEADER, "交房状态"],
        [
            [1, 1, 101, 80, "张三", "13800138000", "已入住"],
            [1, 1, 102, 80, "李四", "13900139000", "未交房"],
        ],
    )
    before = counts(app)
    result = run(app, "import", str(path), "--apply")
    assert result.exit_code == 1
    assert "第 2 行 G 列（交房状态）：已入住的房屋须填写交房日期（请增加“交房日期”列）" in (
        result.output
    )
    assert "第 3 行" not in result.output
    assert counts(app) == before


# ----- the staff page ------------------------------------------------------------------------


def upload(client, content: bytes, name: str = "台账.xlsx"):
    token = csrf_token_from(client.get(PAGE).get_data(as_text=True))
    return client.post(
        PAGE,
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_the_page_checks_then_imports_the_very_same_file(app, as_role):
    client = as_role(roles.SERVICE_LEAD)
    page = client.get(PAGE).get_data(as_text=True)
    assert "已登记但文件中没有的人员不会被移除" in page
    assert "交房状态" in page and "不填交房状态的房屋保持原来的交房状态" in page
    assert "物业费按未交房向开发商收取" in page
    assert "导出房屋台账" not in page  # export is the 经理's
    before = counts(app)
    content = xlsx_bytes(HEADER, CLEAN_ROWS)
    checked = upload(client, content)
    assert checked.status_code == 303
    result = client.get(checked.headers["Location"])
    html = result.get_data(as_text=True)
    assert "检查通过" in html and "新增登记 4 人" in html and "导入这个文件" in html
    assert counts(app) == before
    pending = list((Path(app.instance_path) / "household_imports").glob("*.xlsx"))
    assert len(pending) == 1 and pending[0].stat().st_mode & 0o077 == 0
    token = csrf_token_from(html)
    applied = client.post(checked.headers["Location"] + "/apply", data={"csrf_token": token})
    assert applied.status_code == 303
    done = client.get(applied.headers["Location"]).get_data(as_text=True)
    assert "已导入" in done and "新增登记 4 人" in done
    after = counts(app)
    assert after["people"] == before["people"] + 4 and after["imports"] == before["imports"] + 1
    assert not list((Path(app.instance_path) / "household_imports").glob("*.xlsx"))
    with app.app_context():
        audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "households.import"))
        assert audit.actor_name == roles.SERVICE_LEAD and audit.target == "台账.xlsx"
        change = db.session.scalar(
            select(HouseholdChange).where(HouseholdChange.action == "import")
        )
        assert change.actor_name.startswith(roles.SERVICE_LEAD)
    # The button pressed twice imports nothing more.
    twice = client.post(checked.headers["Location"] + "/apply", data={"csrf_token": token})
    assert "已经导入过了" in client.get(twice.headers["Location"]).get_data(as_text=True)
    # The same file uploaded again: nothing new to add.
    rechecked = upload(client, content)
    html = client.get(rechecked.headers["Location"]).get_data(as_text=True)
    assert "新增登记 0 人" in html
    assert counts(app)["people"] == after["people"]


def test_the_page_shows_every_problem_and_keeps_nothing(app, as_role):
    client = as_role(roles.MANAGER)
    before = counts(app)
    content = xlsx_bytes(HEADER, [[1, 1, 101, 80, "张三", "123"], [77, 1, 101, 80, "李四", ""]])
    checked = upload(client, content, "坏的.xlsx")
    html = client.get(checked.headers["Location"]).get_data(as_text=True)
    assert "共 2 处问题，未导入任何内容" in html
    assert "手机号“123”无效" in html and "F（手机号）" in html
    assert "房屋台账中没有这间房：77号楼1单元101室" in html
    assert "导入这个文件" not in html
    assert not list((Path(app.instance_path) / "household_imports").glob("*.xlsx"))
    listing = client.get(checked.headers["Location"] + "/problems.csv")
    assert listing.status_code == 200
    text = listing.get_data().decode("utf-8-sig")
    assert "行,列,表头,问题" in text and "手机号“123”无效" in text
    # Applying a refused file is impossible (no pending file kept).
    token = csrf_token_from(html)
    refused = client.post(checked.headers["Location"] + "/apply", data={"csrf_token": token})
    assert refused.status_code == 303
    assert counts(app) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a sheet", "这不是 Excel（.xlsx）文件"),
        (b"PK\x03\x04broken", "文件已损坏"),
    ],
)
def test_the_page_refuses_bad_files_in_chinese(app, as_role, content, message):
    client = as_role(roles.MANAGER)
    before = counts(app)
    checked = upload(client, content)
    html = client.get(checked.headers["Location"]).get_data(as_text=True)
    assert message in html and "整个文件" in html
    assert counts(app) == before


def test_the_page_refuses_an_oversized_file_and_a_missing_one(app, as_role, monkeypatch):
    from forms_app.households import import_views

    client = as_role(roles.MANAGER)
    monkeypatch.setattr(import_views, "MAX_FILE_BYTES", 100)
    response = upload(client, b"PK\x03\x04" + b"\0" * 200)
    assert response.status_code == 400 and "超过" in response.get_data(as_text=True)
    token = csrf_token_from(client.get(PAGE).get_data(as_text=True))
    missing = client.post(PAGE, data={"csrf_token": token}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "请选择" in missing.get_data(as_text=True)


def test_the_role_gate(app, as_role):
    service = as_role(roles.SERVICE)
    assert service.get(PAGE).status_code == 403
    lead_page = as_role(roles.SERVICE_LEAD).get(PAGE)
    assert lead_page.status_code == 200
    assert as_role(roles.SERVICE_LEAD).get(PAGE + "export.xlsx").status_code == 403
    token = csrf_token_from(lead_page.get_data(as_text=True))
    refused = service.post(
        PAGE,
        data={"csrf_token": token, "file": (io.BytesIO(xlsx_bytes(HEADER, CLEAN_ROWS)), "a.xlsx")},
        content_type="multipart/form-data",
    )
    assert refused.status_code in (400, 403)
    assert counts(app)["people"] == 0


def test_the_export_is_the_managers_and_audited(app, as_role):
    register(app, 1, 1, "101", "张三", "13800138000")
    manager = as_role(roles.MANAGER)
    assert "导出房屋台账" in manager.get(PAGE).get_data(as_text=True)
    response = manager.get(PAGE + "export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("楼栋", "单元", "房号")
    assert (1, 1, "101", "住宅", None, "张三", "13800138000", "业主") in [r[:8] for r in rows]
    csv = manager.get(PAGE + "export.csv")
    assert csv.status_code == 200 and "张三" in csv.get_data().decode("utf-8-sig")
    assert manager.get(PAGE + "export.pdf").status_code == 404
    assert counts(app)["exports"] == 2
    # The export downloaded from the page re-imports cleanly and adds nothing.
    checked = upload(manager, response.get_data(), "export.xlsx")
    html = manager.get(checked.headers["Location"]).get_data(as_text=True)
    assert "检查通过" in html and "新增登记 0 人" in html and "收费面积变更 0 户" in html


def test_unknown_results_are_not_found(app, as_role):
    manager = as_role(roles.MANAGER)
    assert manager.get(PAGE + "1").status_code == 404
    assert manager.get(PAGE + "a" * 64).status_code == 404
    assert manager.get(PAGE + "a" * 64 + "/problems.csv").status_code == 404
    assert manager.get(PAGE + "../x/problems.csv").status_code == 404
