"""The renovation application form (装修申请) and its server-side checks.

Lists (rooms, work items, acknowledgments, prohibited changes) and limits come from
``data/community.yml`` and ``data/renovation_rules.yml``; nothing here repeats them.
"""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..clock import today
from ..households import HouseholdForm, mobile_field, text_field
from ..tokens import is_nonce
from ..typed_input import DATE_FORMATS, clean_text, readable
from ..uploads import AttachmentError, check_upload, chosen_files, upload_limits
from . import rules

MIN_WORKERS = 1
# How far ahead an application may be filed.
MAX_DAYS_AHEAD = 365


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes for one list; choices are checked in the form's own validator."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)


class RenovationFormBase(HouseholdForm):
    """Fields common to every community; the rule-driven checkboxes are added per rules file."""

    contractor_company = text_field("装修公司", 60, "请填写装修公司名称（自行装修请填写“自行装修”）。")
    site_lead_name = text_field("现场负责人", 30, "请填写现场负责人姓名。")
    site_lead_mobile = mobile_field("现场负责人手机号")
    workers = IntegerField(
        "施工人数", invalid_value_message="施工人数请填写整数。",
        validators=[InputRequired("请填写施工人数（用于办理装修人员出入证件）。")],
    )
    start_date = DateField(
        "计划开工日期", format=DATE_FORMATS, invalid_value_message="请按2026-12-01的格式填写日期。",
        validators=[InputRequired("请填写计划开工日期。")],
    )
    end_date = DateField(
        "计划竣工日期", format=DATE_FORMATS, invalid_value_message="请按2026-12-01的格式填写日期。",
        validators=[InputRequired("请填写计划竣工日期。")],
    )
    work_items = MultiCheckboxField("装修项目")
    description = TextAreaField(
        "施工说明", filters=[clean_text],
        validators=[Length(max=2000, message="施工说明不能超过2000个字。"), readable],
    )
    wants_tarpaulin = BooleanField("借用彩条布")
    wants_extinguisher = BooleanField("租用灭火器")
    prohibited = MultiCheckboxField("本次装修是否涉及以下事项")
    attachments = MultipleFileField("图纸或方案（可选）")
    nonce = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.work_items.choices = list(rules.work_item_names().items())
        self.prohibited.choices = [
            (change_id, f"本次装修涉及：{change['title']}")
            for change_id, change in rules.prohibited_changes().items()
        ]
        self.checked_uploads = []

    # --- people and dates --------------------------------------------------------------
    def validate_workers(self, field):
        limit = self.community.renovation["max_workers"]
        if field.data is not None and not MIN_WORKERS <= field.data <= limit:
            raise ValidationError(f"施工人数应在{MIN_WORKERS}–{limit}人之间。")

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
            raise ValidationError(f"装修工期最长{limit}天（含开工当天），请分期申请或调整日期。")

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
        max_files = upload_limits().max_files
        if len(files) > max_files:
            raise ValidationError(f"最多上传{max_files}个附件。")
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
        if not is_nonce(field.data):
            raise ValidationError("页面已过期，请刷新页面后重新填写。")

    @property
    def acknowledgment_fields(self):
        return [getattr(self, f"ack_{a['id']}") for a in rules.renovation_rules()["acknowledgments"]]


def room_taken_message(reference: str) -> str:
    return (f"该房屋已有一份尚未办结的装修申请（编号{reference}），不能重复申请。"
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
