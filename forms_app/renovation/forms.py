"""The renovation application form (装修申请) and its server-side checks.

Lists (rooms, work items, acknowledgments, prohibited changes) and limits come from
``data/community.yml`` and ``data/renovation_rules.yml``; nothing here repeats them.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from functools import lru_cache

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField,
    StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..clock import today
from ..typed_input import clean_line, clean_text, readable, select_number
from ..uploads import MAX_FILES, AttachmentError, check_upload, chosen_files
from . import rules

# ASCII digits only: \d would also pass full-width and other scripts' digits.
MOBILE = re.compile(r"1[3-9][0-9]{9}")
NONCE = re.compile(r"[A-Za-z0-9_-]{20,64}\Z")  # \Z: also safe with .match()
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
MIN_WORKERS = 1
# How far ahead an application may be filed.
MAX_DAYS_AHEAD = 365


def normalize_mobile(value):
    """Accept 138 0013 8000, 138-0013-8000, +86 13800138000 and full-width digits as typed
    by owners (a Chinese input method in full-width mode types １３８…)."""
    if not isinstance(value, str):
        return value
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def mobile_check(label: str):
    def _check(_form, field):
        if not MOBILE.fullmatch(field.data or ""):
            raise ValidationError(f"{label}请填写 11 位中国大陆手机号码，例如 13800138000。")

    return _check


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes for one list; choices are checked in the form's own validator."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)


def text_field(label: str, max_chars: int, required_message: str) -> StringField:
    return StringField(
        label,
        filters=[clean_line],
        validators=[
            DataRequired(required_message),
            Length(max=max_chars, message=f"不能超过 {max_chars} 个字。"),
            readable,
        ],
    )


class RenovationFormBase(FlaskForm):
    """Fields common to every community; the rule-driven checkboxes are added per rules file.

    The app-wide ``CSRFProtect`` checks the token of every POST before the view runs (and
    answers a bad one with the Chinese error page), so the form does not check it twice.
    """

    class Meta:
        csrf = False

    building = SelectField("楼栋", validate_choice=False,
                           validators=[DataRequired("请选择楼栋。")])
    unit = SelectField("单元", validate_choice=False, validators=[DataRequired("请选择单元。")])
    room = SelectField("房号", validate_choice=False, validators=[DataRequired("请选择房号。")])
    owner_name = text_field("业主姓名", 30, "请填写业主姓名。")
    owner_mobile = StringField(
        "业主手机号", filters=[normalize_mobile],
        validators=[DataRequired("请填写业主手机号。"), mobile_check("业主手机号")],
    )
    contractor_company = text_field("装修公司", 60, "请填写装修公司名称（自行装修请填写“自行装修”）。")
    site_lead_name = text_field("现场负责人", 30, "请填写现场负责人姓名。")
    site_lead_mobile = StringField(
        "现场负责人手机号", filters=[normalize_mobile],
        validators=[DataRequired("请填写现场负责人手机号。"), mobile_check("现场负责人手机号")],
    )
    workers = IntegerField(
        "施工人数", invalid_value_message="施工人数请填写整数。",
        validators=[InputRequired("请填写施工人数（用于办理装修人员出入证件）。")],
    )
    start_date = DateField(
        "计划开工日期", format=DATE_FORMATS, invalid_value_message="请按 2026-12-01 的格式填写日期。",
        validators=[InputRequired("请填写计划开工日期。")],
    )
    end_date = DateField(
        "计划竣工日期", format=DATE_FORMATS, invalid_value_message="请按 2026-12-01 的格式填写日期。",
        validators=[InputRequired("请填写计划竣工日期。")],
    )
    work_items = MultiCheckboxField("装修项目")
    description = TextAreaField(
        "施工说明", filters=[clean_text],
        validators=[Length(max=2000, message="施工说明不能超过 2000 个字。"), readable],
    )
    wants_tarpaulin = BooleanField("借用彩条布")
    wants_extinguisher = BooleanField("租用灭火器")
    prohibited = MultiCheckboxField("本次装修是否涉及以下事项")
    attachments = MultipleFileField("图纸或方案（可选）")
    nonce = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        community = rules.community()
        self.community = community
        choices = rules.room_choices(community)
        self.building.choices = choices["building"]
        self.unit.choices = choices["unit"]
        self.room.choices = choices["room"]
        self.work_items.choices = list(rules.work_item_names().items())
        self.prohibited.choices = [
            (change_id, f"本次装修涉及：{change['title']}")
            for change_id, change in rules.prohibited_changes().items()
        ]
        self.checked_uploads = []

    # --- room -------------------------------------------------------------------------
    def validate_building(self, field):
        if select_number(field.data) not in self.community.buildings:
            raise ValidationError("请选择小区内的楼栋。")

    def validate_unit(self, field):
        building = self.community.buildings.get(select_number(self.building.data))
        unit = select_number(field.data)
        if unit is None:
            raise ValidationError("请选择单元。")
        if building and not 1 <= unit <= building.units:
            raise ValidationError(f"{building.label}只有 1–{building.units} 单元。")

    def validate_room(self, field):
        building_number = select_number(self.building.data)
        unit = select_number(self.unit.data)
        building = self.community.buildings.get(building_number)
        if building and unit and not building.has_room(unit, field.data):
            raise ValidationError(
                f"{building.label}没有 {field.data} 室（共 {building.floors} 层，"
                f"每层 {building.rooms_per_floor} 户）。"
            )

    # --- people and dates --------------------------------------------------------------
    def validate_workers(self, field):
        limit = self.community.renovation["max_workers"]
        if field.data is not None and not MIN_WORKERS <= field.data <= limit:
            raise ValidationError(f"施工人数应在 {MIN_WORKERS}–{limit} 人之间。")

    def validate_start_date(self, field):
        now = today()
        if field.data and field.data < now:
            raise ValidationError(f"开工日期不能早于今天（{now:%Y-%m-%d}）。")
        if field.data and field.data > now + timedelta(days=MAX_DAYS_AHEAD):
            raise ValidationError("只能申请一年内开工的装修。")

    def validate_end_date(self, field):
        start = self.start_date.data
        if not (field.data and start):
            return
        if field.data <= start:
            raise ValidationError("竣工日期须晚于开工日期。")
        limit = self.community.renovation["max_duration_days"]
        if (field.data - start).days + 1 > limit:
            raise ValidationError(f"装修工期最长 {limit} 天（含开工当天），请分期申请或调整日期。")

    # --- what is done ------------------------------------------------------------------
    def validate_work_items(self, field):
        names = rules.work_item_names()
        if not field.data:
            raise ValidationError("请至少选择一项装修项目。")
        if any(item not in names for item in field.data):
            raise ValidationError("请从列表中选择装修项目。")
        field.data = [item for item in names if item in field.data]

    def validate_description(self, field):
        if "other" in (self.work_items.data or []) and not field.data:
            raise ValidationError("选择了“其他”时，请在施工说明中写明具体内容。")

    def validate_prohibited(self, field):
        changes = rules.prohibited_changes()
        if any(change_id not in changes for change_id in field.data or []):
            raise ValidationError("请从列表中选择。")
        if field.data:
            # The template quotes each ticked change's rule beside this message.
            raise ValidationError("以下装修行为按规定禁止，不能受理含有这些内容的申请：")

    @property
    def refused_changes(self) -> list[dict]:
        changes = rules.prohibited_changes()
        return [
            {**changes[change_id], "url": rules.prohibited_change_url(changes[change_id])}
            for change_id in self.prohibited.data or [] if change_id in changes
        ]

    def validate_attachments(self, field):
        files = chosen_files(field.data)
        if len(files) > MAX_FILES:
            raise ValidationError(f"最多上传 {MAX_FILES} 个附件。")
        checked, problems = [], []
        for upload in files:
            try:
                checked.append(check_upload(upload))
            except AttachmentError as error:
                problems.append(str(error))
        if problems:
            raise ValidationError(" ".join(problems))
        self.checked_uploads = checked

    def validate_nonce(self, field):
        if not NONCE.fullmatch(field.data or ""):
            raise ValidationError("页面已过期，请刷新页面后重新填写。")

    @property
    def acknowledgment_fields(self):
        return [getattr(self, f"ack_{a['id']}") for a in rules.renovation_rules()["acknowledgments"]]


def room_taken_message(reference: str) -> str:
    return (f"该房屋已有一份尚未办结的装修申请（编号 {reference}），不能重复申请。"
            "请通过提交时获得的查询链接查看进度，或联系物业服务中心。")


@lru_cache(maxsize=1)
def _form_class():
    """The form with one required checkbox per acknowledgment of the rules file."""
    fields = {}
    for acknowledgment in rules.renovation_rules()["acknowledgments"]:
        field = BooleanField(
            acknowledgment["label"],
            validators=[DataRequired("提交申请前请阅读并勾选此项。")],
            description=rules.acknowledgment_url(acknowledgment["id"]),
        )
        fields[f"ack_{acknowledgment['id']}"] = field
    return type("RenovationForm", (RenovationFormBase,), fields)


def renovation_form(**kwargs) -> RenovationFormBase:
    """A bound renovation form for the current request."""
    return _form_class()(**kwargs)
