"""The training screens: my path and quizzes (phone-first), taking a quiz and its result, my
record; for the 经理 and 客服主管: everyone's progress, each person's record, training
sessions with attendees, exports."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ..accounts.access import current_staff, staff_required
from ..accounts.audit import record_audit
from ..accounts.models import StaffUser
from ..accounts.permissions import allowed
from ..core.clock import today, utcnow
from ..core.extensions import db
from ..core.public_urls import public_url
from ..core.security_headers import no_store
from ..core.tokens import new_nonce
from ..web.errors import render_error
from ..web.exports import DATE, INTEGER, PERCENT, Column, Table, table_response
from ..web.paging import paginate
from ..web.qr import qr_svg
from ..web.template_filters import local_minute
from . import odds, records, sessions
from .definitions import TrainingDataError, current_training
from .draws import new_draw, read_draw
from .handbook_sections import current_handbook
from .models import TrainingAttempt, TrainingSession
from .quizzes import QuizError, grade, store_attempt

bp = Blueprint("training_staff", __name__)

NOT_ASSIGNED = "这份测验不在您的培训内容中（按您的角色分配）。"


@bp.record_once
def _check_training(state) -> None:
    """Read the handbook and the training data at start-up: a quiz naming a missing section, or
    a broken data file, stops the app with the file and the problem."""
    with state.app.app_context():
        for quiz in current_training().quizzes.values():
            chance = odds.random_pass_probability(quiz)
            if chance >= odds.MAX_RANDOM_PASS:
                raise TrainingDataError(
                    f"测验 {quiz.id}：随机作答及格的概率为 {odds.percent_text(chance)}，须低于 5%。"
                    "请增加题目或每次抽题数（draw）。"
                )


def _format(fmt: str) -> None:
    if fmt not in ("xlsx", "csv"):
        abort(404)


# ---- the trainee ---------------------------------------------------------------------------


@bp.get("/")
@staff_required("training.learn")
def index():
    """My reading path with progress, my quizzes, sessions I can sign in to today."""
    user = current_staff()
    record = records.record_for(user, current_training())
    open_today = (
        db.session.execute(
            select(TrainingSession)
            .where(TrainingSession.held_on == today())
            .order_by(TrainingSession.id)
        )
        .scalars()
        .all()
    )
    signed = {session.id for session, _attendance in record.attended}
    return render_template(
        "training/staff/index.html", record=record, open_today=open_today, signed=signed
    )


@bp.get("/read/state")
@staff_required("training.learn")
def read_state():
    """What the handbook page needs to put 标为已读 at the end of a section of the reader's
    path (theme/assets/javascripts/read-mark.js): the form's token, the section's digest,
    whether it is read, where to go back."""
    user = current_staff()
    section = current_handbook().sections.get(request.args.get("section") or "")
    if section is None or section not in current_training().path_for(user.role):
        return jsonify({"error": "这一节不在您的阅读路径中。"}), 404
    item = next(
        (i for i in records.record_for(user, current_training()).sections if i.section == section),
        None,
    )
    response = jsonify(
        {
            "csrf_token": generate_csrf(),
            "section": section.key,
            "digest": section.digest,
            "state": item.state if item else "unread",
            "action": url_for(".mark_read"),
            "back": url_for(".index", _anchor=f"section-{section.anchor}"),
        }
    )
    return no_store(response)


@bp.post("/read")
@staff_required("training.learn")
def mark_read():
    """Mark one section of my path read, in the version the page showed."""
    user = current_staff()
    key = request.form.get("section") or ""
    section = current_handbook().sections.get(key)
    if section is None:
        return render_error(404, "员工手册中没有这一节（手册可能已更新），请返回刷新后再标记。")
    if section not in current_training().path_for(user.role):
        return render_error(400, "这一节不在您的阅读路径中，无需标记。")
    if request.form.get("digest") != section.digest:
        flash(f"「{section.title}」的内容刚刚更新了，请重新阅读后再标记已读。", "error")
        return redirect(url_for(".index", _anchor=f"section-{section.anchor}"), code=303)
    records.mark_read(user, section)
    flash(f"已标记「{section.title}」为已读。", "success")
    return redirect(url_for(".index", _anchor=f"section-{section.anchor}"), code=303)


def _assigned_quiz(quiz_id: str):
    quiz = current_training().quizzes.get(quiz_id)
    if quiz is None:
        abort(404)
    return quiz


def _quiz_page(quiz, draw, values, errors=None, status=200):
    return render_template(
        "training/staff/quiz.html", quiz=quiz, draw=draw, values=values, errors=errors or {}
    ), status


@bp.get("/quizzes/<quiz_id>")
@staff_required("training.learn")
def quiz(quiz_id: str):
    """A quiz on one page; retaking it is opening it again."""
    found = _assigned_quiz(quiz_id)
    if current_staff().role not in found.roles:
        return render_error(403, NOT_ASSIGNED)
    return _quiz_page(found, new_draw(found), {})


@bp.post("/quizzes/<quiz_id>")
@staff_required("training.learn")
def submit_quiz(quiz_id: str):
    """Score the answers and store the attempt, then show the result (POST → redirect → GET)."""
    found = _assigned_quiz(quiz_id)
    user = current_staff()
    if user.role not in found.roles:
        return render_error(403, NOT_ASSIGNED)
    draw = read_draw(found, request.form.get("draw"))
    try:
        graded = grade(found, draw, request.form)
    except QuizError as error:
        if draw is None or "form" in error.errors:
            return _quiz_page(found, new_draw(found), {}, error.errors, 400)
        values = {d.question.field: request.form.getlist(d.question.field) for d in draw.items}
        return _quiz_page(found, draw, values, error.errors, 400)
    attempt_id, created = store_attempt(found, graded, user, draw.nonce)
    if not created:
        flash("这份答卷已经提交过，没有重复计分。", "success")
    return redirect(url_for(".attempt", attempt_id=attempt_id), code=303)


@bp.get("/attempts/<int:attempt_id>")
@staff_required("training.learn")
def attempt(attempt_id: int):
    """An attempt's score and each wrong answer with the handbook section that explains it.

    Someone else's attempt is not found, unless the viewer may see everyone's records."""
    found = db.session.get(TrainingAttempt, attempt_id)
    user = current_staff()
    if found is None or (found.user_id != user.id and not allowed(user.role, "training.records")):
        abort(404)
    sections = current_handbook().sections
    owner = db.session.get(StaffUser, found.user_id)
    return render_template(
        "training/staff/attempt.html",
        attempt=found,
        sections=sections,
        owner=owner,
        own=found.user_id == user.id,
        quiz_exists=found.quiz_id in current_training().quizzes,
    )


@bp.get("/me")
@staff_required("training.learn")
def my_record():
    """My own record: path, every quiz attempt, sessions attended."""
    return _record_page(current_staff())


def _record_page(user: StaffUser):
    record = records.record_for(user, current_training())
    return render_template(
        "training/staff/record.html",
        record=record,
        attempts=records.attempts_of(user.id),
        own=user.id == current_staff().id,
    )


@bp.get("/sessions/<int:session_id>/sign-in")
@staff_required("training.learn")
def sign_in_page(session_id: int):
    """Where an attendee signs in on their own phone (the trainer shows them this link)."""
    record = _session(session_id)
    signed = any(a.user_id == current_staff().id for a in record.attendances)
    code = request.args.get("code", "")
    return render_template(
        "training/staff/sign_in.html",
        record=record,
        signed=signed,
        is_today=record.held_on == today(),
        code=code if code.isascii() and code.isdigit() and len(code) <= 8 else "",
    )


@bp.post("/sessions/<int:session_id>/attend")
@staff_required("training.learn")
def sign_in(session_id: int):
    """Sign in (the sign-in page's button; a URL of its own, like the account forms')."""
    record = _session(session_id)
    if record.held_on != today():
        return render_template(
            "training/staff/sign_in.html",
            record=record,
            signed=False,
            is_today=False,
            error=f"只能在培训当天签到：本次培训在 {record.held_on.isoformat()}。",
        ), 400
    code = request.form.get("code", "")
    code = code if isinstance(code, str) else ""
    try:
        signed = sessions.sign_in(record, current_staff(), code)
    except sessions.SignInRefused as refused:
        return render_template(
            "training/staff/sign_in.html",
            record=record,
            signed=False,
            is_today=True,
            code="",
            error=str(refused),
        ), 400
    if signed:
        flash(f"已签到：{record.topic}。", "success")
    else:
        flash("您已经签到过了。", "success")
    return redirect(url_for(".sign_in_page", session_id=record.id), code=303)


@bp.get("/sessions/<int:session_id>/code")
@staff_required("training.sessions")
def sign_in_code(session_id: int):
    """The trainer's screen in the room: the current sign-in code, large, and a QR code of the
    sign-in page with it; the page renews itself before the code changes."""
    record = _session(session_id)
    if record.held_on != today():
        flash(f"签到码只在培训当天（{record.held_on.isoformat()}）显示。", "error")
        return redirect(url_for(".session_detail", session_id=record.id), code=303)
    code = sessions.sign_in_code(record.id)
    link = public_url(url_for(".sign_in_page", session_id=record.id, code=code))
    return no_store(
        current_app.make_response(
            render_template(
                "training/staff/sign_in_code.html",
                record=record,
                code=code,
                qr=qr_svg(link, "培训签到二维码"),
                refresh=sessions.CODE_SECONDS // 2,
                signed=sum(1 for a in record.attendances if a.how == "signed"),
            )
        )
    )


# ---- the 经理 and 客服主管 ----------------------------------------------------------------


@bp.get("/people/")
@staff_required("training.records")
def people():
    """Everyone's progress, the ones behind first."""
    everyone = records.everyone()
    only_behind = request.args.get("behind") == "1"
    shown = [r for r in everyone if r.behind] if only_behind else everyone
    return render_template(
        "training/staff/people.html",
        records=shown,
        only_behind=only_behind,
        behind=sum(1 for r in everyone if r.behind),
        total=len(everyone),
        quiz_odds=[
            (quiz, odds.percent_text(odds.random_pass_probability(quiz)))
            for quiz in current_training().quizzes.values()
        ],
    )


