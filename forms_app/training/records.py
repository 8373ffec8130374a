"""Each staff member's training record: their reading path with read marks, their quizzes with
attempts, the sessions they attended; who is behind; marking a section read.

A read mark counts only while its digest is the section's current digest: when the handbook
changes the section, the mark shows as 内容已更新 and the section has to be read again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import StaffUser
from ..core.clock import utcnow
from ..core.community import Community, acting_in, community_key, current_community
from ..core.database import write_transaction
from ..core.extensions import db
from .definitions import Quiz, Training, current_training
from .handbook_sections import Section
from .models import (
    TrainingAttempt,
    TrainingAttendance,
    TrainingReadMark,
    TrainingSession,
)

READ, CHANGED, UNREAD = "read", "changed", "unread"
STATE_LABELS = {READ: "已读", CHANGED: "内容已更新，需重读", UNREAD: "未读"}


@dataclass
class SectionProgress:
    section: Section
    state: str
    read_at: datetime | None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass
class QuizProgress:
    quiz: Quiz
    attempts: int = 0
    best_percent: int | None = None
    passed: bool = False
    last_attempt_id: int | None = None


@dataclass
class PersonRecord:
    user: StaffUser
    sections: list[SectionProgress]
    quizzes: list[QuizProgress]
    sessions_attended: int = 0
    last_session_on: date | None = None
    attended: list[tuple[TrainingSession, TrainingAttendance]] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for s in self.sections if s.state == state)

    @property
    def quizzes_passed(self) -> int:
        return sum(1 for q in self.quizzes if q.passed)

    @property
    def done(self) -> int:
        return self.count(READ) + self.quizzes_passed

    @property
    def total(self) -> int:
        return len(self.sections) + len(self.quizzes)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def behind(self) -> bool:
        """Something on the path is unread, to re-read, or a quiz is not passed yet."""
        return self.done < self.total

    @property
    def next_section(self) -> SectionProgress | None:
        return next((s for s in self.sections if s.state != READ), None)


def _marks(user_ids) -> dict[int, dict[str, tuple[str, datetime]]]:
    """user → section key → (digest, read at). Plain rows: a staff of hundreds has thousands."""
    found: dict[int, dict[str, tuple[str, datetime]]] = {}
    for user_id, key, digest, read_at in db.session.execute(
        select(
            TrainingReadMark.user_id,
            TrainingReadMark.section_key,
            TrainingReadMark.digest,
            TrainingReadMark.read_at,
        ).where(TrainingReadMark.user_id.in_(user_ids))
    ):
        found.setdefault(user_id, {})[key] = (digest, read_at)
    return found


def _attempt_summary(user_ids) -> dict[tuple[int, str], tuple[int, int, bool, int]]:
    """(user, quiz) → (attempts, best percent, passed ever, last attempt id)."""
    rows = db.session.execute(
        select(
            TrainingAttempt.user_id,
            TrainingAttempt.quiz_id,
            func.count(TrainingAttempt.id),
            func.max(TrainingAttempt.correct * 1.0 / TrainingAttempt.total),
            func.max(cast(TrainingAttempt.passed, Integer)),
            func.max(TrainingAttempt.id),
        )
        .where(TrainingAttempt.user_id.in_(user_ids))
        .group_by(TrainingAttempt.user_id, TrainingAttempt.quiz_id)
    ).all()
    return {
        (user, quiz): (count, round(100 * best), bool(passed), last)
        for user, quiz, count, best, passed, last in rows
    }


def _sessions(user_ids) -> dict[str, dict[int, tuple[int, date | None]]]:
    """community → user → (sessions attended there, the last one's day)."""
    rows = db.session.execute(
        select(
            TrainingSession.community,
            TrainingAttendance.user_id,
            func.count(TrainingAttendance.id),
            func.max(TrainingSession.held_on),
        )
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .where(TrainingAttendance.user_id.in_(user_ids))
        .group_by(TrainingSession.community, TrainingAttendance.user_id)
    ).all()
    found: dict[str, dict[int, tuple[int, date | None]]] = {}
    for community, user, count, last in rows:
        found.setdefault(community, {})[user] = (count, last)
    return found


def _record(user: StaffUser, training: Training, marks, attempts, sessions) -> PersonRecord:
    """One person's record on their role's path in the community this runs in, from the
    marks, attempts and attendance read for many (``_marks``, ``_attempt_summary``, the
    community's ``_sessions``)."""
    own = marks.get(user.id, {})
    sections = []
    for section in training.path_for(user.role):
        digest, read_at = own.get(section.key, (None, None))
        state = UNREAD if digest is None else READ if digest == section.digest else CHANGED
        sections.append(SectionProgress(section, state, read_at))
    quizzes = []
    for quiz in training.quizzes_for(user.role):
        count, best, passed, last = attempts.get((user.id, quiz.id), (0, None, False, None))
        quizzes.append(QuizProgress(quiz, count, best, passed, last))
    attended, last_on = sessions.get(user.id, (0, None))
    return PersonRecord(user, sections, quizzes, attended, last_on)


def records_for(users: list[StaffUser], training: Training) -> list[PersonRecord]:
    """The records of these staff members, computed with a few grouped queries."""
    ids = [u.id for u in users]
    marks, attempts = _marks(ids), _attempt_summary(ids)
    sessions = _sessions(ids).get(community_key(), {})
    return [_record(user, training, marks, attempts, sessions) for user in users]


def record_for(user: StaffUser, training: Training) -> PersonRecord:
    """One person's record, with the sessions they attended (newest first)."""
    record = records_for([user], training)[0]
    record.attended = [
        tuple(row)
        for row in db.session.execute(
            select(TrainingSession, TrainingAttendance)
            .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
            .where(TrainingAttendance.user_id == user.id)
            .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
        ).all()
    ]
    return record


def attempts_of(user_id: int) -> list[TrainingAttempt]:
    return list(
        db.session.execute(
            select(TrainingAttempt)
            .where(TrainingAttempt.user_id == user_id)
            .order_by(TrainingAttempt.id.desc())
        ).scalars()
    )


def active_staff() -> list[StaffUser]:
    return list(
        db.session.execute(
            select(StaffUser)
            .where(StaffUser.active.is_(True), StaffUser.is_member())
            .order_by(StaffUser.role, StaffUser.display_name, StaffUser.username)
        ).scalars()
    )


def everyone() -> list[PersonRecord]:
    """Every active staff member's record in this community, the ones behind first (least
    done first): the 培训进度 page's."""
    return everyone_of([current_community()])[community_key()]


def everyone_of(communities: Sequence[Community]) -> dict[str, list[PersonRecord]]:
    """For each of ``communities``: every active member's record, on the path and quizzes of
    their role there in that community's training (its staff handbook, its quizzes), the ones
    behind first. The accounts, read marks, attempts and attendance are read once for all
    communities (a record is the person's; a session's attendance counts in the session's
    community), each community's training from its cache: a community's 培训进度 page asks
    for its own (``everyone``), the company's figures for every community at once (inside
    ``every_community``)."""
    keys = [c.key for c in communities]
    users = list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.active.is_(True), StaffUser.is_member(keys))
            .order_by(StaffUser.display_name, StaffUser.username)
        )
    )
    ids = [u.id for u in users]
    marks, attempts, sessions = _marks(ids), _attempt_summary(ids), _sessions(ids)
    found = {}
    for community in communities:
        with acting_in(community):
            training = current_training()
            # The order of ``active_staff``: by role here, then name (the query's order).
            members = sorted(
                (u for u in users if u.membership(community.key) is not None),
                key=lambda u: u.role or "",
            )
            here = sessions.get(community.key, {})
            records = [_record(u, training, marks, attempts, here) for u in members]
            records.sort(key=lambda r: (not r.behind, r.percent, r.user.role, r.user.name))
        found[community.key] = records
    return found


def mark_read(user: StaffUser, section: Section) -> None:
    """Record that ``user`` read ``section`` as it reads now (a re-read replaces the old mark)."""
    try:
        with write_transaction() as session:
            mark = session.scalar(
                select(TrainingReadMark).where(
                    TrainingReadMark.user_id == user.id, TrainingReadMark.section_key == section.key
                )
            )
            if mark is None:
                session.add(
                    TrainingReadMark(
                        user_id=user.id, section_key=section.key, digest=section.digest
                    )
                )
            else:
                mark.digest = section.digest
                mark.read_at = utcnow()
    except IntegrityError:
        # A second tap of the same button stored the same mark a moment ago.
        pass
