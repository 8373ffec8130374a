"""一户一档: importing the company's 房屋台账 (xlsx) and exporting the registry in its columns.

An import reads the first sheet, header names in row 1 (order free), and checks every cell
before anything is stored: a file with any problem imports nothing, and the dry run lists
every problem by Excel row and column. A clean file is stored in one write transaction:

- 收费面积 is set on each room the file names (a change is logged);
- the 交房 state (交房状态 未交房 / 空置 / 已入住 and 交房日期) is set on each room whose rows
  give it (a change is logged); a room no row gives it for keeps its state, so an import
  without those columns leaves every room as it was (a seeded room 未交房, which fees bill to
  the developer);
- each person not already standing on the room with the same mobile and 身份 (the same name
  and 身份 when the row has no mobile) is added; nobody is ever ended by an import (过户 and
  迁出 are separate acts), so importing the same file twice changes nothing;
- the first owner added becomes the 主要联系人 of a room that has none;
- 商铺 and 车位 the registry lacks are added (住宅 come from the community file only);
- one ``HouseholdChange`` per room changed and one audit entry for the whole import.

Formulas are refused (their cached values are never trusted), and so are files that are not
xlsx, too large, or have too many rows. ``export_rows`` gives the registry in the same
columns, so an exported file re-imports cleanly and changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask import has_request_context
from sqlalchemy import insert, or_, select, update

from ..accounts.audit import record_audit
from ..core.clock import today, utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..web.typed_input import clean_line, is_unreadable
from .fields import MOBILE, normalize_mobile
from .models import (
    FAMILY,
    HANDOVER_STATES,
    OWNER,
    PERSON_ROLES,
    RESIDENCE,
    ROOM_KINDS,
    TENANT,
    UNDELIVERED,
    HouseholdChange,
    HouseholdPerson,
    HouseholdRoom,
    area_text,
)
from .registry import active_clause, actor_label, community_key, parse_area, residence_code

MB = 1024 * 1024
MAX_FILE_BYTES = 20 * MB
# Uncompressed size of every part of the xlsx together: a small zip can expand enormously.
MAX_UNPACKED_BYTES = 400 * MB
MAX_ROWS = 50_000
# Problems kept for the staff page and its download (the command prints every one).
MAX_KEPT_PROBLEMS = 10_000

BUILDING, UNIT, NUMBER, AREA, NAME, MOBILE_HEADER = (
    "楼栋",
    "单元",
    "房号",
    "收费面积",
    "业主姓名",
    "手机号",
)
ROLE, SINCE, KIND, LEASE_END = "身份", "入住日期", "房屋类型", "租约到期日"
HANDOVER, HANDOVER_ON = "交房状态", "交房日期"
REQUIRED_HEADERS = (BUILDING, UNIT, NUMBER, AREA, NAME, MOBILE_HEADER)
OPTIONAL_HEADERS = (ROLE, SINCE, KIND, LEASE_END, HANDOVER, HANDOVER_ON)
# The export's column order (the import takes any order).
EXPORT_HEADERS = (
    BUILDING,
    UNIT,
    NUMBER,
    KIND,
    AREA,
    NAME,
    MOBILE_HEADER,
    ROLE,
    SINCE,
    LEASE_END,
    HANDOVER,
    HANDOVER_ON,
)
# Other names companies' 台账 use for the same columns.
HEADER_ALIASES = {
    "楼号": BUILDING,
    "楼栋号": BUILDING,
    "单元号": UNIT,
    "房间号": NUMBER,
    "室号": NUMBER,
    "姓名": NAME,
    "手机": MOBILE_HEADER,
    "手机号码": MOBILE_HEADER,
    "类型": KIND,
    "租期至": LEASE_END,
}
ROLE_NAMES = {label: code for code, label in PERSON_ROLES.items()} | {
    "家属": FAMILY,
    "租客": TENANT,
}
KIND_NAMES = {label: code for code, label in ROOM_KINDS.items()}
# Exactly the three words (no synonyms: 已交房 could mean either 空置 or 已入住).
HANDOVER_NAMES = {label: code for code, label in HANDOVER_STATES.items()}
# What the page and the command say about a file without the 交房 columns.
HANDOVER_NOTE = (
    "不填交房状态的房屋保持原来的交房状态：新建的房屋都是“未交房”，物业费按未交房向开发商收取，"
    "业主收不到账单。已交房的房屋请填写交房状态（空置或已入住）和交房日期。"
)

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old .xls (and encrypted xlsx)
_BUILDING = re.compile(r"([0-9]{1,3})(?:号楼|号|栋|幢|座|#)?")
_UNIT = re.compile(r"([0-9]{1,2})(?:单元)?")
_RESIDENCE_NUMBER = re.compile(r"([0-9]{1,5})室?")
_OTHER_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9\-]{0,15}")
_DATE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?")
_SPACES = re.compile(r"\s+")
MAX_NAME = 30


class ImportFileError(ValueError):
    """A file that cannot be read at all (not xlsx, corrupt, too large); message in Chinese."""


@dataclass(frozen=True)
class Problem:
    row: int | None  # the Excel row (None: the whole file)
    column: str  # the Excel column letter ("" when the whole row or file)
    header: str
    message: str

    @property
    def place(self) -> str:
        if self.row is None:
            return "文件"
        if not self.column:
            return f"第 {self.row} 行"
        return f"第 {self.row} 行 {self.column} 列（{self.header}）"

    def __str__(self) -> str:
        return f"{self.place}：{self.message}"


@dataclass
class Report:
    """What a dry run found or an import did."""

    file_name: str
    sha256: str = ""
    rows: int = 0  # data rows read (blank rows skipped)
    rooms: int = 0  # rooms the file names
    people_added: int = 0
    people_present: int = 0  # already standing on their room: left as they are
    areas_changed: int = 0
    handovers_changed: int = 0
    rooms_added: int = 0  # 商铺 / 车位 new to the registry
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    applied: bool = False
    applied_at: str = ""
    applied_by: str = ""

    @property
    def clean(self) -> bool:
        return self.problem_count == 0 and not self.problems

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        self.problems.append(problem)

    def counts_text(self) -> str:
        return (
            f"共 {self.rows} 行、{self.rooms} 户；新增登记 {self.people_added} 人，"
            f"已登记未变 {self.people_present} 人，收费面积变更 {self.areas_changed} 户，"
            f"交房状态变更 {self.handovers_changed} 户，新增商铺/车位 {self.rooms_added} 间"
        )

    def to_dict(self, keep: int = MAX_KEPT_PROBLEMS) -> dict:
        data = asdict(self)
        data["problems"] = [asdict(p) for p in self.problems[:keep]]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        data = dict(data)
        problems = [Problem(**p) for p in data.pop("problems", [])]
        return cls(**data, problems=problems)


@dataclass
class Row:
    """One data row as understood: the room's key and what the row says about it."""

    line: int
    kind: str
    code: str
    building: int | None
    unit: int | None
    number: str
    area: int | None
    name: str
    mobile: str | None
    role: str
    since: date
    lease_end: date | None
    columns: dict[str, str]  # header -> column letter, for problems found later
    handover: str | None = None  # None: the row does not say (the room keeps its state)
    handover_on: date | None = None

    @property
    def has_person(self) -> bool:
        return bool(self.name)

    @property
    def person_key(self) -> tuple[str, str]:
        return (self.role, self.mobile) if self.mobile else (self.role, "name:" + self.name)

    @property
    def label(self) -> str:
        if self.kind == RESIDENCE:
            return f"{self.building}号楼{self.unit}单元{self.number}室"
        return f"{ROOM_KINDS[self.kind]}{self.number}"


