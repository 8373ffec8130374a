"""Permits a guard can check: the signed link in the permit's QR code, whether the permit lets
work go on today, and the QR code itself (made here on the server with segno).

The link carries only the application's reference, signed with the app's secret key under
its own salt: it cannot be guessed or made up, it opens nothing but the verification page,
and the owner's private status link never appears on the printed permit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import segno
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select

from ..core.extensions import db
from ..web.qr import qr_svg as web_qr_svg
from . import states
from .models import RenovationApplication

SALT = "renovation-permit-verification"
REFERENCE = re.compile(r"ZX\d{8}-\d{3,6}")
# Longer links than ours are refused before any decoding.
MAX_TOKEN_CHARS = 120

# The renovation is on site from approval until it passes acceptance: a guard lets workers
# and materials in while the application is in one of these states and today is within its
# dates (an extension moves the end date, so the printed dates may be older than the page).
ON_SITE_STATES = frozenset(
    {states.APPROVED, states.IN_PROGRESS, states.AWAITING_ACCEPTANCE, states.ACCEPTANCE_FAILED}
)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def verification_token(application: RenovationApplication) -> str:
    return _serializer().dumps(application.reference)


def application_for(token: str) -> RenovationApplication | None:
    """The application a verification link names, or None for a link we did not sign."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        reference = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(reference, str) or not REFERENCE.fullmatch(reference):
        return None
    return db.session.scalar(
        select(RenovationApplication).where(RenovationApplication.reference == reference)
    )


@dataclass(frozen=True)
class Verdict:
    """What the guard reads first: valid today or not, and why."""

    valid: bool
    headline: str
    reason: str


def verdict(application: RenovationApplication, day: date) -> Verdict:
    if application.state not in ON_SITE_STATES:
        if application.state in (states.ACCEPTED, states.DEPOSIT_REFUNDED):
            return Verdict(False, "许可证已失效", "该房屋装修已验收通过，施工已结束。")
        return Verdict(
            False, "许可证无效", f"该申请当前状态为「{application.state_label}」，未获批准施工。"
        )
    if day < application.start_date:
        return Verdict(
            False,
            "许可证尚未生效",
            f"开工日期为 {application.start_date.isoformat()}，今天还不能施工。",
        )
    if day > application.end_date:
        return Verdict(
            False, "许可证已过期", f"竣工日期为 {application.end_date.isoformat()}，且未办理延期。"
        )
    return Verdict(
        True,
        "许可证有效，今日可以施工",
        f"工期 {application.start_date.isoformat()} 至 {application.end_date.isoformat()}。",
    )


def qr_code(url: str) -> segno.QRCode:
    # Level M survives a crease or a smudge on a printed permit and keeps the code small.
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str) -> Markup:
    """The QR code as inline SVG with a ``viewBox``: CSS sizes it (on screen, printed, in a
    PDF) and the whole code with its quiet zone is drawn."""
    return web_qr_svg(url, "装修许可证核验二维码", "permit-qr-code")