@bp.get("/people/<int:user_id>")
@staff_required("training.records")
def person(user_id: int):
    user = db.session.get(StaffUser, user_id)
    if user is None or user.membership() is None:  # none, or another community's
        abort(404)
    return _record_page(user)


PEOPLE_COLUMNS = (
    Column("姓名", width=12),
    Column("用户名", width=12),
    Column("角色", width=10),
    Column("应读章节", INTEGER),
    Column("已读", INTEGER),
    Column("需重读", INTEGER),
    Column("未读", INTEGER),
    Column("测验通过", INTEGER),
    Column("应参加测验", INTEGER),
    Column("未通过的测验", width=30),
    Column("参加培训次数", INTEGER),
    Column("最近一次培训", DATE),
    Column("完成度", PERCENT),
    Column("状态", width=8),
)


def _people_rows(everyone):
    for r in everyone:
        failing = "、".join(q.quiz.title for q in r.quizzes if not q.passed)
        yield (
            r.user.name,
            r.user.username,
            r.user.role_label,
            len(r.sections),
            r.count(records.READ),
            r.count(records.CHANGED),
            r.count(records.UNREAD),
            r.quizzes_passed,
            len(r.quizzes),
            failing,
            r.sessions_attended,
            r.last_session_on,
            r.done / r.total if r.total else 1.0,
            "未完成" if r.behind else "已完成",
        )


