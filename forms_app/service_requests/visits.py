"""走访记录: 客服's visits to households (定期: 每周一次，不少于十户; 不定期: 每月一次，不少于十户),
with what the owner said, the follow-up and the owner's signature on the paper record."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import actor_label
from ..core.clock import today, utcnow
from ..core.community import current_community
from ..core.database import write_transaction
from ..core.extensions import db
from ..core.tokens import is_nonce
from ..households.registry import find_room
from ..web.typed_input import clean_line, clean_text, is_unreadable, select_number
from . import states
from .models import HouseholdVisit

MAX_TEXT = 1000
# How far back a visit may be entered (the paper record is typed in later).
MAX_DAYS_BACK = 31


class VisitError(ValueError):
    """Visit input the form refuses: ``errors`` maps field names to Chinese messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _text(form, name, label, errors, required=True, limit=MAX_TEXT, line=False) -> str:
    raw = form.get(name) or ""
    text = clean_line(raw) if line else clean_text(raw)
    if is_unreadable(text):
        errors[name] = f"{label}含有无法识别的字符（可能是复制时的乱码），请删除后重新填写。"
    elif required and not text:
        errors[name] = f"请填写{label}。"
    elif len(text) > limit:
        errors[name] = f"{label}不超过 {limit} 字。"
    return text


def check_visit(form) -> dict:
    """The visit form's values, checked; VisitError with every problem."""
    errors: dict[str, str] = {}
    kind = form.get("kind", "")
    if kind not in states.VISIT_KIND_LABELS:
        errors["kind"] = "请选择走访类型：定期或不定期。"
    visited_on = None
    try:
        visited_on = date.fromisoformat((form.get("visited_on") or "").strip())
    except ValueError:
        errors["visited_on"] = "请填写走访日期（年-月-日）。"
    now = today()
    if visited_on and visited_on > now:
        errors["visited_on"] = "走访日期不能晚于今天。"
    elif visited_on and visited_on < now - timedelta(days=MAX_DAYS_BACK):
        errors["visited_on"] = f"只能补记 {MAX_DAYS_BACK} 天内的走访。"
    community = current_community()
    building, unit = select_number(form.get("building")), select_number(form.get("unit"))
    room = form.get("room") or ""
    if building not in community.buildings:
        errors["building"] = "请选择小区内的楼栋。"
    elif find_room(building, unit, room) is None:
        errors["room"] = "请选择小区内的房号（楼栋、单元、房号）。"
    person = _text(form, "person", "受访人", errors, limit=30, line=True)
    opinion = _text(form, "opinion", "业主意见和建议", errors)
    follow_up = _text(form, "follow_up", "跟进事项", errors, required=False)
    nonce = form.get("nonce", "")
    if not is_nonce(nonce):
        errors["form"] = "页面已过期，请刷新页面后重新填写。"
    if errors:
        raise VisitError(errors)
    return {
        "kind": kind,
        "visited_on": visited_on,
        "building": building,
        "unit": unit,
        "room": room,
        "person": person,
        "opinion": opinion,
        "follow_up": follow_up,
        "owner_signed": form.get("owner_signed") == "y",
        "submission_nonce": nonce,
    }


def store_visit(values: dict, actor) -> tuple[HouseholdVisit, bool]:
    """Store a checked visit; the same form sent twice stores it once. (visit, created)."""
    nonce = values["submission_nonce"]
    try:
        with write_transaction() as session:
            existing = session.scalar(
                select(HouseholdVisit).where(HouseholdVisit.submission_nonce == nonce)
            )
            if existing:
                return existing, False
            visit = HouseholdVisit(
                **values, visitor_id=actor.id, visitor_name=actor_label(actor), created_at=utcnow()
            )
            session.add(visit)
        return visit, True
    except IntegrityError:
        # A concurrent copy of the same form (PostgreSQL) was committed first.
        db.session.rollback()
        return db.session.scalar(
            select(HouseholdVisit).where(HouseholdVisit.submission_nonce == nonce)
        ), False


def visit_timeline(room, _people) -> list:
    """The household's 走访 for the 一户一档 timeline (``households/timeline.py``)."""
    from datetime import datetime, time

    from flask import url_for

    from ..households.timeline import Entry

    if room.building is None or room.unit is None:
        return []
    rows = db.session.scalars(
        select(HouseholdVisit)
        .where(
            HouseholdVisit.building == room.building,
            HouseholdVisit.unit == room.unit,
            HouseholdVisit.room == room.number,
        )
        .order_by(HouseholdVisit.visited_on.desc())
        .limit(200)
    )
    return [
        Entry(
            at=datetime.combine(visit.visited_on, time.min),
            kind="走访",
            title=f"{visit.kind_label} · 受访人 {visit.person}",
            detail=visit.opinion[:80],
            url=url_for("service_requests_staff.visits"),
            actor=visit.visitor_name,
            timed=False,
        )
        for visit in rows
    ]
