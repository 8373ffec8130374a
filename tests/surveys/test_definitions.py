"""Surveys are data: the shipped files load, and a broken file stops the app with its line."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from forms_app import create_app
from forms_app.surveys.definitions import (
    DEFAULT_SURVEYS_DIR,
    MULTIPLE,
    OTHER_OPTION,
    SATISFACTION,
    SurveyDefinitionError,
    load_survey,
    load_surveys,
)

GOOD = """\
slug: {slug}
title: 测试调查
opens: 2026-01-01
closes: 2026-12-31
anonymous: true
questions:
  - id: cleaning
    type: satisfaction
    category: 保洁
    text: 您对保洁的满意程度
  - id: wishes
    type: multiple_choice
    text: 您的需求
    options: [家政, 维修]
    other: true
"""


def write(folder: Path, text: str, slug: str = "trial") -> Path:
    path = folder / f"{slug}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_surveys_follow_the_seed():
    surveys = load_surveys()
    assert set(surveys) == {"satisfaction", "move-in-visit", "needs"}

    satisfaction = surveys["satisfaction"]
    assert satisfaction.title == "业主满意度调查" and satisfaction.anonymous
    assert [q.category for q in satisfaction.satisfaction_questions] == [
        "客户服务",
        "工程维修",
        "秩序维护",
        "装修管理",
        "保洁",
        "绿化",
        "总体评价",
    ]
    # Each category names the seed document it follows; 装修管理 follows the renovation one.
    assert set(satisfaction.category_basis) == {
        q.category for q in satisfaction.satisfaction_questions
    }
    assert "装修服务控制要点及服务策略" in satisfaction.category_basis["装修管理"]
    assert satisfaction.overall_question == "overall"
    assert satisfaction.questions[-1].is_text and not satisfaction.questions[-1].required

    visit = surveys["move-in-visit"]
    topics = [q.category for q in visit.satisfaction_questions]
    assert topics == ["房屋交付", "装修手续", "搬家入住", "质量问题整改", "物业服务中心整体服务"]
    # Each topic is rated and has its own comment box right after it.
    for rated, comment in zip(visit.questions[::2], visit.questions[1::2]):
        assert rated.type == SATISFACTION and comment.is_text

    needs = surveys["needs"]
    texts = " ".join(q.text for q in needs.questions)
    for kind in ("个性需求", "其他需求", "潜在需求"):
        assert kind in texts
    assert any(q.other and q.type == MULTIPLE for q in needs.questions)


def test_good_file_loads_with_other_option(tmp_path):
    survey = load_survey(write(tmp_path, GOOD.format(slug="trial")))
    wishes = survey.question("wishes")
    assert wishes.choices == ("家政", "维修", OTHER_OPTION)
    assert survey.status(date(2025, 12, 31)) == "upcoming"
    assert survey.status(date(2026, 12, 31)) == "open"
    assert survey.status(date(2027, 1, 1)) == "closed"


BROKEN = [
    # (what is wrong, replace this, with this, expected line, expected words)
    ("unknown type", "type: multiple_choice", "type: checkboxes", 12, "题型“checkboxes”无效"),
    (
        "options on a scale",
        "    category: 保洁\n",
        "    category: 保洁\n    options: [a, b]\n",
        10,
        "“options”只能用于单选题和多选题",
    ),
    ("one option only", "options: [家政, 维修]", "options: [家政]", 14, "至少需要两个选项"),
    ("close before open", "closes: 2026-12-31", "closes: 2025-12-31", 4, "截止日期早于开始日期"),
    ("not a date", "opens: 2026-01-01", "opens: 下周一", 3, "应为日期"),
    # A time of day would make every page of the survey compare a date with a datetime.
    ("date with a time", "opens: 2026-01-01", "opens: 2026-01-01 08:00:00", 3, "应为日期"),
    (
        "both dates with a time",
        "opens: 2026-01-01\ncloses: 2026-12-31",
        "opens: 2026-01-01 08:00:00\ncloses: 2026-12-31 18:00:00",
        3,
        "应为日期",
    ),
    ("duplicate id", "id: wishes", "id: cleaning", 11, "题目编号“cleaning”重复"),
    # The respondent's own fields report their errors under these names.
    ("id of the room field", "id: wishes", "id: room", 11, "题目编号“room”已用于住户信息"),
    ("typo in a key", "    other: true", "    others: true", 15, "未知的项“others”"),
    ("missing text", "    text: 您的需求\n", "", 11, "缺少“text”"),
    ("yaml syntax", "options: [家政, 维修]", "options: [家政, 维修", 15, "YAML 格式错误"),
    ("anonymous not yes/no", "anonymous: true", "anonymous: 也许", 5, "应为 true 或 false"),
]


@pytest.mark.parametrize("what, old, new, line, words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_names_file_and_line(tmp_path, what, old, new, line, words):
    text = GOOD.format(slug="trial")
    assert old in text, what
    path = write(tmp_path, text.replace(old, new))
    with pytest.raises(SurveyDefinitionError) as caught:
        load_survey(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"第 {line} 行" in message, message
    assert words in message


def test_slug_must_match_file_name(tmp_path):
    path = write(tmp_path, GOOD.format(slug="other-name"), slug="trial")
    with pytest.raises(SurveyDefinitionError, match="第 1 行.*应与文件名“trial”相同"):
        load_survey(path)


def test_broken_file_stops_create_app(tmp_path, monkeypatch):
    folder = tmp_path / "surveys"
    shutil.copytree(DEFAULT_SURVEYS_DIR, folder)
    broken = folder / "needs.yml"
    lines = broken.read_text(encoding="utf-8").splitlines()
    index = next(i for i, text in enumerate(lines) if "type: single_choice" in text)
    lines[index] = lines[index].replace("single_choice", "dropdown")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(SurveyDefinitionError) as caught:
        create_app({"TESTING": True, "SITE_DIR": None, "SURVEYS_DIR": str(folder)})
    assert f"调查文件 {broken} 第 {index + 1} 行" in str(caught.value)
    assert "dropdown" in str(caught.value)


SATISFACTION_TRIAL = """
slug: trial
title: 试用调查
opens: 2026-01-01
closes: 2026-12-31
anonymous: true
categories:
  - {name: 保洁, basis: 《长城物业保洁服务品质检查标准》}
overall_question: OVERALL
questions:
  - {id: cleaning, type: satisfaction, category: 保洁, text: 保洁}
  - {id: overall, type: satisfaction, category: CATEGORY, text: 总体}
"""


@pytest.mark.parametrize(
    "category, overall, message",
    [
        ("总体评价", "overall", "服务类别“总体评价”（题目 overall）没有写在 categories 中"),
        ("保洁", "missing", "总体评价题“missing”应为本调查中一道满意度题的编号"),
    ],
)
def test_categories_and_the_overall_question_are_checked(tmp_path, category, overall, message):
    text = SATISFACTION_TRIAL.replace("CATEGORY", category).replace("OVERALL", overall)
    with pytest.raises(SurveyDefinitionError, match=message):
        load_survey(write(tmp_path, text))
