"""The back office for surveys: results with charts, text answers, exports, invitations.

Results and exports: 经理 and 客服 (the seed's 客服 collects and analyses owner opinions weekly).
Invitation links are credentials to answer for a household, so only a 经理 creates or lists them.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.models import actor_label
from ..core.clock import utcnow
from ..core.community import current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.public_urls import external_url
from ..households.registry import registered_households, residence_directory
from ..notifications.outbox import enqueue
from ..web.errors import render_error
from ..web.exports import Table, csv_response, table_csv_response, xlsx_tables_response
from ..web.paging import paginate
from ..web.template_filters import local_minute
from ..web.typed_input import select_number
from .catalog import all_surveys, survey_or_404
from .definitions import QUESTION_TYPES
from .export import SUMMARY_COLUMNS, export_columns, export_rows, summary_rows
from .models import SurveyAnswer, SurveyInvitation, SurveyResponse, period_label
from .results import ALL, latest_texts, survey_results

bp = Blueprint("surveys_staff", __name__)

# Rooms in floor order: '101' before '1001' (room numbers are stored as text).
HOUSEHOLD_ORDER = (
    SurveyInvitation.building,
    SurveyInvitation.unit,
    func.length(SurveyInvitation.room),
    SurveyInvitation.room,
)
TEXT_PREVIEW = 5


def _target_rate() -> float:
    community = current_community()
    return float(community["satisfaction"]["target_rate"])


def min_answers() -> int:
    """答卷 a satisfaction rate needs before it is called 达标 or 未达标 (community setting)."""
    return int(current_community()["satisfaction"].get("verdict_min_answers", 1))


@bp.get("/")
@staff_required("surveys.results")
def index():
    """Every survey with its window and number of responses."""
    counts = dict(
        db.session.execute(
            select(SurveyResponse.survey, func.count()).group_by(SurveyResponse.survey)
        ).all()
    )
    return render_template(
        "surveys/staff/index.html", surveys=all_surveys().values(), counts=counts
    )


@bp.get("/<slug>")
@staff_required("surveys.results")
def results(slug: str):
    """Counts, shares, averages and satisfaction rates, per period and overall, with charts."""
    survey = survey_or_404(slug)
    summary = survey_results(survey, _target_rate(), min_answers())
    period = request.args.get("period", ALL)
    if period not in summary.responses:
        period = ALL
    previews = {
        q.id: latest_texts(survey, q, period, TEXT_PREVIEW) for q in survey.questions if q.is_text
    }
    invited, answered = db.session.execute(
        select(func.count(), func.count(SurveyInvitation.used_on)).where(
            SurveyInvitation.survey == survey.slug
        )
    ).one()
    return render_template(
        "surveys/staff/results.html",
        survey=survey,
        results=summary,
        period=period,
        previews=previews,
        ALL=ALL,
        question_types=QUESTION_TYPES,
        invited=invited,
        answered=answered,
    )


@bp.get("/<slug>/texts/<question_id>")
@staff_required("surveys.results")
def texts(slug: str, question_id: str):
    """All typed texts of one question (answers, or 其他 notes), escaped, page by page."""
    survey = survey_or_404(slug)
    question = survey.question(question_id)
    if question is None or not (question.is_text or question.other):
        return render_error(404)
    query = (
        select(SurveyAnswer)
        .where(
            SurveyAnswer.survey == survey.slug,
            SurveyAnswer.question_id == question.id,
            SurveyAnswer.text.is_not(None),
        )
        .order_by(SurveyAnswer.id.desc())
    )
    page = paginate(query, request.args.get("page"))
    return render_template(
        "surveys/staff/texts.html",
        survey=survey,
        question=question,
        page=page,
        period_label=period_label,
    )


# --- exports ---------------------------------------------------------------------------


@bp.get("/<slug>/export.<fmt>")
@staff_required("surveys.results")
def export(slug: str, fmt: str):
    """All responses of a survey as .xlsx or CSV (formula-safe, streamed)."""
    survey = survey_or_404(slug)
    if fmt not in {"xlsx", "csv"}:
        return render_error(404)
    record_audit("export", target=f"survey:{survey.slug}", detail=fmt)
    described = f"全部答卷（调查期 {survey.opens} 至 {survey.closes}）"
    responses = Table(f"{survey.title}答卷", export_columns(survey), export_rows(survey), described)
    filename = f"{survey.title}.{fmt}"
    if fmt == "csv":
        responses.rows = stream_with_context(responses.rows)
        return table_csv_response(filename, responses)
    tables = [responses]
    if survey.satisfaction_questions:
        results = survey_results(survey, _target_rate(), min_answers())
        tables.append(Table("满意率汇总", SUMMARY_COLUMNS, list(summary_rows(results)), described))
    return xlsx_tables_response(filename, tables, local_minute(utcnow()))


# --- invitations -----------------------------------------------------------------------


def _households(building: int | None, registered_only: bool):
    """(building, unit, room, contact mobile) of the households to invite: the registered
    ones (一户一档) or every 住宅 of the registry."""
    if registered_only:
        for household in registered_households(building):
            yield (
                household.building,
                household.unit,
                household.number,
                household.contact_mobile,
            )
        return
    for number, entry in sorted(residence_directory().items(), key=lambda item: int(item[0])):
        if building is not None and int(number) != building:
            continue
        for unit, rooms in sorted(entry["rooms"].items(), key=lambda item: int(item[0])):
            for room in rooms:
                yield int(number), int(unit), room, None


def _create_invitations(survey, building: int | None, registered_only: bool, send: bool) -> int:
    """A link for every household (of one building, or all) that has none yet; how many.
    With ``send``, each new link goes by SMS to the household's 主要联系人."""
    households = list(_households(building, registered_only))
    with write_transaction() as session:
        existing = set(
            session.execute(
                select(
                    SurveyInvitation.building, SurveyInvitation.unit, SurveyInvitation.room
                ).where(SurveyInvitation.survey == survey.slug)
            ).all()
        )
        created = sent = 0
        for number, unit, room, mobile in households:
            if (number, unit, room) in existing:
                continue
            invitation = SurveyInvitation(
                survey=survey.slug,
                building=number,
                unit=unit,
                room=room,
                created_by=actor_label(current_staff()),
            )
            session.add(invitation)
            created += 1
            if send and mobile:
                session.flush()
                enqueue(
                    session,
                    "survey.invitation",
                    record_type="survey_invitation",
                    record_id=invitation.id,
                    recipient=mobile,
                    link_path=url_for("surveys.answer_invitation", token=invitation.token),
                    room=invitation.room_label,
                    title=survey.title,
                )
                sent += 1
        where = "全部楼栋" if building is None else f"{building}号楼"
        whom = "已登记住户" if registered_only else "全部房屋"
        record_audit(
            "survey.invitations",
            target=f"survey:{survey.slug}",
            detail=f"{where}{whom}：新建 {created} 个，短信发送 {sent} 条",
        )
    return created


