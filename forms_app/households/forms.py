"""The staff forms of 一户一档, read from what was posted: each returns what was typed (to show
again), the errors beside their fields (Chinese) and, when there are none, the values the
registry's functions take. The registry checks the rules (dates, 过户 order …) itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ..web.typed_input import DATE_FORMATS, UNREADABLE_MESSAGE, clean_line, clean_text
from .fields import MOBILE, normalize_mobile
from .models import END_REASONS, HANDOVER_STATES, PERSON_ROLES, TENANT
from .registry import NewPerson, parse_area

MAX_NAME = 30
MAX_REASON = 500
# How many new owners one 过户 form takes.
TRANSFER_ROWS = 3
# Dates before this are typing mistakes (the registry holds people, not history books).
EARLIEST = date(1950, 1, 1)
# 迁出 offers these reasons (租约到期 is found by the lease's end date).
END_CHOICES = {key: END_REASONS[key] for key in ("move_out", "error")}


@dataclass
class Posted:
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(form, name: str, posted: Posted, max_chars: int, multiline=False) -> str:
    raw = form.get(name, "")
    value = clean_text(raw) if multiline else clean_line(raw)
    value = value if isinstance(value, str) else ""
    posted.values[name] = value[:max_chars]
    if "\ufffd" in value:
        posted.errors[name] = UNREADABLE_MESSAGE
    elif len(value) > max_chars:
        posted.errors[name] = f"最多 {max_chars} 个字，请删减。"
    return value


def _date(form, name: str, posted: Posted, label: str, required=True) -> date | None:
    raw = clean_line(form.get(name, ""))
    raw = raw if isinstance(raw, str) else ""
    posted.values[name] = raw[:20]
    if not raw:
        if required:
            posted.errors[name] = f"请填写{label}。"
        return None
    for pattern in DATE_FORMATS:
        try:
            day = datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        if day < EARLIEST or day.year > 2200:
            posted.errors[name] = f"{label}不在合理范围内，请检查年份。"
            return None
        return day
    posted.errors[name] = f"{label}格式应为 年-月-日，例如 2026-05-01。"
    return None


def _mobile(form, name: str, posted: Posted, required: bool) -> str | None:
    raw = clean_line(form.get(name, ""))
    raw = raw if isinstance(raw, str) else ""
    posted.values[name] = raw[:20]
    if not raw:
        if required:
            posted.errors[name] = "请填写手机号。"
        return None
    mobile = normalize_mobile(raw)
    if not MOBILE.fullmatch(mobile or ""):
        posted.errors[name] = "请填写11位中国大陆手机号码，例如13800138000。"
        return None
    return mobile


def _reason(form, posted: Posted, message: str) -> str:
    reason = _text(form, "reason", posted, MAX_REASON, multiline=True)
    if not reason and "reason" not in posted.errors:
        posted.errors["reason"] = message
    return reason


def _choice(form, name: str, posted: Posted, choices: dict, message: str) -> str | None:
    raw = form.get(name, "")
    value = raw if isinstance(raw, str) and raw in choices else None
    posted.values[name] = value or ""
    if value is None:
        posted.errors[name] = message
    return value


def _person_id(form, name: str, posted: Posted) -> int | None:
    raw = form.get(name, "")
    posted.values[name] = raw if isinstance(raw, str) and raw.isascii() and raw.isdigit() else ""
    return int(raw) if posted.values[name] and len(raw) <= 10 else None


def room_facts(form) -> Posted:
    """收费面积 (empty: not known), 交房 state and date, and why."""
    posted = Posted()
    area_raw = clean_line(form.get("charge_area", ""))
    area_raw = area_raw if isinstance(area_raw, str) else ""
    posted.values["charge_area"] = area_raw[:20]
    area = None
    if area_raw:
        area = parse_area(area_raw)
        if area is None:
            posted.errors["charge_area"] = "收费面积请填写大于 0 的数字，最多两位小数，如 89.50。"
    handover = _choice(form, "handover", posted, HANDOVER_STATES, "请选择交房状态。")
    handover_on = _date(form, "handover_on", posted, "交房日期", required=False)
    reason = _reason(form, posted, "请填写修改原因。")
    posted.data = {
        "charge_area_centi": area,
        "handover": handover,
        "handover_on": handover_on,
        "reason": reason,
    }
    return posted


def person(form) -> Posted:
    """A person to register: 业主, 家庭成员 or 租户 (with the lease's end) from a date."""
    posted = Posted()
    name = _text(form, "name", posted, MAX_NAME)
    if not name and "name" not in posted.errors:
        posted.errors["name"] = "请填写姓名。"
    role = _choice(form, "role", posted, PERSON_ROLES, "请选择身份：业主、家庭成员或租户。")
    mobile = _mobile(form, "mobile", posted, required=False)
    since = _date(form, "since", posted, "登记日期")
    lease_end = _date(form, "lease_end", posted, "租约到期日", required=False)
    if role == TENANT and lease_end is None and "lease_end" not in posted.errors:
        posted.errors["lease_end"] = "租户须填写租约到期日。"
    primary = form.get("primary_contact") == "yes"
    emergency = form.get("emergency_contact") == "yes"
    posted.values["primary_contact"] = primary
    posted.values["emergency_contact"] = emergency
    if primary and mobile is None and "mobile" not in posted.errors:
        posted.errors["mobile"] = "主要联系人须登记手机号（账单和通知发到该手机）。"
    reason = _text(form, "reason", posted, MAX_REASON, multiline=True)
    if posted.ok:
        posted.data = {
            "person": NewPerson(
                name,
                mobile,
                role,
                since,
                lease_end=lease_end if role == TENANT else None,
                primary_contact=primary,
                emergency_contact=emergency,
            ),
            "reason": reason,
        }
    return posted


def transfer(form) -> Posted:
    """过户: the date, one to three new owners (the first is the 主要联系人) and why."""
    posted = Posted()
    on = _date(form, "on", posted, "过户日期")
    owners = []
    for row in range(1, TRANSFER_ROWS + 1):
        name = _text(form, f"name_{row}", posted, MAX_NAME)
        mobile = _mobile(form, f"mobile_{row}", posted, required=row == 1 or bool(name))
        if row > 1 and not name and mobile:
            posted.errors[f"name_{row}"] = "请填写这位新业主的姓名。"
        if row == 1 and not name and f"name_{row}" not in posted.errors:
            posted.errors["name_1"] = "请填写新业主的姓名。"
        if name and mobile:
            owners.append(NewPerson(name, mobile, "owner", on or date.min))
    reason = _reason(form, posted, "请填写过户原因或依据（如：房产证号、买卖合同）。")
    if posted.ok:
        posted.data = {"on": on, "new_owners": owners, "reason": reason}
    return posted


def end(form) -> Posted:
    """迁出 of one person (or a registration made in error): the date and why."""
    posted = Posted()
    on = _date(form, "on", posted, "迁出日期")
    end_reason = _choice(form, "end_reason", posted, END_CHOICES, "请选择迁出或登记有误。")
    reason = _reason(form, posted, "请填写原因。")
    posted.data = {"on": on, "end_reason": end_reason, "reason": reason}
    return posted


def contacts(form) -> Posted:
    """主要联系人 and an optional 紧急联系人, chosen among the current people."""
    posted = Posted()
    primary = _person_id(form, "primary", posted)
    if primary is None:
        posted.errors["primary"] = "请选择主要联系人。"
    emergency = _person_id(form, "emergency", posted)
    posted.data = {"primary": primary, "emergency": emergency}
    return posted