# ----- reading the file ------------------------------------------------------------------


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _open_workbook(path: Path):
    """The workbook, read-only, formulas as formulas; ImportFileError when unreadable."""
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError("文件是空的。")
    if size > MAX_FILE_BYTES:
        raise ImportFileError(
            f"文件超过 {MAX_FILE_BYTES // MB} MB，请删去无关的工作表、图片后再导入，或分成几个文件。"
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(OLE_MAGIC):
        raise ImportFileError(
            "这是旧版 Excel（.xls）文件或加了密码的文件：请在 Excel 中“另存为”Excel 工作簿（.xlsx），"
            "不设密码，再导入。"
        )
    if not head.startswith(XLSX_MAGIC):
        raise ImportFileError(
            "这不是 Excel（.xlsx）文件（按文件内容识别）：请上传 .xlsx 格式的房屋台账。"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportFileError(
            "文件已损坏，无法读取：请在 Excel 中重新保存为 .xlsx 后再导入。"
        ) from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError("文件解压后过大，无法读取：请删去无关的工作表、图片后再导入。")
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged or foreign file
        raise ImportFileError(
            "文件无法作为 Excel 工作簿读取（可能已损坏或不是 .xlsx）：请在 Excel 中重新保存后再导入。"
        ) from error


def _header_name(value) -> str:
    if value is None:
        return ""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(value))).strip("*")
    return HEADER_ALIASES.get(text, text)


