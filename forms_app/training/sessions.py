"""Training sessions (培训记录): the form a 经理 or 客服主管 fills in, storing it, ticking
attendees, attendees signing in on their own phones, the list and its export.

The seed: 客服主管 "每周开展一次客服人员的培训教育，有培训记录".
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.audit import record_audit
from ..accounts.models import StaffUser, actor_label
from ..core.clock import local_time, utcnow
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.throttle import ThrottleHit
from ..core.tokens import is_nonce
from ..web.exports import DATE, DATETIME, Column, local_moment
from ..web.typed_input import (
    UNREADABLE_MESSAGE,
    clean_line,
    clean_text,
    is_unreadable,
    select_number,
)
from .definitions import Training
from .handbook_sections import Handbook, Section
from .models import HOW_SIGNED, HOW_TICKED, TrainingAttendance, TrainingSession

MAX_TOPIC = 100
MAX_NOTE = 500
# Paper records may be entered late; a session may be set up ahead so attendees can sign in.
MAX_AGE_DAYS = 366
MAX_DAYS_AHEAD = 30


class SessionError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class CheckedSession:
    held_on: date
    starts_at: time
    topic: str
    trainer: StaffUser
    sections: list[Section]
    quiz_id: str | None
    quiz_title: str
    note: str
    attendees: list[StaffUser]
    nonce: str


def _date(raw: str, today: date, errors: dict) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        errors["held_on"] = "请填写培训日期。"
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors["held_on"] = "培训日期格式应为 年-月-日，例如 2026-05-01。"
        return None
    if value > today + timedelta(days=MAX_DAYS_AHEAD):
        errors["held_on"] = f"培训日期最多只能提前 {MAX_DAYS_AHEAD} 天登记。"
    elif value < today - timedelta(days=MAX_AGE_DAYS):
        errors["held_on"] = f"培训日期不能早于 {MAX_AGE_DAYS} 天前，请核对年份。"
    else:
        return value
    return None


def _time(raw: str, errors: dict) -> time | None:
    raw = (raw or "").strip()
    if not re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", raw):
        errors["starts_at"] = "请填写开始时间，例如 14:00（签到晚于它的记为迟到）。"
        return None
    hour, minute = (int(part) for part in raw.split(":"))
    if hour > 23 or minute > 59:
        errors["starts_at"] = "开始时间应在 00:00 到 23:59 之间。"
        return None
    return time(hour, minute)


def staff_ids(values: list[str], staff: dict[int, StaffUser]) -> list[StaffUser] | None:
    """The staff members a list of posted ids names; None when one is not an active account."""
    chosen = []
    for value in dict.fromkeys(values):
        number = select_number(value)
        if number is None or number not in staff:
            return None
        chosen.append(staff[number])
    return chosen


def check_session(
    form, today: date, training: Training, handbook: Handbook, staff: dict[int, StaffUser]
) -> CheckedSession:
    """Validate the new-session form; the checked values, or SessionError with every problem."""
    errors: dict[str, str] = {}
    nonce = form.get("nonce", "")
    if not is_nonce(nonce):
        errors["form"] = "表单已失效，请刷新页面后重新填写。"
    held_on = _date(form.get("held_on", ""), today, errors)
    starts_at = _time(form.get("starts_at", ""), errors)
    topic = clean_line(form.get("topic") or "")
    if not topic:
        errors["topic"] = "请填写培训主题。"
    elif is_unreadable(topic):
        errors["topic"] = UNREADABLE_MESSAGE
    elif len(topic) > MAX_TOPIC:
        errors["topic"] = f"培训主题不超过 {MAX_TOPIC} 字。"
    trainer = staff.get(select_number(form.get("trainer") or ""))
    if trainer is None:
        errors["trainer"] = "请选择列表中的主讲人。"
    keys = list(dict.fromkeys(form.getlist("sections")))
    sections = [handbook.sections[k] for k in keys if k in handbook.sections]
    if len(sections) != len(keys):
        errors["sections"] = "所选章节不在员工手册中（手册可能已更新），请刷新页面后重新选择。"
    quiz_id = form.get("quiz") or None
    quiz = training.quizzes.get(quiz_id) if quiz_id else None
    if quiz_id and quiz is None:
        errors["quiz"] = "请选择列表中的测验。"
    note = clean_text(form.get("note") or "")
    if is_unreadable(note):
        errors["note"] = UNREADABLE_MESSAGE
    elif len(note) > MAX_NOTE:
        errors["note"] = f"备注不超过 {MAX_NOTE} 字。"
    attendees = staff_ids(form.getlist("attendees"), staff)
    if attendees is None:
        errors["attendees"] = "参加人中有不存在或已停用的账号，请刷新页面后重新勾选。"
    if errors:
        raise SessionError(errors)
    return CheckedSession(
        held_on,
        starts_at,
        topic,
        trainer,
        sections,
        quiz.id if quiz else None,
        quiz.title if quiz else "",
        note,
        attendees,
        nonce,
    )


def find_by_nonce(nonce: str) -> TrainingSession | None:
    return db.session.scalar(
        select(TrainingSession).where(TrainingSession.submission_nonce == nonce)
    )


def store_session(checked: CheckedSession, recorder) -> tuple[int, bool]:
    """Store a session with its ticked attendees; (session id, created)."""
    try:
        with write_transaction() as session:
            record = TrainingSession(
                submission_nonce=checked.nonce,
                held_on=checked.held_on,
                starts_at=checked.starts_at,
                topic=checked.topic,
                trainer_id=checked.trainer.id,
                trainer_name=actor_label(checked.trainer),
                section_keys="\n".join(s.key for s in checked.sections),
                section_titles="\n".join(s.label for s in checked.sections),
                quiz_id=checked.quiz_id,
                quiz_title=checked.quiz_title,
                note=checked.note,
                recorded_by_id=recorder.id,
                recorded_by_name=actor_label(recorder),
            )
            for person in checked.attendees:
                record.attendances.append(
                    TrainingAttendance(
                        user_id=person.id, user_name=actor_label(person), how=HOW_TICKED
                    )
                )
            session.add(record)
            session.flush()
            record_audit(
                "training.session",
                target=record.reference,
                detail=f"{checked.held_on.isoformat()} {checked.topic}，"
                f"参加 {len(checked.attendees)} 人",
            )
            return record.id, True
    except IntegrityError:
        existing = find_by_nonce(checked.nonce)
        if existing is None:
            raise
        return existing.id, False


def set_ticked(record_id: int, listed: list[StaffUser], ticked: list[StaffUser]) -> tuple[int, int]:
    """Tick attendees: add the ticked, remove those the page listed and are now unticked.

    Only people the page listed can be removed, so someone who signed in on their phone after
    the page was opened stays. Returns (added, removed)."""
    added = removed = 0
    ticked_ids = {p.id for p in ticked}
    with write_transaction() as session:
        record = session.get(TrainingSession, record_id)
        present = {a.user_id: a for a in record.attendances}
        for person in ticked:
            if person.id not in present:
                record.attendances.append(
                    TrainingAttendance(
                        user_id=person.id, user_name=actor_label(person), how=HOW_TICKED
                    )
                )
                added += 1
        for person in listed:
            if person.id not in ticked_ids and person.id in present:
                record.attendances.remove(present[person.id])
                removed += 1
        if added or removed:
            record_audit(
                "training.attendance",
                target=record.reference,
                detail=f"勾选参加人：新增 {added} 人，移除 {removed} 人",
            )
    return added, removed


# The sign-in code the trainer shows in the room: CODE_DIGITS digits, a new one every
# CODE_SECONDS, the one before still taken (someone typing as it changes); a person gets
# WRONG_CODES wrong tries per session in WRONG_WINDOW, then waits.
CODE_DIGITS = 4
CODE_SECONDS = 60
WRONG_CODES = 5
WRONG_WINDOW = timedelta(minutes=10)


class SignInRefused(ValueError):
    """A sign-in that cannot be taken: the Chinese reason."""


def sign_in_code(record_id: int, moment: datetime | None = None) -> str:
    """The session's code at ``moment`` (naive UTC; now): a keyed hash of the session and the
    minute, so nobody can work it out without being shown it."""
    step = int(((moment or utcnow()) - datetime(1970, 1, 1)).total_seconds() // CODE_SECONDS)
    digest = hmac.new(
        current_app.config["SECRET_KEY"].encode(),
        f"training-sign-in:{record_id}:{step}".encode(),
        hashlib.sha256,
    ).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def code_matches(record_id: int, code: str) -> bool:
    now = utcnow()
    given = (code or "").strip()
    return any(
        hmac.compare_digest(given, sign_in_code(record_id, now - timedelta(seconds=back)))
        for back in (0, CODE_SECONDS)
    )


def late_minutes(record: TrainingSession) -> int | None:
    """Minutes after the session's start now is (0 on time); None without a start time."""
    if record.starts_at is None:
        return None
    now = local_time(utcnow())
    late = (now.hour * 60 + now.minute) - (record.starts_at.hour * 60 + record.starts_at.minute)
    return max(late, 0)


