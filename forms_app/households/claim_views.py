"""房屋认证: the person's form and private status page (``owner_bp``, /forms/households), and
the staff's queue, one claim with its document photo, approve and refuse (``staff_bp``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.validators import ValidationError

from ..accounts.access import staff_required
from ..core.clock import today
from ..core.public_urls import external_url
from ..core.security_headers import no_store, private
from ..core.tokens import is_nonce, new_nonce
from ..files.uploads import AttachmentError, check_upload, chosen_files, send_attachment
from ..web.typed_input import (
    DATE_FORMATS,
    UNREADABLE_MESSAGE,
    clean_line,
    clean_text,
    is_unreadable,
)
from . import claims
from .fields import HouseholdForm, mobile_field, text_field
from .models import CLAIM_PENDING, CLAIM_STATES, PERSON_ROLES, TENANT
from .registry import current_people, room_by_id

owner_bp = Blueprint("households_claim", __name__)
staff_bp = Blueprint("households_claims", __name__)

DOCUMENT_TYPES = ("image/jpeg", "image/png", "application/pdf")
ROOM_NUMBER = re.compile(r"[0-9A-Za-z-]{1,16}")


def parse_day(text: str | None) -> date | None:
    text = clean_line(text or "")
    if not isinstance(text, str) or not text or len(text) > 10:
        return None
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


class ClaimForm(HouseholdForm):
    """Room (the registry's pickers), who the person is, a document photo and consent."""

    owner_name = text_field("姓名", 30, "请填写您的姓名。")
    owner_mobile = mobile_field("手机号")
    role = RadioField("您与这户房屋的关系", validate_choice=False)
    lease_end = StringField("租约到期日")
    document = FileField("证件照片（可选）")
    consent = BooleanField("我已阅读上面的说明，同意物业为核实和登记保存这些信息")
    nonce = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = list(PERSON_ROLES.items())
        self.checked_document = None
        self.lease_end_day = None

    def validate_room(self, field):
        # Only a plain room number is looked up (a NUL would reach the database).
        if not ROOM_NUMBER.fullmatch(field.data or ""):
            raise ValidationError("请从房号列表中选择房号。")
        super().validate_room(field)

    def validate_role(self, field):
        if field.data not in PERSON_ROLES:
            raise ValidationError("请选择您与这户房屋的关系：业主、家庭成员或租户。")

    def validate_lease_end(self, field):
        if self.role.data != TENANT:
            return
        if not (field.data or "").strip():
            raise ValidationError("租户请填写租约到期日（以租赁合同为准）。")
        day = parse_day(field.data)
        if day is None:
            raise ValidationError("租约到期日格式应为 年-月-日，例如 2027-06-30。")
        if day < today():
            raise ValidationError("租约已到期，请填写现行租赁合同的到期日。")
        if day.year > 2099:
            raise ValidationError("请填写正确的租约到期日。")
        self.lease_end_day = day

    def validate_document(self, field):
        chosen = chosen_files([field.data] if field.data else [])
        if not chosen:
            return
        try:
            checked = check_upload(chosen[0])
        except AttachmentError as error:
            raise ValidationError(str(error)) from error
        if checked.content_type not in DOCUMENT_TYPES:
            raise ValidationError("证件照片请上传 JPG、PNG 照片或 PDF 扫描件。")
        self.checked_document = checked

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError("请勾选同意：不同意保存这些信息，我们无法为您办理房屋认证。")

    def validate_nonce(self, field):
        if not is_nonce(field.data):
            raise ValidationError("页面已过期，请刷新页面后重新填写。")


def _form_page(form: ClaimForm, status: int):
    return no_store(
        current_app.make_response(
            (
                render_template(
                    "households/claim.html", form=form, rooms=form.rooms, kept=claims.KEPT
                ),
                status,
            )
        )
    )


@owner_bp.route("/claim", methods=["GET", "POST"])
def claim():
    """房屋认证: ask to be registered on a room; a valid POST shows the private status page."""
    form = ClaimForm()
    status = 200
    if request.method == "GET":
        form.nonce.data = new_nonce()
        return _form_page(form, status)
    existing = claims.find_by_token(form.nonce.data or "")
    if existing is not None:  # the same form sent twice: the first claim
        return redirect(url_for(".status", token=existing.token), code=303)
    if not form.validate():
        return _form_page(form, 400)
    room = form.registry_room()
    new = claims.NewClaim(
        room.id,
        form.owner_name.data,
        form.owner_mobile.data,
        form.role.data,
        form.lease_end_day,
    )
    try:
        filed = claims.file_claim(new, form.checked_document, form.nonce.data)
    except claims.ClaimRefused as refused:
        target = getattr(form, refused.field or "", None) or form.owner_mobile
        target.errors = [*target.errors, refused.message]
        return _form_page(form, 400)
    except OSError:
        current_app.logger.exception("storing a claim's document failed")
        form.document.errors = ["照片保存失败，没有提交，请稍后重试。"]
        return _form_page(form, 503)
    return redirect(url_for(".status", token=filed.token, new=1), code=303)


@owner_bp.get("/claim/<token>")
def status(token: str):
    """The claim's private status page: waiting, approved, or refused with the reason."""
    found = claims.find_by_token(token)
    if found is None:
        abort(404)
    return private(
        current_app.make_response(
            render_template(
                "households/claim_status.html",
                claim=found,
                room=room_by_id(found.room_id),
                lease_end=claims.lease_end_of(found),
                just_filed=request.args.get("new") == "1",
                status_url=external_url(".status", token=token),
            )
        )
    )


# ----- staff ---------------------------------------------------------------------------------


def _claim(claim_id: int):
    found = claims.claim_by_id(claim_id)
    if found is None:
        abort(404)
    return found


@staff_bp.get("/")
@staff_required("households.claims")
def index():
    """The queue: pending claims oldest first; decided ones by the state filter."""
    state = request.args.get("state", CLAIM_PENDING)
    error = None
    if state not in CLAIM_STATES and state != "all":
        error = "请从列表中选择状态；已显示待审核的申请。"
        state = CLAIM_PENDING
    page = claims.queue(state, request.args.get("page"))
    return render_template(
        "households/staff/claims.html",
        page=page,
        state=state,
        states=CLAIM_STATES,
        error=error,
        rooms=claims.rooms_of(page.items),
        pending=claims.pending_count(),
    )


def _detail(found, status: int = 200, **context):
    room = room_by_id(found.room_id)
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return render_template(
        "households/staff/claim.html",
        claim=found,
        room=room,
        people=current_people(room.id),
        lease_end=claims.lease_end_of(found),
        has_document=claims.document_file(found) is not None,
        **context,
    ), status


@staff_bp.get("/<int:claim_id>")
@staff_required("households.claims")
def detail(claim_id: int):
    """One claim: who asks for which room, the document photo, approve or refuse."""
    return _detail(_claim(claim_id))


@staff_bp.get("/<int:claim_id>/document")
@staff_required("households.claims")
def document(claim_id: int):
    """The claim's document photo (staff only; gone once the claim is decided)."""
    found = claims.document_file(_claim(claim_id))
    if found is None:
        abort(404)
    name, content_type = found
    response = send_attachment(
        SimpleNamespace(
            stored_name=name,
            original_name=f"房屋认证{claim_id}证件{Path(name).suffix}",
            content_type=content_type,
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@staff_bp.post("/<int:claim_id>/approve")
@staff_required("households.claims")
def approve(claim_id: int):
    """Register the person from today; they get an SMS; the photo is deleted."""
    found = _claim(claim_id)
    raw = request.form.get("lease_end", "")
    raw = clean_line(raw if isinstance(raw, str) else "")
    lease_end = None
    if found.role == TENANT and raw:
        lease_end = parse_day(raw)
        if lease_end is None:
            return _detail(
                found,
                400,
                errors={"lease_end": "租约到期日格式应为 年-月-日，例如 2027-06-30。"},
                values={"lease_end": clean_line(raw)[:10]},
            )
    try:
        claims.approve(found.id, lease_end)
    except claims.ClaimRefused as refused:
        field = refused.field if refused.field in ("lease_end",) else None
        return _detail(
            claims.claim_by_id(found.id),
            409 if field is None else 400,
            errors={field: refused.message} if field else {},
            page_error=None if field else refused.message,
            values={"lease_end": clean_line(raw)[:10]},
        )
    flash(f"已通过：{found.name} 已登记，短信通知已发出。", "success")
    return redirect(url_for(".detail", claim_id=found.id), code=303)


@staff_bp.post("/<int:claim_id>/refuse")
@staff_required("households.claims")
def refuse(claim_id: int):
    """Refuse with a reason (required); the person gets it by SMS; the photo is deleted."""
    found = _claim(claim_id)
    raw = request.form.get("reason", "")
    reason = clean_text(raw if isinstance(raw, str) else "")
    if is_unreadable(reason):
        return _detail(
            found, 400, errors={"reason": "理由" + UNREADABLE_MESSAGE}, values={"reason": reason}
        )
    try:
        claims.refuse(found.id, reason)
    except claims.ClaimRefused as refused:
        field = refused.field == "reason"
        return _detail(
            claims.claim_by_id(found.id),
            400 if field else 409,
            errors={"reason": refused.message} if field else {},
            page_error=None if field else refused.message,
            values={"reason": reason},
        )
    flash("已不通过，理由已以短信告知申请人。", "success")
    return redirect(url_for(".detail", claim_id=found.id), code=303)