def _text(value) -> str:
    """A cell as text: whole numbers without ".0", full-width characters made half-width."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(value)))


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    matched = _DATE.fullmatch(_text(value))
    if not matched:
        return None
    try:
        return date(int(matched[1]), int(matched[2]), int(matched[3]))
    except ValueError:
        return None


class _Reader:
    """Turns the sheet's rows into ``Row``s, adding a problem for every bad cell."""

    def __init__(self, report: Report, day: date):
        self.report = report
        self.day = day
        self.columns: dict[str, int] = {}
        self.letters: dict[str, str] = {}
        self.names: dict[int, str] = {}  # column index -> header
        self.headerless: dict[int, bool] = {}  # column index -> already reported

    def problem(self, line: int | None, header: str, message: str) -> None:
        self.report.add(Problem(line, self.letters.get(header, ""), header, message))

    def read_header(self, cells) -> bool:
        for index, cell in enumerate(cells):
            if getattr(cell, "data_type", None) == "f":
                self.report.add(Problem(1, _letter(index), "", "表头不能是公式，请填写列名。"))
                continue
            name = _header_name(cell.value)
            if not name:
                self.headerless[index] = False
                continue
            if name in self.columns:
                self.report.add(
                    Problem(
                        1,
                        _letter(index),
                        name,
                        f"表头“{name}”重复（已在 {self.letters[name]} 列）：每列只能出现一次。",
                    )
                )
                continue
            if name not in REQUIRED_HEADERS and name not in OPTIONAL_HEADERS:
                self.report.add(
                    Problem(
                        1,
                        _letter(index),
                        name,
                        f"无法识别的表头“{name}”。可用的列：{'、'.join(REQUIRED_HEADERS)}"
                        f"（必填），{'、'.join(OPTIONAL_HEADERS)}（选填）。",
                    )
                )
                continue
            self.columns[name] = index
            self.names[index] = name
            self.letters[name] = _letter(index)
        for name in REQUIRED_HEADERS:
            if name not in self.columns:
                self.report.add(Problem(1, "", name, f"缺少必需的列“{name}”（表头须在第 1 行）。"))
        return self.report.clean

    def read_row(self, line: int, cells) -> Row | None:
        """The row understood, or None when it has a problem (reported). A row holding a
        formula is reported for its formulas only."""
        values: dict[str, object] = {}
        formulas = False
        for index, cell in enumerate(cells):
            value = cell.value
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            header = self.names.get(index)
            if getattr(cell, "data_type", None) == "f":
                formulas = True
                self.report.add(
                    Problem(
                        line,
                        _letter(index),
                        header or "",
                        "单元格含公式，导入不接受公式：请复制后“选择性粘贴为数值”再导入。",
                    )
                )
            elif header is not None:
                values[header] = value
            elif index in self.headerless and not self.headerless[index]:
                self.headerless[index] = True
                self.report.add(
                    Problem(
                        line,
                        _letter(index),
                        "",
                        "此列有内容但第 1 行没有表头：请填写表头或删除这一列。",
                    )
                )
        if formulas:
            return None
        return self._row(line, values)

    def _row(self, line: int, values: dict) -> Row | None:
        before = self.report.problem_count
        kind_text = _text(values.get(KIND))
        kind = KIND_NAMES.get(kind_text, RESIDENCE if not kind_text else None)
        if kind is None:
            self.problem(
                line, KIND, f"房屋类型“{kind_text}”无法识别：只能填住宅、商铺或车位（不填为住宅）。"
            )
            kind = RESIDENCE
        building_text = _text(values.get(BUILDING))
        building = None
        if building_text:
            matched = _BUILDING.fullmatch(building_text)
            if matched and int(matched[1]) > 0:
                building = int(matched[1])
            else:
                self.problem(
                    line, BUILDING, f"楼栋“{building_text}”无法识别：请填写如 2、2号楼、2栋。"
                )
        elif kind == RESIDENCE:
            self.problem(line, BUILDING, "请填写楼栋。")
        unit = None
        number_text = _text(values.get(NUMBER))
        number = ""
        if kind == RESIDENCE:
            unit_text = _text(values.get(UNIT))
            matched = _UNIT.fullmatch(unit_text)
            if matched and int(matched[1]) > 0:
                unit = int(matched[1])
            elif unit_text:
                self.problem(line, UNIT, f"单元“{unit_text}”无法识别：请填写如 1 或 1单元。")
            else:
                self.problem(line, UNIT, "请填写单元（住宅须有单元）。")
            matched = _RESIDENCE_NUMBER.fullmatch(number_text)
            if matched and int(matched[1]) > 0:
                number = str(int(matched[1]))
            elif number_text:
                self.problem(
                    line, NUMBER, f"房号“{number_text}”无法识别：住宅房号请填写数字，如 1201。"
                )
            else:
                self.problem(line, NUMBER, "请填写房号。")
        else:
            upper = number_text.upper()
            if _OTHER_NUMBER.fullmatch(upper):
                number = upper
            elif number_text:
                self.problem(
                    line,
                    NUMBER,
                    f"编号“{number_text}”无法识别：{ROOM_KINDS[kind]}编号请用字母、数字和“-”，"
                    "如 S-101、B1-023（最多 16 位）。",
                )
            else:
                self.problem(line, NUMBER, f"请填写{ROOM_KINDS[kind]}编号。")
        area = None
        raw_area = values.get(AREA)
        if raw_area is not None and _text(raw_area) != "":
            area = parse_area(raw_area if not isinstance(raw_area, str) else raw_area.strip())
            if area is None:
                self.problem(
                    line,
                    AREA,
                    f"收费面积“{_text(raw_area)}”无效：请填写大于 0 的数字，最多两位小数，如 89.50。",
                )
        name = clean_line(_text_name(values.get(NAME)))
        if name and is_unreadable(name):
            self.problem(line, NAME, "姓名含有无法识别的字符（可能是乱码），请改正。")
        elif len(name) > MAX_NAME:
            self.problem(line, NAME, f"姓名不能超过 {MAX_NAME} 个字。")
        mobile_text = _text(values.get(MOBILE_HEADER))
        mobile = None
        if mobile_text:
            normalized = normalize_mobile(mobile_text)
            if MOBILE.fullmatch(normalized):
                mobile = normalized
            else:
                self.problem(
                    line,
                    MOBILE_HEADER,
                    f"手机号“{mobile_text}”无效：请填写11位中国大陆手机号码，如 13800138000。",
                )
        role_text = _text(values.get(ROLE))
        role = ROLE_NAMES.get(role_text, OWNER if not role_text else None)
        if role is None:
            self.problem(
                line, ROLE, f"身份“{role_text}”无法识别：只能填业主、家庭成员或租户（不填为业主）。"
            )
            role = OWNER
        since = self.day
        raw_since = values.get(SINCE)
        if raw_since is not None and _text(raw_since) != "":
            parsed = _date(raw_since)
            if parsed is None:
                self.problem(
                    line, SINCE, f"入住日期“{_text(raw_since)}”无效：请填写日期，如 2020-05-01。"
                )
            elif parsed > self.day:
                self.problem(line, SINCE, f"入住日期 {parsed.isoformat()} 晚于今天。")
            elif parsed.year < 1900:
                self.problem(line, SINCE, f"入住日期 {parsed.isoformat()} 不合理。")
            else:
                since = parsed
        lease_end = None
        raw_lease = values.get(LEASE_END)
        has_lease = raw_lease is not None and _text(raw_lease) != ""
        if role == TENANT and name:
            if not has_lease:
                self.problem(
                    line,
                    LEASE_END if LEASE_END in self.letters else ROLE,
                    "租户须填写租约到期日（请增加“租约到期日”列）。",
                )
            else:
                lease_end = _date(raw_lease)
                if lease_end is None:
                    self.problem(
                        line,
                        LEASE_END,
                        f"租约到期日“{_text(raw_lease)}”无效：请填写日期，如 2027-04-30。",
                    )
                elif lease_end < self.day:
                    self.problem(
                        line, LEASE_END, f"租约已于 {lease_end.isoformat()} 到期，不再登记。"
                    )
                elif lease_end < since:
                    self.problem(line, LEASE_END, "租约到期日不能早于入住日期。")
        handover, handover_on = self._handover(line, values)
        if not name and (mobile_text or role_text or (raw_since not in (None, ""))):
            self.problem(
                line, NAME, "请填写姓名（只登记房屋、不登记人员时，姓名、手机号、身份都留空）。"
            )
        if self.report.problem_count > before:
            return None
        code = residence_code(building, unit, number) if kind == RESIDENCE else number
        return Row(
            line,
            kind,
            code,
            building,
            unit if kind == RESIDENCE else None,
            number,
            area,
            name,
            mobile,
            role,
            since,
            lease_end,
            self.letters,
            handover,
            handover_on,
        )

    def _handover(self, line: int, values: dict) -> tuple[str | None, date | None]:
        """交房状态 and 交房日期 (the rules of ``registry.set_room_facts``): (None, None) when
        the row leaves both empty."""
        state_text = _text(values.get(HANDOVER))
        raw_on = values.get(HANDOVER_ON)
        on_text = _text(raw_on)
        if not state_text:
            if on_text:
                self.problem(
                    line,
                    HANDOVER if HANDOVER in self.letters else HANDOVER_ON,
                    "填写了交房日期，请同时填写交房状态（未交房、空置或已入住）。",
                )
            return None, None
        state = HANDOVER_NAMES.get(state_text)
        if state is None:
            self.problem(
                line,
                HANDOVER,
                f"交房状态“{state_text}”无法识别：只能填未交房、空置或已入住。",
            )
        on = None
        if on_text:
            on = _date(raw_on)
            if on is None:
                self.problem(
                    line, HANDOVER_ON, f"交房日期“{on_text}”无效：请填写日期，如 2020-05-01。"
                )
            elif state == UNDELIVERED:
                self.problem(line, HANDOVER_ON, "未交房的房屋不能填写交房日期。")
            elif on > self.day:
                self.problem(line, HANDOVER_ON, f"交房日期 {on.isoformat()} 晚于今天。")
            elif on.year < 1900:
                self.problem(line, HANDOVER_ON, f"交房日期 {on.isoformat()} 不合理。")
        elif state is not None and state != UNDELIVERED:
            self.problem(
                line,
                HANDOVER_ON if HANDOVER_ON in self.letters else HANDOVER,
                f"{state_text}的房屋须填写交房日期（请增加“交房日期”列）。",
            )
        return state, on