def sign_in(record: TrainingSession, user, code: str) -> bool:
    """The user signs in to a session on their own phone with the code shown in the room;
    False when already on the list; SignInRefused for a wrong or expired code (counted)."""
    key = f"training-code:{record.id}:{user.id}"
    wrong = False
    try:
        with write_transaction() as session:
            exists = session.scalar(
                select(TrainingAttendance.id).where(
                    TrainingAttendance.session_id == record.id,
                    TrainingAttendance.user_id == user.id,
                )
            )
            if exists:
                return False
            used = session.scalar(
                select(func.count())
                .select_from(ThrottleHit)
                .where(ThrottleHit.key == key, ThrottleHit.at > utcnow() - WRONG_WINDOW)
            )
            if used >= WRONG_CODES:
                raise SignInRefused(
                    f"签到码输错 {WRONG_CODES} 次，请 10 分钟后再试，或请主讲人在培训记录里勾选您。"
                )
            if not code_matches(record.id, code):
                session.add(ThrottleHit(key=key))
                wrong = True
            else:
                session.add(
                    TrainingAttendance(
                        session_id=record.id,
                        user_id=user.id,
                        user_name=actor_label(user),
                        how=HOW_SIGNED,
                        late_minutes=late_minutes(record),
                    )
                )
    except IntegrityError:
        return False  # the same tap twice: the first one signed in
    if wrong:
        raise SignInRefused("签到码不对或已过期，请输入培训现场屏幕上显示的最新签到码。")
    return True


