"""Reading an owner's answers from a submitted questionnaire, checked against its definition.

The form is built from the YAML definition, so the check is too: every value must be one the
page offered. Errors are Chinese messages keyed by question id; the raw values are kept so the
page can be shown again exactly as the owner left it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..households.registry import find_room
from ..web.typed_input import UNREADABLE_MESSAGE, clean_text, is_unreadable, select_number
from .definitions import (
    MULTIPLE,
    OTHER_OPTION,
    RECOMMENDATION,
    RECOMMENDATION_RANGE,
    SATISFACTION,
    SATISFACTION_LABELS,
    SINGLE,
    Question,
    Survey,
)

OTHER_MAX_LENGTH = 100
NAME_MAX_LENGTH = 30
ROOM_NUMBER = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class Answer:
    """One stored answer row: a scale value, one chosen option, or a text."""

    question_id: str
    value: int | None = None
    option: str | None = None
    text: str | None = None


@dataclass
class Submission:
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)
    respondent: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def field_name(question: Question) -> str:
    return f"q_{question.id}"


def other_field_name(question: Question) -> str:
    return f"q_{question.id}_other"


def _typed(raw: str | None) -> str:
    return clean_text(raw or "")


def _text_problem(text: str, limit: int) -> str | None:
    """Why a typed text cannot be stored: too long, or its encoding was broken on the way."""
    if is_unreadable(text):
        return UNREADABLE_MESSAGE
    if len(text) > limit:
        return f"请不要超过 {limit} 个字（现在 {len(text)} 个字）。"
    return None


def _choices(question: Question, form, sub: Submission) -> None:
    name = field_name(question)
    if question.type == MULTIPLE:
        picked = list(dict.fromkeys(v for v in form.getlist(name) if v))
    else:
        picked = [form.get(name, "")] if form.get(name) else []
    other_text = _typed(form.get(other_field_name(question)))
    sub.values[name] = picked
    sub.values[other_field_name(question)] = other_text
    if not picked:
        if question.required:
            sub.errors[question.id] = (
                "请至少选择一项。" if question.type == MULTIPLE else "请选择一项。"
            )
        return
    if any(choice not in question.choices for choice in picked):
        sub.errors[question.id] = "所选选项无效，请重新选择。"
        return
    if question.max_choices and len(picked) > question.max_choices:
        sub.errors[question.id] = f"最多只能选择 {question.max_choices} 项。"
        return
    if OTHER_OPTION in picked:
        if not other_text:
            sub.errors[question.id] = "选择了“其他”，请注明具体内容。"
            return
        if message := _text_problem(other_text, OTHER_MAX_LENGTH):
            sub.errors[question.id] = "“其他”的说明" + message
            return
    for choice in picked:
        text = other_text if choice == OTHER_OPTION else None
        sub.answers.append(Answer(question.id, option=choice, text=text))


def _scale(question: Question, form, sub: Submission) -> None:
    name = field_name(question)
    raw = (form.get(name) or "").strip()
    sub.values[name] = raw
    allowed = SATISFACTION_LABELS if question.type == SATISFACTION else RECOMMENDATION_RANGE
    if not raw:
        if question.required:
            sub.errors[question.id] = (
                "请选择满意程度。"
                if question.type == SATISFACTION
                else "请选择 0–10 分中的一个分数。"
            )
        return
    value = int(raw) if re.fullmatch(r"[0-9]{1,2}", raw) else None
    if value is None or value not in allowed:
        sub.errors[question.id] = (
            "请选择有效的选项。" if question.type == SATISFACTION else "分数应在 0–10 之间。"
        )
        return
    sub.answers.append(Answer(question.id, value=value))


def _text(question: Question, form, sub: Submission) -> None:
    name = field_name(question)
    text = _typed(form.get(name))
    sub.values[name] = text
    if not text:
        if question.required:
            sub.errors[question.id] = "请填写此题。"
        return
    if message := _text_problem(text, question.max_length):
        sub.errors[question.id] = message
        return
    sub.answers.append(Answer(question.id, text=text))


def _respondent(form, community, sub: Submission, ask_room: bool) -> None:
    """Name (optional) and, without an invitation, the room of a non-anonymous survey."""
    name = _typed(form.get("respondent_name"))
    sub.values["respondent_name"] = name
    if message := _text_problem(name, NAME_MAX_LENGTH):
        sub.errors["respondent_name"] = "称呼" + message
    sub.respondent["respondent_name"] = name or None
    if not ask_room:
        return
    building, unit, room = (_typed(form.get(k)) for k in ("building", "unit", "room"))
    sub.values.update(building=building, unit=unit, room=room)
    if not (building and unit and room):
        sub.errors["room"] = "请选择楼栋、单元并填写房号。"
        return
    number, unit_number = select_number(building), select_number(unit)
    if (
        number is None
        or unit_number is None
        or not ROOM_NUMBER.fullmatch(room)
        or find_room(number, unit_number, room) is None
    ):
        sub.errors["room"] = "本小区没有这个房号，请核对楼栋、单元和房号（如 1201）。"
        return
    sub.respondent.update(building=number, unit=unit_number, room=room)


READERS = {
    SINGLE: _choices,
    MULTIPLE: _choices,
    SATISFACTION: _scale,
    RECOMMENDATION: _scale,
}


def read_submission(survey: Survey, form, community, *, ask_room: bool) -> Submission:
    """Check every answer of a posted questionnaire; collect rows, kept values and errors."""
    sub = Submission()
    if not survey.anonymous:
        _respondent(form, community, sub, ask_room)
    for question in survey.questions:
        READERS.get(question.type, _text)(question, form, sub)
    if sub.errors:
        sub.answers = []
    return sub