def _text_name(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value))


def read_file(path: Path, report: Report) -> list[Row]:
    """The file's rows (each checked on its own); problems go to ``report``.

    Raises ImportFileError for a file that cannot be read at all."""
    workbook = _open_workbook(path)
    try:
        sheet = workbook.worksheets[0]
        reader = _Reader(report, today())
        rows_iter: Iterator = sheet.iter_rows()
        header = next(rows_iter, None)
        if header is None or not reader.read_header(header):
            if header is None:
                report.add(Problem(1, "", "", "工作表是空的：第 1 行须为表头。"))
            return []
        rows: list[Row] = []
        for line, cells in enumerate(rows_iter, start=2):
            if all(
                c.value is None or (isinstance(c.value, str) and not c.value.strip()) for c in cells
            ):
                continue  # blank rows (Excel keeps formatted empty rows) are skipped
            report.rows += 1
            if report.rows > MAX_ROWS:
                report.add(
                    Problem(
                        line,
                        "",
                        "",
                        f"数据超过 {MAX_ROWS} 行：请分成几个文件导入（本次未读后面的行）。",
                    )
                )
                break
            row = reader.read_row(line, cells)
            if row is not None:
                rows.append(row)
        if report.rows == 0 and report.clean:
            report.add(Problem(2, "", "", "表中没有数据行（第 2 行起）。"))
        return rows
    except ImportFileError:
        raise
    except Exception as error:  # a damaged sheet part fails while its rows are read
        raise ImportFileError(
            "文件内容已损坏，无法读取：请在 Excel 中重新保存为 .xlsx 后再导入。"
        ) from error
    finally:
        workbook.close()