@bp.get("/people/export.<fmt>")
@staff_required("training.export")
def export_people(fmt: str):
    """Everyone's training record as .xlsx or CSV, for audits."""
    _format(fmt)
    # One row per member of staff: built before the audit entry's commit expires the accounts.
    rows = list(_people_rows(records.everyone()))
    record_audit("export", target="员工培训记录", detail=f"{fmt}；{len(rows)} 人")
    filename = f"员工培训记录-{today().isoformat()}.{fmt}"
    table = Table("员工培训记录", PEOPLE_COLUMNS, rows, "全部在职员工")
    return table_response(fmt, filename, [table], local_minute(utcnow()))


def _session(session_id: int) -> TrainingSession:
    record = db.session.get(TrainingSession, session_id)
    if record is None:  # another community's is not there either (the scope hook)
        abort(404)
    return record


def _active_staff() -> dict[int, StaffUser]:
    return {u.id: u for u in records.active_staff()}


@bp.get("/sessions/")
@staff_required("training.sessions")
def sessions_list():
    page = paginate(sessions.recent_sessions(), request.args.get("page"))
    return render_template("training/staff/sessions.html", page=page)


def _new_session_page(values, errors=None, status=200):
    training = current_training()
    return render_template(
        "training/staff/session_new.html",
        values=values,
        errors=errors or {},
        staff=records.active_staff(),
        handbook=current_handbook(),
        quizzes=training.quizzes,
        today=today(),
        max_topic=sessions.MAX_TOPIC,
        max_note=sessions.MAX_NOTE,
    ), status


