"""The owner's repair and complaint forms, and 客服's versions of them for phone and walk-in
requests (the same fields and checks, plus where the request came from)."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..core.tokens import is_nonce
from ..files.uploads import AttachmentError, check_upload, chosen_files, upload_limits
from ..households.fields import HouseholdForm
from ..web.typed_input import clean_line, clean_text, readable
from . import settings, states

PHOTO_TYPES = ("image/jpeg", "image/png")
UNKNOWN_DEPARTMENT = "不清楚"


def long_text(label: str, required_message: str | None, limit: int = 1000) -> TextAreaField:
    checks = [Length(max=limit, message=f"{label}不能超过 {limit} 个字。"), readable]
    if required_message:
        checks.insert(0, DataRequired(required_message))
    return TextAreaField(label, filters=[clean_text], validators=checks)


def short_text(label: str, limit: int = 60) -> StringField:
    return StringField(
        label,
        filters=[clean_line],
        validators=[Length(max=limit, message=f"{label}不能超过 {limit} 个字。"), readable],
    )


def check_photos(files) -> list:
    """JPG or PNG photos, recognised by their content; at most the upload limit's count."""
    chosen = chosen_files(files)
    max_photos = upload_limits().max_files
    if len(chosen) > max_photos:
        raise ValidationError(f"照片最多 {max_photos} 张。")
    checked, problems = [], []
    for upload in chosen:
        try:
            photo = check_upload(upload)
            if photo.content_type not in PHOTO_TYPES:
                raise AttachmentError(
                    f"「{photo.original_name}」不是 JPG 或 PNG 照片（按文件内容识别）。"
                )
            checked.append(photo)
        except AttachmentError as error:
            problems.append(str(error))
    if problems:
        raise ValidationError(" ".join(problems))
    return checked


class RequestForm(HouseholdForm):
    """The household, photos and the one-time nonce: common to both kinds."""

    photos = MultipleFileField("照片（可选）")
    nonce = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked_photos = []
        # Photos kept on the server from an earlier try of this form (owner forms only).
        self.kept_uploads = []

    def validate_photos(self, field):
        self.checked_photos = check_photos(field.data)

    def validate_nonce(self, field):
        if not is_nonce(field.data):
            raise ValidationError("页面已过期，请刷新页面后重新填写。")

    def values(self) -> dict:
        values = {
            name: field.data
            for name, field in self._fields.items()
            if name not in ("photos", "nonce", "source")
        }
        values.update(building=int(values["building"]), unit=int(values["unit"]))
        return values


class RepairForm(RequestForm):
    kind = states.REPAIR
    location = RadioField("报修位置", validate_choice=False)
    place = short_text("公共区域的具体位置")
    description = long_text("需要维修的问题", "请写明需要维修的问题，例如“卫生间水管漏水”。")
    available_time = short_text("方便上门的时间")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.location.choices = list(states.LOCATION_LABELS.items())

    def validate_location(self, field):
        if field.data not in states.LOCATION_LABELS:
            raise ValidationError("请选择报修位置：室内还是公共区域。")

    def validate_place(self, field):
        if self.location.data == states.PUBLIC and not field.data:
            raise ValidationError("公共区域报修请写明位置，例如“5号楼2单元电梯”。")

    def validate_available_time(self, field):
        if self.location.data == states.HOME and not field.data:
            raise ValidationError("室内报修请写明您在家、方便上门的时间，例如“工作日 18:00 后”。")

    def values(self) -> dict:
        values = super().values()
        if values["location"] == states.HOME:
            values["place"] = ""
        return values


class ComplaintForm(RequestForm):
    kind = states.COMPLAINT
    department = SelectField("涉及部门", validate_choice=False)
    description = long_text("投诉内容", "请写明您要投诉的事情。")
    wish = long_text("您希望如何处理", "请写明您希望物业如何处理。", limit=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.department.choices = [("", "请选择"), (UNKNOWN_DEPARTMENT, "不清楚，由物业判断")] + [
            (d, d) for d in settings.departments()
        ]

    def validate_department(self, field):
        if field.data != UNKNOWN_DEPARTMENT and field.data not in settings.departments():
            raise ValidationError("请选择涉及的部门；不清楚可选“不清楚”。")

    def values(self) -> dict:
        values = super().values()
        if values["department"] == UNKNOWN_DEPARTMENT:
            values["department"] = ""
        return values


class StaffSource:
    """客服 records where the request came from: a phone call or a visit to the office."""

    source = RadioField("来源", validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = [(s, states.SOURCE_LABELS[s]) for s in states.STAFF_SOURCES]

    def validate_source(self, field):
        if field.data not in states.STAFF_SOURCES:
            raise ValidationError("请选择来源：电话或到访。")


class StaffRepairForm(StaffSource, RepairForm):
    pass


class StaffComplaintForm(StaffSource, ComplaintForm):
    pass


OWNER_FORMS = {states.REPAIR: RepairForm, states.COMPLAINT: ComplaintForm}
STAFF_FORMS = {states.REPAIR: StaffRepairForm, states.COMPLAINT: StaffComplaintForm}