# ----- checking against the registry and storing -----------------------------------------


@dataclass
class _RoomPlan:
    code: str
    first: Row
    room_id: int | None = None
    new: bool = True  # a 商铺/车位 the registry lacks
    old_area: int | None = None
    area: int | None = None
    area_row: int = 0
    old_handover: tuple[str, date | None] = (UNDELIVERED, None)
    handover: tuple[str, date | None] | None = None  # None: no row says
    handover_row: int = 0
    people: list[Row] = field(default_factory=list)
    seen: dict = field(default_factory=dict)  # person key -> row line
    has_primary: bool = False  # a 主要联系人 stands on the room already

    @property
    def handover_changed(self) -> bool:
        return self.handover is not None and self.handover != self.old_handover


def _handover_text(handover: tuple[str, date | None]) -> str:
    """已入住（2020-05-01）, as ``registry.set_room_facts`` logs it."""
    state, on = handover
    return HANDOVER_STATES.get(state, state) + (f"（{on.isoformat()}）" if on else "")


def _plan(rows: list[Row], report: Report, session) -> dict[str, _RoomPlan]:
    """Match the rows to the registry: unknown rooms, file duplicates and conflicting areas
    become problems; the rest says what an import would add or change."""
    key = community_key()
    day = today()
    rooms = {
        code: (room_id, kind, area, (state, on if state != UNDELIVERED else None))
        for room_id, code, kind, area, state, on in session.execute(
            select(
                HouseholdRoom.id,
                HouseholdRoom.code,
                HouseholdRoom.kind,
                HouseholdRoom.charge_area_centi,
                HouseholdRoom.handover,
                HouseholdRoom.handover_on,
            ).where(HouseholdRoom.community == key)
        )
    }
    plans: dict[str, _RoomPlan] = {}
    for row in rows:
        plan = plans.get(row.code)
        if plan is None:
            known = rooms.get(row.code)
            if known is None and row.kind == RESIDENCE:
                report.add(
                    Problem(
                        row.line,
                        row.columns[NUMBER],
                        NUMBER,
                        f"房屋台账中没有这间房：{row.label}（住宅以小区数据文件为准，请核对楼栋、单元、房号）。",
                    )
                )
                continue
            if known is not None and known[1] != row.kind:
                report.add(
                    Problem(
                        row.line,
                        row.columns.get(KIND, row.columns[NUMBER]),
                        KIND if KIND in row.columns else NUMBER,
                        f"编号 {row.code} 已登记为{ROOM_KINDS.get(known[1], known[1])}，"
                        f"与本行的{ROOM_KINDS[row.kind]}不符。",
                    )
                )
                continue
            plan = _RoomPlan(row.code, row)
            if known is not None:
                plan.room_id, _kind, plan.old_area, plan.old_handover = known
                plan.new = False
            plans[row.code] = plan
        if row.area is not None:
            if plan.area is None:
                plan.area, plan.area_row = row.area, row.line
            elif plan.area != row.area:
                report.add(
                    Problem(
                        row.line,
                        row.columns[AREA],
                        AREA,
                        f"{row.label} 的收费面积与第 {plan.area_row} 行（{area_text(plan.area)}）"
                        f"不一致：同一户只能有一个收费面积。",
                    )
                )
        if row.handover is not None:
            given = (row.handover, row.handover_on)
            if plan.handover is None:
                plan.handover, plan.handover_row = given, row.line
            elif plan.handover != given:
                column = HANDOVER if plan.handover[0] != row.handover else HANDOVER_ON
                report.add(
                    Problem(
                        row.line,
                        row.columns[column],
                        column,
                        f"{row.label} 的交房状态与第 {plan.handover_row} 行"
                        f"（{_handover_text(plan.handover)}）不一致："
                        "同一户只能有一个交房状态和交房日期。",
                    )
                )
        if row.has_person:
            earlier = plan.seen.get(row.person_key)
            if earlier is not None:
                column = MOBILE_HEADER if row.mobile else NAME
                report.add(
                    Problem(
                        row.line,
                        row.columns[column],
                        column,
                        f"与第 {earlier} 行重复（同一户、同一身份、同一"
                        f"{'手机号' if row.mobile else '姓名'}）。",
                    )
                )
                continue
            plan.seen[row.person_key] = row.line
            plan.people.append(row)
    report.rooms = len(plans)
    # Who already stands on the rooms named (same mobile and role, or same name and role).
    standing: set[tuple] = set()
    with_primary: set[int] = set()
    known_ids = {p.room_id for p in plans.values() if p.room_id is not None}
    if known_ids:
        for room_id, role, mobile, name, primary, since in session.execute(
            select(
                HouseholdPerson.room_id,
                HouseholdPerson.role,
                HouseholdPerson.mobile,
                HouseholdPerson.name,
                HouseholdPerson.primary_contact,
                HouseholdPerson.since,
            ).where(
                HouseholdPerson.community == key,
                or_(HouseholdPerson.until.is_(None), HouseholdPerson.until > day),
                or_(HouseholdPerson.lease_end.is_(None), HouseholdPerson.lease_end >= day),
            )
        ):
            if room_id not in known_ids:
                continue
            if mobile:
                standing.add((room_id, role, mobile))
            standing.add((room_id, role, "name:" + name))
            if primary and since <= day:
                with_primary.add(room_id)
    for plan in plans.values():
        if plan.area is not None and plan.area != plan.old_area:
            report.areas_changed += 1
        if plan.handover_changed:
            report.handovers_changed += 1
        if plan.room_id is None:
            report.rooms_added += 1
        new = []
        for row in plan.people:
            if plan.room_id is not None and (plan.room_id, *row.person_key) in standing:
                report.people_present += 1
            else:
                new.append(row)
        plan.people = new
        report.people_added += len(new)
        plan.has_primary = plan.room_id in with_primary
    return plans


