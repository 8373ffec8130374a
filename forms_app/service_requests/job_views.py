"""The worker's phone: my open 派工单, one job with big buttons for 到场 and 完工 (result,
materials, photos, the owner's confirmation 回执)."""

from __future__ import annotations

from flask import abort, current_app, render_template, request, url_for

from ..accounts.access import current_staff, staff_required
from ..accounts.permissions import allowed
from ..core.clock import utcnow
from ..core.tokens import new_nonce
from ..files.uploads import StoredFiles
from ..web.drafts import answers_drafts
from . import settings, states, workflow
from .forms import check_photos
from .jobs import open_jobs
from .models import ServicePhoto, ServiceRequest
from .staff_blueprint import bp
from .staff_views import _item, take_step
from .workflow import WorkflowError


@bp.get("/jobs")
@staff_required("service.work")
def jobs():
    """My open jobs, the most urgent first; late ones marked."""
    user = current_staff()
    return render_template(
        "service_requests/staff/jobs.html",
        jobs=open_jobs(user),
        now=utcnow(),
        urgencies=settings.urgencies(),
        sees_all=allowed(user.role, "service.close")
        or allowed(user.role, "service.view.department"),
    )


def job_page(item: ServiceRequest, status: int = 200, errors=None, values=None, page_error=None):
    user = current_staff()
    if item.kind != states.REPAIR:
        abort(404)
    return render_template(
        "service_requests/staff/job.html",
        item=item,
        now=utcnow(),
        errors=errors or {},
        values=values or {},
        page_error=page_error,
        steps={s.action for s in workflow.steps_for(item, user.role)},
        mine=item.assignee_id == user.id or allowed(user.role, "service.close"),
        urgency=settings.urgency_name(item.urgency),
        receipts=states.RECEIPT_LABELS,
        new_nonce=new_nonce,
    ), status


def _job(request_id: int) -> ServiceRequest:
    """The job, if this worker may open it (assigned to them; a 主管 their department's)."""
    return _item(request_id)


@bp.get("/jobs/<int:request_id>")
@staff_required("service.work")
def job(request_id: int):
    """One job on the phone: where, what, when the owner is home, the owner's photos."""
    return job_page(_job(request_id))


@bp.post("/jobs/<int:request_id>/arrive")
@staff_required("service.work")
def arrive(request_id: int):
    """到场: the worker (or the supervisor after 不满意) is at the door."""
    return take_step(
        request_id,
        "arrive",
        workflow.arrive,
        page=job_page,
        back=url_for(".job", request_id=request_id),
    )


@bp.post("/jobs/<int:request_id>/finish")
@staff_required("service.work")
@answers_drafts
def finish(request_id: int):
    """完工: result, materials, photos and 回执; the photos are kept only if the step is."""
    values = {"action": "finish", **request.form.to_dict()}
    try:
        checked = workflow.check_finish(request.form)
        photos = check_photos(request.files.getlist("photos"))
    except WorkflowError as error:
        return job_page(
            _job(request_id), 400, errors={"finish": {error.field: error.message}}, values=values
        )
    except ValueError as error:  # the photos' ValidationError
        return job_page(
            _job(request_id), 400, errors={"finish": {"photos": str(error)}}, values=values
        )
    try:
        with StoredFiles(photos) as stored:
            rows = [
                ServicePhoto(
                    stage="work",
                    stored_name=name,
                    original_name=p.original_name,
                    content_type=p.content_type,
                    size=p.size,
                )
                for p, name in zip(photos, stored.names, strict=True)
            ]
            response = take_step(
                request_id,
                "finish",
                lambda item, user: workflow.finish(item, user, checked, rows),
                page=job_page,
                back=url_for(".job", request_id=request_id),
            )
            if response.status_code == 303:
                stored.keep()
            return response
    except OSError:
        current_app.logger.exception("storing job photos failed")
        return job_page(
            _job(request_id),
            503,
            errors={"finish": {"photos": "照片保存失败，完工未记录，请稍后重试。"}},
            values=values,
        )
