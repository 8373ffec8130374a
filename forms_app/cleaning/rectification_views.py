"""The 整改 → 复检 screens: 我的区域的检查 (a 保洁's failed items first, then the inspections of
their areas), recording a 整改 and a 复检 on the inspection's page, the 整改's photos."""

from __future__ import annotations

from flask import abort, render_template, request, url_for

from ..accounts.access import current_staff, staff_required
from ..core.extensions import db
from ..core.tokens import is_nonce
from ..files.uploads import send_file_under
from ..web.drafts import DUPLICATE, answers_drafts, saved_reply
from ..web.errors import render_error
from ..web.paging import paginate
from . import rectification
from .areas import scope_of, settings
from .models import RECTIFIED, CleaningFollowUpPhoto, CleaningResult
from .rectification import LoopRefused
from .scoring import FAIL
from .staff_views import bp, detail_page, visible_inspection


@bp.get("/mine")
@staff_required("cleaning.view")
def mine():
    """我的区域的检查: the open failed items of the user's areas (待整改 first, then 待复检,
    oldest first), then the inspections of those areas, newest first. Whoever answers for
    every area (保洁主管, inspectors) sees them all."""
    scope = scope_of(current_staff())
    items, total = rectification.open_items(scope)
    page = paginate(rectification.scope_inspections(scope), request.args.get("page"))
    return render_template(
        "cleaning/staff/mine.html",
        scope=scope,
        items=items,
        total=total,
        page=page,
        loop_counts=rectification.state_counts(i.id for i in page.items),
        states=rectification,
        rectify_hours=settings().rectify_hours,
    )


def _result(inspection, result_id: int) -> CleaningResult:
    """The failed item ``result_id`` of ``inspection`` (a 404 for any other id)."""
    result = db.session.get(CleaningResult, result_id)
    if result is None or result.inspection_id != inspection.id or result.result != FAIL:
        abort(404)
    return result


def _step(inspection_id: int, result_id: int, form_key: str, check, may_act):
    """Check and store one step of an item's loop; the page again with the reason if refused."""
    inspection, scope = visible_inspection(inspection_id)
    result = _result(inspection, result_id)

    def detail(step_id: int) -> str:
        # A query of its own: a draft sent from this very page must load it again, which a
        # location differing only by its #fragment would not.
        return url_for(".detail", inspection_id=inspection.id, step=step_id) + f"#loop-{result.id}"

    refusal = may_act(inspection, result, scope)
    if refusal is not None:
        return refusal
    earlier = rectification.find_by_nonce(request.form.get("nonce", ""))
    if earlier is not None:
        return saved_reply("这条记录已经提交过，没有重复保存。", detail(earlier.id), DUPLICATE)
    try:
        checked = check()
        step_id, created = rectification.record_step(inspection, result, checked, current_staff())
    except LoopRefused as refused:
        # What was typed stays in the form; a nonce the page did not render is replaced.
        kept = request.form.copy()
        if not is_nonce(kept.get("nonce")):
            kept.pop("nonce", None)
        if refused.field is None:
            return detail_page(
                inspection, scope, refused.status, {}, {form_key: kept}, refused.message
            )
        errors = {form_key: {refused.field: refused.message}}
        return detail_page(inspection, scope, refused.status, errors, {form_key: kept})
    if not created:
        return saved_reply("这条记录已经提交过，没有重复保存。", detail(step_id), DUPLICATE)
    done = "整改已记录，等待复检。" if checked.kind == RECTIFIED else "复检结果已记录。"
    return saved_reply(done, detail(step_id))


def _may_rectify(inspection, result, scope):
    if not scope.covers(inspection.building, result.area_id):
        return render_error(
            403,
            f"此项在「{rectification.area_words(inspection.building, result.area_id)}」，"
            "不在您负责的区域，不能记录整改。",
        )
    return None


@bp.post("/<int:inspection_id>/items/<int:result_id>/rectify")
@staff_required("cleaning.rectify")
@answers_drafts
def rectify(inspection_id: int, result_id: int):
    """Record the 整改 of a failed item of one's area: what was done, photos if any."""
    return _step(
        inspection_id,
        result_id,
        f"rectify-{result_id}",
        lambda: rectification.check_rectification(request.form, request.files),
        _may_rectify,
    )


@bp.post("/<int:inspection_id>/items/<int:result_id>/recheck")
@staff_required("cleaning.recheck")
@answers_drafts
def recheck(inspection_id: int, result_id: int):
    """Record the 复检 of an item whose 整改 is recorded: 合格 closes it, 不合格 sends it back."""
    return _step(
        inspection_id,
        result_id,
        f"recheck-{result_id}",
        lambda: rectification.check_recheck(request.form),
        lambda *_args: None,
    )


@bp.get("/<int:inspection_id>/rectification-photos/<int:photo_id>")
@staff_required("cleaning.view")
def follow_up_photo(inspection_id: int, photo_id: int):
    """A photo of a 整改, checked against the inspection in the URL."""
    visible_inspection(inspection_id)
    return send_file_under(
        CleaningFollowUpPhoto,
        photo_id,
        inspection_id,
        lambda p: p.follow_up.result.inspection_id,
    )
