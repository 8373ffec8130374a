"""Surveys defined as data: one YAML file per questionnaire under ``data/surveys/``.

The files are read and checked once, when the app starts. A mistake stops the start with a
message that names the file and the line, so a broken questionnaire never reaches an owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from ..core.community import DATA_DIR

DEFAULT_SURVEYS_DIR = DATA_DIR / "surveys"

SINGLE = "single_choice"
MULTIPLE = "multiple_choice"
SATISFACTION = "satisfaction"
RECOMMENDATION = "recommendation"
SHORT_TEXT = "short_text"
LONG_TEXT = "long_text"
QUESTION_TYPES = {
    SINGLE: "单选题",
    MULTIPLE: "多选题",
    SATISFACTION: "满意度（5 级）",
    RECOMMENDATION: "推荐度（0–10 分）",
    SHORT_TEXT: "简答题",
    LONG_TEXT: "问答题",
}
CHOICE_TYPES = {SINGLE, MULTIPLE}
TEXT_TYPES = {SHORT_TEXT, LONG_TEXT}
DEFAULT_MAX_LENGTH = {SHORT_TEXT: 200, LONG_TEXT: 2000}

# Stored value of each satisfaction answer; 满意 and 非常满意 count as satisfied.
SATISFACTION_SCALE = ((5, "非常满意"), (4, "满意"), (3, "一般"), (2, "不满意"), (1, "非常不满意"))
SATISFACTION_LABELS = dict(SATISFACTION_SCALE)
SATISFIED_MIN = 4
RECOMMENDATION_RANGE = range(0, 11)
OTHER_OPTION = "其他（请注明）"

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
# Error keys of the respondent's own fields (name and room) beside the question ids.
RESPONDENT_FIELDS = {"room", "respondent_name"}
SURVEY_KEYS = {
    "slug",
    "title",
    "intro",
    "opens",
    "closes",
    "anonymous",
    "invitation_only",
    "questions",
    "categories",
    "overall_question",
}
CATEGORY_KEYS = {"name", "basis"}
QUESTION_KEYS = {
    "id",
    "type",
    "text",
    "hint",
    "required",
    "options",
    "other",
    "category",
    "max_choices",
    "max_length",
}


class SurveyDefinitionError(ValueError):
    """A survey file is not a valid questionnaire; the message names the file and line."""


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    required: bool = True
    hint: str = ""
    options: tuple[str, ...] = ()
    other: bool = False
    category: str = ""
    max_choices: int | None = None
    max_length: int | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        """The options an owner can pick, with 其他（请注明） last when the question allows it."""
        return self.options + ((OTHER_OPTION,) if self.other else ())

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def is_scale(self) -> bool:
        return self.type in {SATISFACTION, RECOMMENDATION}


@dataclass(frozen=True)
class Survey:
    slug: str
    title: str
    opens: date
    closes: date
    anonymous: bool
    questions: tuple[Question, ...]
    source: Path
    intro: str = ""
    invitation_only: bool = False
    # Service category → the seed document its questions follow (shown with the results).
    category_basis: dict = field(default_factory=dict, compare=False)
    # The question asking for the overall judgment (its rate is the 总体评价满意率).
    overall_question: str | None = None
    _by_id: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self._by_id.update({q.id: q for q in self.questions})

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def status(self, today: date) -> str:
        """'upcoming', 'open' or 'closed' on the given local date (both ends included)."""
        if today < self.opens:
            return "upcoming"
        if today > self.closes:
            return "closed"
        return "open"

    @property
    def satisfaction_questions(self) -> list[Question]:
        return [q for q in self.questions if q.type == SATISFACTION]


# --- YAML with line numbers -------------------------------------------------------------


class _Mapping(dict):
    """A YAML mapping that remembers where it and each of its values start."""

    line: int = 0
    value_lines: dict


# libyaml's parser where PyYAML was built with it (the wheels are): same nodes and marks, faster.
class _MarkedLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _construct_mapping(loader: _MarkedLoader, node: yaml.MappingNode):
    data = _Mapping()
    data.line = node.start_mark.line + 1
    data.value_lines = {}
    yield data
    data.update(loader.construct_mapping(node, deep=True))
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            data.value_lines[key_node.value] = value_node.start_mark.line + 1


_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Checker:
    """Collects the context (file, line) for error messages while reading one file."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, line: int, message: str):
        raise SurveyDefinitionError(f"调查文件 {self.path} 第 {line} 行: {message}")

    def value(self, mapping: _Mapping, key: str, kind, label: str, *, default=None, required=True):
        """mapping[key] checked to be of the given type."""
        if key not in mapping:
            if required:
                self.fail(mapping.line, f"缺少“{key}”（{label}）")
            return default
        value = mapping[key]
        line = mapping.value_lines.get(key, mapping.line)
        if kind is str:
            if not isinstance(value, str) or not value.strip():
                self.fail(line, f"“{key}”（{label}）应为非空文字")
            return value.strip()
        if kind is bool:
            if not isinstance(value, bool):
                self.fail(line, f"“{key}”（{label}）应为 true 或 false")
            return value
        if kind is date:
            # YAML reads "2026-01-01 08:00" as a datetime, which pages cannot compare with today.
            if not isinstance(value, date) or isinstance(value, datetime):
                self.fail(line, f"“{key}”（{label}）应为日期，格式如 2026-01-31")
            return value
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                self.fail(line, f"“{key}”（{label}）应为正整数")
            return value
        raise TypeError(kind)

    def keys(self, mapping: _Mapping, allowed: set[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                line = mapping.value_lines.get(key, mapping.line)
                self.fail(
                    line, f"{what}中有未知的项“{key}”，可用的项: {', '.join(sorted(allowed))}"
                )


def _question(check: _Checker, raw, line: int) -> Question:
    if not isinstance(raw, _Mapping):
        check.fail(line, "每道题应写成“id: … type: … text: …”的形式")
    check.keys(raw, QUESTION_KEYS, "题目")
    qid = check.value(raw, "id", str, "题目编号")
    if not QUESTION_ID.match(qid):
        check.fail(
            raw.value_lines["id"], f"题目编号“{qid}”只能用小写英文字母、数字和下划线，并以字母开头"
        )
    if qid in RESPONDENT_FIELDS:
        check.fail(raw.value_lines["id"], f"题目编号“{qid}”已用于住户信息，请换一个编号")
    qtype = check.value(raw, "type", str, "题型")
    if qtype not in QUESTION_TYPES:
        names = ", ".join(f"{k}（{v}）" for k, v in QUESTION_TYPES.items())
        check.fail(raw.value_lines["type"], f"题型“{qtype}”无效，可用的题型: {names}")
    values = {
        "id": qid,
        "type": qtype,
        "text": check.value(raw, "text", str, "题目文字"),
        "required": check.value(raw, "required", bool, "是否必答", default=True, required=False),
        "hint": check.value(raw, "hint", str, "提示", default="", required=False),
    }

    def only_for(key: str, types: set[str], description: str):
        if key in raw and qtype not in types:
            check.fail(raw.value_lines[key], f"“{key}”只能用于{description}，不能用于题型 {qtype}")

    only_for("options", CHOICE_TYPES, "单选题和多选题")
    only_for("other", CHOICE_TYPES, "单选题和多选题")
    only_for("max_choices", {MULTIPLE}, "多选题")
    only_for("category", {SATISFACTION}, "满意度题")
    only_for("max_length", TEXT_TYPES, "简答题和问答题")

    if qtype in CHOICE_TYPES:
        options = raw.get("options")
        options_line = raw.value_lines.get("options", raw.line)
        if not isinstance(options, list) or len(options) < 2:
            check.fail(options_line, "选择题至少需要两个选项（options）")
        if not all(isinstance(o, str) and o.strip() for o in options):
            check.fail(options_line, "选项应为非空文字")
        options = tuple(o.strip() for o in options)
        if len(set(options)) != len(options):
            check.fail(options_line, "选项有重复")
        if OTHER_OPTION in options or "其他" in options:
            check.fail(options_line, "不要把“其他”写进选项，请用 other: true")
        values["options"] = options
        values["other"] = check.value(
            raw, "other", bool, "其他（请注明）", default=False, required=False
        )
        if qtype == MULTIPLE:
            max_choices = check.value(raw, "max_choices", int, "最多选几项", required=False)
            if max_choices is not None and max_choices > len(options) + values["other"]:
                check.fail(raw.value_lines["max_choices"], "最多可选项数超过了选项个数")
            values["max_choices"] = max_choices
    if qtype == SATISFACTION:
        values["category"] = check.value(
            raw, "category", str, "服务类别", default=values["text"], required=False
        )
    if qtype in TEXT_TYPES:
        values["max_length"] = check.value(
            raw, "max_length", int, "最多字数", default=DEFAULT_MAX_LENGTH[qtype], required=False
        )
    return Question(**values)


def _categories(check: _Checker, raw: _Mapping, questions: list[Question]) -> dict[str, str]:
    """``categories``: each satisfaction category with the seed document it follows; when
    given, every category of the questions must be listed (no result without its basis)."""
    if "categories" not in raw:
        return {}
    items = raw["categories"]
    line = raw.value_lines["categories"]
    if not isinstance(items, list) or not items:
        check.fail(line, "categories 应为服务类别的列表（name: … basis: …）")
    basis: dict[str, str] = {}
    for index, item in enumerate(items):
        if not isinstance(item, _Mapping):
            check.fail(line + index, "每个服务类别应写成“name: … basis: …”的形式")
        check.keys(item, CATEGORY_KEYS, "服务类别")
        name = check.value(item, "name", str, "服务类别")
        if name in basis:
            check.fail(item.value_lines["name"], f"服务类别“{name}”重复")
        basis[name] = check.value(item, "basis", str, "依据的文件")
    for question in questions:
        if question.type == SATISFACTION and question.category not in basis:
            check.fail(
                line, f"服务类别“{question.category}”（题目 {question.id}）没有写在 categories 中"
            )
    unused = set(basis) - {q.category for q in questions if q.type == SATISFACTION}
    if unused:
        check.fail(line, f"categories 中的“{'、'.join(sorted(unused))}”没有对应的满意度题")
    return basis


def load_survey(path: Path) -> Survey:
    """Read and check one survey file."""
    check = _Checker(path)
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.load(handle, Loader=_MarkedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        check.fail(mark.line + 1 if mark else 1, f"YAML 格式错误: {problem}")
    except UnicodeDecodeError:
        check.fail(1, "文件不是 UTF-8 编码")
    if not isinstance(raw, _Mapping):
        check.fail(1, "文件应是一份调查（slug、title、questions 等项）")
    check.keys(raw, SURVEY_KEYS, "调查")
    slug = check.value(raw, "slug", str, "调查编号")
    if not SLUG.match(slug) or slug != path.stem:
        check.fail(
            raw.value_lines["slug"],
            f"调查编号“{slug}”应与文件名“{path.stem}”相同，只用小写英文字母、数字和连字符",
        )
    opens = check.value(raw, "opens", date, "开始日期")
    closes = check.value(raw, "closes", date, "截止日期")
    if closes < opens:
        check.fail(raw.value_lines["closes"], "截止日期早于开始日期")
    raw_questions = raw.get("questions")
    questions_line = raw.value_lines.get("questions", raw.line)
    if not isinstance(raw_questions, list) or not raw_questions:
        check.fail(questions_line, "调查至少需要一道题（questions）")
    questions = []
    seen: set[str] = set()
    for index, item in enumerate(raw_questions):
        line = item.line if isinstance(item, _Mapping) else questions_line + index
        question = _question(check, item, line)
        if question.id in seen:
            check.fail(item.value_lines["id"], f"题目编号“{question.id}”重复")
        seen.add(question.id)
        questions.append(question)
    basis = _categories(check, raw, questions)
    overall_question = check.value(raw, "overall_question", str, "总体评价题", required=False)
    if overall_question is not None and overall_question not in {
        q.id for q in questions if q.type == SATISFACTION
    }:
        check.fail(
            raw.value_lines["overall_question"],
            f"总体评价题“{overall_question}”应为本调查中一道满意度题的编号",
        )
    return Survey(
        category_basis=basis,
        overall_question=overall_question,
        slug=slug,
        title=check.value(raw, "title", str, "调查名称"),
        intro=check.value(raw, "intro", str, "说明", default="", required=False),
        opens=opens,
        closes=closes,
        anonymous=check.value(raw, "anonymous", bool, "是否匿名"),
        invitation_only=check.value(
            raw, "invitation_only", bool, "是否仅限邀请链接", default=False, required=False
        ),
        questions=tuple(questions),
        source=path,
    )


def load_surveys(directory: str | Path | None = None) -> dict[str, Survey]:
    """Every ``*.yml`` survey of the directory, by slug, in file-name order."""
    folder = Path(directory) if directory else DEFAULT_SURVEYS_DIR
    if not folder.is_dir():
        raise SurveyDefinitionError(f"找不到调查文件夹 {folder}")
    surveys: dict[str, Survey] = {}
    for path in sorted(folder.glob("*.yml")):
        survey = load_survey(path)
        surveys[survey.slug] = survey
    return surveys
