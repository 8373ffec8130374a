"""Owner pages: apply (装修申请), follow the status, print the permit (装修许可证)."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from ..accounts.public_posts import spend_room
from ..core.clock import today
from ..core.community import current_community
from ..core.public_urls import external_url
from ..core.security_headers import no_store, private
from ..core.tokens import is_nonce, new_nonce
from ..files import pending_uploads
from ..my_records.grants import prefill
from ..web.errors import render_error
from . import permit_image as permit_image_module
from . import permits, rules, states
from .applications import (
    APPLICATION_FIELDS,
    PENDING_FORM,
    AlreadyResubmitted,
    RoomHasOpenApplication,
    find_by_nonce,
    find_by_token,
    resubmission_of,
    submit_application,
)
from .forms import STEPS, renovation_form, room_taken_message

bp = Blueprint("renovation", __name__)

NOT_REJECTED = "只有被驳回的申请才能修改后重新提交；该申请当前状态为「{state}」。"
FILES_GONE = (
    "有 {count} 个之前附上的附件已失效（未提交的附件保存一天后会被清除），请重新选择这些附件。"
)


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    """The application form in steps; a valid POST stores it and redirects to its status page.

    ``?from=<status token>`` of a rejected application opens the form filled in with it
    (修改后重新提交), its attachments already attached, and links the new application to it.
    Files chosen on a try that fails are kept against the form's nonce and not chosen again.
    """
    if request.method == "GET":
        return _new_form(request.args.get("from"))
    with renovation_form() as form:
        return _posted(form)


def _posted(form):
    """A sent form: filed and answered with its status page, or shown again with why not."""
    nonce = form.nonce.data if is_nonce(form.nonce.data) else None
    kept_ids = _ids(request.form.getlist("kept_upload"))
    form.kept_uploads, gone = (
        pending_uploads.kept_for(PENDING_FORM, nonce, kept_ids) if nonce else ([], len(kept_ids))
    )
    if "remove_upload" in request.form:
        if existing := _filed_with(nonce):
            return _show_filed(existing.status_token)
        return _remove_upload(form, nonce, request.form["remove_upload"])
    valid = form.validate()
    previous = _previous_for(form)
    if gone:
        form.attachments.errors = [*form.attachments.errors, FILES_GONE.format(count=gone)]
        valid = False
    status = 400
    if valid and not form.previous.errors:
        values = {name: getattr(form, name).data for name in APPLICATION_FIELDS}
        values.update(building=int(values["building"]), unit=int(values["unit"]))
        room = f"{values['building']}-{values['unit']}-{values['room']}"
        if refused := spend_room("renovation", "装修申请", room):
            form.room.errors.append(refused)
            form.checked_uploads = []
            return _render_form(form, 429)
        try:
            # The same form sent twice (double tap, back button) is found by the nonce's unique
            # constraint inside the filing: the first application's token comes back.
            status_token, _created = submit_application(
                values,
                form.checked_uploads,
                nonce,
                kept_ids=[row.id for row in form.kept_uploads],
                previous_id=previous.id if previous else None,
            )
        except RoomHasOpenApplication as taken:
            form.room.errors.append(room_taken_message(taken.reference))
        except AlreadyResubmitted:
            form.previous.errors.append("原申请已经修改后重新提交过，不能再次提交。")
            status = 409
        except pending_uploads.PendingUploadGone:
            if existing := _filed_with(nonce):
                # The first copy of this form claimed the kept files a moment ago.
                return _show_filed(existing.status_token)
            form.attachments.errors = [
                *form.attachments.errors,
                "之前附上的附件已失效，申请未提交，请重新选择附件。",
            ]
            form.kept_uploads, _gone = pending_uploads.kept_for(PENDING_FORM, nonce, kept_ids)
            status = 409
        except OSError:
            current_app.logger.exception("storing renovation attachments failed")
            form.attachments.errors = [
                *form.attachments.errors,
                "附件保存失败，申请未提交，请稍后重试。",
            ]
            return _render_form(form, 400)
        else:
            return _show_filed(status_token)
    elif existing := _filed_with(nonce):
        # Sent again after it was filed, this copy fails a check the first one passed (its kept
        # files were claimed, its original application is resubmitted): show the first one.
        return _show_filed(existing.status_token)
    _keep_new_files(form, nonce)
    return _render_form(form, status)


def _filed_with(nonce: str | None):
    """The application this form's nonce already filed, if any.

    Asked only when the form is not filed now: a valid form goes straight to
    ``submit_application``, whose unique nonce finds the first copy in the same write."""
    return find_by_nonce(nonce) if nonce else None


def _show_filed(status_token: str):
    return redirect(url_for(".status", token=status_token, new=1), code=303)


def _ids(values: list[str]) -> list[int]:
    """Kept-file ids as posted; anything that is not one of ours counts as a missing file."""
    return [int(v) if v.isascii() and v.isdigit() and len(v) < 10 else -1 for v in values]


def _new_form(source: str | None):
    """A fresh form, or the rejected application ``source`` filled in for resubmission."""
    if source is None:
        with renovation_form() as form:
            form.nonce.data = new_nonce()
            prefill(form)
            return _render_form(form, 200)
    previous = _application_or_404(source)
    if previous.state != states.REJECTED:
        return render_error(409, NOT_REJECTED.format(state=previous.state_label))
    if resubmission_of(previous):
        return redirect(url_for(".status", token=source), code=303)
    filled_in = {
        **{name: getattr(previous, name) for name in APPLICATION_FIELDS},
        "building": str(previous.building),
        "unit": str(previous.unit),
        # The rejected application could only have been filed without a prohibited change.
        "includes_prohibited": "no",
        "previous": previous.status_token,
    }
    with renovation_form(data=filled_in) as form:
        form.nonce.data = new_nonce()
        notice = None
        try:
            form.kept_uploads = pending_uploads.copy_to_pending(
                PENDING_FORM, form.nonce.data, previous.attachments
            )
        except pending_uploads.KeepRefused as refused:
            notice = refused.message
        return _render_form(form, 200, previous=previous, notice=notice)


def _previous_for(form):
    """The rejected application this form resubmits, checked again on every POST."""
    if not form.previous.data or form.previous.errors:
        return None
    previous = find_by_token(form.previous.data)
    if previous is None:
        form.previous.errors.append("找不到原申请，请从原申请的进度页面点击“修改后重新提交”。")
    elif previous.state != states.REJECTED:
        form.previous.errors.append(NOT_REJECTED.format(state=previous.state_label))
    elif resubmission_of(previous):
        form.previous.errors.append("原申请已经修改后重新提交过，不能再次提交。")
    else:
        return previous
    return None


def _remove_upload(form, nonce: str | None, raw_id: str):
    """The remove button of a kept file: remove it, keep newly chosen files, show the form
    again at the attachments step without judging the rest of it."""
    upload_id = _ids([raw_id])[0]
    if nonce and pending_uploads.remove(PENDING_FORM, nonce, upload_id):
        form.kept_uploads = [row for row in form.kept_uploads if row.id != upload_id]
        notice = "附件已移除。"
    else:
        notice = "该附件已不在，无需移除。"
    _keep_new_files(form, nonce, check=True)
    return _render_form(form, 200, notice=notice, open_step="step-files")


def _keep_new_files(form, nonce: str | None, check: bool = False) -> None:
    """Keep the newly chosen files that passed the content check against the nonce."""
    if check:
        try:
            form.validate_attachments(form.attachments)
        except ValueError as error:
            form.attachments.errors = [str(error)]
    if not nonce or not form.checked_uploads:
        return
    try:
        form.kept_uploads = [
            *form.kept_uploads,
            *pending_uploads.keep(PENDING_FORM, nonce, form.checked_uploads),
        ]
    except pending_uploads.KeepRefused as refused:
        form.attachments.errors = [*form.attachments.errors, refused.message]
    except OSError:
        current_app.logger.exception("keeping renovation attachments failed")
        form.attachments.errors = [*form.attachments.errors, "附件暂存失败，请提交时重新选择。"]
    form.checked_uploads = []


def _render_form(
    form, status: int, previous=None, notice: str | None = None, open_step: str | None = None
):
    steps = form.steps()
    if open_step is None:
        open_step = next((step["anchor"] for step in steps if step["has_error"]), STEPS[0][0])
    if previous is None and form.previous.data and not form.previous.errors:
        previous = find_by_token(form.previous.data)
    # Never cached: a shared copy would give two owners one nonce, and the second owner the
    # first one's status link.
    return no_store(
        current_app.make_response(
            (
                render_template(
                    "renovation/apply.html",
                    form=form,
                    rooms=form.rooms,
                    steps=steps,
                    open_step=open_step,
                    today_iso=today().isoformat(),
                    summary=form.error_summary(),
                    previous=previous,
                    notice=notice,
                    documents=rules.documents(),
                    changes=rules.prohibited_changes(),
                    documents_url=rules.DOCUMENTS_URL,
                    prohibitions_url=rules.PROHIBITIONS_URL,
                ),
                status,
            )
        )
    )


def _application_or_404(token: str):
    application = find_by_token(token)
    if application is None:
        abort(404)
    return application


@bp.get("/status/<token>")
def status(token: str):
    """The private status page: current state, history with the staff's notes to the owner,
    rejection reason and 修改后重新提交, permit link."""
    application = _application_or_404(token)
    return private(
        current_app.make_response(
            render_template(
                "renovation/status.html",
                application=application,
                resubmission=resubmission_of(application)
                if application.state == states.REJECTED
                else None,
                work_items=rules.work_item_names(),
                just_filed=request.args.get("new") == "1",
                status_url=external_url(".status", token=token),
            )
        )
    )


def _permit_context(token: str) -> dict:
    application = _application_or_404(token)
    if not application.has_permit:
        abort(
            current_app.make_response(
                render_error(404, "该申请尚未批准，暂无装修许可证。审核通过后可在进度页面打印。")
            )
        )
    verify_url = external_url(".verify", token=permits.verification_token(application))
    return {
        "application": application,
        "approved": next((e for e in application.events if e.to_state == states.APPROVED), None),
        "entrance": current_community().material_entrance_for(application.building),
        "work_items": rules.work_item_names(),
        "verify_url": verify_url,
        "rules_url": rules.RULES_PAGE_URL,
    }


@bp.get("/status/<token>/permit")
def permit(token: str):
    """The printable 装修许可证, once the application is approved, with the QR code a guard
    scans to check it."""
    context = _permit_context(token)
    return private(
        current_app.make_response(
            render_template(
                "renovation/permit.html", qr=permits.qr_svg(context["verify_url"]), **context
            )
        )
    )


@bp.get("/status/<token>/permit.png")
def permit_image(token: str):
    """The permit as one PNG picture, to keep in a phone's album and show at the gate: the
    QR code large and the facts the gate checks."""
    context = _permit_context(token)
    application = context["application"]
    community = current_community()
    reno = community.renovation
    entrance = context["entrance"]
    facts = [
        permit_image_module.Fact("房屋", application.room_label),
        permit_image_module.Fact(
            "装修工期",
            f"{application.start_date.isoformat()} 至 {application.end_date.isoformat()}",
        ),
        permit_image_module.Fact("施工人数", f"{application.workers}人（双证出入）"),
        permit_image_module.Fact("材料入口", f"{entrance['name']}（{entrance['beside']}旁边）"),
        permit_image_module.Fact(
            "人员出入",
            f"{community['worker_gate']['name']}（{community['worker_gate']['beside']}旁边）",
        ),
        permit_image_module.Fact("工作日", "、".join(reno["working_hours"]["weekdays"])),
        permit_image_module.Fact(
            "周末节假日", "、".join(reno["working_hours"]["weekends_holidays"])
        ),
        permit_image_module.Fact("清场时间", f"{reno['clear_out_time']}后装修人员须离开小区"),
        permit_image_module.Fact("装修公司", application.contractor_company),
        permit_image_module.Fact("现场负责人", application.site_lead_name),
    ]
    footnote = ["扫码查看本许可证今天是否有效（工期、状态以物业系统为准）。"]
    if community.example:
        footnote.append(community.example_notice)
    body = permit_image_module.render(
        url=context["verify_url"],
        heading=f"{community.name} · {community['service_center']}",
        title="装修许可证",
        reference=application.reference,
        facts=facts,
        footnote=footnote,
        font_file=current_app.config.get("PERMIT_FONT"),
    )
    return private(
        send_file(
            io.BytesIO(body),
            mimetype="image/png",
            as_attachment=True,
            download_name=f"装修许可证-{application.reference}.png",
            max_age=0,
        )
    )


@bp.get("/verify/<token>")
def verify(token: str):
    """What a guard sees after scanning a permit: valid today or not, and only what the gate
    needs (room, dates, workers, material entrance); no owner name or mobile."""
    application = permits.application_for(token)
    if application is None:
        response = current_app.make_response(
            (render_template("renovation/verify.html", application=None, today=today()), 404)
        )
    else:
        response = current_app.make_response(
            render_template(
                "renovation/verify.html",
                application=application,
                today=today(),
                verdict=permits.verdict(application, today()),
                entrance=current_community().material_entrance_for(application.building),
            )
        )
    return private(response)
