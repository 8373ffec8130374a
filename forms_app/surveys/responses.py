"""Storing a checked questionnaire: once per invitation, once per rendered form, throttled.

Everything happens in one write transaction (BEGIN IMMEDIATE on SQLite), so two workers
handling the same invitation at the same moment are serialized: the second finds the
invitation used. The conditional UPDATE on the invitation and the unique invitation key on
the response are the database-level guarantees behind that.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..core.clock import LOCAL_TZ, today, utcnow
from ..core.community_scope import all_communities
from ..core.database import write_transaction
from ..core.extensions import db
from .definitions import Survey
from .forms import Submission
from .models import (
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveySubmission,
    period_of,
)

THROTTLE_WINDOW = timedelta(hours=1)
# Address hashes are needed only for the throttle window; keep them no longer than a day.
THROTTLE_KEEP = timedelta(days=1)


class AlreadyAnswered(Exception):
    """The invitation has been used."""


class TooManySubmissions(Exception):
    """This address submitted the survey too often in the last hour."""


def client_hash(survey: Survey, address: str) -> str:
    """A keyed hash of the browser's address: enough to count, useless to identify."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{survey.slug}|{address}".encode(), hashlib.sha256).hexdigest()[:40]


def _submitted_at(survey: Survey) -> datetime:
    """Now (naive UTC); for anonymous surveys only the local day, so answers can't be
    matched against access logs by time."""
    if not survey.anonymous:
        return utcnow()
    midnight = datetime.combine(today(), time(0), tzinfo=LOCAL_TZ)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def _throttle(session, survey: Survey, hashed: str) -> None:
    limit = current_app.config["SURVEY_SUBMISSIONS_PER_ADDRESS_PER_HOUR"]
    now = utcnow()
    recent = session.execute(
        select(func.count())
        .select_from(SurveySubmission)
        .where(
            SurveySubmission.survey == survey.slug,
            SurveySubmission.client_hash == hashed,
            SurveySubmission.created_at > now - THROTTLE_WINDOW,
        )
    ).scalar_one()
    if recent >= limit:
        raise TooManySubmissions()
    # Kept no longer than a day in any community: the purge reads across them.
    session.execute(
        all_communities(
            delete(SurveySubmission).where(SurveySubmission.created_at < now - THROTTLE_KEEP)
        )
    )
    session.add(SurveySubmission(survey=survey.slug, client_hash=hashed, created_at=now))


def response_for_nonce(session, nonce: str) -> int | None:
    """The response already stored from this rendered form, if any."""
    return session.execute(select(SurveyResponse.id).where(SurveyResponse.nonce == nonce)).scalar()


def store_response(
    survey: Survey,
    submission: Submission,
    *,
    nonce: str,
    invitation: SurveyInvitation | None = None,
    address_hash: str | None = None,
) -> int:
    """Store a valid submission; return the response id (the earlier one for a repeated form).

    A second tap that passed the nonce check while the first was still uncommitted (possible
    on PostgreSQL; SQLite's write lock serializes them) hits the unique nonce and gets the
    first response's id.
    """
    try:
        return _store(survey, submission, nonce, invitation, address_hash)
    except IntegrityError:
        db.session.rollback()
        existing = response_for_nonce(db.session, nonce)
        if existing is None:
            raise
        return existing


def _store(
    survey: Survey,
    submission: Submission,
    nonce: str,
    invitation: SurveyInvitation | None,
    address_hash: str | None,
) -> int:
    day = today()
    with write_transaction() as session:
        existing = response_for_nonce(session, nonce)
        if existing:
            return existing
        respondent = dict(submission.respondent)
        if invitation is not None:
            claimed = session.execute(
                update(SurveyInvitation)
                .where(SurveyInvitation.id == invitation.id, SurveyInvitation.used_on.is_(None))
                .values(used_on=day)
            ).rowcount
            if claimed != 1:
                raise AlreadyAnswered()
            if not survey.anonymous:
                respondent.update(
                    invitation_id=invitation.id,
                    building=invitation.building,
                    unit=invitation.unit,
                    room=invitation.room,
                )
        elif address_hash:
            _throttle(session, survey, address_hash)
        if survey.anonymous:
            respondent = {}
        period = period_of(day)
        response = SurveyResponse(
            survey=survey.slug,
            period=period,
            nonce=nonce,
            submitted_at=_submitted_at(survey),
            **respondent,
        )
        session.add(response)
        session.flush()
        if submission.answers:
            session.execute(
                insert(SurveyAnswer),
                [
                    {
                        "community": response.community,
                        "response_id": response.id,
                        "survey": survey.slug,
                        "period": period,
                        "question_id": a.question_id,
                        "value": a.value,
                        "option": a.option,
                        "text": a.text,
                    }
                    for a in submission.answers
                ],
            )
        return response.id
