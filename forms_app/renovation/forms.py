"""The renovation application form (装修申请) and its server-side checks.

Lists (rooms, work items, acknowledgments, prohibited changes) and limits come from
``data/communities/<id>.yml`` and ``data/renovation_rules.yml``; nothing here repeats them.
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
    RadioField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.clock import today
from ..core.tokens import is_nonce, is_token
from ..files.uploads import AttachmentError, check_upload, chosen_files, upload_limits
from ..households.fields import HouseholdForm, mobile_field, text_field
from ..web.typed_input import DATE_FORMATS, clean_text, readable
from . import rules

MIN_WORKERS = 1
# How far ahead an application may be filed.
MAX_DAYS_AHEAD = 365

# The form's steps on a phone, in order: (anchor, title, fields). Without script the steps
# are the sections of one page; the error summary lists errors in this order.
STEPS = (
    ("step-home", "房屋与业主", ("building", "unit", "room", "owner_name", "owner_mobile")),
    (
        "step-works",
        "施工方与工期",
        (
            "contractor_company",
            "site_lead_name",
            "site_lead_mobile",
            "workers",
            "start_date",
            "end_date",
        ),
    ),
    (
        "step-content",
        "装修内容",
        ("work_items", "description", "includes_prohibited", "prohibited"),
    ),
    ("step-files", "附件与服务", ("attachments", "wants_tarpaulin", "wants_extinguisher")),
    ("step-confirm", "阅读并确认", ()),  # the acknowledgments, added per rules file
)
PROHIBITED_ANSWERS = [("no", "不包含以上任何一项"), ("yes", "包含其中一项或多项")]


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes for one list; choices are checked in the form's own validator."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)


class RenovationFormBase(HouseholdForm):
    """Fields common to every community; the rule-driven checkboxes are added per rules file."""

    contractor_company = text_field(
        "装修公司", 60, "请填写装修公司名称（自行装修请填写“自行装修”）。"
    )
    site_lead_name = text_field("现场负责人", 30, "请填写现场负责人姓名。")
    site_lead_mobile = mobile_field("现场负责人手机号")
    workers = IntegerField(
        "施工人数",
        invalid_value_message="施工人数请填写整数。",
        validators=[InputRequired("请填写施工人数（用于办理装修人员出入证件）。")],
    )
    start_date = DateField(
        "计划开工日期",
        format=DATE_FORMATS,
        invalid_value_message="请按2026-12-01的格式填写日期。",
        validators=[InputRequired("请填写计划开工日期。")],
    )
    end_date = DateField(
        "计划竣工日期",
        format=DATE_FORMATS,
        invalid_value_message="请按2026-12-01的格式填写日期。",
        validators=[InputRequired("请填写计划竣工日期。")],
    )
    work_items = MultiCheckboxField("装修项目")
    description = TextAreaField(
        "施工说明",
        filters=[clean_text],
        validators=[Length(max=2000, message="施工说明不能超过2000个字。"), readable],
    )
    wants_tarpaulin = BooleanField("借用彩条布")
    wants_extinguisher = BooleanField("租用灭火器")
    includes_prohibited = RadioField(
        "本次装修是否包含以下任何一项？", choices=PROHIBITED_ANSWERS, validate_choice=False
    )
    prohibited = MultiCheckboxField("包含的是哪几项")
    attachments = MultipleFileField("图纸或方案（可选）")
    nonce = HiddenField()
    # The rejected application's status token when this is a resubmission (修改后重新提交).
    previous = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.work_items.choices = list(rules.work_item_names().items())
        self.prohibited.choices = [
            (change_id, change["title"]) for change_id, change in rules.prohibited_changes().items()
        ]
        self.checked_uploads = []
        # Files kept from earlier tries of this form (set by the view before validating).
        self.kept_uploads = []

    # --- one request's form ---------------------------------------------------------------
    def __enter__(self) -> RenovationFormBase:
        return self

    def __exit__(self, *_exc) -> None:
        """The request is done with the form (its page rendered, or the redirect made): let
        it go now.

        WTForms' bound fields point back at their form, so a form with everything hanging off
        it (fields, labels, flags, the room lists: some 200 objects) is a reference cycle that
        only Python's cyclic collector frees. Left to it, each request's form made the
        collector run every few requests in the middle of later ones, moving their live
        objects on towards the full collections that walk the whole heap (0.1–0.2 s each in
        a gunicorn worker). Emptying the form breaks every cycle through it, so reference
        counting frees it at once."""
        self.__dict__.clear()

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

    def validate_includes_prohibited(self, field):
        if field.data not in dict(PROHIBITED_ANSWERS):
            raise ValidationError("请回答本次装修是否包含以上任何一项。")

    def validate_prohibited(self, field):
        changes = rules.prohibited_changes()
        if any(change_id not in changes for change_id in field.data or []):
            raise ValidationError("请从列表中选择。")
        if field.data or self.includes_prohibited.data == "yes":
            # The template quotes each refused change's rule beside this message.
            raise ValidationError("以下装修行为按规定禁止，含有这些内容的装修申请不能受理：")

    @property
    def refused_changes(self) -> list[dict]:
        """The changes to refuse with their rules: the ticked ones, or all of them when the
        owner says the work includes one without saying which."""
        changes = rules.prohibited_changes()
        ticked = [c for c in self.prohibited.data or [] if c in changes] or list(changes)
        return [
            {**changes[change_id], "url": rules.prohibited_change_url(changes[change_id])}
            for change_id in ticked
        ]

    def validate_attachments(self, field):
        files = chosen_files(field.data)
        max_files = upload_limits().max_files
        if len(files) + len(self.kept_uploads) > max_files:
            raise ValidationError(f"最多上传{max_files}个附件（已附上的也算在内）。")
        checked, problems = [], []
        for upload in files:
            try:
                checked.append(check_upload(upload))
            except AttachmentError as error:
                problems.append(str(error))
        # The files that passed are kept even when another one is refused.
        self.checked_uploads = checked
        if problems:
            raise ValidationError(" ".join(problems))

    def validate_nonce(self, field):
        if not is_nonce(field.data):
            raise ValidationError("页面已过期，请刷新页面后重新填写。")

    def validate_previous(self, field):
        if field.data and not is_token(field.data):
            raise ValidationError("原申请的链接无效，请从原申请的进度页面点击“修改后重新提交”。")

    @property
    def acknowledgment_fields(self):
        return [
            getattr(self, f"ack_{a['id']}") for a in rules.renovation_rules()["acknowledgments"]
        ]

    def steps(self) -> list[dict]:
        """The steps with their fields, and whether any of them has an error."""
        result = []
        for anchor, title, names in STEPS:
            fields = [getattr(self, name) for name in names] or self.acknowledgment_fields
            result.append(
                {
                    "anchor": anchor,
                    "title": title,
                    "has_error": any(f.errors for f in fields),
                    "fields": fields,
                }
            )
        return result

    def error_summary(self) -> list[dict]:
        """Every error in step order, each linked to its field: (anchor, label, message)."""
        entries = []
        for step in self.steps():
            for field in step["fields"]:
                for message in field.errors:
                    anchor = "includes_prohibited" if field.name == "prohibited" else field.id
                    label = (
                        "本次装修是否包含禁止事项"
                        if field.name in ("includes_prohibited", "prohibited")
                        else field.label.text
                    )
                    entries.append({"anchor": anchor, "label": label, "message": message})
        for message in self.nonce.errors + self.previous.errors:
            entries.append({"anchor": "form-errors", "label": "页面", "message": message})
        return entries


def room_taken_message(reference: str) -> str:
    return (
        f"该房屋已有一份尚未办结的装修申请（编号{reference}），不能重复申请。"
        "请通过提交时获得的查询链接查看进度，或联系物业服务中心。"
    )


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
    """A bound renovation form for the current request; use it as ``with renovation_form() as
    form:`` so that it is let go as soon as the request is done with it."""
    return _form_class()(**kwargs)