def _primary(plan: _RoomPlan) -> Row | None:
    """The first owner with a mobile added to a room without a 主要联系人 (else the first
    owner, else the first person)."""
    if plan.has_primary or not plan.people:
        return None
    owners = [r for r in plan.people if r.role == OWNER]
    return next((r for r in owners if r.mobile), owners[0] if owners else plan.people[0])


def _store(plans: dict[str, _RoomPlan], report: Report, session, actor: str) -> None:
    key = community_key()
    now = utcnow()
    reason = f"导入文件“{report.file_name}”"
    new_rooms = [p for p in plans.values() if p.new]
    if new_rooms:
        session.execute(
            insert(HouseholdRoom),
            [
                {
                    "community": key,
                    "code": p.code,
                    "kind": p.first.kind,
                    "building": p.first.building,
                    "unit": None,
                    "number": p.first.number,
                    "charge_area_centi": p.area,
                    "handover": (p.handover or p.old_handover)[0],
                    "handover_on": (p.handover or p.old_handover)[1],
                    "created_at": now,
                }
                for p in new_rooms
            ],
        )
        ids = dict(
            session.execute(
                select(HouseholdRoom.code, HouseholdRoom.id).where(
                    HouseholdRoom.community == key,
                    HouseholdRoom.code.in_([p.code for p in new_rooms]),
                )
            ).all()
        )
        for p in new_rooms:
            p.room_id = ids[p.code]
    area_updates = [
        {"id": p.room_id, "charge_area_centi": p.area}
        for p in plans.values()
        if not p.new and p.area is not None and p.area != p.old_area
    ]
    if area_updates:
        session.execute(update(HouseholdRoom), area_updates)
    handover_updates = [
        {"id": p.room_id, "handover": p.handover[0], "handover_on": p.handover[1]}
        for p in plans.values()
        if not p.new and p.handover_changed
    ]
    if handover_updates:
        session.execute(update(HouseholdRoom), handover_updates)
    people = []
    changes = []
    for p in plans.values():
        primary = _primary(p)
        parts = []
        if p.new:
            parts.append(f"新增{ROOM_KINDS[p.first.kind]} {p.code}")
            if p.area is not None:
                parts.append(f"收费面积 {area_text(p.area)} ㎡")
        elif p.area is not None and p.area != p.old_area:
            parts.append(f"收费面积 {area_text(p.old_area) or '未登记'} → {area_text(p.area)} ㎡")
        if p.handover_changed:
            parts.append(
                f"交房状态 {_handover_text(p.handover)}"
                if p.new
                else f"交房状态 {HANDOVER_STATES.get(p.old_handover[0], p.old_handover[0])} → "
                f"{_handover_text(p.handover)}"
            )
        for row in p.people:
            people.append(
                {
                    "community": key,
                    "room_id": p.room_id,
                    "name": row.name,
                    "mobile": row.mobile,
                    "role": row.role,
                    "since": row.since,
                    "until": None,
                    "lease_end": row.lease_end if row.role == TENANT else None,
                    "end_reason": None,
                    "primary_contact": row is primary,
                    "emergency_contact": False,
                    "created_at": now,
                    "created_by": actor,
                }
            )
        if p.people:
            parts.append(
                "登记"
                + "、".join(f"{PERSON_ROLES[r.role]} {r.name}" for r in p.people)
                + (f"（主要联系人：{primary.name}）" if primary is not None else "")
            )
        if parts:
            changes.append(
                {
                    "community": key,
                    "room_id": p.room_id,
                    "person_id": None,
                    "action": "import",
                    "summary": "导入：" + "；".join(parts),
                    "reason": reason,
                    "actor_name": actor,
                    "created_at": now,
                }
            )
    if people:
        session.execute(insert(HouseholdPerson), people)
    if changes:
        session.execute(insert(HouseholdChange), changes)
    record_audit(
        "households.import",
        target=report.file_name,
        detail=report.counts_text(),
        actor_name=None if has_request_context() else actor,
    )


