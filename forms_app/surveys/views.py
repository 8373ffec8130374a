"""The owner side: the list of open surveys, answering one, and personal invitation links."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from ..core.clock import today
from ..core.community import current_community
from ..core.extensions import db
from ..core.security_headers import no_store, private
from ..core.tokens import is_nonce, is_token, new_nonce
from ..web.errors import render_error
from .catalog import all_surveys, survey_or_404
from .definitions import OTHER_OPTION, RECOMMENDATION_RANGE, SATISFACTION_SCALE, Survey
from .forms import field_name, other_field_name, read_submission
from .models import SurveyInvitation
from .responses import AlreadyAnswered, TooManySubmissions, client_hash, store_response

bp = Blueprint("surveys", __name__)

DONE_COOKIE = "surveys_done"
DONE_COOKIE_DAYS = 400
_SLUG_LIST = re.compile(r"^[a-z0-9,-]{0,400}$")


@bp.context_processor
def _survey_helpers():
    return {
        "survey_field": field_name,
        "survey_other_field": other_field_name,
        "SATISFACTION_SCALE": SATISFACTION_SCALE,
        "RECOMMENDATION_RANGE": RECOMMENDATION_RANGE,
        "OTHER_OPTION": OTHER_OPTION,
    }


def _done_slugs() -> list[str]:
    """Surveys this browser has already answered (a plain cookie; no identity in it)."""
    raw = request.cookies.get(DONE_COOKIE, "")
    return raw.split(",") if raw and _SLUG_LIST.match(raw) else []


def _notice(survey: Survey, title: str, message: str, code: int = 200):
    return render_template("surveys/notice.html", survey=survey, title=title, message=message), code


def _unavailable(survey: Survey):
    """The Chinese page for a survey that is not open today, or None when it is open."""
    status = survey.status(today())
    if status == "upcoming":
        return _notice(
            survey,
            "调查尚未开始",
            f"本调查将于 {survey.opens:%Y年%m月%d日} 开始，届时欢迎您参与。"
            + (" 本次提交的内容没有保存。" if request.method == "POST" else ""),
        )
    if status == "closed":
        return _notice(
            survey,
            "调查已结束",
            f"本调查已于 {survey.closes:%Y年%m月%d日} 结束，感谢您的关注。"
            + (" 本次提交的内容没有保存。" if request.method == "POST" else ""),
        )
    return None


def _already_answered(survey: Survey):
    return _notice(
        survey, "您已提交过本调查", "本住户已经提交过这份调查，每户只需填写一次。感谢您的参与！"
    )


@bp.get("/")
def index():
    """The surveys an owner can answer today."""
    day = today()
    open_surveys = [
        s for s in all_surveys().values() if s.status(day) == "open" and not s.invitation_only
    ]
    return render_template("surveys/index.html", surveys=open_surveys, done=_done_slugs())


@bp.route("/<slug>", methods=["GET", "POST"])
def answer(slug: str):
    """A survey's public link: one answer per browser, throttled per address."""
    survey = survey_or_404(slug)
    if page := _unavailable(survey):
        return page
    if survey.invitation_only:
        return _notice(
            survey,
            "请使用专属链接",
            "本调查仅通过物业服务中心发给各住户的专属链接填写。如未收到链接，请联系物业服务中心。",
        )
    if survey.slug in _done_slugs():
        return _notice(survey, "您已提交过本调查", "您已经在本设备上提交过这份调查，感谢您的参与！")
    return _answer(survey, None)


@bp.route("/i/<token>", methods=["GET", "POST"])
def answer_invitation(token: str):
    """A household's personal link: usable once."""
    invitation = None
    if is_token(token):
        invitation = db.session.execute(
            select(SurveyInvitation).where(SurveyInvitation.token == token)
        ).scalar_one_or_none()
    survey = all_surveys().get(invitation.survey) if invitation else None
    if survey is None:
        return render_error(404, "调查链接无效，请核对链接是否完整，或联系物业服务中心。")
    if page := _unavailable(survey):
        return page
    if invitation.used_on:
        return _already_answered(survey)
    return private(current_app.make_response(_answer(survey, invitation)))


def _answer(survey: Survey, invitation: SurveyInvitation | None):
    """Show the questionnaire, or check and store a posted one."""
    if request.method == "GET":
        return _form(survey, invitation, {}, {}, new_nonce())
    community = current_community()
    submission = read_submission(survey, request.form, community, ask_room=invitation is None)
    nonce = request.form.get("nonce", "")
    if not is_nonce(nonce):
        nonce = new_nonce()
    if not submission.valid:
        return _form(survey, invitation, submission.values, submission.errors, nonce, 400)
    try:
        store_response(
            survey,
            submission,
            nonce=nonce,
            invitation=invitation,
            address_hash=None if invitation else client_hash(survey, request.remote_addr or ""),
        )
    except AlreadyAnswered:
        return _already_answered(survey)
    except TooManySubmissions:
        return render_error(
            429, "这个网络提交本调查的次数太多，请一小时后再试。您填写的内容没有保存。"
        )
    response = redirect(url_for("surveys.thanks", slug=survey.slug))
    if invitation is None:
        done = [s for s in _done_slugs() if s in all_surveys() and s != survey.slug]
        response.set_cookie(
            DONE_COOKIE,
            ",".join(done + [survey.slug]),
            max_age=DONE_COOKIE_DAYS * 86400,
            path=url_for("surveys.index"),
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def _form(survey, invitation, values, errors, nonce, code=200):
    # Never cached: two owners sharing one nonce would have the second one's answers dropped
    # as a repeat of the first one's.
    return no_store(
        current_app.make_response(
            (
                render_template(
                    "surveys/form.html",
                    survey=survey,
                    invitation=invitation,
                    values=values,
                    errors=errors,
                    nonce=nonce,
                ),
                code,
            )
        )
    )


@bp.get("/<slug>/thanks")
def thanks(slug: str):
    survey = survey_or_404(slug)
    return render_template("surveys/thanks.html", survey=survey)
