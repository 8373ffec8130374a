"""Owner pages: report a repair (报修), make a complaint (投诉), follow it by a private link."""

from __future__ import annotations

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

from ..accounts.public_posts import spend_room
from ..core.community import served_communities
from ..core.public_urls import external_url
from ..core.security_headers import no_store, private
from ..core.tokens import is_nonce, new_nonce
from ..files import pending_uploads
from ..files.uploads import upload_limits
from ..my_records.grants import prefill
from . import intake, owner_feedback, settings, states
from .forms import OWNER_FORMS
from .progress import next_step
from .workflow import ACTION_LABELS, WorkflowError

bp = Blueprint("service_requests", __name__)
bp.record_once(
    lambda state: [settings.check_service_data(c) for c in served_communities(state.app)]
)

TEMPLATES = {
    states.REPAIR: "service_requests/repair.html",
    states.COMPLAINT: "service_requests/complaint.html",
}


FILES_GONE = (
    "有 {count} 张之前附上的照片已失效（未提交的照片保存一天后会被清除），请重新选择这些照片。"
)


def _ids(values: list[str]) -> list[int]:
    """Kept-photo ids as posted; anything that is not one of ours counts as a missing photo."""
    return [int(v) if v.isascii() and v.isdigit() and len(v) < 10 else -1 for v in values]


FILES_GONE = (
    "有 {count} 张之前附上的照片已失效（未提交的照片保存一天后会被清除），请重新选择这些照片。"
)


def _ids(values: list[str]) -> list[int]:
    """Kept-photo ids as posted; anything that is not one of ours counts as a missing photo."""
    return [int(v) if v.isascii() and v.isdigit() and len(v) < 10 else -1 for v in values]


def _form_page(kind: str):
    """The owner form: photos that passed the content check on a refused try are kept on the
    server against the form's nonce (as the renovation form keeps its attachments), listed as
    already attached with a remove button, and claimed when the form is filed."""
    form = OWNER_FORMS[kind]()
    status = 200
    pending = intake.pending_form(kind)
    if request.method == "GET":
        form.nonce.data = new_nonce()
        prefill(form)
        return _render_form(kind, form, status)
    nonce = form.nonce.data if is_nonce(form.nonce.data) else None
    if nonce and (existing := intake.find_by_nonce(nonce)):
        # The same form sent twice (double tap, back button): show the first request.
        return redirect(url_for(".status", token=existing.token), code=303)
    kept_ids = _ids(request.form.getlist("kept_upload"))
    form.kept_uploads, gone = (
        pending_uploads.kept_for(pending, nonce, kept_ids) if nonce else ([], len(kept_ids))
    )
    if "remove_upload" in request.form:
        upload_id = _ids([request.form["remove_upload"]])[0]
        if nonce and pending_uploads.remove(pending, nonce, upload_id):
            form.kept_uploads = [row for row in form.kept_uploads if row.id != upload_id]
        _keep_new_photos(form, pending, nonce, check=True)
        return _render_form(kind, form, 200)
    valid = form.validate_on_submit()
    max_photos = upload_limits().max_files
    if gone:
        form.photos.errors = [*form.photos.errors, FILES_GONE.format(count=gone)]
        valid = False
    elif valid and len(form.kept_uploads) + len(form.checked_photos) > max_photos:
        form.photos.errors = [*form.photos.errors, f"照片最多 {max_photos} 张（含已附上的）。"]
        valid = False
        form.checked_photos = []
    if valid:
        room = f"{form.building.data}-{form.unit.data}-{form.room.data}"
        if refused := spend_room(kind, states.KIND_LABELS[kind], room):
            form.room.errors.append(refused)
            _keep_new_photos(form, pending, nonce)
            return _render_form(kind, form, 429)
        try:
            filed, _created = intake.file_request(
                kind,
                form.values(),
                form.checked_photos,
                nonce,
                kept_ids=[row.id for row in form.kept_uploads],
            )
        except pending_uploads.PendingUploadGone:
            if existing := intake.find_by_nonce(nonce):
                return redirect(url_for(".status", token=existing.token), code=303)
            form.photos.errors = [
                *form.photos.errors,
                "之前附上的照片已失效，没有提交，请重新选择照片。",
            ]
            form.kept_uploads, _gone = pending_uploads.kept_for(pending, nonce, kept_ids)
            status = 409
        except OSError:
            current_app.logger.exception("storing service request photos failed")
            form.photos.errors = [*form.photos.errors, "照片保存失败，没有提交，请稍后重试。"]
            status = 503
        else:
            return redirect(url_for(".status", token=filed.token, new=1), code=303)
    else:
        status = 400
    _keep_new_photos(form, pending, nonce)
    return _render_form(kind, form, status)