def _sort(report: Report) -> Report:
    report.problems.sort(key=lambda p: (p.row or 0, len(p.column), p.column))
    return report


def _read(path: Path, file_name: str) -> tuple[Report, list[Row]]:
    report = Report(file_name)
    try:
        return report, read_file(path, report)
    except ImportFileError as error:
        report.add(Problem(None, "", "", str(error)))
        return report, []


def dry_run(path: Path, file_name: str) -> Report:
    """Check the file against the registry and say what an import would do; stores nothing.

    The rows that read well are matched to the registry even when others did not, so one run
    lists every problem (the counts of what would change mean nothing then)."""
    report, rows = _read(path, file_name)
    _plan(rows, report, db.session)
    db.session.rollback()  # end the read transaction
    return _sort(report)


def import_file(path: Path, file_name: str) -> Report:
    """Check the file and, when it has no problem at all, store it in one transaction.

    The file is read before the write lock is taken; the rows are matched to the registry
    inside the transaction, so what is stored agrees with the registry at that moment."""
    report, rows = _read(path, file_name)
    if not report.clean:
        _plan(rows, report, db.session)
        db.session.rollback()
        return _sort(report)
    actor = actor_label()
    with write_transaction() as session:
        plans = _plan(rows, report, session)
        if not report.clean:
            return _sort(report)  # nothing was written: the empty transaction commits
        _store(plans, report, session, actor)
    report.applied = True
    report.applied_at = utcnow().isoformat(timespec="seconds")
    report.applied_by = actor
    return report


