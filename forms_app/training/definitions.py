"""Reading paths and quizzes, defined as data in ``data/training/``.

- ``paths.yml``: for each role, the staff-handbook sections to read, in order. A page name
  (``service-code``) stands for the page's sections; ``page#anchor`` names one section;
  ``"*"`` is every page but the handbook's front page.
- ``quizzes/<id>.yml``: one quiz each; every question names the section that answers it
  (``section: page#anchor``) and quotes the words there that give the answer (``quote``).
  The file is a Jinja template over the community data (like the handbook pages), so a value
  that is a community setting (the clear-out time, the material entrances, the patrols) reads
  the same in the quiz as in the handbook.

Everything is checked when the app starts: every section named exists in the staff handbook
and holds the question's quote, every answer is one of its question's options. A broken file
stops the app, naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
import yaml

from ..accounts.roles import ROLE_LABELS
from ..core.community import DATA_DIR, Community, current_community, load_yaml
from .handbook_sections import Handbook, Section

TRAINING_DIR = DATA_DIR / "training"
SINGLE, MULTIPLE, TRUE_FALSE = "single", "multiple", "true_false"
TYPE_LABELS = {SINGLE: "单选", MULTIPLE: "多选", TRUE_FALSE: "判断"}
TRUE_FALSE_OPTIONS = ("对", "错")
ALL_PAGES = "*"
FRONT_PAGE = "index"
# A quiz's questions are posted as ``q-<question id>``.
ANSWER_PREFIX = "q-"


class TrainingDataError(ValueError):
    """A training data file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: str
    options: tuple[str, ...]
    answers: frozenset[str]
    section: Section
    quote: str  # the handbook's words that give the answer (checked at start-up)

    @property
    def kind_label(self) -> str:
        return TYPE_LABELS[self.kind]

    @property
    def field(self) -> str:
        return ANSWER_PREFIX + self.id

    @property
    def answer_text(self) -> str:
        return "、".join(o for o in self.options if o in self.answers)


@dataclass(frozen=True)
class Quiz:
    id: str
    title: str
    description: str
    roles: frozenset[str]
    pass_mark: int  # percent of the questions answered right
    questions: tuple[Question, ...]
    # Questions one attempt draws from the bank (``draw`` in the file; default: all of them).
    draw: int = 0

    def __post_init__(self):
        if not self.draw:
            object.__setattr__(self, "draw", len(self.questions))

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class Training:
    paths: dict[str, tuple[Section, ...]]
    quizzes: dict[str, Quiz]

    def path_for(self, role: str) -> tuple[Section, ...]:
        return self.paths.get(role, ())

    def quizzes_for(self, role: str) -> list[Quiz]:
        return [q for q in self.quizzes.values() if role in q.roles]


def _fail(source: Path | str, message: str):
    raise TrainingDataError(f"{source}: {message}")


def _roles(source, raw) -> frozenset[str]:
    if raw == ALL_PAGES or raw == [ALL_PAGES]:
        return frozenset(ROLE_LABELS)
    if not isinstance(raw, list) or not raw:
        _fail(source, 'roles 应为角色代码的列表，或 "*"（全部角色）')
    unknown = [r for r in raw if r not in ROLE_LABELS]
    if unknown:
        _fail(source, f"未知角色 {unknown}；可选: {', '.join(ROLE_LABELS)}")
    return frozenset(raw)


def _path(source, role: str, entries, handbook: Handbook) -> tuple[Section, ...]:
    if not isinstance(entries, list) or not entries:
        _fail(source, f"{role} 的阅读路径应为章节列表")
    sections: list[Section] = []
    for entry in entries:
        if entry == ALL_PAGES:
            found = [
                s for page in handbook.pages if page != FRONT_PAGE for s in handbook.chapters(page)
            ]
        elif isinstance(entry, str) and "#" in entry:
            section = handbook.sections.get(entry)
            if section is None:
                _fail(source, f"{role} 的阅读路径中的章节 {entry} 在员工手册中不存在")
            found = [section]
        elif isinstance(entry, str) and entry in handbook.pages:
            found = handbook.chapters(entry)
        else:
            _fail(source, f"{role} 的阅读路径中的页面 {entry!r} 在员工手册中不存在")
        sections.extend(s for s in found if s not in sections)
    return tuple(sections)


def read_paths(path: Path, handbook: Handbook) -> dict[str, tuple[Section, ...]]:
    raw = load_yaml(path.read_text(encoding="utf-8")) or {}
    paths = raw.get("paths") if isinstance(raw, dict) else None
    if not isinstance(paths, dict):
        _fail(path, "缺少 paths（每个角色的阅读路径）")
    unknown = [r for r in paths if r not in ROLE_LABELS]
    if unknown:
        _fail(path, f"未知角色 {unknown}；可选: {', '.join(ROLE_LABELS)}")
    missing = [ROLE_LABELS[r] for r in ROLE_LABELS if r not in paths]
    if missing:
        _fail(path, f"以下角色没有阅读路径: {'、'.join(missing)}")
    return {role: _path(path, role, entries, handbook) for role, entries in paths.items()}


def _text(source, where: str, value) -> str:
    if (
        not isinstance(value, (str, int, float))
        or isinstance(value, bool)
        or not str(value).strip()
    ):
        _fail(source, f"{where} 应为非空文字")
    return " ".join(str(value).split())


def _compact(text: str) -> str:
    return "".join(text.split())