@bp.get("/sessions/new")
@staff_required("training.sessions")
def new_session():
    from werkzeug.datastructures import MultiDict

    return _new_session_page(
        MultiDict(
            {
                "held_on": today().isoformat(),
                "nonce": new_nonce(),
                "trainer": str(current_staff().id),
            }
        )
    )


@bp.post("/sessions/new")
@staff_required("training.sessions")
def create_session():
    """Record a session (POST → redirect → GET); the same form posted twice is one session."""
    try:
        checked = sessions.check_session(
            request.form, today(), current_training(), current_handbook(), _active_staff()
        )
    except sessions.SessionError as error:
        values = request.form.copy()
        if "form" in error.errors:
            values["nonce"] = new_nonce()
        return _new_session_page(values, error.errors, 400)
    session_id, created = sessions.store_session(checked, current_staff())
    flash("培训记录已保存。" if created else "这份培训记录已经提交过，没有重复保存。", "success")
    return redirect(url_for(".session_detail", session_id=session_id), code=303)


def _candidates(record: TrainingSession) -> dict[int, StaffUser]:
    """Who the attendee list shows: every active account, and whoever is already on it."""
    staff = _active_staff()
    for attendance in record.attendances:
        if attendance.user_id not in staff:
            staff[attendance.user_id] = db.session.get(StaffUser, attendance.user_id)
    return staff


def _session_page(record: TrainingSession, errors=None, status=200):
    return render_template(
        "training/staff/session.html",
        record=record,
        candidates=list(_candidates(record).values()),
        present={a.user_id for a in record.attendances},
        is_today=record.held_on == today(),
        errors=errors or {},
    ), status


@bp.get("/sessions/<int:session_id>")
@staff_required("training.sessions")
def session_detail(session_id: int):
    return _session_page(_session(session_id))


@bp.post("/sessions/<int:session_id>/attendees")
@staff_required("training.sessions")
def tick_attendees(session_id: int):
    """Tick who attended; people who signed in after the page was opened stay on the list."""
    record = _session(session_id)
    candidates = _candidates(record)
    listed = sessions.staff_ids(request.form.getlist("listed"), candidates)
    ticked = sessions.staff_ids(request.form.getlist("attendees"), candidates)
    if listed is None or ticked is None:
        return _session_page(
            record,
            {"attendees": "名单中有不存在的账号，请刷新页面后重新勾选；没有保存任何更改。"},
            400,
        )
    added, removed = sessions.set_ticked(record.id, listed, ticked)
    flash(f"参加人已更新：新增 {added} 人，移除 {removed} 人。", "success")
    return redirect(url_for(".session_detail", session_id=record.id), code=303)


@bp.get("/sessions/export.<fmt>")
@staff_required("training.export")
def export_sessions(fmt: str):
    """Every session with its attendees, one row per attendee, as .xlsx or CSV."""
    _format(fmt)
    record_audit("export", target="培训记录", detail=fmt)
    filename = f"培训记录-{today().isoformat()}.{fmt}"
    table = Table("培训记录", sessions.EXPORT_COLUMNS, sessions.export_rows(), "全部培训")
    return table_response(fmt, filename, [table], local_minute(utcnow()))