@bp.route("/<slug>/invitations", methods=["GET", "POST"])
@staff_required("surveys.invitations")
def invitations(slug: str):
    """Create one personal link per household (room); list them with their status."""
    survey = survey_or_404(slug)
    community = current_community()
    if request.method == "POST":
        choice = request.form.get("building", "")
        building = select_number(choice)
        if choice != "all" and building not in community.buildings:
            flash("请选择楼栋。", "error")
            return redirect(url_for(".invitations", slug=slug))
        registered_only = request.form.get("whom", "registered") != "all"
        send = request.form.get("send") == "yes" and registered_only
        try:
            created = _create_invitations(survey, building, registered_only, send)
        except IntegrityError:
            # A second click committed the same households meanwhile (PostgreSQL; SQLite's
            # write lock makes it wait instead): again, now skipping theirs.
            created = _create_invitations(survey, building, registered_only, send)
        flash(
            f"已新建 {created} 个邀请链接（已有链接的住户不重复生成）"
            + ("，已通过短信发给各户主要联系人。" if send and created else "。"),
            "success",
        )
        return redirect(url_for(".invitations", slug=slug))
    totals = db.session.execute(
        select(func.count(), func.count(SurveyInvitation.used_on)).where(
            SurveyInvitation.survey == survey.slug
        )
    ).one()
    page = paginate(
        select(SurveyInvitation)
        .where(SurveyInvitation.survey == survey.slug)
        .order_by(*HOUSEHOLD_ORDER),
        request.args.get("page"),
    )
    return render_template(
        "surveys/staff/invitations.html",
        survey=survey,
        page=page,
        total=totals[0],
        used=totals[1],
        registered=len(registered_households()),
        community=community,
    )


@bp.get("/<slug>/invitations.csv")
@staff_required("surveys.invitations")
def invitations_csv(slug: str):
    """The links with their rooms, to send to each household."""
    survey = survey_or_404(slug)
    record_audit("export", target=f"survey:{survey.slug}:invitations", detail="csv")

    def rows():
        for invitation in db.session.execute(
            select(SurveyInvitation)
            .where(SurveyInvitation.survey == survey.slug)
            .order_by(*HOUSEHOLD_ORDER)
            .execution_options(yield_per=500)
        ).scalars():
            yield [
                invitation.building,
                invitation.unit,
                invitation.room,
                external_url("surveys.answer_invitation", token=invitation.token),
                "已填写" if invitation.used_on else "未填写",
                invitation.used_on,
            ]

    return csv_response(
        f"{survey.title}邀请链接.csv",
        ["楼栋", "单元", "房号", "链接", "状态", "填写日期"],
        stream_with_context(rows()),
    )


def invitation_timeline(room, _people) -> list:
    """The household's survey invitations for the 一户一档 timeline: when the link was made and
    whether the household answered (the day only, as the invitation keeps it)."""
    from datetime import datetime, time

    from ..core.clock import local_time
    from ..households.timeline import Entry

    if room.building is None or room.unit is None:
        return []
    surveys = all_surveys()
    entries = []
    for invitation in db.session.scalars(
        select(SurveyInvitation).where(
            SurveyInvitation.building == room.building,
            SurveyInvitation.unit == room.unit,
            SurveyInvitation.room == room.number,
        )
    ):
        survey = surveys.get(invitation.survey)
        title = survey.title if survey else invitation.survey
        entries.append(
            Entry(
                at=local_time(invitation.created_at).replace(tzinfo=None),
                kind="调查邀请",
                title=f"邀请参加“{title}”",
                detail=f"已填写 {invitation.used_on}" if invitation.used_on else "未填写",
                url=url_for("surveys_staff.invitations", slug=invitation.survey) if survey else "",
                actor=invitation.created_by,
            )
        )
        if invitation.used_on:
            entries.append(
                Entry(
                    at=datetime.combine(invitation.used_on, time.min),
                    kind="调查邀请",
                    title=f"已填写“{title}”",
                    timed=False,
                )
            )
    return entries