# ----- export ----------------------------------------------------------------------------


def export_rows(day: date | None = None) -> Iterator[list]:
    """The registry in the import's columns (``EXPORT_HEADERS``): one row per person standing
    on a room today, and one row with empty name and mobile per room with nobody."""
    day = day or today()
    key = community_key()
    people: dict[int, list] = {}
    for person in db.session.execute(
        select(
            HouseholdPerson.room_id,
            HouseholdPerson.name,
            HouseholdPerson.mobile,
            HouseholdPerson.role,
            HouseholdPerson.since,
            HouseholdPerson.lease_end,
        )
        .where(HouseholdPerson.community == key, active_clause(day))
        .order_by(
            HouseholdPerson.room_id,
            HouseholdPerson.role != OWNER,
            HouseholdPerson.since,
            HouseholdPerson.id,
        )
    ):
        people.setdefault(person.room_id, []).append(person)
    rooms = db.session.execute(
        select(
            HouseholdRoom.id,
            HouseholdRoom.kind,
            HouseholdRoom.building,
            HouseholdRoom.unit,
            HouseholdRoom.number,
            HouseholdRoom.charge_area_centi,
            HouseholdRoom.handover,
            HouseholdRoom.handover_on,
        )
        .where(HouseholdRoom.community == key)
        .order_by(
            HouseholdRoom.kind != RESIDENCE,
            HouseholdRoom.kind,
            HouseholdRoom.building,
            HouseholdRoom.unit,
            HouseholdRoom.id,
        )
    )
    for room in rooms:
        area = Decimal(room.charge_area_centi) / 100 if room.charge_area_centi is not None else None
        place = [
            room.building,
            room.unit,
            room.number,
            ROOM_KINDS.get(room.kind, room.kind),
            area,
        ]
        handover = [
            HANDOVER_STATES.get(room.handover, room.handover),
            room.handover_on if room.handover != UNDELIVERED else None,
        ]
        standing = people.get(room.id)
        if not standing:
            yield [*place, None, None, None, None, None, *handover]
            continue
        for person in standing:
            yield [
                *place,
                person.name,
                person.mobile,
                PERSON_ROLES.get(person.role, person.role),
                person.since,
                person.lease_end if person.role == TENANT else None,
                *handover,
            ]


def write_export(target, day: date | None = None) -> int:
    """Write the registry as an xlsx (header in row 1, the import's columns) to ``target``
    (a path or a binary file); returns the number of data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from ..web.exports import safe_cell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="房屋台账")
    widths = {
        BUILDING: 8,
        UNIT: 8,
        NUMBER: 12,
        KIND: 10,
        AREA: 12,
        NAME: 14,
        MOBILE_HEADER: 14,
        HANDOVER: 10,
    }
    for index, header in enumerate(EXPORT_HEADERS):
        sheet.column_dimensions[_letter(index)].width = widths.get(header, 12)
    # The header bold and frozen as in every export, with no title rows above it: the file
    # re-imports as it is.
    sheet.freeze_panes = "A2"
    header_cells = []
    for header in EXPORT_HEADERS:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    area_cell = WriteOnlyCell(sheet)
    area_cell.number_format = "0.00"
    since_cell = WriteOnlyCell(sheet)
    since_cell.number_format = "yyyy-mm-dd"
    lease_cell = WriteOnlyCell(sheet)
    lease_cell.number_format = "yyyy-mm-dd"
    handover_cell = WriteOnlyCell(sheet)
    handover_cell.number_format = "yyyy-mm-dd"
    count = 0
    for (
        building,
        unit,
        number,
        kind,
        area,
        name,
        mobile,
        role,
        since,
        lease_end,
        handover,
        handover_on,
    ) in export_rows(day):
        row = [building, unit, safe_cell(number), kind]
        if area is None:
            row.append(None)
        else:
            area_cell.value = float(area)  # two decimals: its repr reads back exactly
            row.append(area_cell)
        row += [safe_cell(name) if name else None, mobile, role]
        for cell, value in ((since_cell, since), (lease_cell, lease_end)):
            if value is None:
                row.append(None)
            else:
                cell.value = value
                row.append(cell)
        row.append(handover)
        if handover_on is None:
            row.append(None)
        else:
            handover_cell.value = handover_on
            row.append(handover_cell)
        sheet.append(row)
        count += 1
    workbook.save(target)
    return count


def csv_rows(day: date | None = None) -> Iterator[list]:
    """The export's rows as text for CSV (areas with two decimals, ISO dates)."""
    for row in export_rows(day):
        area = row[4]
        row[4] = f"{area:.2f}" if area is not None else ""
        yield row