def _question(source, index: int, raw, handbook: Handbook) -> Question:
    where = f"第 {index} 题"
    if not isinstance(raw, dict):
        _fail(source, f"{where} 格式不对")
    question_id = raw.get("id")
    if (
        not isinstance(question_id, str)
        or not question_id.replace("-", "").isalnum()
        or not question_id.isascii()
    ):
        _fail(source, f"{where} 的 id 应为英文字母、数字和连字符")
    where = f"题目 {question_id}"
    kind = raw.get("type")
    if kind not in TYPE_LABELS:
        _fail(source, f"{where} 的 type 应为 {', '.join(TYPE_LABELS)}")
    text = _text(source, f"{where} 的 text", raw.get("text"))
    section = handbook.sections.get(raw.get("section") or "")
    if section is None:
        _fail(source, f"{where} 的 section {raw.get('section')!r} 在员工手册中不存在")
    quote = _text(source, f"{where} 的 quote", raw.get("quote"))
    if _compact(quote) not in _compact(section.text):
        _fail(
            source,
            f"{where} 的 quote「{quote}」在手册章节 {section.key} 中找不到"
            "（手册改了措辞？请核对答案后更新 quote）",
        )
    if kind == TRUE_FALSE:
        if not isinstance(raw.get("answer"), bool):
            _fail(source, f"{where} 是判断题，answer 应为 true 或 false")
        options = TRUE_FALSE_OPTIONS
        answers = frozenset({TRUE_FALSE_OPTIONS[0] if raw["answer"] else TRUE_FALSE_OPTIONS[1]})
    else:
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            _fail(source, f"{where} 至少要有两个选项")
        options = tuple(_text(source, f"{where} 的选项", o) for o in raw_options)
        if len(set(options)) != len(options):
            _fail(source, f"{where} 有重复的选项")
        raw_answer = raw.get("answer")
        listed = raw_answer if isinstance(raw_answer, list) else [raw_answer]
        answers = frozenset(_text(source, f"{where} 的 answer", a) for a in listed)
        if not answers <= set(options):
            _fail(source, f"{where} 的答案 {sorted(answers - set(options))} 不在选项中")
        if kind == SINGLE and len(answers) != 1:
            _fail(source, f"{where} 是单选题，只能有一个答案")
        if kind == MULTIPLE and len(answers) < 2:
            _fail(source, f"{where} 是多选题，至少要有两个答案（一个答案请用单选题）")
    return Question(question_id, kind, text, options, answers, section, quote)


def read_quiz(path: Path, handbook: Handbook, community: Community, pass_mark: int) -> Quiz:
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    try:
        rendered = environment.from_string(path.read_text(encoding="utf-8")).render(
            community=community
        )
        raw = load_yaml(rendered)
    except (jinja2.TemplateError, yaml.YAMLError) as error:
        _fail(path, f"无法读取: {error}")
    if not isinstance(raw, dict):
        _fail(path, "格式不对")
    questions = raw.get("questions")
    if not isinstance(questions, list) or not questions:
        _fail(path, "没有题目")
    parsed = tuple(_question(path, i, q, handbook) for i, q in enumerate(questions, 1))
    ids = [q.id for q in parsed]
    if len(set(ids)) != len(ids):
        _fail(path, f"题目 id 重复: {sorted({i for i in ids if ids.count(i) > 1})}")
    draw = raw.get("draw", len(parsed))
    if not isinstance(draw, int) or isinstance(draw, bool) or not 1 <= draw <= len(parsed):
        _fail(path, f"draw（每次抽取的题数）应为 1–{len(parsed)} 的整数")
    return Quiz(
        path.stem,
        _text(path, "title", raw.get("title")),
        " ".join(str(raw.get("description") or "").split()),
        _roles(path, raw.get("roles")),
        pass_mark,
        parsed,
        draw,
    )


def pass_mark_of(community: Community) -> int:
    settings = community.get("training") or {}
    mark = settings.get("pass_mark") if isinstance(settings, dict) else None
    if not isinstance(mark, int) or isinstance(mark, bool) or not 1 <= mark <= 100:
        raise TrainingDataError(
            f"{community.source}: training.pass_mark（测验及格线，百分比）应为 1–100 的整数"
        )
    return mark


def read_training(directory: Path, handbook: Handbook, community: Community) -> Training:
    pass_mark = pass_mark_of(community)
    quiz_files = sorted((directory / "quizzes").glob("*.yml"))
    quizzes = {path.stem: read_quiz(path, handbook, community, pass_mark) for path in quiz_files}
    return Training(read_paths(directory / "paths.yml", handbook), quizzes)


# One per community served (each renders the quizzes with its own data): a cache smaller than
# the deployment's communities reads them again (~25 ms) on staff homes taking turns between
# communities (measured with 50).
@lru_cache(maxsize=256)
def cached_training(directory: str, handbook_key: tuple, community_file: str) -> Training:
    from ..core.community import cached_community
    from .handbook_sections import cached_handbook

    return read_training(
        Path(directory), cached_handbook(*handbook_key), cached_community(community_file)
    )


def current_training() -> Training:
    """The paths and quizzes of the running app (``TRAINING_DIR`` setting, else data/training)."""
    from flask import current_app

    from .handbook_sections import handbook_key

    return cached_training(
        str(current_app.config["TRAINING_DIR"] or TRAINING_DIR),
        handbook_key(),
        str(current_community().source),
    )
