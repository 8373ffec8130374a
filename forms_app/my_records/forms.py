"""The two small forms of "我的办理": room and mobile, then the code."""

from __future__ import annotations

import re
import unicodedata

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, ValidationError

from ..households.fields import HouseholdForm, mobile_field

CODE = re.compile(r"[0-9]{6}")


class RoomMobileForm(HouseholdForm):
    """The room and the mobile number used when applying or booking."""

    owner_name = None  # not asked: the mobile on record identifies the owner
    owner_mobile = mobile_field("手机号")


def _code_digits(value):
    """Full-width digits and spaces as typed by a Chinese input method."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", value))


class CodeForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST app-wide

    code = StringField(
        "短信验证码", filters=[_code_digits], validators=[DataRequired("请填写短信验证码。")]
    )

    def validate_code(self, field):
        if not CODE.fullmatch(field.data or ""):
            raise ValidationError("验证码是 6 位数字。")
