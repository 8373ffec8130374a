"""Owner pages: apply (装修申请), follow the status, print the permit (装修许可证)."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge

from ..community import current_community
from ..errors import render_error
from ..security_headers import no_store, private
from ..tokens import new_nonce
from . import rules, states
from .applications import (
    APPLICATION_FIELDS,
    RoomHasOpenApplication,
    find_by_token,
    submit_application,
)
from .forms import renovation_form, room_taken_message

bp = Blueprint("renovation", __name__)

# Reading at most this much of an over-limit body before answering 413 (see drain_body).
DRAIN_LIMIT_FACTOR = 4


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    """The application form; a valid POST stores it and redirects to its status page."""
    form = renovation_form()
    if request.method == "GET":
        form.nonce.data = new_nonce()
    elif form.validate_on_submit():
        values = {name: getattr(form, name).data for name in APPLICATION_FIELDS}
        values.update(building=int(values["building"]), unit=int(values["unit"]))
        try:
            # The same form sent twice (double tap, back button) returns the first result.
            status_token, _created = submit_application(
                values, form.checked_uploads, form.nonce.data
            )
        except RoomHasOpenApplication as taken:
            form.room.errors.append(room_taken_message(taken.reference))
        except OSError:
            current_app.logger.exception("storing renovation attachments failed")
            form.attachments.errors.append("附件保存失败，申请未提交，请稍后重试。")
        else:
            return redirect(url_for(".status", token=status_token, new=1), code=303)
    status = 400 if request.method == "POST" else 200
    # Never cached: a shared copy would give two owners one nonce, and the second owner the
    # first one's status link.
    return no_store(current_app.make_response((render_template(
        "renovation/apply.html", form=form,
        rooms=form.rooms,
        documents_url=rules.DOCUMENTS_URL, prohibitions_url=rules.PROHIBITIONS_URL,
    ), status)))


def _application_or_404(token: str):
    application = find_by_token(token)
    if application is None:
        abort(404)
    return application


@bp.get("/status/<token>")
def status(token: str):
    """The private status page: current state, history, rejection reason, permit link."""
    application = _application_or_404(token)
    return private(current_app.make_response(render_template(
        "renovation/status.html", application=application,
        work_items=rules.work_item_names(), just_filed=request.args.get("new") == "1",
        status_url=url_for(".status", token=token, _external=True),
    )))


@bp.get("/status/<token>/permit")
def permit(token: str):
    """The printable 装修许可证, once the application is approved."""
    application = _application_or_404(token)
    if not application.has_permit:
        return render_error(404, "该申请尚未批准，暂无装修许可证。审核通过后可在进度页面打印。")
    community = current_community()
    approved = next((e for e in application.events if e.to_state == states.APPROVED), None)
    return private(current_app.make_response(render_template(
        "renovation/permit.html", application=application, approved=approved,
        entrance=community.material_entrance_for(application.building),
        work_items=rules.work_item_names(),
    )))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """Answer an oversized upload with the Chinese page instead of a reset connection."""
    drain_body()
    return render_error(413)


def drain_body() -> None:
    """Read and discard the rest of the request body.

    A server that answers and closes while the client is still sending makes the client's
    TCP stack see a reset, and the browser shows a broken connection instead of our page.
    Reading stops after a few times the size limit so a huge body cannot hold a worker.
    """
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    budget = DRAIN_LIMIT_FACTOR * (current_app.config["MAX_CONTENT_LENGTH"] or 0)
    try:
        while budget > 0:
            chunk = stream.read(min(256 * 1024, budget))
            if not chunk:
                break
            budget -= len(chunk)
    except OSError:
        pass