def sessions_on(day: date, user) -> list[tuple[TrainingSession, bool]]:
    """The sessions held on ``day``, each with whether ``user`` is on its attendance list."""
    found = list(
        db.session.scalars(
            select(TrainingSession)
            .where(TrainingSession.held_on == day)
            .options(selectinload(TrainingSession.attendances))
            .order_by(TrainingSession.starts_at, TrainingSession.id)
        )
    )
    return [(s, any(a.user_id == user.id for a in s.attendances)) for s in found]


def recent_sessions():
    return (
        select(TrainingSession)
        .options(selectinload(TrainingSession.attendances))
        .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
    )


EXPORT_COLUMNS = (
    Column("培训编号", width=16),
    Column("培训日期", DATE),
    Column("培训主题", width=30),
    Column("主讲人", width=14),
    Column("培训内容（手册章节）", width=40),
    Column("测验", width=20),
    Column("参加人", width=14),
    Column("参加方式", width=10),
    Column("签到/勾选时间", DATETIME),
    Column("登记人", width=14),
    Column("备注", width=30),
)


def export_rows():
    """One row per attendee of every session, oldest first (a session nobody attended: one row)."""
    query = (
        select(TrainingSession)
        .options(selectinload(TrainingSession.attendances))
        .order_by(TrainingSession.held_on, TrainingSession.id)
    )
    for record in db.session.execute(query).scalars():
        covered = "；".join(title for _key, title in record.covered)
        common = (
            record.reference,
            record.held_on,
            record.topic,
            record.trainer_name,
            covered,
            record.quiz_title,
        )
        tail = (record.recorded_by_name, record.note)
        if not record.attendances:
            yield (*common, "", "", None, *tail)
        for attendance in record.attendances:
            yield (
                *common,
                attendance.user_name,
                attendance.how_label,
                local_moment(attendance.at),
                *tail,
            )