def _keep_new_photos(form, pending: str, nonce: str | None, check: bool = False) -> None:
    """Keep the newly chosen photos that passed the content check against the nonce."""
    if check:
        try:
            form.validate_photos(form.photos)
        except ValueError as error:
            form.photos.errors = [str(error)]
    if not nonce or not form.checked_photos:
        return
    room = upload_limits().max_files - len(form.kept_uploads)
    try:
        form.kept_uploads = [
            *form.kept_uploads,
            *pending_uploads.keep(pending, nonce, form.checked_photos[: max(room, 0)]),
        ]
    except pending_uploads.KeepRefused as refused:
        form.photos.errors = [*form.photos.errors, refused.message]
    except OSError:
        current_app.logger.exception("keeping service request photos failed")
        form.photos.errors = [*form.photos.errors, "照片暂存失败，请提交时重新选择。"]
    form.checked_photos = []


def _render_form(kind: str, form, status: int):
    # Never cached: a shared copy would give two owners one nonce.
    return no_store(
        current_app.make_response(
            (render_template(TEMPLATES[kind], form=form, rooms=form.rooms), status)
        )
    )


@bp.route("/repair", methods=["GET", "POST"])
def repair():
    """The repair form; a valid POST files it and shows its private status page."""
    return _form_page(states.REPAIR)


@bp.route("/complaint", methods=["GET", "POST"])
def complaint():
    """The complaint form; a valid POST files it and shows its private status page."""
    return _form_page(states.COMPLAINT)


def _status_page(found, status: int = 200, errors=None, values=None, page_error=None):
    owner_can_act = owner_feedback.can_confirm(found) or owner_feedback.can_reply(found)
    return private(
        current_app.make_response(
            (
                render_template(
                    "service_requests/status.html",
                    item=found,
                    just_filed=request.args.get("new") == "1",
                    status_url=external_url(".status", token=found.token),
                    urgency=settings.urgency_name(found.urgency) if found.urgency else "",
                    action_labels=ACTION_LABELS,
                    state_label=states.label,
                    next_step=next_step(found, owner_can_act),
                    can_confirm=owner_feedback.can_confirm(found),
                    can_rate=owner_feedback.can_rate(found),
                    can_reply=owner_feedback.can_reply(found),
                    rating=owner_feedback.rating_of(found),
                    reply=owner_feedback.reply_of(found),
                    ratings=states.RATINGS,
                    errors=errors or {},
                    values=values or {},
                    page_error=page_error,
                ),
                status,
            )
        )
    )


def _found(token: str):
    found = intake.find_by_token(token)
    if found is None:
        abort(404)
    return found


@bp.get("/status/<token>")
def status(token: str):
    """The private status page: state, what happens next, history as the owner may read it,
    the answer, and the owner's confirmation, rating and reply forms when they apply."""
    return _status_page(_found(token))


def _owner_step(token: str, form_name: str, check, store, done: str):
    found = _found(token)
    values = {"form": form_name, **request.form.to_dict()}
    try:
        checked = check(request.form)
        store(found.id, checked)
    except WorkflowError as error:
        found = _found(token)
        if error.field is None:
            return _status_page(found, 409, page_error=error.message)
        return _status_page(
            found, 400, errors={form_name: {error.field: error.message}}, values=values
        )
    flash(done, "success")
    return redirect(url_for(".status", token=token, _anchor="progress"), code=303)


@bp.post("/status/<token>/confirm")
def confirm(token: str):
    """The owner confirms a finished repair (or says it is not fixed) and rates it."""
    return _owner_step(
        token,
        "confirm",
        owner_feedback.check_confirmation,
        owner_feedback.confirm_repair,
        "感谢您的确认和评价。",
    )


@bp.post("/status/<token>/rate")
def rate(token: str):
    """The owner rates a complaint's answer."""
    return _owner_step(
        token, "rate", owner_feedback.check_rating, owner_feedback.rate_complaint, "感谢您的评价。"
    )


@bp.post("/status/<token>/reply")
def reply(token: str):
    """The owner replies once to a complaint's answer; it goes back to its department."""
    return _owner_step(
        token,
        "reply",
        owner_feedback.check_reply,
        owner_feedback.reply_complaint,
        "您的回复已收到，投诉已退回相关部门重新处理。",
    )
